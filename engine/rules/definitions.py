"""Load and validate procedure definitions into frozen dataclasses.

A definition is ``procedures/<id>/procedure.yaml`` plus ``templates/``. Loading fails fast: every
problem is reported as ``file:line: message`` in one :class:`~engine.rules.errors.DefinitionError`.
``lifecycle: one-stop`` expands into the national one-stop lifecycle (DESIGN.md), with the
procedure's ``steps`` inside processing and ``decided_by`` closing it; ``workflow:`` spells a
workflow out instead. Guards, effects, roles and prefill sources are named, never coded, in the
file; the names are checked against the registries below.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.rules.errors import DefinitionError

ROLES = frozenset({"applicant", "clerk", "specialist", "leader", "records", "admin"})
STAFF_ROLES = ROLES - {"applicant"}
FIELD_TYPES = frozenset(
    {"text", "date", "number", "select", "boolean", "personal_id", "phone", "email", "address"}
)
TIME_UNITS = frozenset({"working_days", "days", "hours", "immediate"})
CHANNELS = frozenset({"online", "counter", "postal"})
AUTHORITIES = frozenset({"ministry", "province", "commune"})
ONLINE_LEVELS = frozenset({"full", "partial", "none"})
SUPPLEMENT_POLICIES = frozenset({"restart", "pause"})
MIME_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})
LANGS = ("vi", "en")

# Named guards and effects: the workflow module implements each name (engine.rules.workflow).
GUARDS = frozenset(
    {
        "form_complete",
        "documents_complete",
        "fee_paid",
        "before_due_date",
        "extension_unused",
        "extension_notice",
        "supplement_allowed",
        "reason_given",
        "items_given",
        "new_due_date_given",
        "results_issued",
        "counter_draft",
    }
)
EFFECTS = frozenset(
    {
        "mark_submitted",
        "assign_code",
        "start_clock",
        "pause_clock",
        "resume_clock",
        "count_supplement",
        "extend_due",
        "mark_paid",
        "record_result",
        "close",
    }
)
# Prefill sources and what a path may name (engine.rules.prefill implements them).
PREFILL_SOURCES = frozenset({"identity", "population", "results", "derived"})
PREFILL_WHO = frozenset({"self", "spouse", "father", "mother", "wife", "husband"})
PERSON_ATTRIBUTES = frozenset(
    {
        "full_name", "date_of_birth", "sex", "ethnicity", "nationality", "religion", "home_town",
        "place_of_birth", "permanent_address", "current_address", "personal_id", "phone", "email",
        "marital_status", "id_issued_on", "id_issued_by", "birth_year", "date_of_death",
    }
)
IDENTITY_ATTRIBUTES = frozenset({"full_name", "personal_id", "phone", "email"})
DERIVATIONS = frozenset({"date_in_words", "copy_of"})
RESULT_DATA_ROOTS = frozenset({"form", "dossier", "agency", "applicant"})
DOSSIER_ATTRIBUTES = frozenset({"code", "received_at", "decided_at", "procedure", "channel"})

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
NUMBER_PLACEHOLDERS = re.compile(r"\{([^{}]*)\}")

# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class Text:
    vi: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


@dataclass(frozen=True)
class Option:
    value: str
    label: Text


@dataclass(frozen=True)
class Prefill:
    source: str
    path: str | None = None
    of: str = "self"
    person: str | None = None
    rule: str | None = None
    args: tuple[str, ...] = ()
    editable: bool = True


@dataclass(frozen=True)
class FieldDef:
    id: str
    label: Text
    type: str
    required: bool = False
    group: str | None = None
    options: tuple[Option, ...] = ()
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    help: Text | None = None
    prefill: Prefill | None = None


@dataclass(frozen=True)
class Group:
    id: str
    label: Text


@dataclass(frozen=True)
class DocumentDef:
    id: str
    label: Text
    required: bool
    accept: tuple[str, ...]
    max_mb: float
    replaced_by: str | None = None  # an evidence type


@dataclass(frozen=True)
class Step:
    id: str
    label: Text
    roles: tuple[str, ...]
    time_share: float | None = None


@dataclass(frozen=True)
class ResultDef:
    id: str
    title: Text
    template: str
    number: str
    data: tuple[tuple[str, str], ...]
    holder: tuple[str, ...]
    evidence: str
    validity_months: int | None
    signers: tuple[str, ...]


@dataclass(frozen=True)
class StateDef:
    id: str
    status_code: int | None
    final: bool = False
    outcome: str | None = None  # result | refusal | stop | rejection (final states)
    clock: str = "idle"  # idle | running | paused


@dataclass(frozen=True)
class ActionDef:
    id: str
    sources: tuple[str, ...]
    dest: str | None  # None: stays in the same state (an internal action such as extend_due)
    roles: tuple[str, ...]
    guards: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    label: Text | None = None


@dataclass(frozen=True)
class Procedure:
    id: str
    code: str
    version: int
    effective_from: dt.date
    title: Text
    authority: str
    online: str
    channels: tuple[str, ...]
    time_limit_value: float
    time_limit_unit: str
    supplement_policy: str
    fee_amount: int
    fee_note: Text | None
    calendar: str
    groups: tuple[Group, ...]
    fields: tuple[FieldDef, ...]
    documents: tuple[DocumentDef, ...]
    steps: tuple[Step, ...]
    decided_by: tuple[str, ...]
    results: tuple[ResultDef, ...]
    states: tuple[StateDef, ...]
    actions: tuple[ActionDef, ...]
    initial: str
    lifecycle: str | None
    legal_basis: tuple[str, ...]
    folder: str
    source_name: str
    source_text: str = field(repr=False)
    sha256: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.version)

    def field(self, field_id: str) -> FieldDef | None:
        return self._fields_by_id.get(field_id)

    def state(self, state_id: str) -> StateDef:
        return self._states_by_id[state_id]

    def action(self, action_id: str) -> ActionDef | None:
        return self._actions_by_id.get(action_id)

    def document(self, doc_id: str) -> DocumentDef | None:
        return self._documents_by_id.get(doc_id)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_fields_by_id", {f.id: f for f in self.fields})
        object.__setattr__(self, "_states_by_id", {s.id: s for s in self.states})
        object.__setattr__(self, "_actions_by_id", {a.id: a for a in self.actions})
        object.__setattr__(self, "_documents_by_id", {d.id: d for d in self.documents})


@dataclass(frozen=True)
class EvidenceType:
    id: str
    title: Text
    issuer: Text | None = None


@dataclass(frozen=True)
class Catalogue:
    """Every loaded procedure version; the newest version of each id is the one offered for filing."""

    procedures: dict[tuple[str, int], Procedure]
    evidence_types: dict[str, EvidenceType]

    def latest(self, procedure_id: str) -> Procedure | None:
        versions = [p for (pid, _), p in self.procedures.items() if pid == procedure_id]
        return max(versions, key=lambda p: p.version) if versions else None

    def get(self, procedure_id: str, version: int) -> Procedure | None:
        return self.procedures.get((procedure_id, version))

    def current(self) -> list[Procedure]:
        ids = sorted({pid for pid, _ in self.procedures})
        return [self.latest(pid) for pid in ids]  # type: ignore[misc]


# --------------------------------------------------------------------------- YAML with lines


class _LineDict(dict):
    line: int = 0
    key_lines: dict[str, int]


class _LineList(list):
    line: int = 0
    item_lines: list[int]


class _Loader(yaml.SafeLoader):
    """A safe loader whose mappings and sequences remember their 1-based line numbers."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    result = _LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    seen: set[Any] = set()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _LineList:
    result = _LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml_with_lines(text: str, source_name: str) -> Any:
    """Parse YAML keeping line numbers; a syntax error raises DefinitionError at its line."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or str(exc)
        raise DefinitionError([f"{source_name}:{line}: YAML syntax error: {problem}"]) from None
    except yaml.YAMLError as exc:
        raise DefinitionError([f"{source_name}:1: YAML error: {exc}"]) from None


# --------------------------------------------------------------------------- validation helpers


class _Problems:
    def __init__(self, source: str):
        self.source = source
        self.items: list[str] = []

    def add(self, line: int, message: str) -> None:
        self.items.append(f"{self.source}:{line}: {message}")


def _line_of(container: Any, key: Any = None) -> int:
    if key is not None and isinstance(container, _LineDict):
        return container.key_lines.get(key, container.line)
    if isinstance(container, _LineList) and isinstance(key, int) and key < len(container.item_lines):
        return container.item_lines[key]
    return getattr(container, "line", 1)


class _Reader:
    """Typed access to one mapping, reporting wrong types and unknown keys once each."""

    def __init__(self, problems: _Problems, mapping: Any, where: str, allowed: Iterable[str], line: int = 1):
        self.p = problems
        self.where = where
        self.ok = isinstance(mapping, dict)
        self.m: dict = mapping if self.ok else {}
        self.line = getattr(mapping, "line", line)
        if not self.ok:
            problems.add(line, f"{where} must be a mapping, not {type(mapping).__name__}")
            return
        allowed = set(allowed)
        for key in mapping:
            if key not in allowed:
                hint = _suggest(str(key), allowed)
                problems.add(_line_of(mapping, key), f"unknown key '{key}' in {where}{hint}")

    def line_of(self, key: str) -> int:
        return _line_of(self.m, key) if key in self.m else self.line

    def has(self, key: str) -> bool:
        return key in self.m

    def raw(self, key: str) -> Any:
        return self.m.get(key)

    def get(self, key: str, kind: type | tuple[type, ...], *, required: bool = False, default: Any = None) -> Any:
        if key not in self.m:
            if required and self.ok:
                self.p.add(self.line, f"{self.where} is missing the required key '{key}'")
            return default
        value = self.m[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if bool in kinds and isinstance(value, bool):
            return value
        if isinstance(value, bool) and bool not in kinds:
            ok = False
        else:
            ok = isinstance(value, kinds)
        if not ok:
            names = " or ".join(_type_name(k) for k in kinds)
            self.p.add(self.line_of(key), f"'{key}' in {self.where} must be {names}, not {_type_name(type(value))}")
            return default
        return value

    def text(self, key: str, *, required: bool = False) -> Text | None:
        value = self.m.get(key)
        if value is None:
            if required and self.ok:
                self.p.add(self.line, f"{self.where} is missing the required key '{key}'")
            return None
        return _text(self.p, value, f"'{key}' in {self.where}", self.line_of(key))


def _type_name(kind: type) -> str:
    return {
        str: "a string", int: "an integer", float: "a number", bool: "true or false",
        dict: "a mapping", list: "a list", _LineDict: "a mapping", _LineList: "a list",
        dt.date: "a date (YYYY-MM-DD)", type(None): "empty",
    }.get(kind, kind.__name__)


def _suggest(word: str, options: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, sorted(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _text(problems: _Problems, value: Any, where: str, line: int) -> Text | None:
    if isinstance(value, str):
        return Text(value, value)
    if not isinstance(value, dict):
        problems.add(line, f"{where} must be a mapping {{vi: ..., en: ...}} or a string")
        return None
    for key in value:
        if key not in LANGS:
            problems.add(_line_of(value, key), f"unknown language '{key}' in {where} (use vi, en)")
    vi, en = value.get("vi"), value.get("en")
    if not isinstance(vi, str) or not vi.strip():
        problems.add(line, f"{where} needs a Vietnamese text (vi)")
        return None
    if en is not None and not isinstance(en, str):
        problems.add(_line_of(value, "en"), f"{where}: 'en' must be a string")
        en = None
    return Text(vi, en or vi)


def _str_list(problems: _Problems, value: Any, where: str, line: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(line, f"{where} must be a list of names")
        return ()
    return tuple(value)


# --------------------------------------------------------------------------- the lifecycle

ONE_STOP_STATES: dict[str, tuple[int | None, bool, str | None, str]] = {
    # id: (national status code, final, outcome, clock)
    "draft": (None, False, None, "idle"),
    "submitted": (1, False, None, "idle"),
    "reception_supplement": (5, False, None, "idle"),
    "refused": (3, True, "refusal", "idle"),
    "received": (2, False, None, "running"),
    "processing_supplement": (5, False, None, "paused"),
    "awaiting_decision": (4, False, None, "running"),
    "awaiting_payment": (6, False, None, "running"),
    "withdrawal_requested": (7, False, None, "running"),
    "stopped": (8, True, "stop", "idle"),
    "rejected": (9, True, "rejection", "idle"),
    "decided": (9, False, None, "idle"),
    "returned": (10, True, "result", "idle"),
}


def step_state(step_id: str) -> str:
    return f"processing_{step_id}"


def _one_stop(steps: tuple[Step, ...], decided_by: tuple[str, ...]) -> tuple[list[StateDef], list[ActionDef]]:
    states = [StateDef(sid, code, final, outcome, clock) for sid, (code, final, outcome, clock) in ONE_STOP_STATES.items()]
    step_states = [step_state(s.id) for s in steps]
    # insert the step states after "received"
    at = [s.id for s in states].index("received") + 1
    states[at:at] = [StateDef(sid, 4, False, None, "running") for sid in step_states]
    first_step = step_states[0] if step_states else "awaiting_decision"
    open_states = (
        ("submitted", "reception_supplement", "received") + tuple(step_states)
        + ("processing_supplement", "awaiting_decision", "awaiting_payment")
    )
    running = ("received",) + tuple(step_states) + ("awaiting_decision", "awaiting_payment")
    actions = [
        ActionDef("submit", ("draft",), "submitted", ("applicant",),
                  ("form_complete", "documents_complete"), ("mark_submitted",)),
        ActionDef("file_at_counter", ("draft",), "submitted", ("clerk",),
                  ("counter_draft", "form_complete"), ("mark_submitted",)),
        ActionDef("receive", ("submitted",), "received", ("clerk",),
                  ("form_complete", "documents_complete"), ("assign_code", "start_clock")),
        ActionDef("request_supplement", ("submitted",), "reception_supplement", ("clerk",),
                  ("items_given",), ("count_supplement",)),
        ActionDef("request_supplement", tuple(step_states) + ("received",), "processing_supplement",
                  ("clerk", "specialist"), ("items_given", "supplement_allowed"),
                  ("count_supplement", "pause_clock")),
        ActionDef("provide_supplement", ("reception_supplement",), "submitted", ("applicant", "clerk"),
                  ("form_complete", "documents_complete"), ()),
        ActionDef("provide_supplement", ("processing_supplement",), first_step, ("applicant", "clerk"),
                  ("form_complete", "documents_complete"), ("resume_clock",)),
        ActionDef("refuse", ("submitted", "reception_supplement"), "refused", ("clerk",),
                  ("reason_given",), ("close",)),
        ActionDef("assign", ("received",), first_step, ("leader", "clerk"), (), ()),
    ]
    for i, step in enumerate(steps):
        nxt = step_states[i + 1] if i + 1 < len(steps) else "awaiting_decision"
        actions.append(ActionDef(step.id, (step_states[i],), nxt, step.roles, (), (), step.label))
    actions += [
        ActionDef("request_payment", ("awaiting_decision",), "awaiting_payment", ("clerk", "specialist"), (), ()),
        ActionDef("confirm_payment", ("awaiting_payment",), "awaiting_decision", ("clerk",), (), ("mark_paid",)),
        ActionDef("request_withdrawal", open_states, "withdrawal_requested", ("applicant",), (), ()),
        ActionDef("stop", ("withdrawal_requested",), "stopped", ("clerk", "leader"), (), ("close",)),
        ActionDef("reject", ("awaiting_decision",) + tuple(step_states), "rejected", decided_by,
                  ("reason_given", "before_due_date"), ("close",)),
        ActionDef("approve", ("awaiting_decision",), "decided", decided_by, ("fee_paid",), ("record_result",)),
        ActionDef("extend_due", running, None, ("clerk", "leader"),
                  ("reason_given", "new_due_date_given", "extension_unused", "extension_notice"),
                  ("extend_due",)),
        ActionDef("return_result", ("decided",), "returned", ("clerk", "records"), ("results_issued",), ("close",)),
    ]
    return states, actions


# --------------------------------------------------------------------------- parsing

TOP_KEYS = {
    "id", "code", "version", "effective_from", "title", "legal_basis", "authority", "online", "channels",
    "time_limit", "supplement_policy", "fee", "calendar", "form", "documents", "lifecycle", "workflow",
    "steps", "decided_by", "results",
}
REQUIRED_TOP = ("id", "code", "version", "effective_from", "title", "authority", "time_limit", "form")


def parse_procedure(
    text: str,
    source_name: str,
    *,
    folder: Path | None = None,
    evidence_types: Iterable[str] | None = None,
    calendars: Iterable[str] | None = None,
) -> tuple[Procedure | None, list[str]]:
    """Parse one procedure file; return (procedure or None, problems).

    ``evidence_types`` (when given) are the types known outside this file; cross-file checks
    (evidence types produced by other procedures) are done by :func:`load_catalogue`.
    """
    p = _Problems(source_name)
    try:
        doc = load_yaml_with_lines(text, source_name)
    except DefinitionError as exc:
        return None, exc.problems
    if not isinstance(doc, dict):
        p.add(getattr(doc, "line", 1), "a procedure file must be a mapping of keys")
        return None, p.items
    r = _Reader(p, doc, "the procedure", TOP_KEYS)
    for key in REQUIRED_TOP:
        if key not in doc:
            p.add(1, f"missing required key '{key}'")

    pid = r.get("id", str, default="")
    if pid and not KEBAB.match(pid):
        p.add(r.line_of("id"), f"id '{pid}' must be kebab-case (lowercase words joined by '-')")
    if folder is not None and pid and folder.name != pid:
        p.add(r.line_of("id"), f"id '{pid}' differs from its folder name '{folder.name}'")
    code = r.get("code", str, default="")
    if "code" in doc and not isinstance(doc["code"], str):
        pass  # reported by get
    version = r.get("version", int, default=None)
    if isinstance(version, int) and version < 1:
        p.add(r.line_of("version"), "version must be a whole number of at least 1")
    eff = r.get("effective_from", dt.date, default=None)
    title = r.text("title")
    legal = _str_list(p, doc.get("legal_basis"), "legal_basis", r.line_of("legal_basis"))
    authority = r.get("authority", str, default="commune")
    if authority not in AUTHORITIES:
        p.add(r.line_of("authority"), f"unknown authority '{authority}' (use one of {', '.join(sorted(AUTHORITIES))})")
    online = r.get("online", str, default="none")
    if online not in ONLINE_LEVELS:
        p.add(r.line_of("online"), f"unknown online level '{online}' (use full, partial or none)")
    channels = _str_list(p, doc.get("channels", ["counter"]), "channels", r.line_of("channels"))
    for ch in channels:
        if ch not in CHANNELS:
            p.add(r.line_of("channels"), f"unknown channel '{ch}' (use online, counter, postal)")
    if online == "none" and "online" in channels:
        p.add(r.line_of("channels"), "channel 'online' needs online: full or partial")

    tl = _Reader(p, doc.get("time_limit", {}), "time_limit", {"value", "unit"}, r.line_of("time_limit"))
    unit = tl.get("unit", str, required=True, default="working_days")
    if unit not in TIME_UNITS:
        p.add(tl.line_of("unit"), f"unknown time unit '{unit}' (use {', '.join(sorted(TIME_UNITS))})")
    value = tl.get("value", (int, float), default=0 if unit == "immediate" else None)
    if unit != "immediate" and (value is None or value <= 0):
        if "value" not in tl.m:
            p.add(tl.line, "time_limit needs a value greater than 0")
        elif isinstance(value, (int, float)):
            p.add(tl.line_of("value"), "time_limit value must be greater than 0")
    policy = r.get("supplement_policy", str, default="restart")
    if policy not in SUPPLEMENT_POLICIES:
        p.add(r.line_of("supplement_policy"), f"unknown supplement_policy '{policy}' (use restart or pause)")
    fee = _Reader(p, doc.get("fee", {"amount": 0}), "fee", {"amount", "note"}, r.line_of("fee"))
    fee_amount = fee.get("amount", int, default=0)
    if isinstance(fee_amount, int) and fee_amount < 0:
        p.add(fee.line_of("amount"), "fee amount cannot be negative")
    fee_note = fee.text("note")
    calendar = r.get("calendar", str, default="vn")
    if calendars is not None and calendar not in set(calendars):
        p.add(r.line_of("calendar"), f"unknown calendar '{calendar}'")

    groups, fields = _parse_form(p, doc.get("form"), r.line_of("form"))
    documents = _parse_documents(p, doc.get("documents", []), r.line_of("documents"))
    steps = _parse_steps(p, doc.get("steps", []), r.line_of("steps"))
    decided_by = _str_list(p, doc.get("decided_by", ["leader"]), "decided_by", r.line_of("decided_by"))
    for role in decided_by:
        if role not in STAFF_ROLES:
            p.add(r.line_of("decided_by"), f"unknown role '{role}' in decided_by{_suggest(role, STAFF_ROLES)}")
    results = _parse_results(p, doc.get("results", {}), r.line_of("results"), {f.id for f in fields})

    # workflow
    lifecycle = r.get("lifecycle", str, default=None)
    if lifecycle is not None and lifecycle != "one-stop":
        p.add(r.line_of("lifecycle"), f"unknown lifecycle '{lifecycle}' (the built-in one is 'one-stop')")
    if "workflow" in doc and lifecycle is not None:
        p.add(r.line_of("workflow"), "give either 'lifecycle' or 'workflow', not both")
    if "workflow" in doc:
        states, actions, initial = _parse_workflow(p, doc["workflow"], r.line_of("workflow"))
        if "steps" in doc:
            p.add(r.line_of("steps"), "'steps' go with 'lifecycle: one-stop'; an explicit workflow lists its own actions")
    elif lifecycle == "one-stop":
        states, actions = _one_stop(steps, decided_by)
        initial = "draft"
        if not steps:
            p.add(r.line_of("lifecycle"), "lifecycle one-stop needs at least one processing step in 'steps'")
    else:
        if "lifecycle" not in doc:
            p.add(1, "missing 'lifecycle' (e.g. lifecycle: one-stop) or an explicit 'workflow'")
        states, actions, initial = [], [], "draft"

    wf_raw = doc.get("workflow") if isinstance(doc.get("workflow"), dict) else {}
    _check_workflow(p, states, actions, initial, results, r.line_of("workflow" if "workflow" in doc else "lifecycle"),
                    _key_lines(wf_raw.get("states")), _key_lines(wf_raw.get("actions")))

    # names of actions must not clash with the lifecycle's
    step_ids = [s.id for s in steps]
    if lifecycle == "one-stop":
        builtin = {a.id for a in actions} - set(step_ids)
        for i, sid in enumerate(step_ids):
            if sid in builtin:
                p.add(_line_of(doc.get("steps"), i), f"step id '{sid}' clashes with a lifecycle action")

    # prefill cross-references
    field_ids = {f.id: f for f in fields}
    for f in fields:
        pf = f.prefill
        if pf is None:
            continue
        if pf.person and (pf.person not in field_ids or field_ids[pf.person].type != "personal_id"):
            p.add(_field_line(doc, f.id), f"field '{f.id}': prefill person '{pf.person}' must name a personal_id field of this form")
        for arg in pf.args:
            if arg not in field_ids:
                p.add(_field_line(doc, f.id), f"field '{f.id}': prefill argument '{arg}' is not a field of this form")

    # templates exist
    if folder is not None:
        for res in results:
            if not (folder / res.template).is_file():
                p.add(_result_line(doc, res.id), f"result '{res.id}': template '{res.template}' not found in {folder.name}/")
    # evidence types named by documents must be known
    if evidence_types is not None:
        known = set(evidence_types) | {res.evidence for res in results}
        for d in documents:
            if d.replaced_by and d.replaced_by not in known:
                p.add(_doc_line(doc, d.id), f"document '{d.id}': unknown evidence type '{d.replaced_by}'")

    if p.items:
        return None, p.items
    proc = Procedure(
        id=pid, code=str(code), version=version, effective_from=eff, title=title,  # type: ignore[arg-type]
        authority=authority, online=online, channels=channels,
        time_limit_value=float(value or 0), time_limit_unit=unit, supplement_policy=policy,
        fee_amount=fee_amount, fee_note=fee_note, calendar=calendar, groups=groups, fields=fields,
        documents=documents, steps=steps, decided_by=decided_by, results=results,
        states=tuple(states), actions=tuple(actions), initial=initial, lifecycle=lifecycle,
        legal_basis=legal, folder=str(folder) if folder else "", source_name=source_name,
        source_text=text, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )
    return proc, []


def _field_line(doc: dict, field_id: str) -> int:
    fields = (doc.get("form") or {}).get("fields") if isinstance(doc.get("form"), dict) else None
    if isinstance(fields, list):
        for i, f in enumerate(fields):
            if isinstance(f, dict) and f.get("id") == field_id:
                return _line_of(fields, i)
    return 1


def _doc_line(doc: dict, doc_id: str) -> int:
    docs = doc.get("documents")
    if isinstance(docs, list):
        for i, d in enumerate(docs):
            if isinstance(d, dict) and d.get("id") == doc_id:
                return _line_of(docs, i)
    return 1


def _result_line(doc: dict, result_id: str) -> int:
    results = doc.get("results")
    return _line_of(results, result_id) if isinstance(results, dict) else 1


FIELD_KEYS = {"id", "label", "type", "required", "group", "options", "max_length", "min", "max", "help", "prefill"}
PREFILL_KEYS = {"source", "path", "of", "person", "rule", "args", "editable"}


def _parse_form(p: _Problems, form: Any, line: int) -> tuple[tuple[Group, ...], tuple[FieldDef, ...]]:
    if form is None:
        return (), ()
    r = _Reader(p, form, "form", {"groups", "fields"}, line)
    groups: list[Group] = []
    raw_groups = r.get("groups", list, default=[])
    seen_groups: set[str] = set()
    for i, g in enumerate(raw_groups or []):
        gr = _Reader(p, g, "a form group", {"id", "label"}, _line_of(raw_groups, i))
        gid = gr.get("id", str, required=True, default="")
        if gid in seen_groups:
            p.add(gr.line_of("id"), f"duplicate group id '{gid}'")
        seen_groups.add(gid)
        label = gr.text("label", required=True)
        if gid and label:
            groups.append(Group(gid, label))
    fields: list[FieldDef] = []
    raw_fields = r.get("fields", list, required=True, default=[])
    seen: set[str] = set()
    for i, f in enumerate(raw_fields or []):
        fr = _Reader(p, f, "a form field", FIELD_KEYS, _line_of(raw_fields, i))
        if not fr.ok:
            continue
        fid = fr.get("id", str, required=True, default="")
        where = f"field '{fid}'"
        if fid and not SNAKE.match(fid):
            p.add(fr.line_of("id"), f"{where}: id must be snake_case")
        if fid in seen:
            p.add(fr.line_of("id"), f"duplicate field id '{fid}'")
        seen.add(fid)
        label = fr.text("label", required=True)
        ftype = fr.get("type", str, required=True, default="text")
        if ftype not in FIELD_TYPES:
            p.add(fr.line_of("type"), f"{where}: unknown type '{ftype}'{_suggest(ftype, FIELD_TYPES)}")
        group = fr.get("group", str, default=None)
        if group is not None and group not in seen_groups:
            p.add(fr.line_of("group"), f"{where}: unknown group '{group}'")
        options: list[Option] = []
        raw_opts = fr.get("options", list, default=None)
        if ftype == "select" and not raw_opts:
            p.add(fr.line, f"{where}: a select field needs options")
        if raw_opts and ftype != "select":
            p.add(fr.line_of("options"), f"{where}: only select fields have options")
        for j, o in enumerate(raw_opts or []):
            orr = _Reader(p, o, f"an option of {where}", {"value", "label"}, _line_of(raw_opts, j))
            ov = orr.get("value", (str, int), required=True, default="")
            ol = orr.text("label", required=True)
            if ol is not None:
                options.append(Option(str(ov), ol))
        prefill = _parse_prefill(p, f.get("prefill"), fr.line_of("prefill"), where) if "prefill" in f else None
        fields.append(
            FieldDef(
                id=fid, label=label or Text(fid, fid), type=ftype, required=fr.get("required", bool, default=False),
                group=group, options=tuple(options), max_length=fr.get("max_length", int, default=None),
                min=fr.get("min", (int, float), default=None), max=fr.get("max", (int, float), default=None),
                help=fr.text("help"), prefill=prefill,
            )
        )
    return tuple(groups), tuple(fields)


def _parse_prefill(p: _Problems, raw: Any, line: int, where: str) -> Prefill | None:
    pr = _Reader(p, raw, f"the prefill of {where}", PREFILL_KEYS, line)
    if not pr.ok:
        return None
    source = pr.get("source", str, required=True, default="")
    if source and source not in PREFILL_SOURCES:
        p.add(pr.line_of("source"), f"{where}: unknown prefill source '{source}'{_suggest(source, PREFILL_SOURCES)}")
    path = pr.get("path", str, default=None)
    of = pr.get("of", str, default="self")
    person = pr.get("person", str, default=None)
    rule = pr.get("rule", str, default=None)
    args = _str_list(p, pr.raw("args"), f"prefill args of {where}", pr.line_of("args"))
    if of not in PREFILL_WHO:
        p.add(pr.line_of("of"), f"{where}: prefill 'of' must be one of {', '.join(sorted(PREFILL_WHO))}")
    if person and "of" in pr.m:
        p.add(pr.line_of("person"), f"{where}: give either 'of' or 'person', not both")
    if source == "population":
        if path not in PERSON_ATTRIBUTES:
            p.add(pr.line_of("path"), f"{where}: unknown population attribute '{path}'{_suggest(str(path), PERSON_ATTRIBUTES)}")
    elif source == "identity":
        if path not in IDENTITY_ATTRIBUTES:
            p.add(pr.line_of("path"), f"{where}: unknown identity attribute '{path}'")
    elif source == "results":
        if not path or "." not in path:
            p.add(pr.line_of("path"), f"{where}: a results prefill path is '<evidence type>.<data key>'")
    elif source == "derived":
        if rule not in DERIVATIONS:
            p.add(pr.line_of("rule") if rule else pr.line, f"{where}: unknown derivation '{rule}' (known: {', '.join(sorted(DERIVATIONS))})")
        if not args:
            p.add(pr.line, f"{where}: a derived prefill needs 'args'")
    return Prefill(source=source, path=path, of=of, person=person, rule=rule, args=args,
                   editable=pr.get("editable", bool, default=True))


DOC_KEYS = {"id", "label", "required", "accept", "max_mb", "replaced_by"}


def _parse_documents(p: _Problems, raw: Any, line: int) -> tuple[DocumentDef, ...]:
    if not isinstance(raw, list):
        p.add(line, "documents must be a list")
        return ()
    docs: list[DocumentDef] = []
    seen: set[str] = set()
    for i, d in enumerate(raw):
        dr = _Reader(p, d, "a document", DOC_KEYS, _line_of(raw, i))
        if not dr.ok:
            continue
        did = dr.get("id", str, required=True, default="")
        if did in seen:
            p.add(dr.line_of("id"), f"duplicate document id '{did}'")
        seen.add(did)
        if did and not SNAKE.match(did):
            p.add(dr.line_of("id"), f"document id '{did}' must be snake_case")
        accept = _str_list(p, dr.raw("accept") or ["application/pdf"], f"accept of document '{did}'", dr.line_of("accept"))
        for mime in accept:
            if mime not in MIME_TYPES:
                p.add(dr.line_of("accept"), f"document '{did}': unsupported type '{mime}' (accepted: {', '.join(sorted(MIME_TYPES))})")
        max_mb = dr.get("max_mb", (int, float), default=10)
        if isinstance(max_mb, (int, float)) and not 0 < max_mb <= 50:
            p.add(dr.line_of("max_mb"), f"document '{did}': max_mb must be between 0 and 50")
        replaced = None
        if dr.has("replaced_by"):
            rr = _Reader(p, dr.raw("replaced_by"), f"replaced_by of document '{did}'", {"evidence"}, dr.line_of("replaced_by"))
            replaced = rr.get("evidence", str, required=True, default=None)
        docs.append(DocumentDef(did, dr.text("label", required=True) or Text(did, did),
                                dr.get("required", bool, default=False), accept, float(max_mb or 10), replaced))
    return tuple(docs)


def _parse_steps(p: _Problems, raw: Any, line: int) -> tuple[Step, ...]:
    if not isinstance(raw, list):
        p.add(line, "steps must be a list")
        return ()
    steps: list[Step] = []
    seen: set[str] = set()
    for i, s in enumerate(raw):
        sr = _Reader(p, s, "a step", {"id", "label", "roles", "time_share"}, _line_of(raw, i))
        if not sr.ok:
            continue
        sid = sr.get("id", str, required=True, default="")
        if sid in seen:
            p.add(sr.line_of("id"), f"duplicate step id '{sid}'")
        seen.add(sid)
        if sid and not SNAKE.match(sid):
            p.add(sr.line_of("id"), f"step id '{sid}' must be snake_case")
        roles = _str_list(p, sr.raw("roles"), f"roles of step '{sid}'", sr.line_of("roles"))
        if not roles:
            p.add(sr.line, f"step '{sid}' needs at least one role")
        for role in roles:
            if role not in STAFF_ROLES:
                p.add(sr.line_of("roles"), f"step '{sid}': unknown role '{role}'{_suggest(role, STAFF_ROLES)}")
        share = sr.get("time_share", (int, float), default=None)
        if share is not None and not 0 < share <= 1:
            p.add(sr.line_of("time_share"), f"step '{sid}': time_share must be in (0, 1]")
        steps.append(Step(sid, sr.text("label") or Text(sid, sid), roles, share))
    total = sum(s.time_share or 0 for s in steps)
    if total > 1.0001:
        p.add(line, f"the steps' time_share add up to {total:g}, more than 1")
    return tuple(steps)


RESULT_KEYS = {"title", "template", "number", "data", "holder", "evidence", "validity", "signers"}


def _parse_results(p: _Problems, raw: Any, line: int, field_ids: set[str]) -> tuple[ResultDef, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        p.add(line, "results must be a mapping of result id to its definition")
        return ()
    out: list[ResultDef] = []
    for rid, spec in raw.items():
        rline = _line_of(raw, rid)
        if not isinstance(rid, str) or not KEBAB.match(rid):
            p.add(rline, f"result id '{rid}' must be kebab-case")
        rr = _Reader(p, spec, f"result '{rid}'", RESULT_KEYS, rline)
        if not rr.ok:
            continue
        template = rr.get("template", str, required=True, default="")
        if template and (template.startswith("/") or ".." in Path(template).parts):
            p.add(rr.line_of("template"), f"result '{rid}': template must be a path inside the procedure folder")
        number = rr.get("number", str, required=True, default="{seq}/{year}")
        for ph in NUMBER_PLACEHOLDERS.findall(number or ""):
            if ph not in ("seq", "year"):
                p.add(rr.line_of("number"), f"result '{rid}': unknown placeholder '{{{ph}}}' in number (use {{seq}}, {{year}})")
        if number and "{seq}" not in number:
            p.add(rr.line_of("number"), f"result '{rid}': the number needs {{seq}} to be unique")
        data_raw = rr.get("data", dict, default={}) or {}
        data: list[tuple[str, str]] = []
        for key, ref in data_raw.items():
            kline = _line_of(data_raw, key)
            if not isinstance(ref, str):
                p.add(kline, f"result '{rid}': data '{key}' must be a reference like form.<field>")
                continue
            _check_ref(p, kline, f"result '{rid}': data '{key}'", ref, field_ids)
            data.append((str(key), ref))
        holder = _str_list(p, rr.raw("holder"), f"holder of result '{rid}'", rr.line_of("holder"))
        if not holder:
            p.add(rr.line, f"result '{rid}' needs a holder (form.<personal_id field>)")
        for h in holder:
            _check_ref(p, rr.line_of("holder"), f"result '{rid}': holder", h, field_ids)
        evidence = rr.get("evidence", str, required=True, default="")
        if evidence and not KEBAB.match(evidence):
            p.add(rr.line_of("evidence"), f"result '{rid}': evidence type '{evidence}' must be kebab-case")
        validity = rr.raw("validity")
        months = None
        if validity is not None:
            vr = _Reader(p, validity, f"validity of result '{rid}'", {"months"}, rr.line_of("validity"))
            months = vr.get("months", int, required=True, default=None)
            if isinstance(months, int) and months < 1:
                p.add(vr.line_of("months"), f"result '{rid}': validity months must be at least 1")
        signers = _str_list(p, rr.raw("signers") or ["leader", "agency"], f"signers of result '{rid}'", rr.line_of("signers"))
        for s in signers:
            if s not in STAFF_ROLES | {"agency"}:
                p.add(rr.line_of("signers"), f"result '{rid}': unknown signer '{s}' (a staff role or 'agency')")
        out.append(ResultDef(str(rid), rr.text("title", required=True) or Text(str(rid), str(rid)), template,
                             number, tuple(data), holder, evidence, months, signers))
    return tuple(out)


def _check_ref(p: _Problems, line: int, where: str, ref: str, field_ids: set[str]) -> None:
    root, _, rest = ref.partition(".")
    if root not in RESULT_DATA_ROOTS or not rest:
        p.add(line, f"{where}: '{ref}' must start with form., dossier., agency. or applicant.")
    elif root == "form" and rest not in field_ids:
        p.add(line, f"{where}: '{ref}' names no field of this form")
    elif root == "dossier" and rest not in DOSSIER_ATTRIBUTES:
        p.add(line, f"{where}: unknown dossier attribute '{rest}'")


WF_STATE_KEYS = {"status_code", "final", "outcome", "clock"}
WF_ACTION_KEYS = {"from", "to", "roles", "guards", "effects", "label"}


def _parse_workflow(p: _Problems, raw: Any, line: int) -> tuple[list[StateDef], list[ActionDef], str]:
    wr = _Reader(p, raw, "workflow", {"states", "actions", "initial"}, line)
    if not wr.ok:
        return [], [], "draft"
    states: list[StateDef] = []
    raw_states = wr.get("states", dict, required=True, default={}) or {}
    for sid, spec in raw_states.items():
        sline = _line_of(raw_states, sid)
        if not isinstance(sid, str) or not SNAKE.match(sid):
            p.add(sline, f"state '{sid}' must be snake_case")
        spec = spec if spec is not None else {}
        sr = _Reader(p, spec, f"state '{sid}'", WF_STATE_KEYS, sline)
        code = sr.get("status_code", int, default=None)
        if code is not None and not 1 <= code <= 10:
            p.add(sr.line_of("status_code"), f"state '{sid}': status_code must be a national status code 1-10")
        outcome = sr.get("outcome", str, default=None)
        if outcome not in (None, "result", "refusal", "stop", "rejection"):
            p.add(sr.line_of("outcome"), f"state '{sid}': unknown outcome '{outcome}'")
        clock = sr.get("clock", str, default="idle")
        if clock not in ("idle", "running", "paused"):
            p.add(sr.line_of("clock"), f"state '{sid}': clock must be idle, running or paused")
        states.append(StateDef(str(sid), code, sr.get("final", bool, default=False), outcome, clock))
    initial = wr.get("initial", str, default=states[0].id if states else "draft")
    actions: list[ActionDef] = []
    raw_actions = wr.get("actions", dict, required=True, default={}) or {}
    for aid, spec in raw_actions.items():
        aline = _line_of(raw_actions, aid)
        if not isinstance(aid, str) or not SNAKE.match(aid):
            p.add(aline, f"action '{aid}' must be snake_case")
        ar = _Reader(p, spec, f"action '{aid}'", WF_ACTION_KEYS, aline)
        if not ar.ok:
            continue
        sources = _str_list(p, ar.raw("from"), f"'from' of action '{aid}'", ar.line_of("from"))
        if not sources:
            p.add(ar.line, f"action '{aid}' needs 'from' (one state or a list)")
        dest = ar.get("to", (str, type(None)), default=None)
        if "to" not in ar.m:
            p.add(ar.line, f"action '{aid}' needs 'to' (a state; empty to stay)")
        roles = _str_list(p, ar.raw("roles"), f"roles of action '{aid}'", ar.line_of("roles"))
        if not roles:
            p.add(ar.line, f"action '{aid}' needs at least one role")
        for role in roles:
            if role not in ROLES:
                p.add(ar.line_of("roles"), f"action '{aid}': unknown role '{role}'{_suggest(role, ROLES)}")
        guards = _str_list(p, ar.raw("guards"), f"guards of action '{aid}'", ar.line_of("guards"))
        for g in guards:
            if g not in GUARDS:
                p.add(ar.line_of("guards"), f"action '{aid}': unknown guard '{g}'{_suggest(g, GUARDS)}")
        effects = _str_list(p, ar.raw("effects"), f"effects of action '{aid}'", ar.line_of("effects"))
        for e in effects:
            if e not in EFFECTS:
                p.add(ar.line_of("effects"), f"action '{aid}': unknown effect '{e}'{_suggest(e, EFFECTS)}")
        actions.append(ActionDef(str(aid), sources, dest, roles, guards, effects, ar.text("label")))
    return states, actions, initial


def _key_lines(mapping: Any) -> dict[str, int]:
    """The line of each key of a mapping (the states or actions of a workflow)."""
    return {str(k): _line_of(mapping, k) for k in mapping} if isinstance(mapping, dict) else {}


def _check_workflow(p: _Problems, states: list[StateDef], actions: list[ActionDef], initial: str,
                    results: tuple[ResultDef, ...], line: int,
                    state_lines: dict[str, int] | None = None, action_lines: dict[str, int] | None = None) -> None:
    sl, al = state_lines or {}, action_lines or {}
    if not states:
        return
    ids = [s.id for s in states]
    seen: set[str] = set()
    for sid in ids:
        if sid in seen:
            p.add(line, f"duplicate state '{sid}'")
        seen.add(sid)
    known = set(ids)
    if initial not in known:
        p.add(line, f"initial state '{initial}' is not a state of the workflow")
    for a in actions:
        for s in a.sources:
            if s not in known:
                p.add(al.get(a.id, line), f"action '{a.id}': unknown state '{s}' in 'from'")
        if a.dest is not None and a.dest not in known:
            p.add(al.get(a.id, line), f"action '{a.id}': unknown state '{a.dest}' in 'to'")
    # reachability from the initial state
    edges: dict[str, set[str]] = {s: set() for s in known}
    for a in actions:
        for s in a.sources:
            if s in edges and a.dest in known:
                edges[s].add(a.dest)  # type: ignore[arg-type]
    reached = {initial} if initial in known else set()
    queue = deque(reached)
    while queue:
        cur = queue.popleft()
        for nxt in edges.get(cur, ()):
            if nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    by_id = {s.id: s for s in states}
    for sid in ids:
        if sid not in reached and initial in known:
            p.add(sl.get(sid, line), f"state '{sid}' is unreachable from '{initial}'")
        st = by_id[sid]
        leaving = [a for a in actions if sid in a.sources and a.dest not in (None, sid)]
        if not st.final and not leaving:
            p.add(sl.get(sid, line), f"state '{sid}' is a dead end: it is not final and no action leaves it")
        if st.final and leaving:
            p.add(sl.get(sid, line), f"state '{sid}' is final but action '{leaving[0].id}' leaves it")
        if st.final and st.outcome == "result" and not results:
            p.add(sl.get(sid, line), f"final state '{sid}' delivers a result but the procedure defines no results")
    if not any(by_id[s].final for s in ids):
        p.add(line, "the workflow has no final state")
    if any("record_result" in a.effects for a in actions) and not results:
        p.add(line, "an action records a result but the procedure defines no results")


# --------------------------------------------------------------------------- catalogue


def load_evidence_types(path: Path) -> tuple[dict[str, EvidenceType], list[str]]:
    name = str(path)
    p = _Problems(name)
    try:
        doc = load_yaml_with_lines(path.read_text(encoding="utf-8"), name)
    except DefinitionError as exc:
        return {}, exc.problems
    r = _Reader(p, doc, "the evidence types file", {"evidence_types"})
    out: dict[str, EvidenceType] = {}
    raw = r.get("evidence_types", list, required=True, default=[]) or []
    for i, item in enumerate(raw):
        er = _Reader(p, item, "an evidence type", {"id", "title", "issuer"}, _line_of(raw, i))
        eid = er.get("id", str, required=True, default="")
        if eid and not KEBAB.match(eid):
            p.add(er.line_of("id"), f"evidence type '{eid}' must be kebab-case")
        if eid in out:
            p.add(er.line_of("id"), f"duplicate evidence type '{eid}'")
        title = er.text("title", required=True)
        if eid and title:
            out[eid] = EvidenceType(eid, title, er.text("issuer"))
    return out, p.items


def procedure_files(folders: Iterable[Path]) -> list[tuple[Path, Path]]:
    """(folder, procedure.yaml) for every procedure folder under the given roots."""
    found: list[tuple[Path, Path]] = []
    for root in folders:
        if (root / "procedure.yaml").is_file():  # a single procedure folder
            found.append((root, root / "procedure.yaml"))
            continue
        if not root.is_dir():
            continue
        for sub in sorted(root.iterdir()):
            if sub.is_dir() and (sub / "procedure.yaml").is_file():
                found.append((sub, sub / "procedure.yaml"))
    return found


def load_catalogue(folders: Iterable[Path | str], *, calendars: Iterable[str] | None = None) -> Catalogue:
    """Load every procedure under ``folders`` (later folders add procedures); fail fast."""
    roots = [Path(f) for f in folders]
    problems: list[str] = []
    evidence: dict[str, EvidenceType] = {}
    for root in roots:
        if not root.exists():
            problems.append(f"{root}:1: procedures folder does not exist")
            continue
        ev_file = root / "evidence-types.yaml"
        if ev_file.is_file():
            found, errs = load_evidence_types(ev_file)
            problems += errs
            evidence.update(found)
    parsed: list[Procedure] = []
    for folder, path in procedure_files(roots):
        text = path.read_text(encoding="utf-8")
        proc, errs = parse_procedure(text, str(path), folder=folder, calendars=calendars)
        problems += errs
        if proc:
            parsed.append(proc)
    procedures: dict[tuple[str, int], Procedure] = {}
    produced = {res.evidence: res for proc in parsed for res in proc.results}
    for proc in parsed:
        if proc.key in procedures:
            other = procedures[proc.key]
            problems.append(f"{proc.source_name}:1: procedure '{proc.id}' version {proc.version} is also defined in {other.source_name}")
            continue
        procedures[proc.key] = proc
        for d in proc.documents:
            if d.replaced_by and d.replaced_by not in evidence and d.replaced_by not in produced:
                problems.append(f"{proc.source_name}:{_doc_line_in_text(proc.source_text, d.id)}: document '{d.id}': unknown evidence type '{d.replaced_by}'")
    for ev_id, res in produced.items():
        if ev_id not in evidence:
            evidence[ev_id] = EvidenceType(ev_id, res.title)
    if problems:
        raise DefinitionError(problems)
    return Catalogue(procedures, evidence)


def _doc_line_in_text(text: str, doc_id: str) -> int:
    pattern = re.compile(rf"^\s*-?\s*id:\s*['\"]?{re.escape(doc_id)}['\"]?\s*$")
    in_docs = False
    for n, line in enumerate(text.splitlines(), start=1):
        if line.startswith("documents:"):
            in_docs = True
        elif line and not line[0].isspace() and not line.startswith("-"):
            in_docs = False
        if in_docs and pattern.match(line):
            return n
    return 1
