"""The embedded task queue: jobs are outbox rows (``task`` set) written in the transaction that needs
them, so a job exists if and only if that transaction committed; no extra service.

A worker claims one due row at a time in a short write transaction (``BEGIN IMMEDIATE`` on SQLite):
it sets a lease (``leased_until``) and counts the attempt. While the task runs a heartbeat thread
extends the lease; when it ends the row is marked done (``sent_at``) or, after a failure, released
with an exponential back-off (``run_after``) until the last attempt (``failed_at``). Every write after
the claim is conditional on the lease the worker holds, so a worker whose lease was taken over writes
nothing. A worker killed with SIGKILL holds its lease until it expires; then another worker claims the
job again (at-least-once: the tasks are idempotent). Jobs with the same ``lock_key`` never run at the
same time.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from engine.adapters.fastsql import insert_of
from engine.adapters.models import OutboxMessage
from engine.adapters.uow import UnitOfWork

log = logging.getLogger(__name__)

OUTBOX = OutboxMessage.__table__
_OTHER = aliased(OutboxMessage)
_INSERT_JOB = insert_of(OUTBOX, ("topic", "dossier_id", "payload", "created_at", "attempts", "task", "lock_key"))

MAX_ATTEMPTS = 12  # 2 s, 4 s, 8 s ... about 1 h 8 min of retries in all
BACKOFF_BASE = 2.0  # seconds
BACKOFF_CAP = 3600.0


def backoff(attempts: int) -> dt.timedelta:
    """The wait before the next attempt after ``attempts`` failed ones."""
    return dt.timedelta(seconds=min(BACKOFF_CAP, BACKOFF_BASE ** max(1, attempts)))


class OutboxQueue:
    """The task-queue port on the application's own database (the embedded default)."""

    name = "outbox"

    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], *,
                 lease_seconds: float, poll_seconds: float = 0.5, maintenance_seconds: float = 60.0):
        self.uow = uow
        self.clock = clock
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.poll_seconds = poll_seconds
        self.maintenance_seconds = maintenance_seconds

    # ------------------------------------------------------------------------- in the caller's transaction

    def defer(self, conn: Connection, task: str, args: dict[str, Any], *, lock: str) -> None:
        """Add a job on ``conn``, inside the caller's transaction: it commits or rolls back with it."""
        _INSERT_JOB.execute(conn, {"topic": f"task.{task}", "dossier_id": None, "payload": args,
                                   "created_at": self.clock(), "attempts": 0, "task": task, "lock_key": lock})

    def defer_if_absent(self, conn: Connection, task: str, args: dict[str, Any], *, lock: str) -> bool:
        """The same, unless a job with this lock key is waiting or running (writers are serialised by
        ``BEGIN IMMEDIATE``, so the check and the insert cannot interleave with another's)."""
        if conn.execute(select(OUTBOX.c.id).where(OUTBOX.c.lock_key == lock, OUTBOX.c.sent_at.is_(None),
                                                  OUTBOX.c.failed_at.is_(None)).limit(1)).first() is not None:
            return False
        self.defer(conn, task, args, lock=lock)
        return True

    def defer_unless_waiting(self, conn: Connection, task: str, args: dict[str, Any], *, lock: str) -> bool:
        """The same, unless a job with this lock key is waiting (not leased); a running one does not
        count: it may have read what it needs before the caller's transaction commits."""
        now = self.clock()
        if conn.execute(select(OUTBOX.c.id).where(
                OUTBOX.c.lock_key == lock, OUTBOX.c.sent_at.is_(None), OUTBOX.c.failed_at.is_(None),
                or_(OUTBOX.c.leased_until.is_(None), OUTBOX.c.leased_until <= now)).limit(1)).first() is not None:
            return False
        self.defer(conn, task, args, lock=lock)
        return True

    def counts(self) -> dict[str, int]:
        """Jobs by state: waiting (due or backing off), running (leased), failed; done ones are not counted."""
        now = self.clock()
        with self.uow(write=False) as uow:
            rows = uow.session.execute(select(OUTBOX.c.leased_until, OUTBOX.c.failed_at).where(
                OUTBOX.c.task.is_not(None), OUTBOX.c.sent_at.is_(None))).all()
        out = {"waiting": 0, "running": 0, "failed": 0}
        for leased_until, failed_at in rows:
            key = "failed" if failed_at else ("running" if leased_until and leased_until > now else "waiting")
            out[key] += 1
        return out

    # ----------------------------------------------------------------------------------------- workers

    def run_due(self, handlers: Mapping[str, Callable[..., Any]], *, limit: int | None = None) -> int:
        """Run the jobs due now, one after the other in this process, until none is left (or ``limit``);
        return how many ran (done or failed)."""
        ran = 0
        while limit is None or ran < limit:
            if not self._run_one(handlers):
                break
            ran += 1
        return ran

    def run_worker(self, handlers: Mapping[str, Callable[..., Any]], maintenance: Callable[[], Any], *,
                   stop: threading.Event, concurrency: int = 1) -> None:
        """Work until ``stop`` is set: claim and run due jobs, poll when there are none, and call
        ``maintenance`` at start and every ``maintenance_seconds``. A running job finishes before the
        worker stops. ``concurrency`` is handled by the caller (one process per worker)."""
        next_maintenance = 0.0
        while not stop.is_set():
            if time.monotonic() >= next_maintenance:
                try:
                    maintenance()
                except Exception:  # noqa: BLE001 - the worker goes on; the next round tries again
                    log.exception("task-queue maintenance failed")
                next_maintenance = time.monotonic() + self.maintenance_seconds
            try:
                ran = self._run_one(handlers)
            except Exception:  # noqa: BLE001 - e.g. the database is briefly unavailable
                log.exception("claiming a job failed")
                ran = False
            if not ran:
                stop.wait(self.poll_seconds)

    def retry_stalled(self) -> int:
        """Nothing to do here: a stalled job's lease expires and the job is claimed again."""
        return 0

    def _claim(self, handlers: Mapping[str, Callable[..., Any]]) -> tuple[int, str, dict, int, dt.datetime] | None:
        now = self.clock()
        busy = exists().where(_OTHER.lock_key == OutboxMessage.lock_key, _OTHER.id != OutboxMessage.id,
                              _OTHER.sent_at.is_(None), _OTHER.leased_until > now)
        with self.uow() as uow:
            s = uow.session
            row = s.execute(
                select(OutboxMessage.id, OutboxMessage.task, OutboxMessage.payload, OutboxMessage.attempts)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.task.in_(list(handlers)),
                       OutboxMessage.failed_at.is_(None),
                       or_(OutboxMessage.run_after.is_(None), OutboxMessage.run_after <= now),
                       or_(OutboxMessage.leased_until.is_(None), OutboxMessage.leased_until <= now),
                       ~and_(OutboxMessage.lock_key.is_not(None), busy))
                .order_by(OutboxMessage.id).limit(1)
            ).first()
            if row is None:
                return None
            until = now + self.lease
            s.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(
                leased_until=until, attempts=OUTBOX.c.attempts + 1))
            uow.commit()
        return row.id, row.task, dict(row.payload or {}), row.attempts + 1, until

    def _run_one(self, handlers: Mapping[str, Callable[..., Any]]) -> bool:
        claimed = self._claim(handlers)
        if claimed is None:
            return False
        job_id, task, args, attempts, until = claimed
        heartbeat = _Heartbeat(self, job_id, until)
        heartbeat.start()
        try:
            handlers[task](**args)
        except Exception as exc:  # noqa: BLE001 - recorded on the job, retried with back-off
            heartbeat.stop()
            log.exception("task %s (job %s, attempt %s) failed", task, job_id, attempts)
            now = self.clock()
            values: dict[str, Any] = {"leased_until": None, "last_error": f"{type(exc).__name__}: {exc}"[:300]}
            if attempts >= MAX_ATTEMPTS:
                values["failed_at"] = now
            else:
                values["run_after"] = now + backoff(attempts)
            self._finish(job_id, heartbeat.until, values)
            return True
        heartbeat.stop()
        self._finish(job_id, heartbeat.until, {"sent_at": self.clock(), "leased_until": None, "last_error": None})
        return True

    def _finish(self, job_id: int, until: dt.datetime, values: dict[str, Any]) -> bool:
        with self.uow() as uow:
            done = uow.session.execute(update(OUTBOX).where(OUTBOX.c.id == job_id, OUTBOX.c.leased_until == until)
                                       .values(**values)).rowcount
            uow.commit()
        if not done:
            log.warning("job %s: the lease was lost before the end (another worker took it over)", job_id)
        return bool(done)

    def extend_lease(self, job_id: int, until: dt.datetime) -> dt.datetime | None:
        new = self.clock() + self.lease
        with self.uow() as uow:
            done = uow.session.execute(update(OUTBOX).where(OUTBOX.c.id == job_id, OUTBOX.c.leased_until == until)
                                       .values(leased_until=new)).rowcount
            uow.commit()
        return new if done else None


class _Heartbeat:
    """Extends a running job's lease every third of the lease, from a thread, while the task runs."""

    def __init__(self, queue: OutboxQueue, job_id: int, until: dt.datetime):
        self.queue = queue
        self.job_id = job_id
        self.until = until
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{job_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        interval = max(0.2, self.queue.lease.total_seconds() / 3)
        while not self._stop.wait(interval):
            try:
                new = self.queue.extend_lease(self.job_id, self.until)
            except Exception:  # noqa: BLE001 - the next beat tries again; the lease may lapse
                log.exception("extending the lease of job %s failed", self.job_id)
                continue
            if new is None:
                return
            self.until = new
