"""Words the desk shows that the shared labels (web.ui) do not carry: channels, roles, slips, the
history's own actions, and a form value shown as text."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from web.i18n import pick
from web.ui import CHANNEL_LABELS, RESULT_STATUS_LABELS, display_value  # noqa: F401  (the desk's words)
from web.ui import label_of as label  # noqa: F401
from web.ui import EVENT_LABELS as HISTORY_ACTIONS  # noqa: F401


SLIP_LABELS = {
    "01": _l("Receipt and appointment slip (form 01)"),
    "02": _l("Supplement request (form 02)"),
    "03": _l("Refusal slip (form 03)"),
    "04": _l("Apology and extension (form 04)"),
    "05": _l("Stop notice (form 05)"),
    "TC": _l("Refusal after appraisal"),
}

DOCUMENT_STATUS = {**RESULT_STATUS_LABELS, "unreadable": _l("Not readable by your agency")}


def source_label(provenance: dict[str, Any] | None) -> str:
    """Where a value came from, in the page's language (the engine stores both words)."""
    if not provenance:
        return ""
    return pick({"vi": provenance.get("label") or provenance.get("source") or "",
                 "en": provenance.get("label_en") or provenance.get("label") or ""})
