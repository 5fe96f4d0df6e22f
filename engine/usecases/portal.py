"""Use cases behind the web pages (part of Services): signing in with a password, the session's
account, the staff's work queue by role, and looking a walk-in citizen up at the counter."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select

from engine.rules.access import Actor
from engine.rules.errors import AuthenticationError, NotFoundError, PermissionDeniedError, ValidationError
from engine.adapters.models import Account, Agency, Person

log = logging.getLogger(__name__)

_hasher = PasswordHasher()
# Verified when the username is unknown, so that a wrong name costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("motcua-no-such-account")

MAX_PASSWORD = 256


@dataclass(frozen=True)
class PersonCard:
    """What the counter clerk sees of a walk-in citizen before filing for them."""

    personal_id: str
    full_name: str
    date_of_birth: dt.date
    sex: str
    permanent_address: str | None
    current_address: str | None
    phone: str | None
    has_account: bool


@dataclass(frozen=True)
class AgencyCard:
    code: str
    name: dict[str, str]


class PortalMixin:
    uow: Any
    catalogue: Any

    # ----------------------------------------------------------------- sign-in

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
            return _actor(account)

    def set_password(self, username: str, password: str) -> None:
        if not isinstance(password, str) or len(password) < 8 or len(password) > MAX_PASSWORD:
            raise ValidationError("password: 8 to 256 characters", fields={"password": ["8-256 ký tự / characters"]})
        with self.uow() as uow:
            account = uow.session.execute(select(Account).where(Account.username == username)).scalar_one_or_none()
            if account is None:
                raise NotFoundError(f"no account '{username}'")
            account.password_hash = _hasher.hash(password)
            uow.commit()

    def actor_by_id(self, account_id: Any) -> Actor | None:
        """The account a web session names, or None when it no longer exists or was disabled."""
        if not isinstance(account_id, int) or isinstance(account_id, bool):
            return None
        with self.uow(write=False) as uow:
            account = uow.session.get(Account, account_id)
            return _actor(account) if account is not None and account.active else None

    def agency_of(self, actor: Actor) -> AgencyCard | None:
        if actor.agency_id is None:
            return None
        with self.uow(write=False) as uow:
            agency = uow.session.get(Agency, actor.agency_id)
            return AgencyCard(agency.code, {"vi": agency.name_vi, "en": agency.name_en}) if agency else None

    def list_agencies(self) -> list[AgencyCard]:
        """Every agency by code: what a citizen picks from when opening an evidence type to one by consent."""
        with self.uow(write=False) as uow:
            rows = uow.session.execute(select(Agency).order_by(Agency.code)).scalars().all()
            return [AgencyCard(a.code, {"vi": a.name_vi, "en": a.name_en}) for a in rows]

    # ----------------------------------------------------------------- the desk

    def queue_states(self, actor: Actor) -> list[str]:
        """The states in which this staff member's roles have something to do, in any procedure."""
        if not actor.is_staff:
            raise PermissionDeniedError("Chỉ dành cho cán bộ / staff only")
        states: list[str] = []
        for proc in self.catalogue.procedures.values():
            for action in proc.actions:
                if actor.roles & set(action.roles):
                    states.extend(s for s in action.sources if s not in states and s != "draft")
        return states

    def find_person(self, personal_id: Any, actor: Actor) -> PersonCard:
        """Counter filing: a clerk looks a walk-in citizen up by personal id in the register."""
        if not actor.is_staff:
            raise PermissionDeniedError("Chỉ dành cho cán bộ / staff only")
        pid = personal_id.strip() if isinstance(personal_id, str) else ""
        if not (pid.isdigit() and len(pid) == 12):
            raise ValidationError("Số định danh cá nhân gồm 12 chữ số / a personal id has 12 digits",
                                  fields={"personal_id": ["12 chữ số / 12 digits"]})
        with self.uow(write=False) as uow:
            s = uow.session
            person = s.execute(select(Person).where(Person.personal_id == pid)).scalar_one_or_none()
            if person is None:
                raise NotFoundError("Không tìm thấy công dân trong cơ sở dữ liệu dân cư / no such person in the register")
            has_account = s.execute(select(Account.id).where(Account.username == pid)).first() is not None
            return PersonCard(person.personal_id, person.full_name, person.date_of_birth, person.sex,
                              person.permanent_address, person.current_address, person.phone, has_account)


def _actor(a: Account) -> Actor:
    return Actor(a.id, a.username, a.display_name, a.kind, frozenset(a.roles or ()), a.agency_id, a.personal_id)
