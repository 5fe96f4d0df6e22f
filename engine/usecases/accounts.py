"""Accounts and tokens: password sign-in (argon2), bearer tokens, the account behind a session, and
the agencies an account may name."""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import and_, bindparam, or_, select, update

from engine.adapters.fastsql import Prepared
from engine.adapters.models import Account, Agency, ApiToken, WebSession
from engine.adapters.uow import UnitOfWork
from engine.rules.access import Actor
from engine.rules.errors import AuthenticationError, NotFoundError, PermissionDeniedError, ValidationError

_hasher = PasswordHasher()
# Verified when the username is unknown, so that a wrong name costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("motcua-no-such-account")

MAX_PASSWORD = 256
BAD_TOKEN = "Thiếu hoặc sai mã truy cập / missing or invalid bearer token"


@dataclass(frozen=True)
class TokenCard:
    """A live bearer token as an administrator sees it (never the token itself)."""

    id: int
    username: str
    display_name: str
    created_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True)
class AgencyCard:
    code: str
    name: dict[str, str]


def actor_of(a: Account) -> Actor:
    """The actor an account acts as."""
    return Actor(a.id, a.username, a.display_name, a.kind, frozenset(a.roles or ()), a.agency_id, a.personal_id)


# what ``actor_of`` reads, and whether the account is active: the columns a request's authentication selects
ACTOR_COLUMNS = (Account.id.label("account_id"), Account.username, Account.display_name, Account.kind, Account.roles, Account.agency_id,
                 Account.personal_id, Account.active)


def actor_of_row(row: Any) -> Actor:
    """The actor of a row holding ``ACTOR_COLUMNS`` (the same as ``actor_of`` on the account)."""
    return Actor(row.account_id, row.username, row.display_name, row.kind, frozenset(row.roles or ()), row.agency_id,
                 row.personal_id)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def require_admin(actor: Actor | None) -> None:
    """``None`` is the operator at the command line; a person must hold the admin role."""
    if actor is not None and not (actor.is_staff and actor.has_role("admin")):
        raise PermissionDeniedError("Chỉ quản trị viên / administrators only")


class Accounts:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], *,
                 token_lifetime: dt.timedelta = dt.timedelta(days=90)):
        self.uow = uow
        self.clock = clock
        self.token_lifetime = token_lifetime

    # ----------------------------------------------------------------- tokens

    def issue_token(self, username: str) -> str:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self.uow() as uow:
            account = uow.session.execute(select(Account).where(Account.username == username)).scalar_one_or_none()
            if account is None or not account.active:
                raise NotFoundError(f"no active account '{username}'")
            uow.session.add(ApiToken(account_id=account.id, token_sha256=sha256_hex(token.encode()),
                                     created_at=now, expires_at=now + self.token_lifetime))
            uow.commit()
        return token

    def _live(self, now: Any, oldest: Any = None) -> Any:
        """Not revoked and not expired (a token from before expiry was kept lives from its creation)."""
        return and_(ApiToken.revoked_at.is_(None), or_(
            ApiToken.expires_at > now,
            and_(ApiToken.expires_at.is_(None), ApiToken.created_at > (now - self.token_lifetime if oldest is None
                                                                       else oldest))))

    def authenticate_token(self, token: str) -> Actor:
        if not token or len(token) > 200:
            raise AuthenticationError(BAD_TOKEN)
        now = self.clock()
        with self.uow(write=False, one_statement=True) as uow:
            row = self._by_token.first(uow.connection, {"digest": sha256_hex(token.encode()), "now": now,
                                                        "oldest": now - self.token_lifetime})
            if row is None or not row.active:
                raise AuthenticationError(BAD_TOKEN)
            return actor_of_row(row)

    @functools.cached_property
    def _by_token(self) -> Any:
        """The account of a live token (digest, now, oldest): built once, so that each request only binds
        values (building and keying the statement cost more than running it)."""
        return Prepared(select(*ACTOR_COLUMNS).join(ApiToken, ApiToken.account_id == Account.id)
                        .where(ApiToken.token_sha256 == bindparam("digest"),
                               self._live(bindparam("now", type_=ApiToken.expires_at.type),
                                          bindparam("oldest", type_=ApiToken.created_at.type))), named_rows=True)

    def list_tokens(self, username: str | None = None, actor: Actor | None = None) -> list[TokenCard]:
        """The live tokens of one account (by username), or of every account; oldest first."""
        require_admin(actor)
        now = self.clock()
        with self.uow(write=False) as uow:
            query = (select(ApiToken, Account).join(Account, ApiToken.account_id == Account.id)
                     .where(self._live(now)).order_by(ApiToken.created_at, ApiToken.id))
            if username is not None:
                if uow.session.execute(select(Account.id).where(Account.username == username)).first() is None:
                    raise NotFoundError(f"no account '{username}'")
                query = query.where(Account.username == username)
            return [TokenCard(t.id, a.username, a.display_name, t.created_at,
                              t.expires_at or t.created_at + self.token_lifetime)
                    for t, a in uow.session.execute(query).all()]

    def revoke_token(self, token_id: Any, actor: Actor | None = None) -> TokenCard:
        """End a live token (by its id in the list) at once; the next request with it gets 401."""
        if not isinstance(token_id, int) or isinstance(token_id, bool):
            require_admin(actor)
            raise NotFoundError(f"no live token {token_id!r}")
        return self._revoke(ApiToken.id == token_id, f"no live token {token_id}", actor)

    def revoke_token_value(self, token: Any, actor: Actor | None = None) -> TokenCard:
        """End a live token given the token itself (what its holder has) at once."""
        if not isinstance(token, str) or not token or len(token) > 200:
            require_admin(actor)
            raise NotFoundError("no live token with that value")
        return self._revoke(ApiToken.token_sha256 == sha256_hex(token.encode()), "no live token with that value", actor)

    def _revoke(self, which: Any, missing: str, actor: Actor | None) -> TokenCard:
        require_admin(actor)
        now = self.clock()
        with self.uow() as uow:
            found = uow.session.execute(select(ApiToken, Account).join(Account, ApiToken.account_id == Account.id)
                                        .where(which, self._live(now))).first()
            if found is None:
                raise NotFoundError(missing)
            token, account = found
            token.revoked_at = now
            uow.commit()
            return TokenCard(token.id, account.username, account.display_name, token.created_at,
                             token.expires_at or token.created_at + self.token_lifetime)

    # ----------------------------------------------------------------- passwords

    def authenticate_password(self, username: Any, password: Any) -> Actor:
        """The local login: an active account with an argon2 password hash. One message for every failure."""
        failure = AuthenticationError("Tên đăng nhập hoặc mật khẩu không đúng / wrong username or password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise failure
        username = username.strip()
        if not username or len(username) > 80 or not password or len(password) > MAX_PASSWORD:
            raise failure
        with self.uow() as uow:
            account = uow.session.execute(select(Account).where(Account.username == username)).scalar_one_or_none()
            stored = account.password_hash if account is not None and account.active else None
            try:
                _hasher.verify(stored or _DUMMY_HASH, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                raise failure from None
            if stored is None or account is None:
                raise failure
            if _hasher.check_needs_rehash(stored):
                account.password_hash = _hasher.hash(password)
                uow.commit()
            return actor_of(account)

    def set_password(self, username: str, password: str) -> None:
        if not isinstance(password, str) or len(password) < 8 or len(password) > MAX_PASSWORD:
            raise ValidationError("password: 8 to 256 characters", fields={"password": ["8-256 ký tự / characters"]})
        with self.uow() as uow:
            account = uow.session.execute(select(Account).where(Account.username == username)).scalar_one_or_none()
            if account is None:
                raise NotFoundError(f"no account '{username}'")
            account.password_hash = _hasher.hash(password)
            # a new password ends every web session and bearer token of the account, in the same transaction
            now = self.clock()
            uow.session.execute(update(WebSession).where(
                WebSession.account_id == account.id, WebSession.revoked_at.is_(None)
            ).values(revoked_at=now, revoked_reason="password"))
            uow.session.execute(update(ApiToken).where(
                ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now))
            uow.commit()

    # ----------------------------------------------------------------- who is acting

    def actor_for(self, username: str) -> Actor:
        with self.uow(write=False) as uow:
            row = uow.session.execute(select(Account).where(Account.username == username)).scalar_one_or_none()
            if row is None:
                raise NotFoundError(f"no account '{username}'")
            return actor_of(row)

    def actor_by_id(self, account_id: Any) -> Actor | None:
        """The account a web session names, or None when it no longer exists or was disabled."""
        if not isinstance(account_id, int) or isinstance(account_id, bool):
            return None
        with self.uow(write=False) as uow:
            account = uow.session.get(Account, account_id)
            return actor_of(account) if account is not None and account.active else None

    # ----------------------------------------------------------------- agencies

    def agency_of(self, actor: Actor) -> AgencyCard | None:
        if actor.agency_id is None:
            return None
        with self.uow(write=False) as uow:
            agency = uow.session.get(Agency, actor.agency_id)
            return AgencyCard(agency.code, {"vi": agency.name_vi, "en": agency.name_en}) if agency else None

    def agency_level(self, actor: Actor) -> str | None:
        """The level (commune, province, ministry) of a staff member's agency."""
        with self.uow(write=False) as uow:
            agency = uow.session.get(Agency, actor.agency_id) if actor.agency_id is not None else None
            return agency.level if agency is not None else None

    def list_agencies(self) -> list[AgencyCard]:
        """Every agency by code: what a citizen picks from when opening an evidence type to one by consent."""
        with self.uow(write=False) as uow:
            rows = uow.session.execute(select(Agency).order_by(Agency.code)).scalars().all()
            return [AgencyCard(a.code, {"vi": a.name_vi, "en": a.name_en}) for a in rows]
