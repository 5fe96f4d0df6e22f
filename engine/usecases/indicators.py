"""Indicators: the KPIs of an agency over a period, and per procedure the share of fields a citizen
no longer types (what the definition can prefill, and what was measured on filed dossiers)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.adapters.models import Document, Dossier, Result, Slip
from engine.adapters.uow import UnitOfWork
from engine.rules import metrics
from engine.rules.access import Actor
from engine.rules.errors import PermissionDeniedError, ValidationError
from engine.rules.prefill import declared_share, definition_share
from engine.rules.slips import RESULT_SLIPS
from engine.usecases.catalogue import Procedures

EARLIEST = dt.datetime(1900, 1, 1)  # a reporting period lies within these (and a year back from 'to' still fits)
LATEST = dt.datetime(9999, 12, 31, 23, 59, 59, 999999)


@dataclass(frozen=True)
class ProcedureCut:
    id: str
    code: str
    version: int
    title: str
    fields: int
    prefillable: int
    definition_cut: float
    measured_cut: float | None
    dossiers: int


class Indicators:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], procedures: Procedures):
        self.uow = uow
        self.clock = clock
        self.procedures = procedures

    def procedure_cuts(self) -> list[ProcedureCut]:
        """Per procedure: fields the definition can prefill, and the share measured on filed dossiers."""
        out = []
        with self.uow(write=False) as uow:
            s = uow.session
            for proc in self.procedures.catalogue.current():
                rows = s.execute(select(Dossier.provenance).where(
                    Dossier.procedure_id == proc.id, Dossier.procedure_version == proc.version,
                    Dossier.submitted_at.is_not(None))).scalars().all()
                measured = sum(declared_share(proc, p or {}) for p in rows) / len(rows) if rows else None
                out.append(ProcedureCut(proc.id, proc.code, proc.version, proc.title.vi, len(proc.fields),
                                        sum(1 for f in proc.fields if f.prefill), definition_share(proc),
                                        measured, len(rows)))
        return out

    def kpis(self, actor: Actor, start: dt.datetime | None = None, end: dt.datetime | None = None) -> dict[str, Any]:
        if not actor.is_staff:
            raise PermissionDeniedError("KPIs are for staff")
        now = self.clock()
        for name, when in (("from", start), ("to", end)):
            if when is not None and not EARLIEST <= when.replace(tzinfo=None) <= LATEST:
                raise ValidationError(f"Ngày ngoài khoảng {EARLIEST.year}-{LATEST.year} / {name} is outside "
                                      f"{EARLIEST.year}-{LATEST.year}", fields={name: [f"{EARLIEST.year}-{LATEST.year}"]})
        end = end or now
        start = start or (end - dt.timedelta(days=365))
        if start > end:
            raise ValidationError("from must be before to", fields={"from": ["sau 'to' / after 'to'"]})
        with self.uow(write=False) as uow:
            s = uow.session
            dossiers = s.scalars(select(Dossier).where(
                Dossier.agency_id == actor.agency_id, Dossier.received_at.is_not(None),
                Dossier.received_at >= start, Dossier.received_at <= end)).all()
            ids = [d.id for d in dossiers]
            reused = set(s.scalars(select(Document.dossier_id).where(Document.dossier_id.in_(ids),
                                                                        Document.result_id.is_not(None)))) if ids else set()
            results = s.execute(select(Result.dossier_id, Result.pdf_sha256).where(Result.dossier_id.in_(ids))).all() if ids else []
            # a slip that is the dossier's result (the refusal after appraisal) counts as its result
            results += s.execute(select(Slip.dossier_id, Slip.pdf_sha256).where(
                Slip.dossier_id.in_(ids), Slip.form.in_(RESULT_SLIPS))).all() if ids else []
            submitted = s.scalars(select(Dossier).where(
                Dossier.agency_id == actor.agency_id, Dossier.submitted_at.is_not(None),
                Dossier.submitted_at >= start, Dossier.submitted_at <= end)).all()
            facts = [metrics.DossierFacts(
                received=True, online=d.channel == "online", due_at=d.due_at, finished_at=d.decided_at or d.closed_at,
                supplement_rounds=d.supplement_rounds, reused=d.id in reused, overdue_now=bool(
                    d.due_at and not (d.decided_at or d.closed_at) and now > d.due_at)) for d in dossiers]
            cuts: dict[str, list[float]] = {}
            for d in submitted:
                proc = self.procedures.procedure_version(d.procedure_id, d.procedure_version, s)
                cuts.setdefault(d.procedure_id, []).append(declared_share(proc, d.provenance or {}))
        e_results = {rid for rid, sha in results if sha}
        with_results = {rid for rid, _ in results}
        return metrics.kpis(facts, e_result_dossiers=len(e_results), result_dossiers=len(with_results),
                            cuts_by_procedure=cuts, definition_cuts={p.id: definition_share(p) for p in self.procedures.catalogue.current()},
                            period=(start, end))
