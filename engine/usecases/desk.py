"""The desk: the work queue by role and due date with its counts, and a dossier as the desk shows it."""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, and_, bindparam, func, literal, or_, select, text, tuple_, union_all

from engine.adapters.fastsql import Prepared
from engine.adapters.models import Account, Dossier, DossierCount
from engine.adapters.uow import UnitOfWork
from engine.rules.access import Actor
from engine.rules.definitions import Procedure
from engine.rules.errors import ActionNotAllowedError, NotFoundError, PermissionDeniedError, ValidationError
from engine.rules import paging
from engine.rules.timeliness import TIMELINESS, due_soon_limit, timeliness
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
                      overdue: bool | None = None, page: int = 1, states: list[str] | None = None,
                      cursor: str | None = None) -> Page:
        """Staff: their agency's work queue, by due date (the dossiers without one last), then id.
        Staff pages carry the queue's counts by timeliness (``count_queue``, read once for both).
        Citizens: their own dossiers, newest first. ``cursor`` (the ``next_cursor`` of the page before)
        reads the next page by keyset: its cost does not grow with how deep it is. ``page`` numbers
        still work, by offset; they cost more the deeper they go, hence the bound of MAX_PAGE."""
        if not isinstance(page, int) or isinstance(page, bool) or page < 1 or page > MAX_PAGE:
            raise ValidationError("page must be a positive integer", fields={"page": ["số nguyên dương / positive integer"]})
        if cursor is not None and page != 1:
            raise ValidationError("give either a cursor or a page number",
                                  fields={"cursor": ["không dùng cùng số trang / not together with a page number"]})
        if not (actor.is_staff or actor.is_citizen):
            raise PermissionDeniedError("Chỉ cán bộ và công dân / staff and citizens only")
        after = paging.decode(cursor, "due" if actor.is_staff else "new") if cursor is not None else None
        now = self.clock()
        offset = (page - 1) * PAGE_SIZE
        with self.uow(write=False) as uow:
            conn = uow.connection
            s = uow.session  # joins conn's transaction if asked: for a procedure version not in the files
            if actor.is_staff:
                scope = _scope(state, states)
                ids = _staff_ids(conn, actor.agency_id, scope, procedure, overdue, now, after, offset + PAGE_SIZE + 1)
                counts = self._counts(conn, s, actor.agency_id, scope, procedure, now)
                everything = sum(counts[k] for k in TIMELINESS)
                total = everything if overdue is None else (
                    counts["live_overdue"] if overdue else everything - counts["live_overdue"])
            else:
                counts = None
                ids, total = _citizen_ids(conn, actor.account_id, state, states, procedure, overdue, now, after,
                                          offset + PAGE_SIZE + 1)
            more = len(ids) > offset + PAGE_SIZE
            ids = ids[offset:offset + PAGE_SIZE]
            by_id = {d.id: d for d in _page_rows(len(ids)).rows(conn, {f"id_{n}": i for n, (i, _) in enumerate(ids)})
                     } if ids else {}
            rows = [by_id[i] for i, _ in ids if i in by_id]
            items = []
            soon: dict[str, Any] = {}  # calendar -> (the calendar, its due-soon limit), once per page
            for d in rows:
                proc = self.procedures.procedure_version(d.procedure_id, d.procedure_version, s)
                if proc.calendar not in soon:
                    cal = self.deadlines.calendar(proc.calendar)
                    soon[proc.calendar] = (cal, due_soon_limit(now, cal))
                cal, limit = soon[proc.calendar]
                items.append(QueueItem(d.id, d.code, d.procedure_id, {"vi": proc.title.vi, "en": proc.title.en},
                                       d.applicant_name or "", d.channel, d.state, d.status_code,
                                       d.received_at, d.due_at, timeliness(d, now, cal, soon_limit=limit),
                                       d.version_counter))
            next_cursor = None
            if more and ids:
                last_id, last_key = ids[-1]
                next_cursor = paging.encode(paging.Cursor("due" if actor.is_staff else "new", last_key, last_id))
            if counts is not None:
                counts = {k: counts[k] for k in TIMELINESS}
            return Page(items, page, PAGE_SIZE, total, next_cursor, counts)

    def count_queue(self, actor: Actor, *, states: list[str] | None = None, state: str | None = None,
                    procedure: str | None = None) -> dict[str, int]:
        """How many of the agency's dossiers in this part of the queue are overdue, due soon, on time or
        without a time limit yet (over every page; the same filters as ``list_dossiers`` but overdue).

        Live dossiers (neither decided nor closed) are counted in SQL over their partial index, so the
        cost follows the work in hand, not the agency's history; settled ones are read from the counts
        the transitions keep (``dossier_counts``), since their timeliness no longer changes."""
        if not actor.is_staff:
            raise PermissionDeniedError("Chỉ dành cho cán bộ / staff only")
        with self.uow(write=False) as uow:
            conn = uow.connection
            counts = self._counts(conn, uow.session, actor.agency_id, _scope(state, states), procedure,
                                  self.clock())
        counts.pop("live_overdue")
        return counts

    def _counts(self, conn: Any, s: Any, agency_id: int, scope: list[str] | None, procedure: str | None,
                now: dt.datetime) -> dict[str, int]:
        """``conn``: the transaction's connection; ``s``: its session, for a procedure version not in the files."""
        counts = dict.fromkeys(TIMELINESS, 0)
        counts["live_overdue"] = 0
        if scope == []:
            return counts
        # the end of the due-soon window, by calendar (a few calendars at most)
        limits: dict[str, dt.datetime] = {name: due_soon_limit(now, cal) for name, cal in self.deadlines.calendars.items()}
        distinct = sorted(set(limits.values()))
        due = Dossier.due_at
        values = {"agency_id": agency_id, "procedure": procedure, "now": now,
                  **{f"soon_{i}": limit for i, limit in enumerate(distinct)}}
        q = _live_counts_query(tuple(scope) if scope is not None else None, bool(procedure), len(distinct))
        for row in q.rows(conn, values):
            proc = self.procedures.procedure_version(row[0], row[1], s)
            total, none, overdue = row[2], row[3], row[4]
            cal_name = proc.calendar
            if cal_name in limits:
                soon = row[5 + distinct.index(limits[cal_name])]
            else:  # a calendar the deadlines do not hold: count this procedure version's due-soon rows apart
                soon = conn.execute(select(func.count()).where(
                    Dossier.agency_id == agency_id, LIVE, _state_clause(scope), Dossier.procedure_id == row[0],
                    Dossier.procedure_version == row[1], due.is_not(None), Dossier.overdue.is_(False), due >= now,
                    due <= due_soon_limit(now, self.deadlines.calendar(cal_name)))).scalar_one()
            counts["none"] += none
            counts["overdue"] += overdue
            counts["live_overdue"] += overdue
            counts["due_soon"] += soon
            counts["on_time"] += total - none - overdue - soon
        settled = _settled_counts_query(tuple(scope) if scope is not None else None, bool(procedure))
        for when, n in settled.rows(conn, values):
            counts[when] += int(n or 0)
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


MAX_PAGE = 10_000
NOT_DRAFT = text("dossiers.state <> 'draft'")  # literal, so the planner matches ix_dossiers_agency_due's predicate
LIVE = text("dossiers.closed_at IS NULL AND dossiers.decided_at IS NULL AND dossiers.state <> 'draft'")  # ix_dossiers_live's


def _scope(state: str | None, states: list[str] | None) -> list[str] | None:
    """The states a staff queue shows (drafts never), or None for every state but draft."""
    if states is not None:
        chosen = [x for x in dict.fromkeys(states) if x != "draft" and (not state or x == state)]
    elif state:
        chosen = [state] if state != "draft" else []
    else:
        return None
    return sorted(chosen)


def _state_clause(scope: list[str] | None) -> Any:
    """The states of the scope; always with the literal ``state <> 'draft'`` the partial indexes name, so
    that the planner may use them whatever states the list holds."""
    return NOT_DRAFT if scope is None else and_(NOT_DRAFT, Dossier.state.in_(_listed(scope)))


def _listed(values: Any) -> list[Any]:
    """A fixed list for ``IN``, as one bound value each: the statement that holds it is built once per
    list (cached by shape) and runs prepared, which an expanding parameter would prevent."""
    return [literal(v) for v in values]


@functools.lru_cache(maxsize=64)
def _page_rows(n: int) -> Prepared:
    """What a queue item shows of ``n`` dossiers (``id_0``...), with the applicant's name."""
    return Prepared(
        select(Dossier.id, Dossier.code, Dossier.procedure_id, Dossier.procedure_version, Dossier.channel,
               Dossier.state, Dossier.status_code, Dossier.received_at, Dossier.due_at, Dossier.overdue,
               Dossier.closed_at, Dossier.decided_at, Dossier.version_counter,
               Account.display_name.label("applicant_name"))
        .join(Account, Account.id == Dossier.applicant_account_id)
        .where(Dossier.id.in_([bindparam(f"id_{i}", type_=Dossier.id.type) for i in range(n)])), named_rows=True)


def _staff_ids(conn: Any, agency_id: int, scope: list[str] | None, procedure: str | None, overdue: bool | None,
               now: dt.datetime, after: paging.Cursor | None, limit: int) -> list[tuple[str, dt.datetime | None]]:
    """(id, due_at) of the first ``limit`` dossiers of the queue after the cursor, by (due_at, id), those
    without a due date last. Each state is read as its own range of ``ix_dossiers_queue`` (or, for every
    state, ``ix_dossiers_agency_due``) and the ranges merged, so no query sorts more than ``limit`` rows
    per state: the dated dossiers first, then, if the page is not full, the undated ones."""
    if scope == []:
        return []
    shape = tuple(scope) if scope is not None else None
    values: dict[str, Any] = {"agency_id": agency_id, "procedure": procedure, "now": now, "limit": limit,
                              "after_at": after.at if after is not None else None,
                              "after_id": after.id if after is not None else None}
    if overdue:  # the late ones are all live: one range of ix_dossiers_live, in due order, whatever the states
        if after is not None and after.at is None:
            return []
        q = _queue_query(shape, bool(procedure), "overdue", after is not None)
        return [(r[0], r[1]) for r in q.rows(conn, values)]
    not_overdue = overdue is False
    out: list[tuple[str, dt.datetime | None]] = []
    if after is None or after.at is not None:
        q = _queue_query(shape, bool(procedure), "dated_not_overdue" if not_overdue else "dated", after is not None)
        out += [(r[0], r[1]) for r in q.rows(conn, values)]
    if len(out) < limit:
        q = _queue_query(shape, bool(procedure), "undated_not_overdue" if not_overdue else "undated",
                         after is not None and after.at is None)
        out += [(r[0], r[1]) for r in q.rows(conn, {**values, "limit": limit - len(out)})]
    return out


@functools.lru_cache(maxsize=256)
def _live_counts_query(scope: tuple[str, ...] | None, procedure: bool, soon_limits: int) -> Any:
    """The live dossiers of the queue counted by procedure version: all, undated, late, and due soon by
    each of ``soon_limits`` ends of the window (``soon_0``...); values bound (``agency_id``, ``procedure``,
    ``now``), the statement built once per shape."""
    due, now = Dossier.due_at, bindparam("now", type_=Dossier.due_at.type)
    late = and_(due.is_not(None), or_(Dossier.overdue.is_(True), due < now))
    columns = [func.count(), func.count().filter(due.is_(None)), func.count().filter(late)]
    columns += [func.count().filter(due.is_not(None), Dossier.overdue.is_(False), due >= now,
                                    due <= bindparam(f"soon_{i}", type_=Dossier.due_at.type))
                for i in range(soon_limits)]
    q = (select(Dossier.procedure_id, Dossier.procedure_version, *columns)
         .where(Dossier.agency_id == bindparam("agency_id", type_=Dossier.agency_id.type), LIVE,
                _state_clause(list(scope) if scope is not None else None))
         .group_by(Dossier.procedure_id, Dossier.procedure_version))
    if procedure:
        q = q.where(Dossier.procedure_id == bindparam("procedure", type_=Dossier.procedure_id.type))
    return Prepared(q)


@functools.lru_cache(maxsize=256)
def _settled_counts_query(scope: tuple[str, ...] | None, procedure: bool) -> Any:
    """The settled dossiers of the queue by timeliness, from the counts the transitions keep."""
    settled = (select(DossierCount.timeliness, func.sum(DossierCount.n))
               .where(DossierCount.agency_id == bindparam("agency_id", type_=DossierCount.agency_id.type),
                      DossierCount.n != 0)
               .group_by(DossierCount.timeliness))
    if scope is not None:
        settled = settled.where(DossierCount.state.in_(_listed(scope)))
    if procedure:
        settled = settled.where(DossierCount.procedure_id == bindparam("procedure", type_=DossierCount.procedure_id.type))
    return Prepared(settled)


@functools.lru_cache(maxsize=256)
def _queue_query(scope: tuple[str, ...] | None, procedure: bool, part: str, after: bool) -> Any:
    """The statement of one part of the staff queue, with its values as bound parameters (``agency_id``,
    ``procedure``, ``now``, ``after_at``, ``after_id``, ``limit``): built once per shape, since building and
    keying the union of one range per state costs more than running it. ``part``: ``overdue`` (the late
    ones), or ``dated`` / ``undated`` (each optionally ``_not_overdue``)."""
    due, now = Dossier.due_at, bindparam("now", type_=Dossier.due_at.type)
    after_at, after_id = bindparam("after_at", type_=Dossier.due_at.type), bindparam("after_id", type_=Dossier.id.type)
    limit = bindparam("limit", type_=Integer)
    filters = [Dossier.agency_id == bindparam("agency_id", type_=Dossier.agency_id.type)]
    if procedure:
        filters.append(Dossier.procedure_id == bindparam("procedure", type_=Dossier.procedure_id.type))
    if part == "overdue":
        filters += [LIVE, due.is_not(None), or_(Dossier.overdue.is_(True), due < now)]
        if scope is not None:
            filters.append(Dossier.state.in_(_listed(scope)))
        if after:
            filters.append(tuple_(due, Dossier.id) > tuple_(after_at, after_id))
        return Prepared(select(Dossier.id, due).where(*filters).order_by(due, Dossier.id).limit(limit))
    if part.endswith("_not_overdue"):
        filters.append(~and_(due.is_not(None), Dossier.closed_at.is_(None), Dossier.decided_at.is_(None),
                             or_(Dossier.overdue.is_(True), due < now)))
    if part.startswith("dated"):
        filters.append(due.is_not(None))
        if after:
            filters.append(tuple_(due, Dossier.id) > tuple_(after_at, after_id))
        return Prepared(_merged(list(scope) if scope is not None else None, filters, (due, Dossier.id), limit))
    filters.append(due.is_(None))
    if after:
        filters.append(Dossier.id > after_id)
    return Prepared(_merged(list(scope) if scope is not None else None, filters, (Dossier.id,), limit))


def _merged(scope: list[str] | None, where: list[Any], order: tuple[Any, ...], limit: Any) -> Any:
    def part(clause: Any) -> Any:
        return (select(Dossier.id.label("id"), Dossier.due_at.label("due_at"))
                .where(*where, clause).order_by(*order).limit(limit))

    if scope is None or len(scope) == 1:
        return part(_state_clause(scope))
    parts = [part(Dossier.state == st).subquery() for st in scope]
    merged = union_all(*[select(p.c.id, p.c.due_at) for p in parts]).subquery()
    keys = (merged.c.due_at, merged.c.id) if len(order) == 2 else (merged.c.id,)
    return select(merged.c.id, merged.c.due_at).order_by(*keys).limit(limit)


def _citizen_ids(conn: Any, account_id: int, state: str | None, states: list[str] | None, procedure: str | None,
                 overdue: bool | None, now: dt.datetime, after: paging.Cursor | None,
                 limit: int) -> tuple[list[tuple[str, dt.datetime | None]], int]:
    """A citizen's own dossiers, newest first (then by id), and how many there are (a citizen's own
    dossiers are few: this count reads only theirs, over ``ix_dossiers_applicant``)."""
    q = select(Dossier.id, Dossier.created_at).where(Dossier.applicant_account_id == account_id)
    if state:
        q = q.where(Dossier.state == state)
    if states is not None:
        q = q.where(Dossier.state.in_(states))
    if procedure:
        q = q.where(Dossier.procedure_id == procedure)
    if overdue is not None:
        late = and_(Dossier.due_at.is_not(None), LIVE, or_(Dossier.overdue.is_(True), Dossier.due_at < now))
        q = q.where(late if overdue else ~late)
    total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    if after is not None:
        q = q.where(tuple_(Dossier.created_at, Dossier.id) < tuple_(after.at, after.id))
    rows = conn.execute(q.order_by(Dossier.created_at.desc(), Dossier.id.desc()).limit(limit)).all()
    return [(r[0], r[1]) for r in rows], total
