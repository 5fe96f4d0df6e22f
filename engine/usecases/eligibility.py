"""Eligibility: a procedure's conditions (engine.rules.conditions) evaluated against the population
register and the results store for one dossier, inside the action's own transaction, and the verdicts
an action relied on kept for the staff dossier page.

A register or results store that fails or times out never blocks the applicant: the conditions that
needed it are ``not_checked`` and the clerk sees them so. Every person the conditions read is logged
for that person (the register-read log) under the actor who fired the action.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import select

from engine.adapters.models import Agency, EligibilityCheck
from engine.rules.access import Actor
from engine.rules.conditions import NOT_CHECKED, AgencyFacts, SourceUnavailable, Verdict, evaluate
from engine.rules.definitions import Procedure
from engine.rules.prefill import PersonRecord, PopulationRegister, ResultsStore, StoredResult
from engine.usecases.access import Access

log = logging.getLogger(__name__)

PURPOSE = "Kiểm tra điều kiện giải quyết thủ tục / eligibility check"
BASIS = "eligibility"
READ_ATTRIBUTES = ("date_of_birth", "sex", "marital_status", "date_of_death", "spouse", "father", "mother",
                   "permanent_unit", "current_unit")


class StateFacts:
    """The :class:`engine.rules.conditions.Facts` of one dossier: its form, the filing date, the applicant,
    the agency, and the register and results store read through the caller's session where the adapter
    allows it (one connection per request). Reads are cached; a failing source raises SourceUnavailable."""

    def __init__(self, form: Mapping[str, Any], on: dt.date, applicant: str | None, agency: AgencyFacts,
                 population: PopulationRegister | None, results: ResultsStore | None, session: Any = None):
        self.form = form
        self.on = on
        self.applicant = applicant
        self.agency = agency
        self._population = population
        self._results = results
        self._session = session
        self._people: dict[str, PersonRecord | None] = {}
        self.read: set[str] = set()  # personal ids found in the register

    def person(self, personal_id: str) -> PersonRecord | None:
        if not isinstance(personal_id, str) or not personal_id:
            return None
        if personal_id not in self._people:
            if self._population is None:
                raise SourceUnavailable("no population register is configured")
            try:
                if self._session is not None and getattr(self._population, "reads_through_session", False):
                    record = self._population.person(personal_id, session=self._session)  # type: ignore[call-arg]
                else:
                    record = self._population.person(personal_id)
            except Exception as exc:  # a register that fails or times out never blocks the applicant
                log.warning("eligibility: the population register failed (%s)", type(exc).__name__)
                raise SourceUnavailable("the population register could not be reached") from None
            self._people[personal_id] = record
            if record is not None:
                self.read.add(personal_id)
        return self._people[personal_id]

    def results(self, personal_ids: Iterable[str], evidence_types: Iterable[str]) -> list[StoredResult]:
        if self._results is None:
            raise SourceUnavailable("no results store is configured")
        pids = [p for p in personal_ids if isinstance(p, str) and p]
        try:
            if self._session is not None and getattr(self._results, "reads_through_session", False):
                return self._results.valid_results(pids, list(evidence_types), session=self._session)  # type: ignore[call-arg]
            return self._results.valid_results(pids, list(evidence_types))
        except Exception as exc:  # noqa: BLE001 - the same: the store's failure only marks "not checked"
            log.warning("eligibility: the results store failed (%s)", type(exc).__name__)
            raise SourceUnavailable("the results store could not be reached") from None


class Eligibility:
    def __init__(self, clock: Callable[[], dt.datetime], access: Access, population: PopulationRegister | None,
                 results: ResultsStore | None):
        self.clock = clock
        self.access = access
        self.population = population
        self.results = results

    def check(self, s: Any, proc: Procedure, form: Mapping[str, Any] | None, applicant: str | None,
              agency_id: int, on: dt.date) -> tuple[list[Verdict], set[str]]:
        """Evaluate ``proc``'s conditions for a dossier of the agency ``agency_id`` in the session ``s``;
        returns the verdicts and the personal ids read from the register."""
        if not proc.conditions:
            return [], set()
        row = s.execute(select(Agency.code, Agency.level, Agency.unit_code, Agency.province_code)
                        .where(Agency.id == agency_id)).one()
        facts = StateFacts(dict(form or {}), on, applicant, AgencyFacts(row.code, row.level, row.unit_code,
                                                                          row.province_code),
                           self.population, self.results, s)
        return evaluate(proc.conditions, facts), facts.read

    def record(self, s: Any, dossier_id: str, action: str, actor: Actor, verdicts: list[Verdict],
               read: set[str], procedure_id: str, now: dt.datetime) -> None:
        """Keep the verdicts an action relied on, and log the register reads for each person read."""
        outcome = NOT_CHECKED if any(v.status == NOT_CHECKED for v in verdicts) else "passed"
        s.add(EligibilityCheck(dossier_id=dossier_id, action=action, actor_account_id=actor.account_id, at=now,
                               outcome=outcome, verdicts=[v.as_dict() for v in verdicts]))
        others = {pid: (BASIS, READ_ATTRIBUTES) for pid in read if pid != actor.personal_id}
        if others:
            self.access.log_register_reads(s, actor, others, PURPOSE, procedure_id=procedure_id,
                                           dossier_id=dossier_id)

    @staticmethod
    def latest(s: Any, dossier_id: str) -> dict[str, Any] | None:
        """The last check of a dossier: when, by which action, and its verdicts (None: never checked)."""
        row = s.execute(select(EligibilityCheck.at, EligibilityCheck.action, EligibilityCheck.outcome,
                               EligibilityCheck.verdicts)
                        .where(EligibilityCheck.dossier_id == dossier_id)
                        .order_by(EligibilityCheck.at.desc(), EligibilityCheck.id.desc()).limit(1)).first()
        if row is None:
            return None
        return {"checked_at": row.at, "action": row.action, "outcome": row.outcome, "verdicts": list(row.verdicts or [])}
