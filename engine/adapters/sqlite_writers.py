"""Turns for SQLite's writers: a file lock beside the database that write transactions take before
``BEGIN IMMEDIATE`` and give back when they end.

SQLite lets one writer in at a time. One that finds the write lock taken waits in SQLite's busy
handler, which sleeps 1, 2, 5, 10, 15, 20, 25 ... 100 ms between tries, whatever the holder still
needs: with two web workers and the task worker filing, acting and issuing at once, a transition that
holds the lock for 1-2 ms made the next writer sleep 3 ms or more, and the web tier's actions ran at a
fifth of a read's rate. Here the next writer asks again after 50 us, then less and less often (never
more than 1 ms apart), and gives up after the same 30 s as the busy timeout with the error SQLite
would give (``database is locked``).

The lock is ``flock`` on ``<database>-writers``, one open file per database connection (threads and
processes alike take turns). It only orders writers: ``BEGIN IMMEDIATE`` still guards the database,
so a writer that does not take turns (the ``sqlite3`` shell, a migration) is safe, just slower to get in.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from typing import Any

WRITERS_SUFFIX = "-writers"  # the lock file: the database's name and this
TIMEOUT_SECONDS = 30.0  # as the connection's busy timeout
FIRST_PAUSE = 0.00005
LONGEST_PAUSE = 0.001
_FD = "motcua_writer_fd"
_HELD = "motcua_writer_held"
_PID = "motcua_writer_pid"  # the process that opened the lock file


class WriterTurns:
    """Turns for the writers of the database at ``path``; ``info``: a DB-API connection's info dict
    (SQLAlchemy's, kept as long as the connection), which holds that connection's open lock file."""

    def __init__(self, path: str):
        self.path = path + WRITERS_SUFFIX

    def take(self, info: dict[str, Any]) -> None:
        if info.get(_PID) != os.getpid():  # a connection carried across a fork: its lock file is the parent's
            _forget(info)
        if info.get(_HELD):
            return
        fd = info.get(_FD)
        if fd is None:
            fd = info[_FD] = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            info[_PID] = os.getpid()
        pause, deadline = FIRST_PAUSE, None
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                now = time.monotonic()
                if deadline is None:
                    deadline = now + TIMEOUT_SECONDS
                elif now >= deadline:
                    raise sqlite3.OperationalError("database is locked") from None
                time.sleep(pause)
                pause = min(pause * 1.5, LONGEST_PAUSE)
        info[_HELD] = True

    @staticmethod
    def give_back(info: dict[str, Any]) -> None:
        if info.get(_PID) != os.getpid():
            _forget(info)  # never unlock the parent's turn
        elif info.pop(_HELD, False):
            fcntl.flock(info[_FD], fcntl.LOCK_UN)

    @staticmethod
    def close(info: dict[str, Any]) -> None:
        """The connection is closed: its lock file too (which gives its turn back, if held)."""
        _forget(info)


def _forget(info: dict[str, Any]) -> None:
    """Drop the connection's lock file. Closing this process's descriptor gives a turn back only when
    no other process holds the same open file (a forked parent keeps its turn)."""
    info.pop(_HELD, None)
    info.pop(_PID, None)
    fd = info.pop(_FD, None)
    if fd is not None:
        os.close(fd)
