"""Actions: one workflow transition per request. One transaction, one audit event, exactly one
winner under races; the documents the action calls for (a slip, a result) are recorded as pending in
the same transaction, with a job of the task queue that renders and signs them off the request (see
engine.usecases.tasks); with ``issue_inline`` they are signed right after the commit instead."""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from engine.adapters import queries
from engine.adapters.sequences import next_in_sequence
from engine.adapters.uow import ReadMoved, UnitOfWork
from engine.rules.access import COMMENT_PUBLIC, Actor, roles_on_dossier
from engine.rules.errors import ValidationError
from engine.rules.text import text_problem
from engine.rules.effects import records_result, slip_form
from engine.rules.workflow import ActionContext, fire
from engine.usecases.catalogue import Procedures
from engine.usecases.deadlines import Deadlines
from engine.usecases.dossiers import Dossiers, check_version, event_fields
from engine.usecases.eligibility import Eligibility
from engine.usecases.feed import Feed, payment_event, transition_event
from engine.usecases.issuance import Issuance
from engine.usecases.notifications import Notifications
from engine.usecases.tasks import Tasks
from engine.usecases.views import DossierView, TransitionOutcome
from engine.usecases.writeback import WriteBack


class Actions:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], procedures: Procedures,
                 deadlines: Deadlines, dossiers: Dossiers, issuance: Issuance, tasks: Tasks, eligibility: Eligibility,
                 *, issue_inline: bool, writeback: WriteBack | None = None,
                 notifications: Notifications | None = None, feed: Feed | None = None):
        self.uow = uow
        self.feed = feed
        self.eligibility = eligibility
        self.clock = clock
        self.procedures = procedures
        self.deadlines = deadlines
        self.dossiers = dossiers
        self.issuance = issuance
        self.tasks = tasks
        self.issue_inline = issue_inline
        self.writeback = writeback
        self.notifications = notifications

    def perform_action(self, dossier_id: str, action: str, actor: Actor, *, comment: str | None = None,
                       comment_public: Any = False, reason: str | None = None, items: Any = None,
                       new_due_at: Any = None, case: Any = None, expected_version: Any = None) -> DossierView:
        """Fire one workflow action: one transaction, one audit event, exactly one winner under races.
        Returns the dossier's full view (what the HTTP API answers with).

        Documents the action calls for (a result, a slip) are recorded as pending in the same
        transaction, with a job per document for a worker (the view shows them pending, "being
        signed"); with ``issue_inline`` they are signed after the commit, before answering.

        A comment is internal (staff only) unless ``comment_public`` is True; the flag is kept in the
        audit event's details. ``case`` names the time-limit case that holds (``apply_time_limit_case``);
        the case and the reason are kept in the audit event's details.
        """
        return self._transition(dossier_id, action, actor, comment=comment, comment_public=comment_public,
                                reason=reason, items=items,
                                new_due_at=new_due_at, case=case, expected_version=expected_version,
                                with_view=True)[1]

    def fire_action(self, dossier_id: str, action: str, actor: Actor, *, comment: str | None = None,
                    comment_public: Any = False, reason: str | None = None, items: Any = None,
                    new_due_at: Any = None, case: Any = None, expected_version: Any = None) -> TransitionOutcome:
        """The same transition as ``perform_action`` (same checks, writes, errors and documents), for
        callers that do not need the dossier's view: batch jobs, imports. Skips reading the documents,
        events, results and slips back; returns what changed."""
        return self._transition(dossier_id, action, actor, comment=comment, comment_public=comment_public,
                                reason=reason, items=items,
                                new_due_at=new_due_at, case=case, expected_version=expected_version,
                                with_view=False)[0]

    def _transition(self, dossier_id: str, action: str, actor: Actor, *, comment: Any, comment_public: Any,
                    reason: Any, items: Any,
                    new_due_at: Any, case: Any, expected_version: Any,
                    with_view: bool) -> tuple[TransitionOutcome, DossierView | None]:
        """One transition, one transaction. The dossier is read with its agency and applicant in one
        prebuilt Core SELECT into a plain object the machine fires on, and written back with the audit
        event and the outbox row by ``store.write_transition`` (a versioned UPDATE of what changed and two
        INSERTs; one statement on PostgreSQL). A slip is a Core row too; the ORM session is made only
        for what needs one (results, an eligibility check, a pinned procedure read from the database). The
        view, if asked for, is built from what the transaction read and wrote: after the commit when that
        is all it needs, before it when it must read (the results' statuses, a check just recorded).

        On SQLite the transition reads and decides without the write lock (``optimistic``), so that other
        processes write meanwhile; at its first write it takes the lock and confirms the dossier's version
        is still the one it read, else it starts again holding the lock from the start (``ReadMoved``): the
        outcome is that of the two transitions in turn."""
        comment = _opt_text(comment, "comment")
        if not isinstance(comment_public, bool):
            raise ValidationError("comment_public must be true or false",
                                  fields={COMMENT_PUBLIC: ["true hoặc false / true or false"]})
        reason = _opt_text(reason, "reason")
        items = _items(items)
        due = _parse_due(new_due_at)
        case = _case(case)
        if expected_version is not None and (isinstance(expected_version, bool) or not isinstance(expected_version, int)):
            raise ValidationError("expected_version must be an integer", fields={"expected_version": ["số nguyên / integer"]})
        attempt = functools.partial(self._attempt, dossier_id, action, actor, comment=comment,
                                    comment_public=comment_public, reason=reason, items=items, due=due,
                                    new_due_at=new_due_at, case=case, expected_version=expected_version,
                                    with_view=with_view, now=self.clock())
        try:
            return attempt(optimistic=True)
        except ReadMoved:  # SQLite: the dossier moved while this one decided without the lock: again, holding it
            return attempt(optimistic=False)

    def _attempt(self, dossier_id: str, action: str, actor: Actor, *, comment: Any, comment_public: Any,
                 reason: Any, items: Any, due: Any, new_due_at: Any, case: Any, expected_version: Any,
                 with_view: bool, now: dt.datetime, optimistic: bool) -> tuple[TransitionOutcome, DossierView | None]:
        """The transition's transaction and what follows its commit (see ``_transition``)."""
        issued: list[str] = []
        view: DossierView | None = None
        with self.uow(optimistic=optimistic) as uow:
            conn = uow.connection  # the transaction; the ORM session only if needed
            d = self.dossiers.load_visible_row(conn, dossier_id, actor, parties=self._records_documents(action),
                                               view=with_view)
            check_version(d, expected_version)
            uow.check_before_writing(_unchanged(d.id, d.version_counter))
            proc = (self.procedures.loaded(d.procedure_id, d.procedure_version)
                    or self.procedures.procedure_version(d.procedure_id, d.procedure_version, uow.session))
            roles = roles_on_dossier(actor, applicant_account_id=d.applicant_account_id, agency_id=d.agency_id)
            cal = self.deadlines.calendar(proc.calendar)
            if due is not None and due.time() == dt.time(0) and isinstance(new_due_at, str) and len(new_due_at.strip()) == 10:
                due = cal.day_end(due.date())
            if due is not None and due > now + dt.timedelta(days=366):
                raise ValidationError("the new due date is too far away",
                                      fields={"new_due_at": ["tối đa một năm / at most one year ahead"]})
            read: set[str] = set()

            def conditions() -> list[Any]:  # asked by the conditions guard only, in this transaction
                verdicts, people = self.eligibility.check(uow.session, proc, d.data, d.applicant_personal_id, d.agency_id,
                                                          now.date())
                read.update(people)
                return verdicts

            ctx = ActionContext(procedure=proc, calendar=cal, now=now, roles=roles, comment=comment, reason=reason,
                                items=items, new_due_at=due, time_limit_case=case,
                                missing_documents_fn=lambda: self.dossiers.missing_documents(conn, d, proc),
                                results_pending=self._pending_results(conn, d.id) if d.state == "decided" else 0,
                                conditions_fn=conditions)
            from_state = d.state
            fired = fire(proc, d, action, ctx)
            form = slip_form(fired)  # the definition says which slip the action issues, if any
            records = records_result(fired)
            if records:
                d.attach_parties(uow.session)  # results ask the session for the agency and the applicant
                d.has_results = True
            details: dict[str, Any] = {}
            if ctx.verdicts:  # the conditions this action relied on: counted in the event, kept after the write
                details["conditions"] = {status: sum(v.status == status for v in ctx.verdicts)
                                         for status in sorted({v.status for v in ctx.verdicts})}
            if comment is not None and comment_public:
                details[COMMENT_PUBLIC] = True
            if "assign_code" in fired.effects:
                day = now.strftime("%y%m%d")
                seq = next_in_sequence(conn, f"dossier:{d.agency_id}", day)
                d.code = f"{d.agency_code}-{day}-{seq:04d}"
                details["code"] = d.code
                # received: the next entry of the agency's log book of the year (form 07)
                d.log_entry = next_in_sequence(conn, f"logbook:{d.agency_id}", str(now.year))
                details["log_entry"] = d.log_entry
            if records:
                issued += self.issuance.record_results(uow.session, d, proc, now, actor)
                details["results"] = list(issued)
            if d.due_at is not None and "start_clock" in fired.effects:
                details["due_at"] = d.due_at.isoformat()
            if "extend_due" in fired.effects:
                details["original_due_at"] = d.original_due_at.isoformat() if d.original_due_at else None
                details["due_at"] = d.due_at.isoformat()
            if "apply_time_limit_case" in fired.effects:
                applied = proc.time_limit_case(d.time_limit_case)
                details["time_limit_case"] = {"id": applied.id, "value": applied.value, "unit": applied.unit,
                                              "reason": reason}
                details["original_due_at"] = d.original_due_at.isoformat() if d.original_due_at else None
                details["due_at"] = d.due_at.isoformat()
            if "resume_clock" in fired.effects:
                details["due_at"] = d.due_at.isoformat() if d.due_at else None
            # what needs no write is made before the first one: on SQLite the writers' turn is taken there
            # and held until the commit (the slip's, the event's and the feed's numbers are taken after it)
            moment = (self.notifications.prepare_moment(conn, d, proc, fired.effects, items=items, reason=reason)
                      if self.notifications is not None else None)
            feed_events: list[dict[str, Any]] = []
            if self.feed is not None:
                feed_events.append(transition_event(d, proc, fired.id, from_state, now, results=details.get("results")))
                if "mark_paid" in fired.effects:
                    feed_events.append(payment_event(d, now))
            slip = None
            if form is not None:
                slip = self.issuance.queue_slip(conn, d, proc, form, (d.event_count or 0) + 1, now, actor,
                                                reason=reason, items=items, session=lambda: uow.session)
                issued.append(slip["id"])  # known before the insert: the audit event names it
                details["slip"] = {"form": form, "number": slip["number"], "id": slip["id"]}
            event = event_fields(d, actor, fired.id, from_state, d.state, now, role=ctx.role_used or "",
                                       comment=comment, reason=reason, items=items, details=details or None)
            # the version check comes before the inserts a concurrent winner's rows would collide with
            # (the event's and the slip's sequence number in the dossier)
            queries.write_transition(conn, d, event, "dossier.transition", {"action": fired.id, "from": from_state,
                                                                          "to": d.state, "status_code": d.status_code})
            d.wrote_event(event)
            if ctx.verdicts:
                # after the versioned write: a loser of a race never inserts rows that reference the dossier
                # (their foreign-key locks would deadlock with the winner's update of the dossier's code)
                self.eligibility.record(uow.session, d.id, fired.id, actor, ctx.verdicts, read, proc.id, now)
                d.eligibility = queries.UNREAD  # the view shows the check just recorded
            if slip is not None:
                queries.insert_slip(conn, slip)
                d.wrote_slip(slip)
            if issued and not self.issue_inline:
                self.tasks.defer_issue(conn, issued)  # the jobs commit (or roll back) with the transition
            if moment is not None:  # the applicant is told of the moments the rules name
                deliveries = self.notifications.write_moment(conn, d, moment, now)
                if deliveries:
                    self.tasks.defer_deliveries(conn, deliveries)  # sent by a worker, never in the request
            uow.flush()  # anything else a session holds (results were flushed as they were recorded)
            answer = with_view and not (issued and self.issue_inline)
            if answer and not d.view_is_read():  # the view reads something: in this transaction
                view = self.dossiers.view(lambda: uow.session, d, actor, proc, conn=conn)
            if feed_events:  # last: the feed's counter stays locked until the commit
                self.feed.append(conn, feed_events)
            uow.commit()
            if answer and view is None:  # from what the transaction read and wrote: after the commit, so that
                # the write lock (SQLite) and the dossier's row lock (PostgreSQL) are not held while it is built
                view = self.dossiers.view(lambda: uow.session, d, actor, proc, conn=conn)
        if records and self.writeback is not None and self.writeback.remote:
            self.writeback.deliver_pending(dossier_id=d.id)  # a failure stays pending for `motcua sweep`
        if issued and self.issue_inline:
            self.issuance.issue_pending(ids=issued)
            if with_view:
                view = self.dossiers.get_dossier(dossier_id, actor)
        outcome = TransitionOutcome(d.id, d.state, d.status_code, d.code, d.due_at, d.version_counter, d.event_count)
        return outcome, view

    def _pending_results(self, conn: Any, dossier_id: str) -> int:
        return conn.execute(queries.PENDING_RESULTS, {"dossier_id": dossier_id}).scalar_one()

    def _records_documents(self, action: Any) -> bool:
        """Whether ``action`` may record a slip or a result, which read the agency and the applicant."""
        return self.procedures.records_documents(action)


def _unchanged(dossier_id: str, version: int) -> Callable[[Any], None]:
    """The check of an optimistic transition (``UnitOfWork.check_before_writing``): the dossier is still at
    the version it read. Every change to a dossier, its documents included, moves its version."""
    def check(conn: Any) -> None:
        if queries.dossier_version(conn, dossier_id) != version:
            raise ReadMoved()
    return check


def _opt_text(value: Any, name: str, limit: int = 4000) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be text", fields={name: ["phải là chuỗi / must be text"]})
    value = value.strip()
    if len(value) > limit:
        raise ValidationError(f"{name} is too long", fields={name: [f"tối đa {limit} ký tự / at most {limit} characters"]})
    problem = text_problem(value)
    if problem:
        raise ValidationError(f"Nội dung không hợp lệ / invalid {name}", fields={name: [problem]})
    return value or None


def _items(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("items must be a list of texts", fields={"items": ["danh sách chuỗi / a list of texts"]})
    cleaned = [v.strip() for v in value if v.strip()]
    if len(cleaned) > 100 or any(len(v) > 1000 for v in cleaned):
        raise ValidationError("too many or too long items", fields={"items": ["quá dài / too long"]})
    problem = next((p for p in map(text_problem, cleaned) if p), None)
    if problem:
        raise ValidationError("Nội dung không hợp lệ / invalid items", fields={"items": [problem]})
    return cleaned or None


def _case(value: Any) -> str | None:
    """The time-limit case's id as sent: a short name; whether the procedure has it is the guard's."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 60 or text_problem(value.strip()):
        raise ValidationError("Trường hợp không hợp lệ / case must be the id of a time-limit case",
                              fields={"case": ["tên trường hợp / a case id"]})
    return value.strip()


def _parse_due(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError("new_due_at must be an ISO date", fields={"new_due_at": ["YYYY-MM-DD[THH:MM]"]})
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError("new_due_at must be an ISO date", fields={"new_due_at": ["YYYY-MM-DD[THH:MM]"]}) from None
    return parsed.replace(tzinfo=None) if parsed.tzinfo else parsed
