"""The sign-in delay schedule (engine.rules.throttle): free failures, then a doubling wait, capped."""
from __future__ import annotations

import datetime as dt

from engine.rules.throttle import ACCOUNT_AT_ADDRESS, ADDRESS, DelaySchedule, seconds_to_wait


def test_the_first_failures_are_free_then_the_wait_doubles_up_to_the_cap():
    schedule = DelaySchedule(free=5, cap_seconds=300)
    waits = [schedule.delay_after(n).total_seconds() for n in range(0, 16)]
    assert waits[:5] == [0, 0, 0, 0, 0]
    assert waits[5:13] == [2, 4, 8, 16, 32, 64, 128, 256]
    assert waits[13:] == [300, 300, 300]
    assert schedule.delay_after(10_000) == dt.timedelta(seconds=300)


def test_an_address_allows_more_failures_than_one_account_at_it():
    assert ADDRESS.free > ACCOUNT_AT_ADDRESS.free
    assert ACCOUNT_AT_ADDRESS.delay_after(ACCOUNT_AT_ADDRESS.free) == dt.timedelta(seconds=2)
    assert max(ADDRESS.cap_seconds, ACCOUNT_AT_ADDRESS.cap_seconds) <= 600  # a wait, never a lock-out


def test_a_quiet_counter_starts_again():
    schedule = DelaySchedule(free=5, forget_after=dt.timedelta(hours=24))
    start = dt.datetime(2026, 3, 2, 9, 0)
    assert not schedule.counts_again(start, start + dt.timedelta(hours=23))
    assert schedule.counts_again(start, start + dt.timedelta(hours=24))


def test_seconds_to_wait_rounds_up_and_is_zero_when_past():
    now = dt.datetime(2026, 3, 2, 9, 0)
    assert seconds_to_wait(None, now) == 0
    assert seconds_to_wait(now - dt.timedelta(seconds=1), now) == 0
    assert seconds_to_wait(now, now) == 0
    assert seconds_to_wait(now + dt.timedelta(seconds=1.2), now) == 2
    assert seconds_to_wait(now + dt.timedelta(seconds=8), now) == 8
