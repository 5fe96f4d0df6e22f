"""Slow work off the request: the registry of tasks a worker runs, and how a use case asks for one.

A use case that needs slow work (rendering and signing a result or a slip, a B-LTA upgrade) defers a
job on its own transaction's connection (``defer_issue``, ``defer_upgrade``): the job exists if and
only if the transaction commits. A worker (``motcua worker``, or the one ``motcua run`` starts) runs
the jobs through the ``TaskQueue`` port: procrastinate on PostgreSQL, outbox rows on the embedded
SQLite database (engine.adapters.procrastinate_queue, engine.adapters.outbox_queue).

Delivery is at least once, so every task is idempotent: it takes explicit arguments (the document's
id) and does nothing when its work is already done; the document's final write is a compare-and-set
from ``pending``, so no document is ever issued twice. The maintenance (``maintain``: jobs of dead
workers back in the queue, a job for every pending document that has none) runs when a worker starts
and then every minute.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from engine.adapters.uow import UnitOfWork
from engine.usecases.feed import FOLLOW_FEED
from engine.usecases.issuance import Issuance
from engine.usecases.notifications import Notifications
from engine.usecases.portal import SYNC_PORTAL, PortalSync
from engine.usecases.webhooks import DELIVER_WEBHOOK, Webhooks

log = logging.getLogger(__name__)

ISSUE_DOCUMENT = "issue_document"
UPGRADE_RESULT = "upgrade_result"
DELIVER_NOTIFICATION = "deliver_notification"


class TaskQueue(Protocol):
    """The port both queue adapters implement."""

    name: str

    def defer(self, conn: Any, task: str, args: dict[str, Any], *, lock: str) -> None:
        """Add a job inside the transaction ``conn`` belongs to."""

    def defer_if_absent(self, conn: Any, task: str, args: dict[str, Any], *, lock: str) -> bool:
        """The same, unless a job with this lock is waiting or running; whether one was added."""

    def defer_unless_waiting(self, conn: Any, task: str, args: dict[str, Any], *, lock: str) -> bool:
        """The same, unless a job with this lock is waiting (one running does not count)."""

    def counts(self) -> dict[str, int]:
        """Jobs waiting, running, failed."""

    def retry_stalled(self) -> int:
        """Put the jobs of dead workers back in the queue."""

    def run_due(self, handlers: Mapping[str, Callable[..., Any]], *, limit: int | None = None) -> int:
        """Run the jobs due now in this process until none is left."""

    def run_worker(self, handlers: Mapping[str, Callable[..., Any]], maintenance: Callable[[], Any], *,
                   stop: threading.Event, concurrency: int = 1) -> None:
        """Work until ``stop`` is set."""


@dataclass(frozen=True)
class MaintenanceReport:
    stalled: int
    requeued: int
    webhooks: int = 0


def document_lock(document_id: str) -> str:
    return f"document:{document_id}"


def notification_lock(notification_id: int) -> str:
    return f"notification:{notification_id}"


class Tasks:
    def __init__(self, uow: Callable[..., UnitOfWork], queue: TaskQueue, issuance: Issuance,
                 notifications: Notifications | None = None, webhooks: Webhooks | None = None,
                 portal: PortalSync | None = None):
        self.uow = uow
        self.queue = queue
        self.issuance = issuance
        self.notifications = notifications
        self.webhooks = webhooks
        self.portal = portal
        handlers: dict[str, Callable[..., Any]] = {
            ISSUE_DOCUMENT: self.issue_document,
            UPGRADE_RESULT: self.upgrade_result,
            FOLLOW_FEED: self.follow_feed,
            DELIVER_WEBHOOK: self.deliver_webhook,
            SYNC_PORTAL: self.sync_portal,
        }
        if notifications is not None:
            handlers[DELIVER_NOTIFICATION] = notifications.deliver
        self.handlers: Mapping[str, Callable[..., Any]] = handlers

    # ------------------------------------------------------------------ asking for work (in a transaction)

    def defer_issue(self, conn: Any, document_ids: list[str]) -> None:
        """A job per document to render, sign and store it, in the caller's transaction."""
        for doc_id in document_ids:
            self.queue.defer(conn, ISSUE_DOCUMENT, {"document_id": doc_id}, lock=document_lock(doc_id))

    def defer_upgrade(self, conn: Any, result_id: str) -> None:
        """A job to upgrade a result to B-LTA, in the caller's transaction (at most one waiting)."""
        self.queue.defer_if_absent(conn, UPGRADE_RESULT, {"result_id": result_id}, lock=f"upgrade:{result_id}")

    def defer_deliveries(self, conn: Any, notification_ids: list[int]) -> None:
        """A job per e-mail or SMS to send, in the caller's transaction (the rows are written in it)."""
        for nid in notification_ids:
            self.queue.defer(conn, DELIVER_NOTIFICATION, {"notification_id": nid}, lock=notification_lock(nid))

    # ------------------------------------------------------------------------------------- the tasks

    def issue_document(self, document_id: str) -> None:
        """Render, sign and store one pending result or slip; nothing when it is already issued."""
        if self.issuance.issue_document(document_id):
            log.info("document %s issued", document_id)

    def upgrade_result(self, result_id: str) -> None:
        """Add revocation data and a document timestamp (B-LTA) once; nothing when already done."""
        self.issuance.upgrade_result(result_id)

    def follow_feed(self) -> None:
        """The feed moved: queue its new events for the webhooks, wake the portal sync."""
        if self.webhooks is not None:
            self.webhooks.fan_out()
        if self.portal is not None:
            self.portal.wake()

    def deliver_webhook(self, subscription_id: int, dossier_key: str) -> None:
        """POST one dossier's waiting events to one subscription, in order (raises on a failure)."""
        if self.webhooks is not None:
            self.webhooks.deliver(subscription_id, dossier_key)

    def sync_portal(self) -> None:
        """Push the statuses after the portal's cursor (raises on a failure: retried with back-off)."""
        if self.portal is not None and self.portal.configured:
            self.portal.run_task()

    # --------------------------------------------------------------------------------------- running

    def run_pending(self, *, limit: int | None = None) -> int:
        """Run, here and now, every job that is due (tests, ``motcua issue``); return how many ran."""
        return self.queue.run_due(self.handlers, limit=limit)

    def run_worker(self, stop: threading.Event, *, tasks: list[str] | None = None, concurrency: int = 1) -> None:
        """Work until ``stop`` is set (``motcua worker``): every task, or only those named."""
        handlers = {name: h for name, h in self.handlers.items() if tasks is None or name in tasks}
        self.queue.run_worker(handlers, self.requeue_all, stop=stop, concurrency=concurrency)

    def maintain(self) -> MaintenanceReport:
        """Jobs of dead workers back in the queue; a job for every pending document without one, and
        for every dossier with webhook deliveries waiting."""
        stalled = self.queue.retry_stalled()
        return MaintenanceReport(stalled, self.requeue_pending(), self.requeue_followers())

    def requeue_all(self) -> int:
        return self.requeue_pending() + self.requeue_followers()

    def requeue_followers(self) -> int:
        """Webhook deliveries waiting without a job, events not yet queued, the portal sync."""
        added = 0
        if self.webhooks is not None:
            added += self.webhooks.requeue()
        if self.portal is not None:
            added += self.portal.wake()
        return added

    def requeue_pending(self) -> int:
        """Defer a job for each pending document that has no waiting or running job (documents left
        pending by a crash before this queue existed, by ``MOTCUA_ISSUE_INLINE``, or whose job gave up
        after its last retry). Each in its own short transaction."""
        count = 0
        for doc_id in self.issuance.pending_documents():
            with self.uow() as uow:
                added = self.queue.defer_if_absent(uow.session.connection(), ISSUE_DOCUMENT, {"document_id": doc_id},
                                                   lock=document_lock(doc_id))
                uow.commit()
            count += added
        if count:
            log.info("%s pending document(s) put back in the queue", count)
        return count + self.requeue_deliveries()

    def requeue_deliveries(self) -> int:
        """Defer a job for each pending e-mail or SMS that has none (a job lost with its worker's
        database, or rows written while no job could be deferred)."""
        if self.notifications is None:
            return 0
        count = 0
        for nid in self.notifications.pending():
            with self.uow() as uow:
                count += self.queue.defer_if_absent(uow.session.connection(), DELIVER_NOTIFICATION,
                                                    {"notification_id": nid}, lock=notification_lock(nid))
                uow.commit()
        if count:
            log.info("%s pending notification(s) put back in the queue", count)
        return count

    def counts(self) -> dict[str, int]:
        return self.queue.counts()
