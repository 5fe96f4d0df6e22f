"""Counters that must stay unique under concurrency: dossier codes, result and slip numbers."""
from __future__ import annotations

from sqlalchemy import Connection, bindparam, insert, update
from sqlalchemy.exc import IntegrityError

from engine.adapters.fastsql import Prepared
from engine.adapters.models import Sequence

_SEQUENCES = Sequence.__table__
_NEXT_VALUE = (  # prebuilt Core statements: no ORM bulk-update machinery for one counter
    update(_SEQUENCES)
    .where(_SEQUENCES.c.scope == bindparam("w_scope"), _SEQUENCES.c.period == bindparam("w_period"))
    .values(value=_SEQUENCES.c.value + 1)
    .returning(_SEQUENCES.c.value)
)
_NEXT_NOW = Prepared(_NEXT_VALUE)
_FIRST_VALUE = insert(_SEQUENCES)


def next_in_sequence(conn: Connection, scope: str, period: str) -> int:
    """Atomically take the next number of (scope, period): one row, incremented in place.

    On PostgreSQL the UPDATE locks the row until commit, so concurrent callers queue; on SQLite the
    write transaction already holds the database lock. A first use races on INSERT; the loser's
    unique violation is absorbed inside a savepoint and it increments the winner's row.
    """
    key = {"w_scope": scope, "w_period": period}
    value = _NEXT_NOW.scalar(conn, key)
    if value is not None:
        return int(value)
    try:
        with conn.begin_nested():
            conn.execute(_FIRST_VALUE, {"scope": scope, "period": period, "value": 1})
        return 1
    except IntegrityError:
        value = conn.execute(_NEXT_VALUE, key).scalar_one()
        return int(value)
