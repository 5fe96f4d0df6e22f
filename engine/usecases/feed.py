"""The event feed: every transition, payment, result issued, revoked or superseded is an event with a
place in one global order (its id, the cursor), written in the transaction of the change itself.

Agency clients read the events they may see with ``GET /api/v1/events?after=<cursor>``: those of the
dossiers their own agency handles (and the results it issued), and the result events of the evidence
types the law lets them read (``allowed_evidence``). Events carry no personal data: no names, no
personal ids, no form data; a dossier's id and code, its procedure, state and status code, dates,
channel, result numbers. Followers of the feed (the webhooks, the national-portal sync) are woken by a
``follow_feed`` job each transaction that appends events defers (docs/events.md).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.adapters import feed as store
from engine.adapters.uow import UnitOfWork
from engine.rules import events as rules
from engine.rules.access import Actor
from engine.rules.errors import PermissionDeniedError, ValidationError

FOLLOW_FEED = "follow_feed"
FOLLOW_LOCK = "feed:follow"
MAX_PAGE = 500


@dataclass(frozen=True)
class FeedEventView:
    id: int
    type: str
    at: str
    dossier: dict[str, Any] | None
    agency: str | None
    status_code: int | None
    data: dict[str, Any]


@dataclass(frozen=True)
class FeedPage:
    events: list[FeedEventView]
    next: int  # the cursor to ask with next time (the last event's id, or the one asked with)
    more: bool


def event_view(row: Any) -> FeedEventView:
    event_id, kind, dossier_id, code, agency, status, at, data, _evidence = row
    return FeedEventView(event_id, kind, at.isoformat(), {"id": dossier_id, "code": code} if dossier_id else None,
                         agency, status, dict(data or {}))


def event_document(view: FeedEventView) -> dict[str, Any]:
    return {"id": view.id, "type": view.type, "at": view.at, "dossier": view.dossier, "agency": view.agency,
            "status_code": view.status_code, "data": view.data}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def transition_event(d: Any, proc: Any, action: str, from_state: str | None, now: dt.datetime,
                     results: list[str] | None = None) -> dict[str, Any]:
    """The feed event of a transition of ``d`` (a dossier row after the transition)."""
    state = proc.state(d.state)
    finished = d.decided_at or d.closed_at if (state.final or state.status_code in (9, 10)) else None
    data = {"action": action, "from": from_state, "to": d.state, "procedure": d.procedure_id,
            "channel": d.channel, "received_at": _iso(d.received_at), "due_at": _iso(d.due_at),
            "finished_at": _iso(finished), "outcome": state.outcome if state.final else None,
            "overdue": bool(d.overdue), "fee_paid": bool(d.fee_paid)}
    if results:
        data["results"] = list(results)
    return {"type": rules.DOSSIER_TRANSITION, "dossier_id": d.id, "dossier_code": d.code, "agency_id": d.agency_id,
            "evidence_type": None, "status_code": d.status_code, "at": now, "data": data}


def payment_event(d: Any, now: dt.datetime) -> dict[str, Any]:
    return {"type": rules.PAYMENT_CONFIRMED, "dossier_id": d.id, "dossier_code": d.code, "agency_id": d.agency_id,
            "evidence_type": None, "status_code": d.status_code, "at": now,
            "data": {"procedure": d.procedure_id, "fee_paid": True}}


def result_event(kind: str, r: Any, now: dt.datetime, *, dossier_code: str | None = None,
                 status_code: int | None = None) -> dict[str, Any]:
    """A result event (issued, revoked, superseded); never the holders or the result's data."""
    data = {"result": {"id": r.id, "number": r.number, "evidence": r.evidence_type, "status": r.status},
            "procedure": r.procedure_id or None}
    if kind == rules.RESULT_SUPERSEDED and r.superseded_by:
        data["superseded_by"] = r.superseded_by
    if kind in (rules.RESULT_REVOKED, rules.RESULT_SUPERSEDED):
        data["reason_given"] = bool(r.status_reason)
    return {"type": kind, "dossier_id": r.dossier_id, "dossier_code": dossier_code, "agency_id": r.issuer_agency_id,
            "evidence_type": r.evidence_type, "status_code": status_code, "at": now, "data": data}


class Feed:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], queue: Any, *,
                 portal: bool = False):
        self.uow = uow
        self.clock = clock
        self.queue = queue
        self.portal = portal  # the portal sync follows the feed: wake it on every append

    # ------------------------------------------------------------------ writing (in the change's transaction)

    def append(self, conn: Any, events: list[dict[str, Any]]) -> list[int]:
        """Append ``events`` in the caller's transaction (call it last before the commit: the counter's
        row stays locked until then) and wake the followers (the portal sync, when configured; the
        webhooks, when a subscription is active) once it commits."""
        if not events:
            return []
        ids, followed = store.append_and_check(conn, events)
        if self.portal or followed:
            self.queue.defer_unless_waiting(conn, FOLLOW_FEED, {}, lock=FOLLOW_LOCK)
        return ids

    # ----------------------------------------------------------------------------------------- reading

    def list_events(self, actor: Actor, after: Any = None, limit: Any = None) -> FeedPage:
        """The events ``actor`` (an agency client) may see after the cursor ``after``, oldest first."""
        if actor.kind != "agency_client":
            raise PermissionDeniedError("Chỉ dành cho hệ thống của cơ quan / for agency clients only")
        cursor = parse_cursor(after)
        size = _limit(limit)
        with self.uow(write=False) as uow:
            conn = uow.session.connection()
            evidence = self.allowed_evidence(conn, actor)
            rows = store.read_events(conn, cursor, size + 1, agency_id=actor.agency_id, evidence=evidence)
        views = [event_view(r) for r in rows[:size]]
        return FeedPage(views, views[-1].id if views else cursor, len(rows) > size)

    def allowed_evidence(self, conn: Any, actor: Actor) -> tuple[str, ...]:
        """The evidence types the client may read by law (its result events are in its scope)."""
        return store.allowed_evidence(conn, actor.account_id)

    def events_after(self, after: int, limit: int, *, agency_id: int | None = None, evidence: tuple[str, ...] = (),
                     everything: bool = False) -> list[FeedEventView]:
        with self.uow(write=False) as uow:
            rows = store.read_events(uow.session.connection(), after, limit, agency_id=agency_id, evidence=evidence,
                                     everything=everything)
        return [event_view(r) for r in rows]

    def last_id(self) -> int:
        with self.uow(write=False) as uow:
            return store.last_event_id(uow.session.connection())


def parse_cursor(value: Any) -> int:
    if value is None or value == "":
        return 0
    text = str(value).strip()
    if not text.isdigit() or len(text) > 18:
        raise ValidationError("Con trỏ phải là số nguyên không âm / after must be a cursor (a whole number)",
                              fields={"after": ["số nguyên không âm / a whole number"]})
    return int(text)


def _limit(value: Any) -> int:
    if value is None or value == "":
        return 100
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise ValidationError(f"limit phải từ 1 đến {MAX_PAGE} / limit must be 1 to {MAX_PAGE}",
                              fields={"limit": [f"từ 1 đến {MAX_PAGE} / 1 to {MAX_PAGE}"]})
    return int(text)
