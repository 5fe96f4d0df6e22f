"""The one-stop papers (Circular 01/2018 Art. 9; Circular 03/2025 Appendix I; Decree 61/2018 Art. 19(8)).

The slips a transition issues (forms 01-05 and the refusal after appraisal) are catalogued in
:data:`SLIP_FORMS`: for each its title, its template file in ``procedures/slips/``, the suffix of its
number, who signs it and in what capacity, and whether it is the dossier's result. Which action
issues which slip is a fact of the definition: the slip effects of :mod:`engine.rules.effects` (see
:func:`engine.rules.effects.slip_form`). The control sheet (form 06) and the log book (form 07) are
not issued by a transition: they are drawn on demand from the dossiers' history (:data:`CONTROL_SHEET`,
:data:`LOG_BOOK`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RECEIPT = "01"  # the receipt and appointment slip: issued when a dossier is received
REFUSAL_AFTER_APPRAISAL = "TC"  # Decree 61/2018 Art. 19(8): no numbered form in the circulars

# Who signs a slip: the officer who received the dossier (the acting clerk), or the head of the agency
# (the ``leader`` role), or someone else on the head's behalf ("TL." before the head's title, the acting
# official's title and name under it).
RECEIVER = "receiver"
HEAD = "head"
SIGNERS = (RECEIVER, HEAD)
HEAD_ROLE = "leader"
ON_BEHALF = "TL."  # thừa lệnh: by order of the head (a deputy would sign "KT."; no deputy role is modelled)


@dataclass(frozen=True)
class SlipForm:
    id: str  # the form number ("01".."05") or a code for a paper the circulars do not number
    title: str
    template: str  # file name in procedures/slips/
    suffix: str  # of the slip's register number, e.g. 0125/PTN
    signer: str  # RECEIVER | HEAD
    capacity: str  # the signature block's heading when the receiver signs (the head's is the head's title)
    printed_form: str | None  # "Mẫu số 01" on the paper; None when the circulars give it no number
    outcome: str | None = None  # "refusal": the slip is the dossier's result (shown with the results)


SLIP_FORMS: dict[str, SlipForm] = {f.id: f for f in (
    SlipForm("01", "Giấy tiếp nhận hồ sơ và hẹn trả kết quả", "01-receipt.html.j2", "PTN", RECEIVER,
             "Người tiếp nhận hồ sơ", "01"),
    SlipForm("02", "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ", "02-supplement.html.j2", "PBS", RECEIVER,
             "Người hướng dẫn", "02"),
    SlipForm("03", "Phiếu từ chối tiếp nhận giải quyết hồ sơ", "03-refusal.html.j2", "PTC", RECEIVER,
             "Người tiếp nhận hồ sơ", "03"),
    SlipForm("04", "Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết", "04-apology.html.j2", "XL", HEAD,
             "", "04"),
    SlipForm("05", "Thông báo dừng giải quyết hồ sơ", "05-stop.html.j2", "TBD", HEAD, "", "05"),
    SlipForm(REFUSAL_AFTER_APPRAISAL, "Phiếu từ chối giải quyết hồ sơ", "refusal-after-appraisal.html.j2", "TCGQ",
             HEAD, "", None, outcome="refusal"),
)}

# The catalogue as plain maps (the views and the verification pages read these).
SLIP_TEMPLATES = {k: f.template for k, f in SLIP_FORMS.items()}
SLIP_SUFFIX = {k: f.suffix for k, f in SLIP_FORMS.items()}
SLIP_TITLES = {k: f.title for k, f in SLIP_FORMS.items()}
RESULT_SLIPS = tuple(k for k, f in SLIP_FORMS.items() if f.outcome)  # slips that are the dossier's result
# Slips a dossier may get again and again (a supplement request per round, an apology per extension):
# its view lists the latest SLIPS_SHOWN slips and every slip of the other forms, which come at most once.
REPEATED_SLIPS = ("02", "04")
ONCE_SLIPS = tuple(k for k in SLIP_FORMS if k not in REPEATED_SLIPS)
SLIPS_SHOWN = 20

# The papers drawn on demand (not signed: they change with every hand-over and every day's entries).
CONTROL_SHEET = ("06", "Phiếu kiểm soát quá trình giải quyết hồ sơ", "06-control-sheet.html.j2")
LOG_BOOK = ("07", "Sổ theo dõi hồ sơ", "07-log-book.html.j2")


def head_title(agency_level: str | None) -> str:
    """The title of the head of an agency of this level (the People's Committee of a commune is led by
    its chairman; other agencies by their head)."""
    return {"commune": "Chủ tịch", "province": "Giám đốc", "ministry": "Bộ trưởng"}.get(agency_level or "",
                                                                                    "Thủ trưởng cơ quan")


def signature(form: SlipForm, *, roles: frozenset[str] | set[str], name: str, title: str,
              agency_level: str | None) -> dict[str, Any]:
    """The signature block of a slip the acting official (``roles``, ``name``, ``title``) issues: who
    signs in what capacity. ``on_behalf`` is True when the head's paper is signed by someone else."""
    if form.signer == RECEIVER:
        return {"capacity": form.capacity, "title": title, "name": name, "on_behalf": False}
    head = head_title(agency_level)
    if HEAD_ROLE in roles:
        return {"capacity": head, "title": None, "name": name, "on_behalf": False}
    return {"capacity": f"{ON_BEHALF} {head}", "title": title, "name": name, "on_behalf": True}
