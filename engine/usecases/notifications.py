"""Notifications: the applicant is told of the moments the rules name (received, supplement requested,
extended, result ready, rejected, refused; engine.rules.notifications) in the app, by e-mail and by
SMS, in the language they chose.

A transition that reaches such a moment prepares its texts before it writes anything
(``prepare_moment``), then writes one ``notifications`` row per channel in its own transaction
(``write_moment``) and the caller defers one ``deliver_notification`` job per e-mail or
SMS row on the same connection: the rows and the jobs exist if and only if the transition commits. The
in-app row is ``sent`` at once. A channel the citizen turned off gets no row; a channel the deployment
has not configured (no SMTP host, no SMS gateway) gets a ``skipped`` row and no job.

Delivery (``deliver``) runs in a worker, never in the request. It reads the address from the population
register (the citizen's e-mail and phone), sends, and records the outcome on the row: ``sent`` with
the time, or the attempt count and the last error, raising so that the queue retries with back-off;
at the last attempt the row is ``failed`` and the job ends. A row that is not pending is left alone,
so a job run twice sends nothing twice, except in one window: a worker that dies after the SMTP server
or the gateway accepted the message and before its ``sent`` write commits sends it again on the retry
(at least once; see docs/notifications.md). An action never fails and never waits because of a
notification.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import bindparam, func, select, update

from engine.adapters.fastsql import insert_rows
from engine.adapters.models import Account, Agency, Notification, NotificationPreference
from engine.adapters.uow import UnitOfWork
from engine.rules.access import Actor
from engine.rules.errors import NotFoundError, PermissionDeniedError, ValidationError
from engine.rules.notifications import LANGUAGES, MOMENTS, Moment, language_of, moment_for, sms_text

log = logging.getLogger(__name__)

NOTIFICATIONS = Notification.__table__
_NOTIFICATION_KEYS = ("account_id", "dossier_id", "kind", "channel", "language", "subject", "body", "status", "attempts",
                      "last_error", "created_at", "sent_at", "read_at")
MAX_ATTEMPTS = 12  # the task queues' retry budget (both give up after 12 attempts)
MAX_ID = 2**63 - 1
INBOX_LIMIT = 200


class MailSender(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


class SmsSender(Protocol):
    def send(self, to: str, text: str) -> None: ...


class TextRenderer(Protocol):
    def check(self, kinds: Any, languages: Any) -> None: ...

    def render(self, kind: str, language: str, context: dict[str, Any]) -> tuple[str, str]: ...


class ContactBook(Protocol):
    """Where the citizen's e-mail address and phone number come from (the population register)."""

    def person(self, personal_id: str) -> Any: ...


class DeliveryError(Exception):
    """An e-mail or SMS could not be delivered this time; the queue retries the job."""


@dataclass(frozen=True)
class Preferences:
    email: bool
    sms: bool
    language: str


DEFAULT_PREFERENCES = Preferences(email=True, sms=True, language="vi")

# the agency's names and the applicant's preferences (NULLs when they have set none), in one statement
_PREFERENCES_AND_AGENCY = (
    select(Agency.name_vi, Agency.name_en, NotificationPreference.email_enabled, NotificationPreference.sms_enabled,
           NotificationPreference.language)
    .select_from(Agency)
    .outerjoin(NotificationPreference, NotificationPreference.account_id == bindparam("account_id"))
    .where(Agency.id == bindparam("agency_id"))
)


@dataclass(frozen=True)
class Delivery:
    """The delivery log of one e-mail or SMS."""

    id: int
    channel: str
    status: str
    attempts: int
    last_error: str | None
    sent_at: dt.datetime | None


@dataclass(frozen=True)
class NotificationView:
    id: int
    dossier_id: str
    kind: str
    subject: str
    body: str
    created_at: dt.datetime
    read_at: dt.datetime | None
    deliveries: tuple[Delivery, ...] = ()


@dataclass(frozen=True)
class PreparedMoment:
    """A moment's notification ready to write (``Notifications.prepare_moment``): its kind, and one row
    per channel, (language, channel, subject, body, status)."""
    kind: str
    rows: tuple[tuple[str, str, str, str, str], ...]


@dataclass(frozen=True)
class Inbox:
    notifications: tuple[NotificationView, ...]
    unread: int


def _citizen_only(actor: Actor) -> None:
    if not actor.is_citizen or actor.account_id is None:
        raise PermissionDeniedError("Chỉ dành cho công dân / citizens only")


def _when(value: dt.datetime | None) -> str | None:
    return value.strftime("%H:%M %d/%m/%Y") if value else None


class Notifications:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], texts: TextRenderer, *,
                 portal_url: str, mailer: MailSender | None = None, sms: SmsSender | None = None,
                 contacts: ContactBook | None = None):
        texts.check(MOMENTS.names(), LANGUAGES)  # a missing template fails at start
        self.uow = uow
        self.clock = clock
        self.texts = texts
        self.portal_url = portal_url.rstrip("/")
        self.senders: dict[str, Any] = {"email": mailer, "sms": sms}
        self.contacts = contacts
        for channel, sender in self.senders.items():
            if sender is None:
                log.info("notifications by %s are off: no %s configured", channel,
                         "SMTP host" if channel == "email" else "SMS gateway")

    # -------------------------------------------------------------- in the transition's transaction

    def prepare_moment(self, conn: Any, d: Any, proc: Any, effects: Any, *, items: list[str] | None = None,
                       reason: str | None = None) -> PreparedMoment | None:
        """The notification of the moment this transition reaches, if any, ready to write: its texts
        rendered and its channels chosen (``conn``: read only, when the dossier's row did not bring the
        applicant's preferences). A transition prepares it before it starts writing, so that on SQLite
        the writers' turn is not held while the texts are rendered. None: no moment, or it could not
        be prepared (logged; the action goes on without it)."""
        state = proc.state(d.state) if d.state else None
        moment = moment_for(effects, state.outcome if state else None)
        if moment is None:
            return None
        try:  # a notification that cannot be prepared never undoes the action
            return PreparedMoment(moment.kind, tuple(self._prepare_moment(conn, moment, d, proc, items=items,
                                                                          reason=reason)))
        except Exception:  # noqa: BLE001 - logged; the action goes on without its notification
            log.exception("the %s notification of dossier %s could not be prepared", moment.kind, d.id)
            return None

    @staticmethod
    def write_moment(conn: Any, d: Any, prepared: PreparedMoment, now: dt.datetime) -> list[int]:
        """Write the rows of a prepared moment on ``conn``, in the transition's transaction; return the
        ids of the rows a delivery job must send."""
        # one INSERT of every channel's row (plain rows, no constraint a valid row can break)
        values = [
            {"account_id": d.applicant_account_id, "dossier_id": d.id, "kind": prepared.kind, "channel": channel,
             "language": lang, "subject": subj, "body": text, "status": status, "attempts": 0,
             "last_error": None if status != "skipped" else "kênh chưa cấu hình / channel not configured",
             "created_at": now, "sent_at": now if channel == "in-app" else None, "read_at": None}
            for lang, channel, subj, text, status in prepared.rows]
        written = insert_rows(NOTIFICATIONS, _NOTIFICATION_KEYS, len(values), (NOTIFICATIONS.c.id, NOTIFICATIONS.c.status)
                              ).rows(conn, {f"{k}_{i}": v for i, row in enumerate(values) for k, v in row.items()})
        return sorted(row_id for row_id, status in written if status == "pending")

    def _prepare_moment(self, conn: Any, moment: Moment, d: Any, proc: Any, *, items: list[str] | None,
                        reason: str | None) -> list[tuple[str, str, str, str, str]]:
        """The rows of this moment, one per channel: (language, channel, subject, body, status). The
        applicant's preferences and the agency's names come in one statement."""
        if getattr(d, "agency_names", None) is not None:  # a transition's row read them with the dossier
            by_email, by_sms, language = d.preferences or (None, None, None)
            name_vi, name_en = d.agency_names
        else:
            found = conn.execute(_PREFERENCES_AND_AGENCY, {"account_id": d.applicant_account_id,
                                                           "agency_id": d.agency_id}).first()
            name_vi, name_en, by_email, by_sms, language = found if found is not None else (None,) * 5
        prefs = DEFAULT_PREFERENCES if by_email is None else \
            Preferences(bool(by_email), bool(by_sms), language_of(language))
        lang = prefs.language
        context = self._context(d, proc, lang, (name_vi, name_en), items=items, reason=reason)
        subject, body = self.texts.render(moment.kind, lang, context)
        rows = [(lang, "in-app", subject, body, "sent")]
        if prefs.email:
            rows.append((lang, "email", subject, body, "pending" if self.senders["email"] else "skipped"))
        if prefs.sms:
            text = sms_text(moment, lang, context["code"], self.portal_url)
            rows.append((lang, "sms", text[:300], text, "pending" if self.senders["sms"] else "skipped"))
        return rows

    def _context(self, d: Any, proc: Any, lang: str, agency: Any, *, items: Any, reason: Any) -> dict[str, Any]:
        return {
            "code": d.code or d.id,
            "procedure": proc.title.get(lang),
            "agency": (agency[1] if lang == "en" else agency[0]) or "",
            "due_at": _when(d.due_at),
            "original_due_at": _when(d.original_due_at) if d.original_due_at != d.due_at else None,
            "items": list(items or ()),
            "reason": reason,
            "restarts": proc.supplement_policy == "restart",
            "answer_by": None,  # the rules set no time for the applicant's answer
            "dossier_url": f"{self.portal_url}/my/dossiers/{d.id}",
            "preferences_url": f"{self.portal_url}/my/notifications#preferences",
        }

    @staticmethod
    def _preferences(conn: Any, account_id: int) -> Preferences:
        row = conn.execute(select(NotificationPreference.email_enabled, NotificationPreference.sms_enabled,
                                  NotificationPreference.language)
                           .where(NotificationPreference.account_id == account_id)).first()
        if row is None:
            return DEFAULT_PREFERENCES
        return Preferences(bool(row.email_enabled), bool(row.sms_enabled), language_of(row.language))

    # ------------------------------------------------------------------------------ the task

    def deliver(self, notification_id: int) -> None:
        """Send one pending e-mail or SMS (the ``deliver_notification`` task). Nothing when the row is
        no longer pending. A failure is recorded and raised (the queue retries), until the last attempt."""
        with self.uow(write=False) as uow:
            row = uow.session.execute(
                select(Notification.id, Notification.channel, Notification.subject, Notification.body,
                       Notification.status, Notification.attempts, Account.personal_id)
                .join(Account, Account.id == Notification.account_id)
                .where(Notification.id == notification_id)).first()
        if row is None or row.status != "pending":
            return
        sender = self.senders.get(row.channel)
        if sender is None:  # the channel was switched off since the row was written
            self._finish(row.id, status="skipped", error="kênh chưa cấu hình / channel not configured")
            return
        address = self._address(row.channel, row.personal_id)
        if address is None:
            self._finish(row.id, status="skipped", error="không có địa chỉ / no address in the register")
            return
        try:
            if row.channel == "email":
                sender.send(address, row.subject, row.body)
            else:
                sender.send(address, row.body)
        except Exception as exc:  # noqa: BLE001 - any failure of the channel: recorded, then retried
            error = f"{type(exc).__name__}: {exc}"[:300]
            attempts = self._failed(row.id, error)
            if attempts >= MAX_ATTEMPTS:
                log.warning("notification %s: %s failed %s times, given up", row.id, row.channel, attempts)
                return
            raise DeliveryError(f"notification {row.id}: {error}") from exc
        self._finish(row.id, status="sent", error=None)

    def _address(self, channel: str, personal_id: str | None) -> str | None:
        if self.contacts is None or not personal_id:
            return None
        person = self.contacts.person(personal_id)
        if person is None:
            return None
        value = person.attributes.get("email" if channel == "email" else "phone")
        return str(value).strip() or None if value else None

    def _failed(self, notification_id: int, error: str) -> int:
        with self.uow() as uow:
            conn = uow.session.connection()
            conn.execute(update(NOTIFICATIONS).where(NOTIFICATIONS.c.id == notification_id,
                                                     NOTIFICATIONS.c.status == "pending")
                         .values(attempts=NOTIFICATIONS.c.attempts + 1, last_error=error))
            attempts = conn.execute(select(NOTIFICATIONS.c.attempts)
                                    .where(NOTIFICATIONS.c.id == notification_id)).scalar_one()
            if attempts >= MAX_ATTEMPTS:
                conn.execute(update(NOTIFICATIONS).where(NOTIFICATIONS.c.id == notification_id,
                                                         NOTIFICATIONS.c.status == "pending")
                             .values(status="failed"))
            uow.commit()
        return attempts

    def _finish(self, notification_id: int, *, status: str, error: str | None) -> None:
        values: dict[str, Any] = {"status": status, "last_error": error}
        if status == "sent":
            values.update(sent_at=self.clock(), attempts=NOTIFICATIONS.c.attempts + 1)
        with self.uow() as uow:
            uow.session.execute(update(NOTIFICATIONS).where(NOTIFICATIONS.c.id == notification_id,
                                                            NOTIFICATIONS.c.status == "pending").values(**values))
            uow.commit()

    def pending(self) -> list[int]:
        """E-mails and SMS still pending (for the queue's maintenance: a job for each that has none)."""
        with self.uow(write=False) as uow:
            return list(uow.session.scalars(select(Notification.id).where(Notification.status == "pending")
                                            .order_by(Notification.id)))

    # ---------------------------------------------------------------------- the citizen's side

    def inbox(self, actor: Actor, *, limit: int = INBOX_LIMIT) -> Inbox:
        """My in-app notifications, newest first, each with the delivery log of its e-mail and SMS."""
        _citizen_only(actor)
        with self.uow(write=False) as uow:
            s = uow.session
            n = Notification
            rows = s.execute(select(n.id, n.dossier_id, n.kind, n.channel, n.subject, n.body, n.status, n.attempts,
                                    n.last_error, n.created_at, n.sent_at, n.read_at)
                             .where(n.account_id == actor.account_id)
                             .order_by(n.created_at.desc(), n.id.desc())).all()
        inapp = [n for n in rows if n.channel == "in-app"][:limit]
        others: dict[tuple[str, str, dt.datetime], list[Delivery]] = {}
        for n in rows:
            if n.channel != "in-app":
                others.setdefault((n.dossier_id, n.kind, n.created_at), []).append(
                    Delivery(n.id, n.channel, n.status, n.attempts, n.last_error, n.sent_at))
        views = tuple(NotificationView(n.id, n.dossier_id, n.kind, n.subject, n.body, n.created_at, n.read_at,
                                       tuple(sorted(others.get((n.dossier_id, n.kind, n.created_at), ()),
                                                    key=lambda x: x.channel)))
                      for n in inapp)
        return Inbox(views, sum(1 for n in rows if n.channel == "in-app" and n.read_at is None))

    def unread_count(self, actor: Actor) -> int:
        if not actor.is_citizen or actor.account_id is None:
            return 0
        with self.uow(write=False) as uow:
            return uow.session.execute(select(func.count()).select_from(Notification).where(
                Notification.account_id == actor.account_id, Notification.channel == "in-app",
                Notification.read_at.is_(None))).scalar_one()

    def mark_read(self, actor: Actor, notification_id: Any = None) -> int:
        """Mark one of my in-app notifications read (another's, or none such: not found), or all of
        them when ``notification_id`` is None; return how many changed."""
        _citizen_only(actor)
        where = [NOTIFICATIONS.c.account_id == actor.account_id, NOTIFICATIONS.c.channel == "in-app"]
        if notification_id is not None:
            if isinstance(notification_id, bool) or not isinstance(notification_id, int) \
                    or not 0 < notification_id <= MAX_ID:
                raise NotFoundError("Không tìm thấy thông báo / no such notification")
            where.append(NOTIFICATIONS.c.id == notification_id)
        with self.uow() as uow:
            conn = uow.session.connection()
            if notification_id is not None and conn.execute(select(NOTIFICATIONS.c.id).where(*where)).first() is None:
                raise NotFoundError("Không tìm thấy thông báo / no such notification")
            changed = conn.execute(update(NOTIFICATIONS).where(*where, NOTIFICATIONS.c.read_at.is_(None))
                                   .values(read_at=self.clock())).rowcount
            uow.commit()
        return changed

    def preferences(self, actor: Actor) -> Preferences:
        _citizen_only(actor)
        with self.uow(write=False) as uow:
            return self._preferences(uow.session.connection(), actor.account_id)

    def set_preferences(self, actor: Actor, *, email: Any, sms: Any, language: Any) -> Preferences:
        """Change how I am told: e-mail on or off, SMS on or off, the language (vi or en)."""
        _citizen_only(actor)
        problems: dict[str, list[str]] = {}
        for name, value in (("email", email), ("sms", sms)):
            if not isinstance(value, bool):
                problems[name] = ["true hoặc false / true or false"]
        if language not in LANGUAGES:
            problems["language"] = ["vi hoặc en / vi or en"]
        if problems:
            raise ValidationError("Tùy chọn thông báo không hợp lệ / invalid notification preferences",
                                  fields=problems)
        with self.uow() as uow:
            s = uow.session
            row = s.get(NotificationPreference, actor.account_id)
            if row is None:
                row = NotificationPreference(account_id=actor.account_id)
                s.add(row)
            row.email_enabled, row.sms_enabled, row.language, row.updated_at = email, sms, language, self.clock()
            uow.commit()
        return Preferences(email, sms, language)


__all__ = ["Notifications", "Preferences", "Inbox", "NotificationView", "Delivery", "Moment", "DeliveryError"]
