"""Words the desk shows that the shared labels (web.ui) do not carry: channels, roles, slips, the
history's own actions, and a form value shown as text."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from web.i18n import pick
from web.ui import CHANNEL_LABELS, RESULT_STATUS_LABELS  # noqa: F401  (the desk's words)
from web.ui import EVENT_LABELS as HISTORY_ACTIONS  # noqa: F401


SLIP_LABELS = {
    "01": _l("Receipt and appointment slip (form 01)"),
    "02": _l("Supplement request (form 02)"),
    "03": _l("Refusal slip (form 03)"),
    "04": _l("Apology and extension (form 04)"),
    "05": _l("Stop notice (form 05)"),
}

DOCUMENT_STATUS = {**RESULT_STATUS_LABELS, "unreadable": _l("Not readable by your agency")}


def label(table: dict[str, Any], key: str | None) -> str:
    if key is None:
        return ""
    return str(table[key]) if key in table else key.replace("_", " ")


def display_value(field: Any, value: Any) -> str:
    """A form value as a person reads it: the option's label, Yes/No, a date as dd/mm/yyyy."""
    if value is None or value == "":
        return ""
    if field is None:
        return str(value)
    if field.type == "select":
        option = next((o for o in field.options if o.value == str(value)), None)
        return pick(option.label) if option else str(value)
    if field.type == "boolean":
        return _("Yes") if value is True or value in ("true", "1", "on") else _("No")
    if field.type == "date":
        try:
            return dt.date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)
    if field.type == "number" and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def source_label(provenance: dict[str, Any] | None) -> str:
    """Where a value came from, in the page's language (the engine stores both words)."""
    if not provenance:
        return ""
    return pick({"vi": provenance.get("label") or provenance.get("source") or "",
                 "en": provenance.get("label_en") or provenance.get("label") or ""})
