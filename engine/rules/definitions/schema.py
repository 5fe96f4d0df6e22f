"""The frozen dataclasses a procedure definition loads into, and the vocabulary a file may use."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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

# Prefill: what a path may name (the sources and derivations are registered in engine.rules.prefill).
PREFILL_WHO = frozenset({"self", "spouse", "father", "mother", "wife", "husband"})
PERSON_ATTRIBUTES = frozenset(
    {
        "full_name", "date_of_birth", "sex", "ethnicity", "nationality", "religion", "home_town",
        "place_of_birth", "permanent_address", "current_address", "personal_id", "phone", "email",
        "marital_status", "id_issued_on", "id_issued_by", "birth_year", "date_of_death",
    }
)
IDENTITY_ATTRIBUTES = frozenset({"full_name", "personal_id", "phone", "email"})
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
    # a source value the field cannot hold: "refuse" (the default) or "declare" (engine.rules.prefill.ON_CONFLICT)
    on_conflict: str = "refuse"


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
class WriteBackDef:
    """What a result writes back into the population register: a rule of engine.rules.writeback and
    the form fields (or result data keys) it reads."""

    rule: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TimeLimitCase:
    """A longer time limit that holds when a named case does (e.g. ``verification``): chosen with a
    reason by the staff while the dossier is processed (the ``apply_time_limit_case`` action)."""

    id: str
    value: float
    unit: str
    label: Text


@dataclass(frozen=True)
class CopiesDef:
    """Signed copies of a result issued with it (e.g. "Bản sao trích lục khai sinh"): how many the form
    asks for, whether it asks at all, the fee per copy (Circular 281/2016/TT-BTC Art. 4) and the title."""

    count: str  # form.<number field>
    when: str | None  # form.<boolean field>, or None: the count alone decides
    fee_per_copy: int
    title: Text


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
    # the data keys the template prints (read from the template when the folder is loaded): what a
    # public verification page may show of the result
    printed: frozenset[str] = frozenset()
    writes_back: WriteBackDef | None = None
    copies: CopiesDef | None = None


@dataclass(frozen=True)
class StateDef:
    id: str
    status_code: int | None
    final: bool = False
    outcome: str | None = None  # result | refusal | stop | rejection (final states)
    clock: str = "idle"  # idle | running | paused
    editable: bool = False  # the applicant may change the form and the documents
    supplement: bool = False  # waiting for the applicant to supplement the dossier


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
    # the conditions of eligibility: ``{rule: <name>, ...parameters}`` each (engine.rules.conditions)
    conditions: tuple[Mapping[str, Any], ...] = field(default=(), compare=False)
    time_limit_cases: tuple[TimeLimitCase, ...] = ()
    # derived from the states' flags
    editable_states: frozenset[str] = field(init=False, repr=False, compare=False)
    supplement_states: frozenset[str] = field(init=False, repr=False, compare=False)

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.version)

    def field(self, field_id: str) -> FieldDef | None:
        return self._fields_by_id.get(field_id)

    def state(self, state_id: str) -> StateDef:
        return self._states_by_id[state_id]

    def action(self, action_id: str) -> ActionDef | None:
        return self._actions_by_id.get(action_id)

    def actions_from(self, state_id: str) -> tuple[ActionDef, ...]:
        """The actions whose sources include ``state_id``, in the definition's order."""
        return self._actions_by_source.get(state_id, ())

    def document(self, doc_id: str) -> DocumentDef | None:
        return self._documents_by_id.get(doc_id)

    def time_limit_case(self, case_id: str | None) -> TimeLimitCase | None:
        return next((c for c in self.time_limit_cases if c.id == case_id), None)

    def time_limit(self, case_id: str | None = None) -> tuple[float, str]:
        """(value, unit) of the ordinary time limit, or of the named case when there is one."""
        case = self.time_limit_case(case_id)
        return (case.value, case.unit) if case else (self.time_limit_value, self.time_limit_unit)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_fields_by_id", {f.id: f for f in self.fields})
        object.__setattr__(self, "_states_by_id", {s.id: s for s in self.states})
        object.__setattr__(self, "_actions_by_id", {a.id: a for a in self.actions})
        by_source: dict[str, list[ActionDef]] = {}
        for a in self.actions:
            for source in dict.fromkeys(a.sources):
                by_source.setdefault(source, []).append(a)
        object.__setattr__(self, "_actions_by_source", {s: tuple(acts) for s, acts in by_source.items()})
        object.__setattr__(self, "_documents_by_id", {d.id: d for d in self.documents})
        object.__setattr__(self, "editable_states", frozenset(s.id for s in self.states if s.editable))
        object.__setattr__(self, "supplement_states", frozenset(s.id for s in self.states if s.supplement))


EVIDENCE_DATA_TYPES = frozenset({"text", "date", "time", "number", "personal_id", "sex"})


@dataclass(frozen=True)
class EvidenceDataKey:
    """One key of the data an evidence type issued outside carries (checked when it is deposited)."""

    key: str
    type: str  # text | date | time | number | personal_id | sex
    required: bool = False


@dataclass(frozen=True)
class EvidenceType:
    id: str
    title: Text
    issuer: Text | None = None
    data: tuple[EvidenceDataKey, ...] = ()  # declared data keys (empty: not declared)


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

