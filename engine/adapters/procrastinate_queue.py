"""The production task queue: procrastinate on the application's PostgreSQL.

Its jobs table lives in the same database (installed by a migration), so a job is deferred on the
transition's own connection, inside its transaction: it exists if and only if the transition committed
(no outbox, no sweeper needed for that). Each job carries a lock (jobs with the same lock never run at
the same time) and a queueing lock (at most one waiting job per lock). Failed jobs are retried with an
exponential back-off; workers send heartbeats, and a periodic task puts the jobs of workers that stopped
sending them (killed, machine lost) back in the queue. Workers run on any number of machines
(``motcua worker``). Delivery is at least once: the tasks are idempotent.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import procrastinate
from procrastinate import exceptions as procrastinate_errors
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

log = logging.getLogger(__name__)

MAINTENANCE = "motcua.maintenance"  # each task has its own queue, named after it; the maintenance too
MAX_ATTEMPTS = 12
RETRY = procrastinate.RetryStrategy(max_attempts=MAX_ATTEMPTS, exponential_wait=2)  # 4 s, 8 s ... about 2 h in all
_UNFINISHED = text("SELECT 1 FROM procrastinate_jobs WHERE queueing_lock = :lock AND status IN ('todo', 'doing') LIMIT 1")


def conninfo(url: str) -> str:
    """libpq's form of a SQLAlchemy URL (``postgresql+psycopg://...`` -> ``postgresql://...``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class ProcrastinateQueue:
    """The task-queue port on procrastinate."""

    name = "procrastinate"

    def __init__(self, url: str, *, lease_seconds: float, maintenance_cron: str = "* * * * *"):
        self.conninfo = conninfo(url)
        self.lease_seconds = lease_seconds
        self.maintenance_cron = maintenance_cron
        self._deferrer = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=self.conninfo))

    # ------------------------------------------------------------------------- in the caller's transaction

    def defer(self, conn: Connection, task: str, args: dict[str, Any], *, lock: str) -> None:
        """Add a job on ``conn`` (the transition's SQLAlchemy connection), inside its transaction."""
        raw = conn.connection.driver_connection  # the same psycopg connection, in the same transaction
        self._deferrer.configure_task(task, queue=task, lock=lock, queueing_lock=lock, connection=raw).defer(**args)

    def defer_if_absent(self, conn: Connection, task: str, args: dict[str, Any], *, lock: str) -> bool:
        """The same, unless a job with this lock is waiting or running. A concurrent defer of the same
        lock (the queueing lock's unique index) rolls back only a savepoint, not the caller's work."""
        if conn.execute(_UNFINISHED, {"lock": lock}).first() is not None:
            return False
        try:
            with conn.begin_nested():
                self.defer(conn, task, args, lock=lock)
        except procrastinate_errors.AlreadyEnqueued:
            return False
        return True

    def defer_unless_waiting(self, conn: Connection, task: str, args: dict[str, Any], *, lock: str) -> bool:
        """The same, unless a job with this lock is waiting (a running one does not count: it may have
        read before the caller's transaction commits). The queueing lock's unique index covers waiting
        jobs only, so the insert itself is the check; a conflict rolls back a savepoint only."""
        try:
            with conn.begin_nested():
                self.defer(conn, task, args, lock=lock)
        except procrastinate_errors.AlreadyEnqueued:
            return False
        return True

    def counts(self) -> dict[str, int]:
        async def go() -> dict[str, int]:
            app = self._app({})
            async with app.open_async():
                rows = await app.connector.execute_query_all_async(
                    "SELECT status::text AS status, count(*) AS n FROM procrastinate_jobs WHERE queue_name <> %(queue)s "
                    "AND status IN ('todo', 'doing', 'failed') GROUP BY status", queue=MAINTENANCE)
            found = {r["status"]: r["n"] for r in rows}
            return {"waiting": found.get("todo", 0), "running": found.get("doing", 0), "failed": found.get("failed", 0)}

        return asyncio.run(go())

    # ----------------------------------------------------------------------------------------- workers

    def _app(self, handlers: Mapping[str, Callable[..., Any]],
             maintenance: Callable[[], Any] | None = None) -> procrastinate.App:
        """A fresh App with ``handlers`` registered as tasks (and the periodic maintenance, if given)."""
        app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=self.conninfo, min_size=1, max_size=4))
        for name, handler in handlers.items():
            app.task(name=name, queue=name, retry=RETRY, pass_context=False)(_keyword_call(handler))
        if maintenance is not None:
            async def maintain(timestamp: int) -> None:
                await self._retry_stalled(app)
                await asyncio.to_thread(maintenance)

            app.periodic(cron=self.maintenance_cron, periodic_id="maintenance")(
                app.task(name=MAINTENANCE, queue=MAINTENANCE, queueing_lock=MAINTENANCE, pass_context=False)(maintain))
        return app

    async def _retry_stalled(self, app: procrastinate.App) -> int:
        """Put back in the queue the running jobs of workers silent for longer than the lease."""
        stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=self.lease_seconds)
        count = 0
        for job in stalled:
            if job.task_name == MAINTENANCE:
                continue  # the maintenance job running this
            await app.job_manager.retry_job(job)
            count += 1
        if count:
            log.warning("put %s stalled job(s) back in the queue", count)
        return count

    def _worker_options(self, handlers: Mapping[str, Any], *, maintenance: bool) -> dict[str, Any]:
        return {"queues": [*handlers, *([MAINTENANCE] if maintenance else [])],
                "update_heartbeat_interval": max(0.5, min(10.0, self.lease_seconds / 3)),
                "stalled_worker_timeout": self.lease_seconds}

    def retry_stalled(self) -> int:
        async def go() -> int:
            app = self._app({})
            async with app.open_async():
                return await self._retry_stalled(app)

        return asyncio.run(go())

    def run_due(self, handlers: Mapping[str, Callable[..., Any]], *, limit: int | None = None) -> int:
        """Run the jobs due now in this process until none is left; return how many ran."""
        ran = 0

        def counted(handler: Callable[..., Any]) -> Callable[..., Any]:
            def run(**kwargs: Any) -> Any:
                nonlocal ran
                ran += 1
                return handler(**kwargs)
            return run

        async def go() -> None:
            app = self._app({name: counted(h) for name, h in handlers.items()})
            async with app.open_async():
                await app.run_worker_async(wait=False, install_signal_handlers=False, listen_notify=False,
                                           **self._worker_options(handlers, maintenance=False))

        asyncio.run(go())
        return ran

    def run_worker(self, handlers: Mapping[str, Callable[..., Any]], maintenance: Callable[[], Any], *,
                   stop: threading.Event, concurrency: int = 1) -> None:
        """Work until ``stop`` is set (procrastinate's worker; the maintenance runs once at start, then as a
        periodic task on whichever worker takes it)."""

        async def go() -> None:
            app = self._app(handlers, maintenance)
            async with app.open_async():
                await self._retry_stalled(app)
                await asyncio.to_thread(maintenance)
                worker = asyncio.create_task(app.run_worker_async(
                    wait=True, install_signal_handlers=False, concurrency=concurrency,
                    **self._worker_options(handlers, maintenance=True)))
                while not stop.is_set() and not worker.done():
                    await asyncio.sleep(0.2)
                if not worker.done():
                    worker.cancel()  # procrastinate's worker stops gracefully on cancel: the running job finishes
                try:
                    await worker
                except asyncio.CancelledError:
                    pass

        asyncio.run(go())


def _keyword_call(handler: Callable[..., Any]) -> Callable[..., Any]:
    def run(**kwargs: Any) -> Any:
        return handler(**kwargs)

    run.__name__ = getattr(handler, "__name__", "task")
    return run

