"""The catalogue of procedures: the loaded definitions, the versions running dossiers pin, and
publishing (a published version's text is stored and may never change)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.adapters.models import ProcedureVersion
from engine.adapters.uow import UnitOfWork
from engine.rules.definitions import Catalogue, Procedure, parse_procedure
from engine.rules.effects import records_result, slip_form
from engine.rules.errors import DefinitionError, NotFoundError


@dataclass(frozen=True)
class ProcedureSummary:
    id: str
    code: str
    version: int
    title: dict[str, str]
    authority: str
    online: str
    time_limit: dict[str, Any]
    fee: dict[str, Any]


@dataclass(frozen=True)
class PublishReport:
    published: list[tuple[str, int]]
    unchanged: list[tuple[str, int]]


class Procedures:
    def __init__(self, uow: Callable[..., UnitOfWork], catalogue: Catalogue, clock: Callable[[], dt.datetime]):
        self.uow = uow
        self.catalogue = catalogue
        self.clock = clock
        self._pinned: dict[tuple[str, int], Procedure] = {}
        self._document_actions = frozenset(a.id for p in catalogue.procedures.values() for a in p.actions
                                           if slip_form(a) is not None or records_result(a))

    def list_procedures(self) -> list[ProcedureSummary]:
        return [summary(p) for p in self.catalogue.current()]

    def get_procedure(self, procedure_id: str) -> Procedure:
        proc = self.catalogue.latest(procedure_id)
        if proc is None:
            raise NotFoundError(f"Không có thủ tục '{procedure_id}' / no procedure '{procedure_id}'")
        return proc

    def loaded(self, procedure_id: str, version: int) -> Procedure | None:
        """A pinned version if it is in memory (loaded from the files, or read before), else None."""
        return self.catalogue.get(procedure_id, version) or self._pinned.get((procedure_id, version))

    def procedure_version(self, procedure_id: str, version: int, session: Any = None) -> Procedure:
        """A pinned version: from the loaded files, else from the text stored when it was published."""
        proc = self.catalogue.get(procedure_id, version) or self._pinned.get((procedure_id, version))
        if proc is not None:
            return proc
        if session is None:
            with self.uow(write=False) as uow:
                return self.procedure_version(procedure_id, version, uow.session)
        row = session.execute(
            select(ProcedureVersion).where(
                ProcedureVersion.procedure_id == procedure_id, ProcedureVersion.version == version
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFoundError(f"procedure '{procedure_id}' version {version} was never published")
        proc, problems = parse_procedure(row.source_text, f"{row.source_name} (v{version}, stored)")
        if proc is None:
            raise DefinitionError(problems)
        self._pinned[(procedure_id, version)] = proc
        return proc

    def records_documents(self, action: Any) -> bool:
        """Whether an action of that name, in some loaded procedure, issues a slip or records a result."""
        return isinstance(action, str) and action in self._document_actions

    def publish_procedures(self) -> PublishReport:
        """Store the text of every loaded version; a published version may not change afterwards."""
        published: list[tuple[str, int]] = []
        unchanged: list[tuple[str, int]] = []
        problems: list[str] = []
        with self.uow() as uow:
            rows = {(r.procedure_id, r.version): r for r in uow.session.scalars(select(ProcedureVersion))}
            for key, proc in sorted(self.catalogue.procedures.items()):
                row = rows.get(key)
                if row is None:
                    uow.session.add(ProcedureVersion(
                        procedure_id=proc.id, version=proc.version, sha256=proc.sha256,
                        source_name=proc.source_name, source_text=proc.source_text, published_at=self.clock(),
                    ))
                    published.append(key)
                elif row.sha256 != proc.sha256:
                    problems.append(
                        f"{proc.source_name}:1: version {proc.version} of '{proc.id}' was published with other content; "
                        "running dossiers pin it, so publish the change as a new version"
                    )
                else:
                    unchanged.append(key)
            if problems:
                raise DefinitionError(problems)
            uow.commit()
        return PublishReport(published, unchanged)

    def queue_states(self, roles: frozenset[str]) -> list[str]:
        """The states in which these roles have something to do, in any procedure."""
        states: list[str] = []
        for proc in self.catalogue.procedures.values():
            for action in proc.actions:
                if roles & set(action.roles):
                    states.extend(s for s in action.sources if s not in states and s != "draft")
        return states


def time_limit_document(p: Procedure) -> dict[str, Any]:
    """The time limit as plain data: the ordinary value and unit, and the cases that make it longer."""
    return {"value": p.time_limit_value, "unit": p.time_limit_unit,
            "cases": [{"id": c.id, "value": c.value, "unit": c.unit, "label": {"vi": c.label.vi, "en": c.label.en}}
                      for c in p.time_limit_cases]}


def summary(p: Procedure) -> ProcedureSummary:
    return ProcedureSummary(p.id, p.code, p.version, {"vi": p.title.vi, "en": p.title.en}, p.authority, p.online,
                            time_limit_document(p),
                            {"amount": p.fee_amount, "currency": "VND"})
