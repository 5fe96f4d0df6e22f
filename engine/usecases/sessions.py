"""Web sessions held in the database: a random id in the cookie, its SHA-256 in ``web_sessions``.

A session starts at every sign-in (a new id each time), belongs to one account, and ends at sign-out,
when the account's password changes, when an administrator revokes it, after ``idle`` without a
request, or ``lifetime`` after it started, whichever comes first. Checking a session is one read;
the time it was last seen is written at most once per ``TOUCH_EVERY``."""
from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update

from engine.adapters.fastsql import Prepared
from engine.adapters.models import Account, WebSession
from engine.adapters.uow import UnitOfWork
from engine.rules.access import Actor
from engine.rules.errors import AuthenticationError, NotFoundError
from engine.usecases.accounts import ACTOR_COLUMNS, Accounts, actor_of_row, require_admin, sha256_hex
from engine.usecases.throttle import LoginThrottle

TOUCH_EVERY = dt.timedelta(minutes=1)
KEEP_ENDED = dt.timedelta(days=30)  # ended sessions stay listed this long for an inquiry, then go
MAX_ID = 100  # longer than any id we hand out: not looked up
# a cookie's session and its account, by the session id's digest: built once, each request binds the digest
BY_DIGEST = Prepared(  # run on the connection at every signed-in page: no ORM session, prepared once
    select(WebSession.id, WebSession.last_seen_at, WebSession.expires_at, WebSession.revoked_at, *ACTOR_COLUMNS)
    .join(Account, WebSession.account_id == Account.id)
    .where(WebSession.session_sha256 == bindparam("digest")), named_rows=True)


@dataclass(frozen=True)
class StartedSession:
    session_id: str  # for the cookie only; the database keeps its SHA-256
    actor: Actor
    expires_at: dt.datetime


@dataclass(frozen=True)
class SessionCard:
    """A live session as an administrator sees it (never its id)."""

    id: int
    username: str
    display_name: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    address: str | None


class Sessions:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], accounts: Accounts,
                 throttle: LoginThrottle, *, idle: dt.timedelta, lifetime: dt.timedelta):
        self.uow = uow
        self.clock = clock
        self.accounts = accounts
        self.throttle = throttle
        self.idle = idle
        self.lifetime = lifetime

    # ----------------------------------------------------------------- signing in and out

    def sign_in_with_password(self, username: Any, password: Any, address: str) -> StartedSession:
        """The local login from ``address``: throttled (``ThrottledError``), checked, then a new session."""
        name = username if isinstance(username, str) else ""
        self.throttle.check_login(name, address)
        try:
            actor = self.accounts.authenticate_password(username, password)
        except AuthenticationError:
            self.throttle.record_failure(name, address)
            raise
        self.throttle.record_success(name, address)
        return self.start_session(actor, address)

    def start_session(self, actor: Actor, address: str | None = None) -> StartedSession:
        """A new session for an account a login provider vouches for."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        expires = now + self.lifetime
        with self.uow() as uow:
            uow.session.add(WebSession(session_sha256=sha256_hex(session_id.encode()), account_id=actor.account_id,
                                       created_at=now, last_seen_at=now, expires_at=expires,
                                       address=(address or None) and address[:45]))
            uow.commit()
        return StartedSession(session_id, actor, expires)

    def resume_session(self, session_id: Any) -> Actor | None:
        """The account behind a cookie's session id, or None when the session is unknown, ended,
        expired, or its account disabled."""
        if not isinstance(session_id, str) or not session_id or len(session_id) > MAX_ID:
            return None
        now = self.clock()
        with self.uow(write=False, one_statement=True) as uow:
            found = BY_DIGEST.first(uow.connection, {"digest": sha256_hex(session_id.encode())})
            if found is None:
                return None
            row_id, last_seen, expires, revoked = found[:4]
            if revoked is not None or now >= expires or now - last_seen >= self.idle or not found.active:
                return None
            actor = actor_of_row(found)
        if now - last_seen >= TOUCH_EVERY:
            with self.uow() as uow:
                uow.session.execute(update(WebSession).where(WebSession.id == row_id, WebSession.revoked_at.is_(None))
                                    .values(last_seen_at=now))
                uow.commit()
        return actor

    def end_session(self, session_id: Any) -> None:
        """Sign-out: the session ends at once; a saved copy of the cookie is worth nothing after."""
        if not isinstance(session_id, str) or not session_id or len(session_id) > MAX_ID:
            return
        with self.uow() as uow:
            uow.session.execute(update(WebSession).where(
                WebSession.session_sha256 == sha256_hex(session_id.encode()), WebSession.revoked_at.is_(None)
            ).values(revoked_at=self.clock(), revoked_reason="logout"))
            uow.commit()

    # ----------------------------------------------------------------- the administrator's view

    def list_sessions(self, actor: Actor | None = None) -> list[SessionCard]:
        """Every live session, most recently seen first."""
        require_admin(actor)
        now = self.clock()
        with self.uow(write=False) as uow:
            rows = uow.session.execute(
                select(WebSession, Account).join(Account, WebSession.account_id == Account.id)
                .where(WebSession.revoked_at.is_(None), WebSession.expires_at > now,
                       WebSession.last_seen_at > now - self.idle, Account.active.is_(True))
                .order_by(WebSession.last_seen_at.desc(), WebSession.id.desc())
            ).all()
            return [SessionCard(s.id, a.username, a.display_name, s.created_at, s.last_seen_at, s.expires_at, s.address)
                    for s, a in rows]

    def revoke_session(self, session_pk: Any, actor: Actor | None = None) -> SessionCard:
        """An administrator ends someone's session (by its number in the list) at once."""
        require_admin(actor)
        if not isinstance(session_pk, int) or isinstance(session_pk, bool):
            raise NotFoundError(f"no live session {session_pk!r}")
        now = self.clock()
        with self.uow() as uow:
            found = uow.session.execute(
                select(WebSession, Account).join(Account, WebSession.account_id == Account.id)
                .where(WebSession.id == session_pk, WebSession.revoked_at.is_(None), WebSession.expires_at > now)
            ).first()
            if found is None:
                raise NotFoundError(f"no live session {session_pk}")
            row, account = found
            row.revoked_at, row.revoked_reason = now, "admin"
            uow.commit()
            return SessionCard(row.id, account.username, account.display_name, row.created_at, row.last_seen_at,
                               row.expires_at, row.address)

    # ----------------------------------------------------------------- upkeep

    def purge_sessions(self) -> int:
        """Remove the sessions that ended (or expired, or went idle) more than ``KEEP_ENDED`` ago."""
        before = self.clock() - KEEP_ENDED
        with self.uow() as uow:
            result = uow.session.execute(delete(WebSession).where(or_(
                WebSession.revoked_at < before, WebSession.expires_at < before,
                WebSession.last_seen_at < before - self.idle)))
            uow.commit()
            return int(result.rowcount or 0)
