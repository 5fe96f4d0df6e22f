"""The e-form as the citizen sees it: built from a procedure's fields, grouped, each field knowing
whether its value was prefilled (and from where), is filled in by the system, or is left to type;
and the reverse, the values a posted form may change."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from web.citizen.words import say, source_mark
from web.ui import conflict_advice, conflict_text, display_value

KEY = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class Entry:
    """One field of the form on the page."""

    id: str
    label: Any
    type: str
    required: bool
    help: Any = None
    options: tuple = ()
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    value: str = ""
    mode: str = "plain"  # locked (prefilled, read only) | prefilled (editable) | auto (the system fills it) | plain
    mark: str = ""  # where a prefilled value came from, in words
    declared: bool = False  # a prefilled value the citizen changed
    note: str = ""  # why a field that could be prefilled is left to type
    conflict: str = ""  # a source value the field cannot hold, in words (the field keeps no value from it)
    advice: str = ""  # what happens next with that field: typed by the citizen, or corrected at the register
    errors: list[str] = field(default_factory=list)

    @property
    def input_id(self) -> str:
        return f"f-{self.id}"

    @property
    def shown(self) -> str:
        """The value as words (an option's label, yes/no, a date as dd/mm/yyyy)."""
        return display_value(self, self.value)


@dataclass
class Section:
    id: str
    label: Any
    entries: list[Entry]


def as_input(value: Any, ftype: str) -> str:
    if value is None:
        return ""
    if ftype == "boolean":
        return "true" if value in (True, "true") else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _entry(f: Any) -> Entry:
    return Entry(f.id, f.label, f.type, f.required, f.help, f.options, f.min, f.max, f.max_length)


def _derived_locked(f: Any) -> bool:
    return f.prefill is not None and f.prefill.source == "derived" and not f.prefill.editable


def sections(proc: Any, entries: dict[str, Entry]) -> list[Section]:
    """The entries in the definition's groups (fields without a group come last, in one section)."""
    out = []
    for g in proc.groups:
        members = [entries[f.id] for f in proc.fields if f.group == g.id and f.id in entries]
        if members:
            out.append(Section(g.id, g.label, members))
    rest = [entries[f.id] for f in proc.fields if (f.group is None or f.group not in {g.id for g in proc.groups})
            and f.id in entries]
    if rest:
        out.append(Section("other", _("Other details") if out else _("Form details"), rest))
    return out


def lookup_fields(proc: Any) -> list[Any]:
    """Personal-id fields other fields are looked up by (e.g. the other party of a marriage)."""
    referenced = {f.prefill.person for f in proc.fields if f.prefill is not None and f.prefill.person}
    return [f for f in proc.fields if f.id in referenced and f.type == "personal_id"]


def hints_from(proc: Any, args: Any, personal_ids: Any) -> tuple[dict[str, str], dict[str, str]]:
    """The personal ids typed for a look-up: (well-formed ones, {field: error} for the others)."""
    hints, problems = {}, {}
    for f in lookup_fields(proc):
        raw = (args.get(f.id) or "").strip()
        if not raw:
            continue
        if personal_ids.matches(raw):
            hints[f.id] = raw
        else:
            problems[f.id] = _("A personal identification number has 12 digits.")
    return hints, problems


def filing_entries(proc: Any, prefill: Any, typed: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Entry]:
    """The filing form: prefilled values with their source, the rest to type (typed values kept)."""
    entries = {}
    conflicts = getattr(prefill, "conflicts", None) or {}
    for f in proc.fields:
        e = _entry(f)
        pre = prefill.fields.get(f.id)
        conflict = conflicts.get(f.id)
        if pre is not None:
            e.mode = "prefilled" if pre.editable else "locked"
            e.mark = source_mark(pre)
            e.value = as_input(typed[f.id] if pre.editable and f.id in typed else pre.value, f.type)
            e.declared = pre.editable and f.id in typed and str(typed[f.id]).strip() != as_input(pre.value, f.type)
        elif conflict is not None:
            # the source's value is shown beside the field, never put in it
            e.conflict, e.advice = conflict_text(conflict), conflict_advice(conflict.editable)
            e.mode = "plain" if conflict.editable else "locked"
            e.value = as_input(typed.get(f.id), f.type) if conflict.editable else ""
        elif _derived_locked(f):
            e.mode = "auto"
        else:
            e.value = as_input(typed.get(f.id), f.type)
            if f.prefill is not None and f.id in prefill.withheld:
                e.note = _("Not looked up: this person is not linked to you in the population register. Type it.")
            elif f.prefill is not None and f.prefill.source in prefill.unavailable_sources:
                e.note = _("The data source did not answer just now. Type it.")
        e.errors = [say(m) for m in errors.get(f.id, [])]
        entries[f.id] = e
    return entries


def dossier_entries(proc: Any, data: dict[str, Any], provenance: dict[str, Any], typed: dict[str, Any] | None = None,
                    errors: dict[str, list[str]] | None = None) -> dict[str, Entry]:
    """The dossier's form: each value with its provenance; register values stay read only."""
    typed, errors = typed or {}, errors or {}
    entries = {}
    for f in proc.fields:
        e = _entry(f)
        prov = provenance.get(f.id)
        value = data.get(f.id)
        if prov is not None and isinstance(prov.get("conflict"), dict):
            editable = bool(prov.get("editable"))
            e.conflict, e.advice = conflict_text(prov), conflict_advice(editable)
            e.declared = bool(prov.get("declared"))
            e.mode = "plain" if editable else "locked"
        elif prov is not None:
            e.mark = source_mark(prov)
            e.declared = bool(prov.get("declared"))
            e.mode = "prefilled" if prov.get("editable", True) else "locked"
        elif _derived_locked(f):
            e.mode = "auto"
        e.value = as_input(typed[f.id] if f.id in typed and e.mode not in ("locked", "auto") else value, f.type)
        e.errors = [say(m) for m in errors.get(f.id, [])]
        entries[f.id] = e
    return entries


def editable_values(proc: Any, form: Any, entries: dict[str, Entry]) -> dict[str, str]:
    """What the citizen may change: the posted values of the fields shown as inputs. Read-only
    values are never taken from the browser; the service looks them up again."""
    out = {}
    for f in proc.fields:
        e = entries.get(f.id)
        if e is None or e.mode in ("locked", "auto") or f.id not in form:
            continue
        out[f.id] = (form.get(f.id) or "").strip()
    return out


def missing_required(proc: Any, entries: dict[str, Entry], values: dict[str, str]) -> dict[str, list[str]]:
    """Required fields left to type and left empty (prefilled and automatic ones are filled anyway)."""
    return {f.id: [_("This field is required.")] for f in proc.fields
            if f.required and entries[f.id].mode == "plain" and not values.get(f.id)}


def new_key(posted: str | None = None) -> str:
    """The filing form's idempotency key: the one it was rendered with, or a new one."""
    return posted if posted and KEY.match(posted) else uuid.uuid4().hex
