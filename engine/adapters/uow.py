"""The database engine and the unit of work: one transaction per use case, committed once."""
from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.adapters import fastsql, jsoncodec
from engine.adapters.sqlite_writers import WriterTurns
from engine.rules.errors import ConcurrencyError

_BEGIN = {"DEFERRED": "BEGIN DEFERRED", "IMMEDIATE": "BEGIN IMMEDIATE"}
_OPTIMISTIC = "motcua_optimistic"  # an optimistic SQLite write transaction that has not written yet
_CHECKS = "motcua_optimistic_checks"  # what an optimistic transaction confirms when it starts writing
_READS = frozenset({"SELECT", "BEGIN", "SAVEPOINT", "RELEASE"})  # statements that do not write: anything else does
_JSON = {"json_serializer": jsoncodec.dumps, "json_deserializer": jsoncodec.loads}  # the JSON columns
# Every SQLite connection's settings besides WAL: full durability (a commit is on disk when it returns),
# foreign keys, a 30 s busy timeout, and a page cache of 16 MiB instead of SQLite's 2 MiB (a negative
# size counts KiB; the cache fills only with pages read). A dossier's view reads its latest events,
# spread over as many pages as other dossiers' events came between them: with the default, 60 dossiers
# in turn made each transition read 7 pages again from the WAL and the file (13.6 reads a transition
# instead of 6.1).
SQLITE_PRAGMAS = ("synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000", "cache_size=-16384")
STALE_MESSAGE = "Hồ sơ vừa được người khác cập nhật; hãy tải lại / the dossier was changed by someone else; reload it"


def _writes(statement: str) -> bool:
    """Whether a statement may write (its first word is not one of ``_READS``)."""
    words = statement[:40].split(None, 1)
    return not words or words[0].upper() not in _READS


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """An engine for ``url``. SQLite gets WAL, full durability, foreign keys and a busy timeout;
    its write transactions start with ``BEGIN IMMEDIATE`` so writers queue instead of failing, and
    on a database file take turns first (``sqlite_writers``), so that they queue without sleeping."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **_JSON)
        path = engine.url.database
        turns = WriterTurns(os.path.abspath(path)) if path and path != ":memory:" and "mode=memory" not in url else None

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
                cur.execute("PRAGMA journal_mode=WAL")
            for pragma in SQLITE_PRAGMAS:
                cur.execute(f"PRAGMA {pragma}")
            cur.close()

        def begin(conn: Any, mode: str) -> None:
            """``BEGIN <mode>`` on ``conn``; a writer takes its turn first (given back by the unit of work,
            or at check-in; at once if the BEGIN fails)."""
            if mode == "IMMEDIATE" and turns is not None:
                try:
                    turns.take(conn.info)
                except sqlite3.OperationalError as err:
                    raise exc.OperationalError(_BEGIN[mode], (), err) from err
            try:
                fastsql.send(conn, _BEGIN[mode])
            except BaseException:
                WriterTurns.give_back(conn.info)
                raise

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            mode = conn.info.get("sqlite_begin", "DEFERRED")
            if mode is not None:  # None: a one-statement read, in SQLite's autocommit (its own snapshot)
                begin(conn, mode)

        @event.listens_for(engine, "before_cursor_execute")
        def _first_write(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            info = conn.info
            if info.get(_OPTIMISTIC) and _writes(statement):
                # the transaction writes from here: what it read so far came from a snapshot taken without the
                # write lock; it ends, the writer's turn and SQLite's lock are taken, and the checks the use case
                # registered confirm that what it read still holds (else it starts again, holding the lock)
                del info[_OPTIMISTIC]
                fastsql.send(conn, "COMMIT")  # the snapshot's end: it wrote nothing
                begin(conn, "IMMEDIATE")
                for check in info.pop(_CHECKS, ()):
                    check(conn)

        if turns is not None:
            @event.listens_for(engine, "checkin")
            def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
                WriterTurns.give_back(record.info)  # a unit of work gives it back at once; this is the net

            @event.listens_for(engine, "close")
            def _on_close(_dbapi_conn: Any, record: Any) -> None:
                WriterTurns.close(record.info)

        return engine
    # No pool_pre_ping: it costs a round trip (SELECT 1) on every checkout, i.e. on every unit of work.
    # A connection that broke while in use is handled anyway: SQLAlchemy recognises the driver's
    # disconnect error, invalidates that connection and every other pooled one (they were opened
    # before the break), and the next unit of work connects afresh. What pre-ping still buys is the
    # first request after a long quiet spell (server restart, firewall idle timeout): only a connection
    # that sat in the pool longer than IDLE_PING_SECONDS is pinged before use, and recycled after
    # RECYCLE_SECONDS whatever happens.
    engine = create_engine(url, pool_size=pool_size, max_overflow=10, pool_recycle=RECYCLE_SECONDS, **_JSON)
    _ping_when_idle(engine)
    return engine


IDLE_PING_SECONDS = 30.0
RECYCLE_SECONDS = 3600


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("checked_in_at")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return  # fresh from connect, or in steady use: a break shows up as a disconnect error instead
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as err:
            # the pool discards this connection and checks out (or opens) another one
            raise exc.DisconnectionError(f"idle connection failed its ping: {err}") from err


class UnitOfWork:
    """One transaction. ``with uow:`` opens it; ``commit()`` commits once; leaving without commit rolls back.

    ``write=True`` takes SQLite's write lock at the start (PostgreSQL needs nothing: row versions
    and unique constraints settle races there).

    ``optimistic=True`` (with ``write``) lets a SQLite use case read and decide without the write lock,
    so that other processes write meanwhile: the transaction begins ``DEFERRED``; at its first write
    statement (anything but a SELECT) the snapshot it read ends, the writer's turn and ``BEGIN
    IMMEDIATE`` are taken, and the checks the use case registered (``check_before_writing``) confirm,
    holding the lock, that what it read still holds. If one fails it raises ``ReadMoved``, having
    written nothing, and the use case starts again without ``optimistic``. A use case may be
    optimistic only if a check covers every read its writes depend on (a transition: the dossier's
    version, which every change to the dossier moves). On PostgreSQL it changes nothing.

    ``write=False`` on PostgreSQL is a ``READ ONLY`` transaction that ends with ``COMMIT`` when the use
    case finishes (``ROLLBACK`` on an error): psycopg forgets every prepared statement of the connection
    at a ``ROLLBACK``, so read units that rolled back made the server plan each statement again (the
    dossier's SELECT: 2.0 ms in a rolled-back transaction against 0.4 ms prepared). Nothing can be
    written in such a unit; a write is an error rather than a silent loss.

    ``one_statement=True`` (with ``write=False``) is for a use case that sends a single SELECT, such as
    the sign-in look-ups every request makes: it runs in autocommit (one statement is one snapshot
    anyway), which saves the ``BEGIN`` and ``COMMIT`` round trips on PostgreSQL and the ``BEGIN`` and
    ``ROLLBACK`` statements on SQLite; its prebuilt statements go to the driver's cursor without even a
    SQLAlchemy transaction to begin and roll back (``fastsql.DIRECT``), a quarter of such a unit's cost.
    """

    def __init__(self, engine: Engine, *, write: bool = True, one_statement: bool = False, optimistic: bool = False):
        self.engine = engine
        self.write = write
        self.optimistic = optimistic and write
        self.one_statement = one_statement and not write
        self._session: Session | None = None
        self._conn: Any = None
        self._read_only = False

    def __enter__(self) -> UnitOfWork:
        self._conn = self.engine.connect()
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            self._conn.info["sqlite_begin"] = ("IMMEDIATE" if self.write and not self.optimistic else
                                               None if self.one_statement else "DEFERRED")
            if self.optimistic:
                self._conn.info[_OPTIMISTIC] = True
        self._read_only = not self.write and dialect == "postgresql"
        if self.one_statement:  # prebuilt statements go to the driver's cursor without a transaction (fastsql)
            self._conn.info[fastsql.DIRECT] = True
        if self._read_only and self.one_statement:  # one statement is its own snapshot: no BEGIN, no COMMIT
            self._conn.execution_options(isolation_level="AUTOCOMMIT")  # reset when the connection is returned
        elif self._read_only:
            self._conn.execution_options(postgresql_readonly=True)  # BEGIN READ ONLY; reset when returned
        self._session = None
        return self

    @property
    def session(self) -> Session:
        """The ORM session of this transaction, made when first asked for (a use case that sends Core
        statements only never pays for one). It takes over a transaction ``connection`` already began."""
        if self._session is None:
            self._session = Session(bind=self._conn, expire_on_commit=False, autoflush=False,
                                    join_transaction_mode="control_fully")
        return self._session

    @property
    def connection(self) -> Connection:
        """The transaction's connection for Core statements, begun (``BEGIN IMMEDIATE`` on SQLite when
        ``write``); the session's own when there is one."""
        if self._session is not None:
            return self._session.connection()
        if not self.one_statement and not self._conn.in_transaction():
            self._conn.begin()
        return self._conn

    def check_before_writing(self, check: Callable[[Connection], None]) -> None:
        """In an optimistic SQLite transaction that has not written yet: call ``check(connection)`` once the
        write lock is held, before the first write; it raises ``ReadMoved`` when what the transaction read
        has changed since. Anywhere else, nothing: the transaction already holds what it read."""
        if self._conn is not None and self._conn.info.get(_OPTIMISTIC):
            self._conn.info.setdefault(_CHECKS, []).append(check)

    def flush(self) -> None:
        """Flush the session's pending objects, if a session was made."""
        if self._session is not None:
            self._session.flush()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None and self._read_only:  # keeps the connection's prepared statements
                if self._session is not None:
                    self._session.expunge_all()  # nothing to flush: a read unit changes no object
                self.commit()
            if self._session is not None:
                self._session.rollback()
                self._session.close()
            if self._conn is not None and self._conn.in_transaction():  # begun by ``connection``, session unused
                self._conn.rollback()
        finally:
            if self._conn is not None:
                info = self._conn.info
                for key in ("sqlite_begin", _OPTIMISTIC, _CHECKS, fastsql.DIRECT):
                    info.pop(key, None)
                self._conn.close()
        if exc_type is not None and issubclass(exc_type, StaleDataError):
            # a flush anywhere in the use case found the row changed by someone else
            raise ConcurrencyError(STALE_MESSAGE) from exc

    def commit(self) -> None:
        try:
            if self._session is not None:
                self._session.commit()
            if self._conn.in_transaction():  # begun by ``connection``, the session unused
                self._conn.commit()
        except StaleDataError as exc:
            raise ConcurrencyError(STALE_MESSAGE) from exc
        if self.write:
            WriterTurns.give_back(self._conn.info)  # the next SQLite writer goes in now, not at check-in


class ReadMoved(Exception):
    """What an optimistic transaction read changed before it could write: it starts again, pessimistically."""


def uow_factory(engine: Engine) -> Callable[..., UnitOfWork]:
    def make(write: bool = True, one_statement: bool = False, optimistic: bool = False) -> UnitOfWork:
        return UnitOfWork(engine, write=write, one_statement=one_statement, optimistic=optimistic)

    return make
