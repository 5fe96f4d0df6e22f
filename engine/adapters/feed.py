"""The event feed's statements: appending events numbered by the commit-ordered counter, reading a
page after a cursor, and the followers' stored cursors."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from engine.adapters.fastsql import Prepared, insert_of
from engine.adapters.models import Account, Agency, FeedCounter, FeedCursor, FeedEvent, WebhookSubscription

COUNTER = FeedCounter.__table__
FEED = FeedEvent.__table__
CURSORS = FeedCursor.__table__
AGENCIES = Agency.__table__

_TAKE = (update(COUNTER).where(COUNTER.c.id == 1).values(value=COUNTER.c.value + 1)
         .returning(COUNTER.c.value))
_TAKE_NOW = Prepared(_TAKE)
_INSERT = insert(FEED)
_COLUMNS = (FEED.c.id, FEED.c.type, FEED.c.dossier_id, FEED.c.dossier_code, AGENCIES.c.code, FEED.c.status_code,
            FEED.c.at, FEED.c.data, FEED.c.evidence_type)


def append_events(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Number ``rows`` (the next values of the counter, whose row stays locked until the caller's
    transaction ends) and insert them; return their ids."""
    ids = []
    for row in rows:
        # one UPDATE per event keeps the statement prebuilt; a transition appends one or two
        value = _TAKE_NOW.scalar(conn, {})
        if value is None:  # the counter's row is missing (an emptied table): put it back, at the feed's end
            make = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            last = conn.execute(select(func.coalesce(func.max(FEED.c.id), 0))).scalar_one()
            conn.execute(make(COUNTER).values(id=1, value=last).on_conflict_do_nothing())
            value = conn.execute(_TAKE).scalar_one()
        ids.append(value)
    if len(rows) == 1:
        _insert_one(conn, rows[0], ids[0])
    else:
        conn.execute(_INSERT, [{**row, "id": i} for i, row in zip(ids, rows)])
    return ids


def _insert_one(conn: Connection, row: dict[str, Any], event_id: int) -> None:
    """Insert one event numbered ``event_id``, by a statement prebuilt for its columns."""
    row = {**row, "id": event_id}
    insert_of(FEED, tuple(row)).execute(conn, row)


def read_events(conn: Connection, after: int, limit: int, *, agency_id: int | None = None,
                evidence: tuple[str, ...] = (), everything: bool = False, dossier_id: str | None = None) -> list[Any]:
    """Up to ``limit`` events after ``after``, in order: all of them (``everything``), or those of the
    agency ``agency_id`` and the result events of the evidence types ``evidence``."""
    q = (select(*_COLUMNS).select_from(FEED.outerjoin(AGENCIES, AGENCIES.c.id == FEED.c.agency_id))
         .where(FEED.c.id > after).order_by(FEED.c.id).limit(limit))
    if not everything:
        scope = [FEED.c.agency_id == agency_id] if agency_id is not None else []
        if evidence:
            scope.append(and_(FEED.c.evidence_type.in_(evidence), FEED.c.type.like("result.%")))
        if not scope:
            return []
        q = q.where(or_(*scope))
    if dossier_id is not None:
        q = q.where(FEED.c.dossier_id == dossier_id)
    return list(conn.execute(q))


def read_event(conn: Connection, event_id: int) -> Any:
    return conn.execute(select(*_COLUMNS).select_from(FEED.outerjoin(AGENCIES, AGENCIES.c.id == FEED.c.agency_id))
                        .where(FEED.c.id == event_id)).first()


def last_event_id(conn: Connection) -> int:
    return conn.execute(select(COUNTER.c.value).where(COUNTER.c.id == 1)).scalar_one_or_none() or 0


def cursor_position(conn: Connection, name: str) -> int:
    return conn.execute(select(CURSORS.c.position).where(CURSORS.c.name == name)).scalar_one_or_none() or 0


def set_cursor(conn: Connection, name: str, position: int, now: dt.datetime) -> None:
    make = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = make(CURSORS).values(name=name, position=position, updated_at=now)
    conn.execute(stmt.on_conflict_do_update(index_elements=[CURSORS.c.name],
                                            set_={"position": position, "updated_at": now}))


def allowed_evidence(conn: Connection, account_id: int | None) -> tuple[str, ...]:
    found = conn.execute(select(Account.allowed_evidence).where(Account.id == account_id)).scalar_one_or_none()
    return tuple(found or ())


_ACTIVE = select(WebhookSubscription.id).where(WebhookSubscription.active.is_(True))  # who follows the feed
_FOLLOWED = Prepared(_ACTIVE.limit(1))
# the counter's next value and whether anyone follows the feed, in one statement (SQLite's RETURNING takes a
# subquery)
_TAKE_AND_CHECK = Prepared(_TAKE.returning(_ACTIVE.exists()))


def has_subscriptions(conn: Connection) -> bool:
    """Whether any webhook subscription is active (else nobody needs waking when the feed moves)."""
    return _FOLLOWED.first(conn, {}) is not None


def append_and_check(conn: Connection, rows: list[dict[str, Any]]) -> tuple[list[int], bool]:
    """``append_events``, and whether any webhook subscription is active. One event (a transition's usual
    lot): on PostgreSQL it takes its number, is inserted and the subscriptions are looked at in one
    statement; on SQLite the counter's UPDATE returns whether any subscription is active beside the
    number, and the event is inserted. More events, or the counter's row missing: statement by statement."""
    if len(rows) == 1:
        if conn.dialect.name == "postgresql":
            keys = tuple(rows[0])
            stmt = _ONE_STATEMENT.get(keys)
            if stmt is None:
                stmt = _ONE_STATEMENT[keys] = Prepared(_append_one(keys))
            added, followed = stmt.first(conn, {f"f_{k}": v for k, v in rows[0].items()})
            if added is not None:
                return [added], bool(followed)
        else:
            taken = _TAKE_AND_CHECK.first(conn, {})
            if taken is not None:
                _insert_one(conn, rows[0], taken[0])
                return [taken[0]], bool(taken[1])
    return append_events(conn, rows), has_subscriptions(conn)


def _append_one(keys: tuple[str, ...]) -> Any:
    """Data-modifying CTEs: the counter's next value numbers the event inserted from it (nothing is
    inserted when the counter's row is missing: the id comes back NULL), then the subscriptions."""
    taken = _TAKE.cte("taken")
    added = (insert(FEED).from_select(["id", *keys], select(taken.c.value, *[
        bindparam(f"f_{k}", type_=FEED.c[k].type) for k in keys]).select_from(taken))
        .returning(FEED.c.id).cte("added"))
    return select(select(added.c.id).scalar_subquery(), _ACTIVE.exists()).add_cte(taken, added)


_ONE_STATEMENT: dict[tuple[str, ...], Prepared] = {}
