"""Sign-in throttling held in the database: every worker and a restart see the same counts.

Failures are counted per source address and per account-and-address (``engine.rules.throttle``); an
attempt is held back while either counter asks it to wait. Nothing is counted per account alone, so
wrong passwords typed elsewhere never keep the owner out. A successful sign-in clears the
account-and-address counter."""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

from sqlalchemy import delete, select

from engine.adapters.models import LoginThrottle as ThrottleRow
from engine.adapters.queries import locked_login_throttle
from engine.adapters.uow import UnitOfWork
from engine.rules import throttle as rules
from engine.rules.errors import ThrottledError

THROTTLED = "Quá nhiều lần đăng nhập sai; hãy chờ rồi thử lại / too many failed sign-ins; wait and try again"


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class LoginThrottle:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], *,
                 address_schedule: rules.DelaySchedule = rules.ADDRESS,
                 account_schedule: rules.DelaySchedule = rules.ACCOUNT_AT_ADDRESS):
        self.uow = uow
        self.clock = clock
        self.schedules = {"address": address_schedule, "account": account_schedule}

    @staticmethod
    def _keys(username: str, address: str) -> dict[str, str]:
        name = username.strip().lower()[:80]
        return {"address": _key("address", address), "account": _key("account", name, address)}

    def check_login(self, username: str, address: str) -> None:
        """Raise ``ThrottledError`` (with the seconds to wait) while this attempt must wait."""
        now = self.clock()
        keys = self._keys(username, address)
        with self.uow(write=False) as uow:
            rows = uow.session.execute(select(ThrottleRow.retry_at).where(
                ThrottleRow.key_sha256.in_(list(keys.values())))).scalars().all()
        wait = max((rules.seconds_to_wait(r, now) for r in rows), default=0)
        if wait:
            raise ThrottledError(THROTTLED, retry_after=wait)

    def record_failure(self, username: str, address: str) -> int:
        """Count a failed sign-in on both counters; the seconds the next attempt must wait."""
        now = self.clock()
        wait = 0
        with self.uow() as uow:
            for scope, key in self._keys(username, address).items():
                schedule = self.schedules[scope]
                row = locked_login_throttle(uow.session, key, scope, now)
                if row.failures and schedule.counts_again(row.last_failure_at, now):
                    row.failures = 0
                row.failures += 1
                row.last_failure_at = now
                delay = schedule.delay_after(row.failures)
                row.retry_at = now + delay if delay else None
                wait = max(wait, rules.seconds_to_wait(row.retry_at, now))
            # counters quiet for longer than they are remembered go, so a spray of names stays bounded
            oldest = now - max(s.forget_after for s in self.schedules.values())
            uow.session.execute(delete(ThrottleRow).where(ThrottleRow.last_failure_at < oldest))
            uow.commit()
        return wait

    def record_success(self, username: str, address: str) -> None:
        """The right password from this address: its account-and-address counter starts again."""
        with self.uow() as uow:
            uow.session.execute(delete(ThrottleRow).where(
                ThrottleRow.key_sha256 == self._keys(username, address)["account"]))
            uow.commit()
