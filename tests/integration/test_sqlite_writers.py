"""SQLite's writers take turns on a file lock before ``BEGIN IMMEDIATE``: the next one goes in as soon as
the one before commits or rolls back (not after a sleep of SQLite's busy handler), a writer that
waits too long gets SQLite's own ``database is locked``, and no path leaves a turn taken."""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time

import pytest
from sqlalchemy import exc, text

from engine.adapters import sqlite_writers
from engine.adapters.uow import make_engine, uow_factory


@pytest.fixture
def engine(tmp_path):
    url = f"sqlite:///{tmp_path / 'turns.sqlite'}"
    made = make_engine(url)
    with made.begin() as conn:
        conn.execute(text("CREATE TABLE log (n INTEGER, at REAL)"))
    yield made
    made.dispose()


def _free(path) -> bool:
    """Whether another open file could take the turn now."""
    fd = os.open(f"{path}-writers", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_the_next_writer_goes_in_when_the_one_before_commits(engine):
    uow = uow_factory(engine)
    entered: list[float] = []

    def second() -> None:
        with uow() as w:
            w.connection.execute(text("INSERT INTO log VALUES (2, :at)"), {"at": time.monotonic()})
            entered.append(time.monotonic())
            w.commit()

    with uow() as first:
        first.connection.execute(text("INSERT INTO log VALUES (1, 0)"))
        assert not _free(engine.url.database)  # the turn is taken while the transaction is open
        waiter = threading.Thread(target=second)
        waiter.start()
        time.sleep(0.2)
        assert not entered  # waiting for its turn
        first.commit()
        done = time.monotonic()
    waiter.join(5)
    assert entered and entered[0] - done < 0.1  # in at once, not after a sleep of the busy handler
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT n FROM log ORDER BY rowid"))] == [1, 2]
    assert _free(engine.url.database)


def test_a_write_unit_gives_its_turn_back_at_commit_rollback_and_error(engine):
    uow = uow_factory(engine)
    path = engine.url.database
    with uow() as w:
        w.connection.execute(text("INSERT INTO log VALUES (1, 0)"))
        w.commit()
        assert _free(path)  # at the commit, before the unit ends
    with uow() as w:
        w.connection.execute(text("INSERT INTO log VALUES (2, 0)"))
    assert _free(path)  # left without commit: rolled back
    with pytest.raises(exc.OperationalError):
        with uow() as w:
            w.connection.execute(text("INSERT INTO no_such_table VALUES (1)"))
    assert _free(path)
    with uow(write=False) as r:  # readers never take a turn
        r.connection.execute(text("SELECT count(*) FROM log"))
        assert _free(path)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM log")).scalar() == 1


def test_a_writer_that_waits_too_long_gets_database_is_locked_and_holds_nothing(engine, monkeypatch):
    monkeypatch.setattr(sqlite_writers, "TIMEOUT_SECONDS", 0.2)
    uow = uow_factory(engine)
    failure: list[BaseException] = []

    def second() -> None:
        try:
            with uow() as w:
                w.connection.execute(text("INSERT INTO log VALUES (2, 0)"))
                w.commit()
        except BaseException as err:  # noqa: BLE001 - examined below
            failure.append(err)

    with uow() as first:
        first.connection.execute(text("INSERT INTO log VALUES (1, 0)"))
        waiter = threading.Thread(target=second)
        waiter.start()
        waiter.join(5)
        first.commit()
    assert len(failure) == 1 and isinstance(failure[0], exc.OperationalError)
    assert "database is locked" in str(failure[0])
    assert _free(engine.url.database)
    with uow() as w:  # the connection that failed is usable again
        w.connection.execute(text("INSERT INTO log VALUES (3, 0)"))
        w.commit()
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT n FROM log ORDER BY rowid"))] == [1, 3]


def test_disposing_the_engine_closes_the_lock_files(engine):
    uow = uow_factory(engine)
    with uow() as w:
        w.connection.execute(text("INSERT INTO log VALUES (1, 0)"))
        w.commit()
    opened = [fd for fd in os.listdir("/proc/self/fd")
              if os.path.realpath(f"/proc/self/fd/{fd}").endswith("turns.sqlite-writers")]
    assert opened
    engine.dispose()
    assert not [fd for fd in os.listdir("/proc/self/fd")
                if os.path.realpath(f"/proc/self/fd/{fd}").endswith("turns.sqlite-writers")]


def test_an_in_memory_database_writes_without_turns():
    memory = make_engine("sqlite://")
    try:
        with uow_factory(memory)() as w:
            w.connection.execute(text("CREATE TABLE t (n INTEGER)"))
            w.connection.execute(text("INSERT INTO t VALUES (1)"))
            assert not [k for k in w.connection.info if k.startswith("motcua_writer")]
            w.commit()
        with memory.connect() as conn:
            assert conn.execute(text("SELECT n FROM t")).scalar() == 1
    finally:
        memory.dispose()


def test_a_forked_process_never_gives_back_its_parents_turn_and_waits_for_it(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_writers, "TIMEOUT_SECONDS", 0.2)
    db = str(tmp_path / "forked.sqlite")
    turns = sqlite_writers.WriterTurns(db)
    info: dict = {}
    turns.take(info)  # the parent's connection holds the turn, then the process forks
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's outcome is its exit code
        code = 5  # anything unexpected
        try:
            inherited = dict(info)  # the connection's info as the child sees it after the fork
            turns.give_back(inherited)  # must not unlock the parent's turn
            try:
                turns.take(inherited)  # its own lock file: waits for the parent, then times out
                code = 4
            except sqlite3.OperationalError:
                code = 3
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.WEXITSTATUS(status) == 3
    assert not _free(db)  # still the parent's
    sqlite_writers.WriterTurns.give_back(info)
    assert _free(db)
    sqlite_writers.WriterTurns.close(info)


def test_every_connection_has_the_engines_settings(engine):
    """WAL, full durability, foreign keys, the busy timeout and the 16 MiB page cache, on each pooled
    connection (two at once: the second is a new one)."""
    with engine.connect() as one, engine.connect() as two:
        for conn in (one, two):
            settings = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                        for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "cache_size")}
            assert settings == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 30000,
                                "cache_size": -16384}
