"""Words the citizen pages need beyond the shared ones in ``web.ui``: a procedure's facts in words,
engine messages in the page's language, and the accent-insensitive search of the catalogue."""
from __future__ import annotations

import unicodedata
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from web.i18n import local_text as say  # noqa: F401  (engine messages in the page's language)
from web.i18n import locale
from web.ui import CHANNEL_LABELS, EVENT_LABELS, RESULT_STATUS_LABELS, ROLE_LABELS, label_of  # noqa: F401  (the pages' words)

TIME_UNITS = {
    "working_days": (_l("working day"), _l("working days")),
    "days": (_l("day"), _l("days")),
    "hours": (_l("working hour"), _l("working hours")),
}

AUTHORITY_LABELS = {
    "ministry": _l("Ministry level"),
    "province": _l("Province level"),
    "commune": _l("Commune level"),
}

ONLINE_LABELS = {
    "full": _l("Fully online"),
    "partial": _l("Partly online"),
    "none": _l("Not online"),
}


ACCESS_BASIS_LABELS = {
    "law": _l("By law"),
    "consent": _l("With your consent"),
    "dossier": _l("Handling a dossier that uses it"),
    "family": _l("A family member filling in a dossier"),
    "counter_filing": _l("Filing a dossier for you at the counter"),
    "log_book": _l("The agency's log book listed your dossier"),
}

# the attributes of a population-register record, as the access log names what was shown
REGISTER_ATTRIBUTE_LABELS = {
    "full_name": _l("full name"),
    "date_of_birth": _l("date of birth"),
    "birth_year": _l("year of birth"),
    "sex": _l("sex"),
    "ethnicity": _l("ethnicity"),
    "nationality": _l("nationality"),
    "current_address": _l("current residence"),
    "permanent_address": _l("permanent residence"),
    "marital_status": _l("marital status"),
    "phone": _l("phone"),
    "email": _l("e-mail"),
    "personal_id": _l("personal identification number"),
}

ACCESS_WHAT_LABELS = {
    "list": _l("Listed"),
    "metadata": _l("Read its data"),
    "pdf": _l("Downloaded the file"),
}


# What a citizen waits for or does in each state (drafts and supplements have their own panel).
NEXT_STEP = {
    "submitted": _l("The one-stop unit checks your dossier and receives it, or tells you what is missing."),
    "received": _l("Your dossier was received; it is being processed. The result is due on the date shown."),
    "awaiting_decision": _l("The appraisal is done; the dossier awaits the leader's decision."),
    "awaiting_payment": _l("A fee is due. Pay it as the one-stop unit told you; processing goes on once it is paid."),
    "withdrawal_requested": _l("You asked to withdraw this dossier; the one-stop unit confirms the stop."),
    "stopped": _l("Processing of this dossier was stopped."),
    "refused": _l("The dossier was not accepted. The refusal slip gives the reasons."),
    "rejected": _l("The application was rejected after appraisal. The history gives the reasons."),
    "decided": _l("The result is ready and signed; it will be returned to you shortly."),
    "returned": _l("The result was returned. It is in your data store and can be reused in other procedures."),
}


def time_limit_text(value: Any, unit: str | None) -> str:
    """'5 working days': the value and the unit in words ('Immediately' for ``immediate``)."""
    if unit == "immediate" or value in (None, ""):
        return _("Immediately")
    try:
        number = f"{float(value):g}"
    except (TypeError, ValueError):
        number = str(value)
    words = TIME_UNITS.get(unit or "")
    if words is None:
        return f"{number} {unit or ''}".strip()
    return f"{number} {words[0] if number == '1' else words[1]}"


def fold(text: Any) -> str:
    """Lower case without diacritics ("Đăng ký khai sinh" -> "dang ky khai sinh"), for searching."""
    if text is None:
        return ""
    decomposed = unicodedata.normalize("NFD", str(text).replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def matches(query: str, *texts: Any) -> bool:
    """Every word of the query appears in one of the texts (accents and case ignored)."""
    words = fold(query).split()
    haystack = " ".join(fold(t) for t in texts)
    return all(word in haystack for word in words)


def source_mark(provenance: Any) -> str:
    """Where a prefilled value came from, in the page's language: "From the national population database"."""
    if provenance is None:
        return ""
    if isinstance(provenance, dict):
        source, vi, en = provenance.get("source"), provenance.get("label") or "", provenance.get("label_en") or ""
    else:
        source, vi, en = provenance.source, provenance.label, provenance.label_en
    label = en if locale() == "en" and en else vi
    if source == "derived":
        return label[:1].upper() + label[1:]
    return _("From %(source)s", source=label)


# the moments a citizen is notified of (engine.rules.notifications), and how each delivery went
NOTIFICATION_KIND_LABELS = {
    "received": _l("Received"),
    "supplement_requested": _l("Supplement requested"),
    "extended": _l("New result date"),
    "result_ready": _l("Result ready"),
    "rejected": _l("Refused after review"),
    "refused": _l("Not accepted"),
}

DELIVERY_CHANNEL_LABELS = {"email": _l("E-mail"), "sms": _l("SMS")}

DELIVERY_STATUS_LABELS = {
    "pending": _l("being sent"),
    "sent": _l("sent"),
    "failed": _l("not delivered"),
    "skipped": _l("not sent"),
}
