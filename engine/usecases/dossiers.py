"""Reading dossiers: the one access rule on every dossier (what an actor may not see is not found),
the dossier's view, its documents, and its audit events."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from engine.adapters import queries
from engine.adapters.models import Agency, Document, Dossier, DossierEvent, Result
from engine.adapters.queries import DossierRow
from engine.adapters.uow import UnitOfWork
from engine.rules import audit
from engine.rules.access import Actor, can_view_dossier, comment_is_public, comment_visible, roles_on_dossier
from engine.rules.definitions import Procedure
from engine.rules.errors import ActionNotAllowedError, ConcurrencyError, NotFoundError, ValidationError
from engine.rules.copies import fee_lines
from engine.rules.paging import EVENTS_SHOWN, event_page_args
from engine.rules.slips import SLIP_FORMS
from engine.rules.timeliness import is_overdue
from engine.rules.workflow import ActionContext, available_actions
from engine.usecases.blob_store import BlobStore
from engine.usecases.catalogue import Procedures
from engine.usecases.deadlines import Deadlines
from engine.usecases.links import Links
from engine.usecases.views import (
    ActionView,
    DocumentView,
    DossierView,
    EventPage,
    EventView,
    RequirementView,
    SlipView,
    StoredDocument,
    result_view,
)

NOT_FOUND = "Không tìm thấy hồ sơ / dossier not found"


class Dossiers:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], procedures: Procedures,
                 deadlines: Deadlines, links: Links, blobs: BlobStore):
        self.uow = uow
        self.clock = clock
        self.procedures = procedures
        self.deadlines = deadlines
        self.links = links
        self.blobs = blobs

    # ----------------------------------------------------------------- the access rule

    def load_visible(self, s: Any, dossier_id: Any, actor: Actor) -> Dossier:
        """The dossier, if ``actor`` may see it; else NotFoundError, so that its existence does not leak."""
        d = s.get(Dossier, dossier_id) if isinstance(dossier_id, str) and len(dossier_id) <= 36 else None
        if d is None or not can_view_dossier(actor, applicant_account_id=d.applicant_account_id, agency_id=d.agency_id):
            raise NotFoundError(NOT_FOUND)
        return d

    def load_visible_row(self, conn: Any, dossier_id: Any, actor: Actor, *, parties: bool = False,
                         view: bool = False) -> DossierRow:
        """``load_visible`` for a transition: the row with its agency and applicant, one Core SELECT; with
        ``view`` also what the view reads (documents, latest events, slips), in the same SELECT."""
        d = (queries.load_dossier(conn, dossier_id, parties=parties, view=view)
             if isinstance(dossier_id, str) and len(dossier_id) <= 36 else None)
        if d is None or not can_view_dossier(actor, applicant_account_id=d.applicant_account_id, agency_id=d.agency_id):
            raise NotFoundError(NOT_FOUND)
        return d

    # ----------------------------------------------------------------- reading

    def get_dossier(self, dossier_id: str, actor: Actor) -> DossierView:
        """The dossier's view. Its SELECT brings what the view shows (``load_dossier`` with ``view``); when
        that is all it needs (``DossierRow.view_is_read``: no results, whose statuses are read apart), it is
        sent alone, outside a transaction (one statement is one snapshot). Otherwise the view is read again in
        a read transaction, so that the row and the results come from one snapshot."""
        with self.uow(write=False, one_statement=True) as uow:
            d = self.load_visible_row(uow.connection, dossier_id, actor, view=True)
            if d.view_is_read():
                # a pinned procedure version not kept in memory is read by its own statement: versions never change
                return self.view(lambda: uow.session, d, actor, conn=uow.connection)
        with self.uow(write=False) as uow:
            conn = uow.connection  # Core only; the session is used for results and old procedure versions
            d = self.load_visible_row(conn, dossier_id, actor, view=True)
            return self.view(lambda: uow.session, d, actor, conn=conn)

    def list_events(self, dossier_id: str, actor: Actor, *, before: Any = None, limit: Any = None) -> EventPage:
        """A page of the audit events of a dossier ``actor`` may see (the access rule of ``get_dossier``;
        else not found), as the view shows them: the ``limit`` events before the sequence number
        ``before`` (default: the latest), oldest first, and where the next older page starts."""
        before_seq, size = event_page_args(before, limit)
        with self.uow(write=False) as uow:
            d = self.load_visible(uow.session, dossier_id, actor)
            roles = roles_on_dossier(actor, applicant_account_id=d.applicant_account_id, agency_id=d.agency_id)
            rows, next_before = _latest_events(uow.session.connection(), d.id, size, before_seq)
            return EventPage(d.id, [_event_view(e, roles) for e in rows], next_before)

    def document_content(self, dossier_id: str, document_id: str, actor: Actor) -> tuple[bytes, str, str]:
        stored = self.stored_document(dossier_id, document_id, actor)
        return self.blobs.get(stored.sha256), stored.content_type, stored.filename

    def stored_document(self, dossier_id: str, document_id: str, actor: Actor) -> StoredDocument:
        """What is stored for an uploaded document of a dossier ``actor`` may see (else not found), without
        reading the file."""
        with self.uow(write=False) as uow:
            self.load_visible(uow.session, dossier_id, actor)
            doc = uow.session.get(Document, document_id) if isinstance(document_id, str) else None
            if doc is None or doc.dossier_id != dossier_id or doc.sha256 is None:
                raise NotFoundError("no such document")
            return StoredDocument(doc.sha256, doc.content_type or "application/octet-stream", doc.filename or doc.id)

    @staticmethod
    def missing_documents(conn: Any, d: Dossier | DossierRow, proc: Procedure) -> list[str]:
        """The required documents the dossier lacks, in the transaction of ``conn``."""
        if isinstance(d, DossierRow):  # a transition: the view, if one is built, reuses the rows
            have = {doc[1] for doc in queries.current_documents(conn, d)}
        else:
            have = set(conn.scalars(queries.CURRENT_REQUIREMENTS, {"dossier_id": d.id}))
        return [req.id for req in proc.documents if req.required and req.id not in have]

    def view(self, s: Any, d: Dossier | DossierRow, actor: Actor, proc: Procedure | None = None, *,
             conn: Any = None) -> DossierView:
        """The dossier as its readers see it, in the caller's transaction. A ``DossierRow`` read with
        ``view`` brings its agency's code, applicant, documents, latest events and slips (plus what the
        transition wrote); otherwise one prebuilt Core query per kind. Results, rare, are loaded as
        objects only when the dossier has some. ``s``: the transaction's session, or (with ``conn``) a
        function that makes it, called only when the dossier has results or a pinned procedure must be read."""
        session: Callable[[], Any] = s if callable(s) else (lambda: s)
        if proc is None or proc.version != d.procedure_version:
            proc = (self.procedures.loaded(d.procedure_id, d.procedure_version)
                    or self.procedures.procedure_version(d.procedure_id, d.procedure_version, session()))
        now = self.clock()
        conn = session().connection() if conn is None else conn  # the session's transaction's, or the one it joins
        key = {"dossier_id": d.id}
        if isinstance(d, DossierRow):
            agency_code, applicant_pid, applicant_name = d.agency_code, d.applicant_personal_id, d.applicant_name
        else:
            agency_code, applicant_pid, applicant_name = conn.execute(
                queries.PARTIES, {"agency_id": d.agency_id, "account_id": d.applicant_account_id}).one()
        docs = queries.current_documents(conn, d)  # id, requirement_id, result_id, filename, type, size, sha256, added_at
        by_req = {doc[1]: doc for doc in docs}
        requirements = [
            RequirementView(r.id, {"vi": r.label.vi, "en": r.label.en}, r.required, r.id in by_req,
                            ("result" if by_req[r.id][2] else "upload") if r.id in by_req else None,
                            list(r.accept), r.max_mb, r.replaced_by)
            for r in proc.documents
        ]
        preread = d.latest_events() if isinstance(d, DossierRow) else None
        events, events_before = (_page(preread, EVENTS_SHOWN) if preread is not None
                                 else _latest_events(conn, d.id, EVENTS_SHOWN))
        has_results = d.has_results if isinstance(d, DossierRow) else True  # a transition read it with the row
        statuses = queries.RESULT_STATUSES.rows(conn, key) if has_results else []  # (id, status)
        # the original before its copies (same time; "<number>/BS<n>" is longer), copies in their order
        results = session().scalars(select(Result).where(Result.dossier_id == d.id)
                            .order_by(Result.issued_at, func.length(Result.number), Result.number)).all() if statuses else []
        slips = d.slip_list() if isinstance(d, DossierRow) else None
        if slips is None:
            slips = queries.SLIP_LIST.rows(conn, key)  # id, form, number, issued_at, status
        roles = roles_on_dossier(actor, applicant_account_id=d.applicant_account_id, agency_id=d.agency_id)
        ctx = ActionContext(procedure=proc, calendar=self.deadlines.calendar(proc.calendar), now=now, roles=roles,
                            results_pending=sum(1 for _, status in statuses if status == "pending"))
        actions = [ActionView(a.id, a.to, a.role, list(a.inputs)) for a in available_actions(proc, d, roles, ctx)]
        agency = session().get(Agency, d.agency_id) if results else None
        slip_views = [SlipView(slip_id, form, SLIP_FORMS[form].title, number, issued_at, status, SLIP_FORMS[form].outcome)
                      for slip_id, form, number, issued_at, status in slips]
        return DossierView(
            id=d.id, code=d.code, procedure=d.procedure_id, version=d.procedure_version,
            title={"vi": proc.title.vi, "en": proc.title.en}, agency=agency_code, channel=d.channel,
            applicant={"personal_id": applicant_pid, "name": applicant_name},
            state=d.state, status_code=d.status_code, data=dict(d.data or {}), provenance=dict(d.provenance or {}),
            documents=[DocumentView(doc_id, requirement, "result" if result_id else "upload", filename, content_type,
                                    size, sha256, result_id, added_at,
                                    self.links.verify_url(result_id) if result_id else None)
                       for doc_id, requirement, result_id, filename, content_type, size, sha256, added_at, _ in docs],
            requirements=requirements, created_at=d.created_at, submitted_at=d.submitted_at, received_at=d.received_at,
            due_at=d.due_at, original_due_at=d.original_due_at, extended=d.extended,
            time_limit_case=d.time_limit_case, supplement_rounds=d.supplement_rounds,
            overdue=is_overdue(d, now), fee_paid=d.fee_paid, available_actions=actions,
            events=[_event_view(e, roles) for e in events], events_before=events_before,
            results=[result_view(r, agency, self.procedures.catalogue, now) for r in results],
            slips=slip_views,
            version_counter=d.version_counter,
            conditions=_conditions_view(conn, d, roles) if proc.conditions else None,
            outcome=_outcome(results, slip_views),
            log_entry=d.log_entry,
            fees=fee_lines(proc, d.data or {}),
            code_note=CODE_NOTE if d.code is None and d.state != "draft" and not _final(proc, d.state) else None,
        )


# Decree 61/2018 Art. 17(3), Art. 26 and Circular 01/2018 Art. 19: the code is structured by the date of
# receipt (agency code-YYMMDD-sequence of the day), so it is given when the one-stop unit receives the dossier.
CODE_NOTE = {
    "vi": "Mã hồ sơ được cấp khi Bộ phận Một cửa tiếp nhận hồ sơ (Nghị định 61/2018/NĐ-CP, Điều 17, 26) và "
          "được ghi trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả; đến khi đó, dùng số theo dõi (id) để tra cứu.",
    "en": "The dossier code is given when the one-stop unit receives the dossier (Decree 61/2018, Art. 17, 26) "
          "and printed on the receipt slip; until then, use the tracking number (id).",
}


def _final(proc: Any, state: str) -> bool:
    return any(s.id == state and s.final for s in proc.states)


def _outcome(results: list[Any], slips: list[SlipView]) -> dict[str, Any] | None:
    """What the dossier came to, once something is issued: its results, or the slip that is its result."""
    refusal = next((x for x in slips if x.outcome == "refusal"), None)
    if refusal is not None:
        return {"type": "refusal", "slip": refusal.id, "number": refusal.number, "title": refusal.title,
                "status": refusal.status}
    if results:
        return {"type": "result", "results": [r.id for r in results]}
    return None


def _conditions_view(conn: Any, d: Any, roles: frozenset[str]) -> dict[str, Any] | None:
    """The dossier's last eligibility check: everything for staff; for the applicant the verdicts without
    the register data they used (which may be about other people). A transition's row read it with the
    dossier, unless the transition recorded a new one."""
    row = d.eligibility if isinstance(d, DossierRow) and d.eligibility is not queries.UNREAD else \
        queries.LATEST_ELIGIBILITY.first(conn, {"dossier_id": d.id})
    if row is None:
        return None
    at, action, outcome, verdicts = row
    staff = bool(roles - {"applicant"})
    return {"checked_at": at, "action": action, "outcome": outcome,
            "verdicts": [v if staff else {k: v[k] for k in ("rule", "status", "fields", "message") if k in v}
                         for v in (verdicts or [])]}


# --------------------------------------------------------------------------- audit events


def _latest_events(conn: Any, dossier_id: str, size: int, before: int | None = None) -> tuple[list[Any], int | None]:
    """The ``size`` events of the dossier before ``before`` (default: the latest), oldest first, and the
    sequence number to page back from when older ones exist: one indexed read of ``size + 1`` rows."""
    if before is None:
        rows = queries.EVENTS_LATEST.rows(conn, {"dossier_id": dossier_id, "limit": size + 1})
    else:
        rows = queries.EVENTS_BEFORE.rows(conn, {"dossier_id": dossier_id, "before": before,
                                                 "limit": size + 1})
    return _page(rows, size)


def _page(rows: list[Any], size: int) -> tuple[list[Any], int | None]:
    """Up to ``size + 1`` events newest first: the ``size`` latest oldest first, and where older ones start."""
    older = len(rows) > size
    rows = rows[:size]
    rows.reverse()
    return rows, (rows[0][0] if older else None)


def _event_view(row: Any, roles: frozenset[str]) -> EventView:
    """One audit event as a reader holding ``roles`` sees it: a staff comment not marked public is left
    out for the applicant (the reasons and the items to supplement are always shown)."""
    seq, action, actor_name, role, from_state, to_state, at, comment, reason, items, details = row
    public = comment_is_public(details) or (role == "applicant" and comment is not None)
    if comment is not None and not comment_visible(roles, author_role=role, details=details):
        comment = None
    return EventView(seq, action, actor_name, role, from_state, to_state, at, comment, reason, items, details,
                     comment_public=public)


def event_fields(d: Dossier | DossierRow, actor: Actor, action: str, from_state: str | None, to_state: str,
                 now: dt.datetime, *, role: str, comment: str | None = None, reason: str | None = None,
                 items: list[str] | None = None, details: dict | None = None) -> dict[str, Any]:
    """The next audit event of ``d`` by ``actor``, chained to the previous one (moves the dossier's head)."""
    return audit.chain_event(d, actor_account_id=actor.account_id, actor_name=actor.display_name,
                             agency_id=actor.agency_id, action=action, from_state=from_state, to_state=to_state,
                             at=now, role=role, comment=comment, reason=reason, items=items, details=details)


def append_event(s: Any, d: Dossier, actor: Actor, action: str, from_state: str | None, to_state: str,
                 now: dt.datetime, **kwargs: Any) -> None:
    s.add(DossierEvent(**event_fields(d, actor, action, from_state, to_state, now, **kwargs)))


# --------------------------------------------------------------------------- shared checks


def check_version(d: Any, expected: Any) -> None:
    """Optimistic concurrency: the version the caller saw must still be the dossier's."""
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
        raise ValidationError("expected_version must be an integer", fields={"expected_version": ["số nguyên / integer"]})
    if expected is not None and expected != d.version_counter:
        raise ConcurrencyError(
            f"Hồ sơ đã thay đổi (phiên bản {d.version_counter}, không phải {expected}); hãy tải lại / "
            f"the dossier changed (version {d.version_counter}, not {expected}); reload it"
        )


def not_editable(state: str) -> ActionNotAllowedError:
    """The error for a change to a dossier in a state that does not take one."""
    return ActionNotAllowedError(
        f"Hồ sơ ở trạng thái '{state}' không sửa được / a dossier in state '{state}' cannot be changed"
    )
