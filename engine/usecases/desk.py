"""The desk: the work queue by role and due date with its counts, and a dossier as the desk shows it."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select

from engine.adapters.models import Account, Dossier
from engine.adapters.uow import UnitOfWork
from engine.rules.access import Actor
from engine.rules.definitions import Procedure
from engine.rules.errors import ActionNotAllowedError, NotFoundError, PermissionDeniedError, ValidationError
from engine.rules.timeliness import TIMELINESS, timeliness
from engine.usecases.catalogue import Procedures
from engine.usecases.deadlines import Deadlines
from engine.usecases.dossiers import Dossiers
from engine.usecases.filing import Filing
from engine.usecases.results import Results
from engine.usecases.views import DossierView, Page, QueueItem

PAGE_SIZE = 50


@dataclass(frozen=True)
class EvidenceLink:
    """A stored result standing in for a paper document on a dossier."""

    document_id: str
    requirement: str
    result_id: str
    number: str | None
    title: dict[str, str]
    status: str  # valid | revoked | superseded | expired | pending | unreadable
    verify_url: str | None


@dataclass(frozen=True)
class DeskDossier:
    """A dossier as the desk shows it: the dossier's view, the procedure version it is pinned to,
    whether this staff member may add a scanned document now, and the stored results it reuses."""

    dossier: DossierView
    procedure: Procedure
    uploads_open: bool
    evidence: dict[str, EvidenceLink]  # by document id


class Desk:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], procedures: Procedures,
                 deadlines: Deadlines, dossiers: Dossiers, filing: Filing, results: Results):
        self.uow = uow
        self.clock = clock
        self.procedures = procedures
        self.deadlines = deadlines
        self.dossiers = dossiers
        self.filing = filing
        self.results = results

    def list_dossiers(self, actor: Actor, *, state: str | None = None, procedure: str | None = None,
                      overdue: bool | None = None, page: int = 1, states: list[str] | None = None) -> Page:
        """Staff: their agency's work queue, by due date. Citizens: their own dossiers, newest first."""
        if not isinstance(page, int) or page < 1 or page > 10_000:
            raise ValidationError("page must be a positive integer", fields={"page": ["số nguyên dương / positive integer"]})
        now = self.clock()
        with self.uow(write=False) as uow:
            s = uow.session
            q = queue_where(select(Dossier), actor, state=state, states=states, procedure=procedure)
            if overdue is not None:
                late = and_(Dossier.due_at.is_not(None), Dossier.closed_at.is_(None), Dossier.decided_at.is_(None),
                            or_(Dossier.overdue.is_(True), Dossier.due_at < now))
                q = q.where(late if overdue else ~late)
            total = s.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            if actor.is_staff:
                q = q.order_by(Dossier.due_at.is_(None), Dossier.due_at, Dossier.created_at)
            else:
                q = q.order_by(Dossier.created_at.desc())
            rows = s.scalars(q.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
            names = dict(s.execute(select(Account.id, Account.display_name).where(
                Account.id.in_({r.applicant_account_id for r in rows}))).all()) if rows else {}
            items = []
            for d in rows:
                proc = self.procedures.procedure_version(d.procedure_id, d.procedure_version, s)
                items.append(QueueItem(d.id, d.code, d.procedure_id, {"vi": proc.title.vi, "en": proc.title.en},
                                       names.get(d.applicant_account_id, ""), d.channel, d.state, d.status_code,
                                       d.received_at, d.due_at, timeliness(d, now, self.deadlines.calendar(proc.calendar)),
                                       d.version_counter))
            return Page(items, page, PAGE_SIZE, total)

    def count_queue(self, actor: Actor, *, states: list[str] | None = None, state: str | None = None,
                    procedure: str | None = None) -> dict[str, int]:
        """How many of the agency's dossiers in this part of the queue are overdue, due soon, on time or
        without a time limit yet (over every page; the same filters as ``list_dossiers`` but overdue)."""
        if not actor.is_staff:
            raise PermissionDeniedError("Chỉ dành cho cán bộ / staff only")
        now = self.clock()
        counts = dict.fromkeys(TIMELINESS, 0)
        with self.uow(write=False) as uow:
            s = uow.session
            q = queue_where(select(Dossier.procedure_id, Dossier.procedure_version, Dossier.due_at, Dossier.overdue,
                                   Dossier.closed_at, Dossier.decided_at), actor,
                            state=state, states=states, procedure=procedure)
            for row in s.execute(q):
                proc = self.procedures.procedure_version(row.procedure_id, row.procedure_version, s)
                counts[timeliness(row, now, self.deadlines.calendar(proc.calendar))] += 1
        return counts

    def queue_states(self, actor: Actor) -> list[str]:
        """The states in which this staff member's roles have something to do, in any procedure."""
        if not actor.is_staff:
            raise PermissionDeniedError("Chỉ dành cho cán bộ / staff only")
        return self.procedures.queue_states(actor.roles)

    def get_desk_dossier(self, dossier_id: str, actor: Actor) -> DeskDossier:
        """The dossier page of the desk. Staff of another agency get NotFoundError, as everywhere."""
        if not actor.is_staff:
            raise PermissionDeniedError("Chỉ dành cho cán bộ / staff only")
        view = self.dossiers.get_dossier(dossier_id, actor)
        proc = self.procedures.procedure_version(view.procedure, view.version)
        uploads_open = False
        if proc.documents:
            with self.uow(write=False) as uow:
                try:  # the same rule add_document applies (role on the dossier and state)
                    self.filing.document_target(uow.session, view.id, proc.documents[0].id, actor)
                    uploads_open = True
                except (PermissionDeniedError, ActionNotAllowedError):
                    uploads_open = False
        evidence: dict[str, EvidenceLink] = {}
        for doc in view.documents:
            if not doc.result_id:
                continue
            try:  # every read of a result another agency issued is logged by get_result
                r = self.results.get_result(doc.result_id, actor)
                evidence[doc.id] = EvidenceLink(doc.id, doc.requirement, r.id, r.number, r.title, r.status,
                                                doc.verify_url)
            except NotFoundError:
                evidence[doc.id] = EvidenceLink(doc.id, doc.requirement, doc.result_id, None,
                                                {"vi": doc.requirement, "en": doc.requirement}, "unreadable",
                                                doc.verify_url)
        return DeskDossier(view, proc, uploads_open, evidence)


def queue_where(q: Any, actor: Actor, *, state: str | None = None, states: list[str] | None = None,
                procedure: str | None = None) -> Any:
    """The dossiers a queue shows: the staff's agency's (drafts aside) or the citizen's own, filtered."""
    if actor.is_staff:
        q = q.where(Dossier.agency_id == actor.agency_id, Dossier.state != "draft")
    elif actor.is_citizen:
        q = q.where(Dossier.applicant_account_id == actor.account_id)
    else:
        raise PermissionDeniedError("Chỉ cán bộ và công dân / staff and citizens only")
    if state:
        q = q.where(Dossier.state == state)
    if states is not None:
        q = q.where(Dossier.state.in_(states))
    if procedure:
        q = q.where(Dossier.procedure_id == procedure)
    return q
