"""The audit trail: every dossier's hash chain checked from its first event to its head."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from engine.adapters.models import Dossier, DossierEvent
from engine.adapters.uow import UnitOfWork
from engine.rules import audit
from engine.rules.errors import NotFoundError


@dataclass(frozen=True)
class AuditReport:
    dossiers: int
    events: int
    problems: list[audit.ChainProblem]


class AuditTrail:
    def __init__(self, uow: Callable[..., UnitOfWork]):
        self.uow = uow

    def verify_audit(self, dossier_id: str | None = None) -> AuditReport:
        problems: list[audit.ChainProblem] = []
        n_d = n_e = 0
        with self.uow(write=False) as uow:
            s = uow.session
            q = select(Dossier.id, Dossier.last_event_hash, Dossier.event_count)
            if dossier_id:
                q = q.where(Dossier.id == dossier_id)
            heads = s.execute(q.order_by(Dossier.id)).all()
            if dossier_id and not heads:
                raise NotFoundError("dossier not found")
            for did, head, count in heads:
                events = s.scalars(select(DossierEvent).where(DossierEvent.dossier_id == did).order_by(DossierEvent.seq)).all()
                n_d += 1
                n_e += len(events)
                problems += audit.verify_chain(did, events, head_hash=head, count=count or 0)
        return AuditReport(n_d, n_e, problems)
