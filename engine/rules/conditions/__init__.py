"""Conditions of eligibility: named rules a procedure file lists under ``conditions:``, each with its
parameters, evaluated against the state's data (the population register and the results store)
rather than what the applicant typed, wherever the state holds the fact.

    conditions:
      - {rule: parties_exist, parties: [wife_personal_id, husband_personal_id]}
      - {rule: minimum_age, parties: {wife_personal_id: 18, husband_personal_id: 20}}

A rule is a function ``(facts, params) -> Verdict`` registered in :data:`CONDITIONS`; ``params`` is
the rule's entry in the file without ``rule``. The registration's ``check`` (a function
``(params, fields) -> list[str]`` of problems, ``fields`` mapping the procedure's field ids to their
types) validates the entry when the definition is loaded (:func:`check_entry`).

The rules, by theme (each module registers its own):
  people     parties_exist, different_people, party_sex, minimum_age, life_status
  marriage   not_married
  kinship    no_prohibited_kinship (and the register links between two people, :mod:`.kinship`)
  dates      birth_date_possible, death_date_possible, registration_period
  filing     applicant_is_party, applicant_related, applicant_may_register_birth
  residence  residence_in_area

A person the register does not know fails ``parties_exist`` only; every other rule leaves that
person out, and says ``not_checked`` when nobody is left to judge. An empty field is left out too
(whether it is required is the form's business).

The rules are pure: they read the register and the results store only through :class:`Facts`,
which the use case implements. A source that cannot be reached raises :class:`SourceUnavailable`
from ``Facts``; :func:`evaluate` turns that into a ``not_checked`` verdict, which never blocks the
citizen and is shown to the clerk.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from engine.rules.registry import Registry

if TYPE_CHECKING:  # annotations only: engine.rules.prefill reaches the definitions, which check conditions
    from engine.rules.prefill import PersonRecord, StoredResult

PASSED = "passed"
FAILED = "failed"
NOT_CHECKED = "not_checked"


class SourceUnavailable(Exception):
    """The register or the results store could not be reached (timeout, error, not configured)."""


@dataclass(frozen=True)
class AgencyFacts:
    """The receiving agency as the conditions see it."""

    code: str
    level: str  # ministry | province | commune
    unit_code: str | None  # the administrative unit it serves (None: jurisdiction not checkable)
    province_code: str | None = None


class Facts(Protocol):
    """What a condition may read. ``person`` and ``results`` may raise SourceUnavailable."""

    form: Mapping[str, Any]  # the dossier's form data (cleaned values: dates as ISO strings)
    on: dt.date  # the filing date the conditions are judged on
    applicant: str | None  # the applicant's personal id (the citizen, or the walk-in at the counter)
    agency: AgencyFacts

    def person(self, personal_id: str) -> PersonRecord | None: ...

    def results(self, personal_ids: Iterable[str], evidence_types: Iterable[str]) -> list[StoredResult]: ...


@dataclass(frozen=True)
class Verdict:
    """One condition's answer. ``fields`` are the form fields it concerns (where the web shows the
    message); ``used`` is the data it used (JSON-able), shown to staff beside the verdict."""

    rule: str
    status: str  # passed | failed | not_checked
    fields: tuple[str, ...] = ()
    message_vi: str = ""
    message_en: str = ""
    used: Mapping[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    def message(self) -> str:
        """Both languages, the way the API's errors carry them."""
        return f"{self.message_vi} / {self.message_en}" if self.message_en else self.message_vi

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "status": self.status, "fields": list(self.fields),
                "message": {"vi": self.message_vi, "en": self.message_en}, "used": dict(self.used)}


Rule = Callable[[Facts, Mapping[str, Any]], Verdict]
CONDITIONS: Registry[Rule] = Registry("condition")


def evaluate(conditions: Sequence[Mapping[str, Any]], facts: Facts) -> list[Verdict]:
    """Every condition of a procedure, in the file's order. A rule whose source cannot be reached is
    ``not_checked``; a rule never raises anything else for data it finds (a bug still raises)."""
    verdicts = []
    for entry in conditions:
        name = entry["rule"]
        params = {k: v for k, v in entry.items() if k != "rule"}
        try:
            verdicts.append(CONDITIONS.get(name)(facts, params))
        except SourceUnavailable as exc:
            verdicts.append(Verdict(name, NOT_CHECKED, _fields_of(params),
                                    "Chưa kiểm tra được: nguồn dữ liệu không truy cập được",
                                    "Not checked: the data source could not be reached",
                                    {"error": str(exc)[:200]}))
    return verdicts


def check_entry(name: str, params: Mapping[str, Any], fields: Mapping[str, str]) -> list[str]:
    """The problems of one ``conditions:`` entry (``fields``: the procedure's field ids -> types);
    an unknown rule is one problem."""
    if name not in CONDITIONS:
        return [f"unknown rule '{name}' (known: {', '.join(sorted(CONDITIONS))})"]
    check = CONDITIONS.info(name).get("check")
    return list(check(params, fields)) if check is not None else []


def blocking(verdicts: Iterable[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if v.failed]


def _fields_of(params: Mapping[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    for value in params.values():
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, Mapping):
            out.extend(k for k in value if isinstance(k, str))
        elif isinstance(value, (list, tuple)):
            out.extend(v for v in value if isinstance(v, str))
    return tuple(out)


# The rules register themselves on import (kept last: they import the names above).
from engine.rules.conditions import (  # noqa: E402,F401
    dates, filing, kinship, marriage, people, residence,
)
