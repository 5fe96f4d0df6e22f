"""The working-day calendar and the counting of time limits (thời hạn giải quyết).

Pure rules: the standard library only.

**Time.** Every ``datetime`` here is *naive local time* of the deployment (Asia/Ho_Chi_Minh by
default, ``MOTCUA_TIMEZONE``); an aware ``datetime`` is refused with ``ValueError`` by the
counting functions. There is no wall clock in this module: callers pass ``now``.

**Calendar.** A :class:`Calendar` (loaded from the calendar files by :mod:`engine.rules.calendars`,
or rebuilt from stored rows by :func:`calendar_from_days`) knows the days off and the worked
weekend days of its years. A date outside the years it covers has only the weekend as days off,
so limits that run past the last published year still count (``Calendar.covers`` tells callers
when a result rests on unpublished years).

**Counting** (Civil Code 2015 Art. 147-148; Decree 61/2018 Art. 18-19), see :func:`compute_due`:

* the *receipt day* (:func:`receipt_day`) is never counted, and it is excluded once only: it is
  the day the dossier was received, or the next working day for a dossier received on a day off;
* the 15:00 cut-off moves the moment work starts (:func:`effective_start`), not the receipt day:
  a counter/postal dossier received after 15:00 reaches the desk at office opening of the next
  working day, which is the first counted day anyway; so the cut-off changes day-based limits not
  at all, starts an ``hours`` count the next working morning, and makes an ``immediate`` limit
  (of any channel) due at the end of the next working day;
* a limit that ends on a day off ends on the next working day; a due date-time is the end of the
  last office period of its day (17:00), except for ``hours`` limits, which end at the exact
  moment inside an office period.
"""
from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
WEEKDAY_NAMES = {number: name for name, number in WEEKDAYS.items()}
UNITS = ("working_days", "days", "hours", "immediate")

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


# --------------------------------------------------------------------------- the calendar


@dataclass(frozen=True)
class CalendarDay:
    """One listed day: a day off (``working=False``) or a worked weekend day (``working=True``)."""

    date: date
    kind: str
    working: bool
    name_vi: str
    name_en: str
    source: str | None = None


@dataclass(frozen=True)
class Calendar:
    """Working days and office hours of one named calendar (e.g. ``vn``) over its years."""

    name: str
    weekend: frozenset[int]
    days_off: frozenset[date]
    working_days: frozenset[date]
    office_hours: tuple[tuple[time, time], ...]
    cutoff: time
    years: frozenset[int]
    provisional_years: frozenset[int] = frozenset()
    entries: tuple[CalendarDay, ...] = ()

    def __post_init__(self) -> None:
        if not self.office_hours:
            raise ValueError(f"calendar {self.name!r}: office_hours must list at least one period")
        previous_end: time | None = None
        for start, end in self.office_hours:
            if not start < end or (previous_end is not None and start < previous_end):
                raise ValueError(f"calendar {self.name!r}: office hours must be increasing periods")
            previous_end = end
        if any(not 0 <= d <= 6 for d in self.weekend):
            raise ValueError(f"calendar {self.name!r}: weekend days are numbers 0 (Monday) to 6")
        if len(self.weekend) == 7:
            raise ValueError(f"calendar {self.name!r}: the weekend cannot be the whole week")
        both = self.days_off & self.working_days
        if both:
            listed = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"calendar {self.name!r}: {listed} both a day off and a working day")

    # -- days

    def is_working_day(self, d: date) -> bool:
        d = _as_date(d)
        if d in self.working_days:
            return True
        if d in self.days_off:
            return False
        return d.weekday() not in self.weekend

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        d = _as_date(d) + timedelta(days=1)
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def previous_working_day(self, d: date) -> date:
        """The last working day strictly before ``d``."""
        d = _as_date(d) - timedelta(days=1)
        while not self.is_working_day(d):
            d -= timedelta(days=1)
        return d

    def add_working_days(self, d: date, n: int) -> date:
        """The ``n``-th working day strictly after ``d``; ``n == 0`` gives ``d`` itself if it is a
        working day, else the next working day."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"the number of working days must be a whole number >= 0, not {n!r}")
        d = _as_date(d)
        if n == 0:
            return d if self.is_working_day(d) else self.next_working_day(d)
        for _ in range(n):
            d = self.next_working_day(d)
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """How many working days ``x`` satisfy ``a < x <= b`` (0 when ``b <= a``)."""
        a, b = _as_date(a), _as_date(b)
        if b <= a:
            return 0
        weeks, rest = divmod((b - a).days, 7)
        count = weeks * (7 - len(self.weekend))
        count += sum(
            1 for i in range(1, rest + 1) if (a + timedelta(days=i)).weekday() not in self.weekend
        )
        count -= sum(1 for d in self.days_off if a < d <= b and d.weekday() not in self.weekend)
        count += sum(1 for d in self.working_days if a < d <= b and d.weekday() in self.weekend)
        return count

    def day_start(self, d: date) -> datetime:
        """``d`` at the opening of the first office period (07:30)."""
        return datetime.combine(_as_date(d), self.office_hours[0][0])

    def day_end(self, d: date) -> datetime:
        """``d`` at the end of the last office period (17:00): the moment a day-based limit ends."""
        return datetime.combine(_as_date(d), self.office_hours[-1][1])

    def covers(self, d: date) -> bool:
        """True when the calendar files publish the year of ``d`` (provisional years included)."""
        return _as_date(d).year in self.years

    def settings(self) -> dict[str, Any]:
        """The calendar-wide settings as plain JSON-ready values (for the database copy)."""
        return {
            "weekend": [WEEKDAY_NAMES[d] for d in sorted(self.weekend)],
            "office_hours": [[_clock(s), _clock(e)] for s, e in self.office_hours],
            "cutoff": _clock(self.cutoff),
            "years": sorted(self.years),
            "provisional_years": sorted(self.provisional_years),
        }


def calendar_from_days(
    name: str,
    days: Iterable[CalendarDay],
    *,
    weekend: Iterable[int | str],
    office_hours: Iterable[tuple[time | str, time | str]],
    cutoff: time | str,
    years: Iterable[int],
    provisional_years: Iterable[int] = (),
) -> Calendar:
    """Build a :class:`Calendar` from stored rows (the database keeps an editable copy of the
    files).

    ``weekend`` takes weekday numbers (0 = Monday) or names; times take ``time`` objects or
    ``"HH:MM"`` strings. Raises ``ValueError`` on a date listed twice or otherwise invalid input.
    """
    entries = tuple(sorted(days, key=lambda day: day.date))
    seen: set[date] = set()
    for day in entries:
        if day.date in seen:
            raise ValueError(f"calendar {name!r}: {day.date.isoformat()} is listed twice")
        seen.add(day.date)
    return Calendar(
        name=name,
        weekend=frozenset(_weekday_number(d) for d in weekend),
        days_off=frozenset(day.date for day in entries if not day.working),
        working_days=frozenset(day.date for day in entries if day.working),
        office_hours=tuple((to_time(s), to_time(e)) for s, e in office_hours),
        cutoff=to_time(cutoff),
        years=frozenset(int(y) for y in years),
        provisional_years=frozenset(int(y) for y in provisional_years),
        entries=entries,
    )


# --------------------------------------------------------------------------- counting


def receipt_day(received_at: datetime, cal: Calendar) -> date:
    """The day that is not counted (Civil Code Art. 147(1)): the day of receipt, or the next working
    day for a dossier received on a day off (nobody receives it before). The 15:00 cut-off does not
    move it (see :func:`compute_due`)."""
    _check_naive(received_at, "received_at")
    day = received_at.date()
    return day if cal.is_working_day(day) else cal.next_working_day(day)


def effective_start(received_at: datetime, cal: Calendar, *, cutoff_applies: bool) -> datetime:
    """The moment work on the dossier starts: an ``hours`` limit counts from it.

    * received on a day off -> the next working day at office opening;
    * ``cutoff_applies`` and received strictly after the cut-off (15:00) -> the next working day at
      office opening (Decree 61/2018 Art. 18: a paper dossier received after 15:00 is passed on at
      the start of the next working day);
    * otherwise ``received_at`` itself (also for online filings outside office hours).
    """
    _check_naive(received_at, "received_at")
    day = received_at.date()
    if not cal.is_working_day(day):
        return cal.day_start(cal.next_working_day(day))
    if cutoff_applies and received_at.time() > cal.cutoff:
        return cal.day_start(cal.next_working_day(day))
    return received_at


def compute_due(
    start: datetime, value: float, unit: str, cal: Calendar, *, cutoff_applies: bool = False
) -> datetime:
    """The due date-time of a time limit of ``value`` ``unit`` for a dossier received at ``start``.

    **The reading implemented.** §2.7 rule 2 (Civil Code Art. 147(1)): for a limit in days the day
    of the triggering event, the receipt, is not counted; counting starts on the next day. §2.7
    rule 5 (Decree 61/2018 Art. 18; Decree 23/2015 Art. 7): a paper dossier received after 15:00
    is passed to the desk at the start of the next working day, and a same-day procedure received
    after 15:00 is completed on the next working day. Rule 5 is about when the work can start; it
    does not make a second receipt. So the receipt day (:func:`receipt_day`) is excluded once:
    received Thursday 15:30 at the counter, Thursday is not counted, the dossier reaches the desk
    on Friday morning and Friday is the first counted day (1 working day: due Friday 17:00, as for
    the same dossier received at 10:00). Treating Friday as the receipt day as well would exclude
    two days for one receipt and give the desk a day the law does not. Where the cut-off matters
    is where the receipt day itself would count: an ``immediate`` limit (due the next working day)
    and an ``hours`` limit (counted from the next working morning).

    * ``working_days``: the ``value``-th working day after the receipt day, at
      :meth:`Calendar.day_end` (a swapped Saturday counts, a holiday does not).
    * ``days``: the receipt day plus ``value`` calendar days; a last day that is not a working day
      moves to the next working day (Art. 148); due at ``day_end``.
    * ``hours``: ``value`` working hours (fractions allowed) counted from
      :func:`effective_start` inside the office periods of working days; due at that exact moment
      (the end of a period when the count ends there, not the opening of the next one).
    * ``immediate`` ("ngay", "ngay trong ngày"): ``day_end`` of the receipt day when received on a
      working day up to the cut-off (15:00 included) and before office hours end; otherwise
      ``day_end`` of the next working day. The cut-off applies here whatever the channel
      (``cutoff_applies`` is not asked): rule 5 says so of same-day procedures without naming a
      channel, and an online dossier received at 16:45 cannot be done by 17:00 either.

    ``value`` must be > 0 (a whole number for ``working_days`` and ``days``); it is ignored for
    ``immediate`` (any number >= 0). A bad unit or value raises ``ValueError``.
    """
    _check_unit(unit)
    _check_value(value, unit)
    first = receipt_day(start, cal)
    if unit == "working_days":
        return cal.day_end(cal.add_working_days(first, int(value)))
    if unit == "days":
        last = first + timedelta(days=int(value))
        if not cal.is_working_day(last):
            last = cal.next_working_day(last)
        return cal.day_end(last)
    if unit == "hours":
        return add_working_time(effective_start(start, cal, cutoff_applies=cutoff_applies),
                                timedelta(hours=value), cal)
    s = effective_start(start, cal, cutoff_applies=True)
    end = cal.day_end(s.date())
    return end if s < end else cal.day_end(cal.next_working_day(s.date()))


def pause_shift(
    due_at: datetime, paused_at: datetime, resumed_at: datetime, unit: str, cal: Calendar
) -> datetime:
    """The due date-time after a pause (supplement policy ``pause``): ``due_at`` pushed by the time
    the dossier was paused, measured in the limit's own unit.

    * ``working_days``: by ``working_days_between(paused_at.date(), resumed_at.date())`` working
      days (the pause day itself is not counted, as for receipt); the time of day is kept.
    * ``days``: by the calendar days between the two dates; a day off moves to the next working day.
    * ``hours``: by the working time (office periods of working days) between the two moments.
    * ``immediate``: ``compute_due(resumed_at, 0, "immediate")``, never earlier than ``due_at``.

    A pause never moves the due date earlier. ``resumed_at`` before ``paused_at`` is a
    ``ValueError``.
    """
    _check_unit(unit)
    for value, label in ((due_at, "due_at"), (paused_at, "paused_at"), (resumed_at, "resumed_at")):
        _check_naive(value, label)
    if resumed_at < paused_at:
        raise ValueError("resumed_at must not be before paused_at")
    if unit == "working_days":
        n = cal.working_days_between(paused_at.date(), resumed_at.date())
        if n == 0:
            return due_at
        return datetime.combine(cal.add_working_days(due_at.date(), n), due_at.time())
    if unit == "days":
        shift = (resumed_at.date() - paused_at.date()).days
        if shift == 0:
            return due_at
        last = due_at.date() + timedelta(days=shift)
        if not cal.is_working_day(last):
            last = cal.next_working_day(last)
        return datetime.combine(last, due_at.time())
    if unit == "hours":
        elapsed = working_time_between(paused_at, resumed_at, cal)
        if not elapsed:
            return due_at
        return add_working_time(due_at, elapsed, cal)
    return max(due_at, compute_due(resumed_at, 0, "immediate", cal))


def add_working_time(start: datetime, amount: timedelta, cal: Calendar) -> datetime:
    """The moment ``amount`` of working time after ``start``, counting only the office periods
    of working days. A count that ends exactly at the end of a period returns that end."""
    if amount < timedelta(0):
        raise ValueError("the working time to add must not be negative")
    current, remaining = start, amount
    day = start.date()
    while True:
        if cal.is_working_day(day):
            for open_at, close_at in cal.office_hours:
                period_end = datetime.combine(day, close_at)
                if current >= period_end:
                    continue
                begin = max(current, datetime.combine(day, open_at))
                available = period_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
                current = period_end
        day += timedelta(days=1)
        current = datetime.combine(day, time.min)


def working_time_between(a: datetime, b: datetime, cal: Calendar) -> timedelta:
    """Working time (office periods of working days) between ``a`` and ``b``; zero if ``b <= a``."""
    total = timedelta(0)
    if b <= a:
        return total
    day = a.date()
    while day <= b.date():
        if cal.is_working_day(day):
            for open_at, close_at in cal.office_hours:
                begin = max(a, datetime.combine(day, open_at))
                end = min(b, datetime.combine(day, close_at))
                if end > begin:
                    total += end - begin
        day += timedelta(days=1)
    return total


def working_days_since(start: datetime, now: datetime, cal: Calendar) -> int:
    """Working days elapsed after the day of ``start`` up to and including the day of ``now``.

    Used for "a supplement during processing only within 3 working days after receipt": allowed
    while ``working_days_since(received_at, now, cal) <= 3``. The receipt day counts as day 0.
    """
    return cal.working_days_between(start.date(), now.date())


def extension_allowed(due_at: datetime, now: datetime, cal: Calendar) -> bool:
    """Whether the apology-and-new-date slip (form 04) may still be made at ``now``.

    Decree 61/2018 Art. 19(9): "chậm nhất 01 ngày trước ngày hết hạn" (at the latest one day
    before the due day). Read in working days: allowed up to the end of the last working day
    strictly before the due day, i.e. iff ``now.date() <= cal.previous_working_day(due_at.date())``.
    Due Friday: allowed through Thursday, refused on Friday. Due Monday: allowed through the
    Friday before, refused on the weekend in between.
    """
    return now.date() <= cal.previous_working_day(due_at.date())


def is_overdue(due_at: datetime | None, now: datetime) -> bool:
    """True when there is a due date-time and ``now`` is past it (17:00 is on time for 17:00)."""
    return due_at is not None and now > due_at


# --------------------------------------------------------------------------- small helpers


def _as_date(d: date) -> date:
    return d.date() if isinstance(d, datetime) else d


def _check_naive(value: datetime, label: str) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{label} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is not None:
        raise ValueError(
            f"{label} must be a naive local datetime (Asia/Ho_Chi_Minh), not an aware one"
        )


def _check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"unknown time-limit unit {unit!r}; expected one of {', '.join(UNITS)}")


def _check_value(value: float, unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"the time-limit value must be a finite number, not {value!r}")
    if unit == "immediate":
        if value < 0:
            raise ValueError(f"the time-limit value must not be negative, not {value!r}")
        return
    if value <= 0:
        raise ValueError(f"a time limit in {unit} must be greater than 0, not {value!r}")
    if unit in ("working_days", "days") and value != int(value):
        raise ValueError(
            f"a time limit in {unit} must be a whole number, not {value!r}; "
            "express fractions in hours"
        )


def _weekday_number(value: int | str) -> int:
    if isinstance(value, str):
        if value.lower() not in WEEKDAYS:
            raise ValueError(f"unknown weekday {value!r}")
        return WEEKDAYS[value.lower()]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
        raise ValueError(f"a weekday is a name or a number 0 (Monday) to 6, not {value!r}")
    return value


def to_time(value: time | str) -> time:
    """A ``time``, or an ``"HH:MM"`` string as one; ``ValueError`` otherwise."""
    if isinstance(value, time):
        return value
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f'expected a time "HH:MM", not {value!r}')
    return time(int(match[1]), int(match[2]))


def _clock(value: time) -> str:
    return value.strftime("%H:%M")
