"""Webhooks: an agency client's subscriptions to the events it may see (the same scope as the feed,
engine.usecases.feed), POSTed to its URL with an HMAC-SHA256 signature (engine.rules.events.sign).

- **Queued with the feed.** ``follow_feed`` (the task every transaction that appends events wakes)
  adds a delivery row per event and active subscription, moves the subscription's position, and defers
  one ``deliver_webhook`` job per subscription and dossier. The rows and the position move together, so
  an event is queued once per subscription (a replay queues it again, on purpose).
- **In order per dossier, at least once.** The job for (subscription, dossier) carries that pair as its
  lock and delivers the oldest undelivered event first; it stops at the first failure and raises, so
  the queue retries it with back-off; a later event of that dossier is never sent before an earlier one.
  Other dossiers go on.
- **Disabled after repeated failure.** ``disable_failures`` consecutive failed attempts spanning at
  least ``disable_after`` disable the subscription, with a notice to the agency's administrators (an
  outbox message ``notice.webhook_disabled`` per administrator); its deliveries wait until it is enabled.
- **Target addresses.** The host is resolved when the subscription is made and before each POST:
  loopback, private, link-local, multicast, reserved and unspecified addresses are refused, unless the
  setting ``MOTCUA_WEBHOOK_ALLOW_PRIVATE`` is on or an administrator allowed it for the subscription.
- **Replay** from a cursor queues every event after it again (``replay: true`` in the body).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import func, select, update

from engine.adapters.feed import last_event_id, read_event, read_events
from engine.adapters.models import Account, OutboxMessage, WebhookAttempt, WebhookDelivery, WebhookSubscription
from engine.adapters.uow import UnitOfWork
from engine.rules import events as rules
from engine.rules.access import Actor
from engine.rules.errors import NotFoundError, PermissionDeniedError, ValidationError
from engine.rules.text import text_problem
from engine.usecases.feed import Feed, event_document, event_view, parse_cursor

log = logging.getLogger(__name__)

DELIVER_WEBHOOK = "deliver_webhook"
NOT_FOUND = "Không tìm thấy đăng ký webhook / webhook subscription not found"
NO_DOSSIER = "-"
FAN_OUT_BATCH = 500


class WebhookSender(Protocol):
    def resolve(self, host: str, port: int) -> list[str]: ...

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]: ...


class DeliveryFailedError(Exception):
    """A webhook POST failed; the job is retried by the queue with back-off."""


@dataclass(frozen=True)
class SubscriptionView:
    id: int
    client: str
    url: str
    active: bool
    allow_private: bool
    position: int
    pending: int
    consecutive_failures: int
    created_at: str
    disabled_at: str | None
    disabled_reason: str | None


@dataclass(frozen=True)
class NewSubscription:
    subscription: SubscriptionView
    secret: str  # shown once


@dataclass(frozen=True)
class AttemptView:
    id: int
    event_id: int
    attempt: int
    at: str
    status_code: int | None
    ok: bool
    error: str | None
    duration_ms: int | None


def delivery_lock(subscription_id: int, dossier_key: str) -> str:
    return f"webhook:{subscription_id}:{dossier_key}"


class Webhooks:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], feed: Feed, queue: Any,
                 sender: WebhookSender, *, allow_private: bool = False, disable_failures: int = 20,
                 disable_after: dt.timedelta = dt.timedelta(hours=24)):
        self.uow = uow
        self.clock = clock
        self.feed = feed
        self.queue = queue
        self.sender = sender
        self.allow_private = allow_private
        self.disable_failures = disable_failures
        self.disable_after = disable_after

    # ----------------------------------------------------------------------------------- subscriptions

    def add_subscription(self, actor: Actor | None, url: Any, *, client: str | None = None, after: Any = None,
                         allow_private: bool = False) -> NewSubscription:
        """A new subscription for the agency client ``actor`` (the API), or for the client named
        ``client`` when ``actor`` is None (the administrator's CLI, which alone may ``allow_private``).
        It receives the events after ``after`` (default: from now on)."""
        if actor is not None:
            _require_client(actor)
            if allow_private:
                raise PermissionDeniedError("Chỉ quản trị viên cho phép địa chỉ nội bộ / only an administrator "
                                            "may allow a private address")
        target = self.check_target(url, allow_private=allow_private)
        position = None if after is None else parse_cursor(after)
        now = self.clock()
        secret = "whsec_" + secrets.token_urlsafe(32)
        with self.uow() as uow:
            s = uow.session
            account = self._client_account(s, actor, client)
            sub = WebhookSubscription(account_id=account.id, url=target, secret=secret, allow_private=allow_private,
                                      active=True, position=position if position is not None else self.feed_last(s),
                                      consecutive_failures=0, created_at=now)
            s.add(sub)
            s.flush()
            view = self._view(s, sub, account.username)
            uow.commit()
        if position is not None:
            self.fan_out()
        return NewSubscription(view, secret)

    def list_subscriptions(self, actor: Actor | None, *, client: str | None = None) -> list[SubscriptionView]:
        with self.uow(write=False) as uow:
            s = uow.session
            q = select(WebhookSubscription, Account.username).join(Account, Account.id == WebhookSubscription.account_id)
            q = q.where(WebhookSubscription.removed_at.is_(None))
            if actor is not None:
                _require_client(actor)
                q = q.where(WebhookSubscription.account_id == actor.account_id)
            elif client is not None:
                q = q.where(Account.username == client)
            return [self._view(s, sub, name) for sub, name in s.execute(q.order_by(WebhookSubscription.id))]

    def remove_subscription(self, actor: Actor | None, subscription_id: Any) -> SubscriptionView:
        now = self.clock()
        with self.uow() as uow:
            s = uow.session
            sub = self._mine(s, actor, subscription_id)
            sub.active, sub.removed_at = False, now
            view = self._view(s, sub, s.get(Account, sub.account_id).username)
            uow.commit()
        return view

    def enable_subscription(self, actor: Actor | None, subscription_id: Any) -> SubscriptionView:
        """Enable a subscription that was disabled after repeated failure; its waiting deliveries resume."""
        with self.uow() as uow:
            s = uow.session
            sub = self._mine(s, actor, subscription_id)
            sub.active, sub.disabled_at, sub.disabled_reason = True, None, None
            sub.consecutive_failures, sub.failing_since = 0, None
            view = self._view(s, sub, s.get(Account, sub.account_id).username)
            uow.commit()
        self.requeue()
        return view

    def replay(self, actor: Actor | None, subscription_id: Any, after: Any) -> int:
        """Queue again every event after the cursor ``after`` that the subscription may see; how many."""
        cursor = parse_cursor(after)
        with self.uow(write=False) as uow:
            sub = self._mine(uow.session, actor, subscription_id)
            sub_id = sub.id
        return self._queue_events(sub_id, cursor, replay=True)

    def delivery_log(self, actor: Actor | None, subscription_id: Any, *, limit: int = 100) -> list[AttemptView]:
        with self.uow(write=False) as uow:
            s = uow.session
            sub = self._mine(s, actor, subscription_id)
            rows = s.scalars(select(WebhookAttempt).where(WebhookAttempt.subscription_id == sub.id)
                             .order_by(WebhookAttempt.id.desc()).limit(limit))
            return [AttemptView(a.id, a.event_id, a.attempt, a.at.isoformat(), a.status_code, a.ok, a.error,
                                a.duration_ms) for a in rows]

    def check_target(self, url: Any, *, allow_private: bool = False) -> str:
        """The URL, if a webhook may be sent there; ValidationError (both languages) when not."""
        if not isinstance(url, str) or not url.strip() or len(url.strip()) > 2000 or text_problem(url.strip()):
            raise ValidationError("Cần địa chỉ url / url is required", fields={"url": ["địa chỉ http(s) / an http(s) address"]})
        url = url.strip()
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            parts, port = None, 0
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            raise ValidationError("Địa chỉ không hợp lệ / url must be http(s)://host/path without credentials",
                                  fields={"url": ["địa chỉ http(s) không kèm mật khẩu / an http(s) address without credentials"]})
        refusal = self._refusal(parts.hostname, port, allow_private)
        if refusal:
            raise ValidationError(f"Địa chỉ bị từ chối / the webhook target is refused: {refusal}",
                                  fields={"url": [f"Không gửi tới địa chỉ này ({refusal}) / this address is refused ({refusal})"]})
        return url

    def _refusal(self, host: str, port: int, allow_private: bool) -> str | None:
        try:
            addresses = self.sender.resolve(host, port)
        except OSError:
            return "the host does not resolve"
        if not addresses:
            return "the host does not resolve"
        if allow_private or self.allow_private:
            return None
        for address in addresses:
            why = rules.address_refusal(address)
            if why:
                return f"{address} is {why}"
        return None

    # ----------------------------------------------------------------------------------------- the tasks

    def fan_out(self) -> int:
        """Queue the new events of the feed for every active subscription (the ``follow_feed`` task)."""
        with self.uow(write=False) as uow:
            ids = list(uow.session.scalars(select(WebhookSubscription.id).where(WebhookSubscription.active.is_(True))))
        total = 0
        for sub_id in ids:
            total += self._queue_events(sub_id, None, replay=False)
        return total

    def _queue_events(self, sub_id: int, start: int | None, *, replay: bool) -> int:
        """Add delivery rows for the events after ``start`` (default: the subscription's position), in
        batches, each with its jobs, in one transaction per batch."""
        total = 0
        cursor = start
        while True:
            now = self.clock()
            with self.uow() as uow:
                s = uow.session
                sub = s.get(WebhookSubscription, sub_id)
                if sub is None or sub.removed_at is not None or (not replay and not sub.active):
                    return total
                account = s.get(Account, sub.account_id)
                after = sub.position if cursor is None else cursor
                conn = s.connection()
                evidence = tuple(account.allowed_evidence or ())
                rows = read_events(conn, after, FAN_OUT_BATCH, agency_id=account.agency_id, evidence=evidence)
                if not rows:
                    return total
                keys = set()
                for row in rows:
                    key = row.dossier_id or NO_DOSSIER
                    keys.add(key)
                    s.add(WebhookDelivery(subscription_id=sub.id, event_id=row.id, dossier_key=key, created_at=now,
                                          attempts=0, replay=replay))
                last = rows[-1].id
                if not replay or last > sub.position:
                    sub.position = max(sub.position, last)
                s.flush()
                if sub.active:
                    for key in sorted(keys):
                        self.queue.defer_unless_waiting(conn, DELIVER_WEBHOOK, {"subscription_id": sub.id,
                                                                               "dossier_key": key},
                                                        lock=delivery_lock(sub.id, key))
                uow.commit()
            total += len(rows)
            cursor = last
            if len(rows) < FAN_OUT_BATCH:
                return total

    def deliver(self, subscription_id: int, dossier_key: str) -> int:
        """Deliver the waiting events of one dossier to one subscription, oldest first (the
        ``deliver_webhook`` task); raise at the first failure so that the queue retries with back-off."""
        sent = 0
        while True:
            with self.uow(write=False) as uow:
                s = uow.session
                sub = s.get(WebhookSubscription, subscription_id)
                if sub is None or not sub.active:
                    return sent
                delivery = s.scalars(select(WebhookDelivery).where(
                    WebhookDelivery.subscription_id == sub.id, WebhookDelivery.dossier_key == dossier_key,
                    WebhookDelivery.delivered_at.is_(None)).order_by(WebhookDelivery.event_id, WebhookDelivery.id)
                    .limit(1)).first()
                if delivery is None:
                    return sent
                row = read_event(s.connection(), delivery.event_id)
                url, secret, allow_private = sub.url, sub.secret, sub.allow_private
                delivery_id, attempt = delivery.id, delivery.attempts + 1
                replay = delivery.replay
            document = {**event_document(event_view(row)), "delivery": delivery_id, "replay": replay}
            body = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
            parts = urlsplit(url)
            refusal = self._refusal(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80),
                                    allow_private)
            started = time.monotonic()
            if refusal:
                status, error = None, f"refused: {refusal}"
            else:
                headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "MotCua-Webhooks",
                           rules.SIGNATURE_HEADER: rules.sign(secret, body, int(time.time())),
                           "X-MotCua-Event": row.type, "X-MotCua-Event-Id": str(row.id),
                           "X-MotCua-Delivery": str(delivery_id)}
                status, error = self.sender.post(url, body, headers)
            ok = status is not None and 200 <= status < 300
            if not ok and error is None:
                error = f"HTTP {status}"
            self._record(subscription_id, delivery_id, row.id, attempt, status, ok, error,
                         int((time.monotonic() - started) * 1000))
            if not ok:
                raise DeliveryFailedError(f"webhook {subscription_id}, event {row.id}: {error}")
            sent += 1

    def _record(self, sub_id: int, delivery_id: int, event_id: int, attempt: int, status: int | None, ok: bool,
                error: str | None, duration_ms: int) -> None:
        now = self.clock()
        with self.uow() as uow:
            s = uow.session
            s.add(WebhookAttempt(subscription_id=sub_id, delivery_id=delivery_id, event_id=event_id, attempt=attempt,
                                 at=now, status_code=status, ok=ok, error=error[:300] if error else None,
                                 duration_ms=duration_ms))
            s.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(
                attempts=WebhookDelivery.attempts + 1, delivered_at=now if ok else None))
            sub = s.get(WebhookSubscription, sub_id)
            if ok:
                sub.consecutive_failures, sub.failing_since = 0, None
            else:
                sub.consecutive_failures += 1
                sub.failing_since = sub.failing_since or now
                if (sub.active and sub.consecutive_failures >= self.disable_failures
                        and now - sub.failing_since >= self.disable_after):
                    self._disable(s, sub, now, error)
            uow.commit()

    def _disable(self, s: Any, sub: WebhookSubscription, now: dt.datetime, error: str | None) -> None:
        sub.active, sub.disabled_at = False, now
        sub.disabled_reason = (f"{sub.consecutive_failures} consecutive failures since "
                               f"{sub.failing_since.isoformat()}; last: {error}")[:300]
        account = s.get(Account, sub.account_id)
        admins = [a for a in s.scalars(select(Account).where(Account.agency_id == account.agency_id,
                                                             Account.kind == "staff", Account.active.is_(True)))
                  if "admin" in (a.roles or [])]
        for admin in admins:
            s.add(OutboxMessage(topic="notice.webhook_disabled", dossier_id=None, created_at=now, attempts=0,
                                payload={"account": admin.username, "subscription": sub.id, "client": account.username,
                                         "url": sub.url, "reason": sub.disabled_reason}))
        log.warning("webhook %s of %s disabled after %s consecutive failures", sub.id, account.username,
                    sub.consecutive_failures)

    def requeue(self) -> int:
        """A job for every (subscription, dossier) with waiting deliveries and no waiting job, after
        new events are queued (the worker's maintenance: jobs that gave up, wake-ups missed)."""
        self.fan_out()
        with self.uow(write=False) as uow:
            pairs = list(uow.session.execute(
                select(WebhookDelivery.subscription_id, WebhookDelivery.dossier_key)
                .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
                .where(WebhookDelivery.delivered_at.is_(None), WebhookSubscription.active.is_(True))
                .distinct()))
        added = 0
        for sub_id, key in pairs:
            with self.uow() as uow:
                added += self.queue.defer_unless_waiting(uow.session.connection(), DELIVER_WEBHOOK,
                                                         {"subscription_id": sub_id, "dossier_key": key},
                                                         lock=delivery_lock(sub_id, key))
                uow.commit()
        return added

    # ------------------------------------------------------------------------------------------ helpers

    def feed_last(self, s: Any) -> int:
        return last_event_id(s.connection())

    def _client_account(self, s: Any, actor: Actor | None, client: str | None) -> Account:
        if actor is not None:
            account = s.get(Account, actor.account_id)
        else:
            account = s.scalars(select(Account).where(Account.username == client)).first() if client else None
        if account is None or account.kind != "agency_client" or not account.active:
            raise NotFoundError("Không có hệ thống cơ quan này / no such agency client")
        return account

    def _mine(self, s: Any, actor: Actor | None, subscription_id: Any) -> WebhookSubscription:
        try:
            sub_id = int(str(subscription_id))
        except ValueError:
            raise NotFoundError(NOT_FOUND) from None
        sub = s.get(WebhookSubscription, sub_id) if 0 < sub_id < 2**31 else None
        if actor is not None:
            _require_client(actor)
        if sub is None or sub.removed_at is not None or (actor is not None and sub.account_id != actor.account_id):
            raise NotFoundError(NOT_FOUND)
        return sub

    def _view(self, s: Any, sub: WebhookSubscription, client: str) -> SubscriptionView:
        pending = s.execute(select(func.count()).select_from(WebhookDelivery).where(
            WebhookDelivery.subscription_id == sub.id, WebhookDelivery.delivered_at.is_(None))).scalar_one()
        return SubscriptionView(sub.id, client, sub.url, sub.active, sub.allow_private, sub.position, pending,
                                sub.consecutive_failures, sub.created_at.isoformat(),
                                sub.disabled_at.isoformat() if sub.disabled_at else None, sub.disabled_reason)


def _require_client(actor: Actor) -> None:
    if actor.kind != "agency_client":
        raise PermissionDeniedError("Chỉ dành cho hệ thống của cơ quan / for agency clients only")
