"""The sign-in delay schedule: how long a source must wait after failed passwords.

A counter is kept per source address and per account-and-address, never per account alone, so that
failures from one place cannot lock the owner out from another. The first failures are free; after
that each further attempt from the same place waits twice as long as the one before, up to a cap.
A counter that has been quiet for ``forget_after`` starts again from zero.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class DelaySchedule:
    free: int  # failures allowed before any delay
    cap_seconds: int = 300  # the longest wait
    forget_after: dt.timedelta = dt.timedelta(hours=24)

    def delay_after(self, failures: int) -> dt.timedelta:
        """The wait before the next attempt, once ``failures`` in a row have been counted: none up to
        ``free``, then 2, 4, 8, ... seconds, never more than the cap."""
        if failures < self.free:
            return dt.timedelta(0)
        exponent = failures - self.free + 1
        seconds = self.cap_seconds if exponent >= 31 else min(2 ** exponent, self.cap_seconds)
        return dt.timedelta(seconds=seconds)

    def counts_again(self, last_failure_at: dt.datetime, now: dt.datetime) -> bool:
        """Whether a counter last bumped at ``last_failure_at`` is stale and starts again from zero."""
        return now - last_failure_at >= self.forget_after


# The account-and-address counter: the person at one keyboard mistyping their own password.
ACCOUNT_AT_ADDRESS = DelaySchedule(free=5)
# The address counter: many names tried from one place. An office behind one address (a commune's
# network) shares it, so it allows more failures before it slows anyone down.
ADDRESS = DelaySchedule(free=20)


def seconds_to_wait(retry_at: dt.datetime | None, now: dt.datetime) -> int:
    """Whole seconds until ``retry_at`` (rounded up), 0 when it is past or unset."""
    if retry_at is None or retry_at <= now:
        return 0
    delta = retry_at - now
    return int(delta.total_seconds()) + (1 if delta.total_seconds() % 1 else 0)
