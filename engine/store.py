"""Database engine set-up, the unit of work, and counters that must stay unique under concurrency."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import ConcurrencyError
from engine.models import Sequence

log = logging.getLogger(__name__)

STALE_MESSAGE = "Hồ sơ vừa được người khác cập nhật; hãy tải lại / the dossier was changed by someone else; reload it"


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """An engine for ``url``. SQLite gets WAL, full durability, foreign keys and a busy timeout;
    its write transactions start with ``BEGIN IMMEDIATE`` so writers queue instead of failing."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            mode = conn.info.get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True)


class UnitOfWork:
    """One transaction. ``with uow:`` opens it; ``commit()`` commits once; leaving without commit rolls back.

    ``write=True`` takes SQLite's write lock at the start (PostgreSQL needs nothing: row versions
    and unique constraints settle races there).
    """

    def __init__(self, engine: Engine, *, write: bool = True):
        self.engine = engine
        self.write = write
        self.session: Session
        self._conn: Any = None
        self._after_commit: list[Callable[[], None]] = []
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        self._conn = self.engine.connect()
        if self.engine.dialect.name == "sqlite":
            self._conn.info["sqlite_begin"] = "IMMEDIATE" if self.write else "DEFERRED"
        self.session = Session(bind=self._conn, expire_on_commit=False, autoflush=False)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self.session.rollback()
            self.session.close()
        finally:
            if self._conn is not None:
                self._conn.info.pop("sqlite_begin", None)
                self._conn.close()
        if exc_type is not None and issubclass(exc_type, StaleDataError):
            # a flush anywhere in the use case found the row changed by someone else
            raise ConcurrencyError(STALE_MESSAGE) from exc
        if exc_type is None and self._committed:
            for fn in self._after_commit:
                try:
                    fn()
                except Exception:  # an outside effect must never undo a committed transition
                    log.exception("after-commit hook failed")

    def commit(self) -> None:
        try:
            self.session.commit()
        except StaleDataError as exc:
            raise ConcurrencyError(STALE_MESSAGE) from exc
        self._committed = True

    def after_commit(self, fn: Callable[[], None]) -> None:
        self._after_commit.append(fn)


def uow_factory(engine: Engine) -> Callable[..., UnitOfWork]:
    def make(write: bool = True) -> UnitOfWork:
        return UnitOfWork(engine, write=write)

    return make


def next_in_sequence(session: Session, scope: str, period: str) -> int:
    """Atomically take the next number of (scope, period): one row, incremented in place.

    On PostgreSQL the UPDATE locks the row until commit, so concurrent callers queue; on SQLite the
    write transaction already holds the database lock. A first use races on INSERT; the loser's
    unique violation is absorbed inside a savepoint and it increments the winner's row.
    """
    stmt = (
        update(Sequence)
        .where(Sequence.scope == scope, Sequence.period == period)
        .values(value=Sequence.value + 1)
        .returning(Sequence.value)
    )
    value = session.execute(stmt).scalar_one_or_none()
    if value is not None:
        return int(value)
    try:
        with session.begin_nested():
            session.execute(insert(Sequence).values(scope=scope, period=period, value=1))
        return 1
    except IntegrityError:
        value = session.execute(stmt).scalar_one()
        return int(value)


def is_lock_timeout(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return "database is locked" in text or "could not serialize" in text or "deadlock" in text


def current_value(session: Session, scope: str, period: str) -> int:
    row = session.execute(
        select(Sequence.value).where(Sequence.scope == scope, Sequence.period == period)
    ).scalar_one_or_none()
    return int(row or 0)
