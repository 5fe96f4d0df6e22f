"""The working-day calendar and the counting of time limits (thời hạn giải quyết).

Pure rules: the standard library, ``yaml`` and :mod:`engine.rules.errors` only.

**Time.** Every ``datetime`` here is *naive local time* of the deployment (Asia/Ho_Chi_Minh by
default, ``MOTCUA_TIMEZONE``); an aware ``datetime`` is refused with ``ValueError`` by the
counting functions. There is no wall clock in this module: callers pass ``now``.

**Calendar.** One YAML file per year in ``procedures/calendars/``; files with the same ``name``
merge into one :class:`Calendar`. A day is a working day when it is listed in ``working_days``
(a worked weekend day, e.g. a swapped Saturday), else when it is not listed in ``days_off`` and
is not a weekly rest day. A date outside the years the files cover has only the weekend as days
off, so limits that run past the last published year still count (``Calendar.covers`` tells
callers when a result rests on unpublished years).

**Counting** (Civil Code 2015 Art. 147-148; Decree 61/2018 Art. 18-19), see :func:`compute_due`:

* the *receipt day* is the date of :func:`effective_start` and is never counted;
* a dossier received on a day off, or a counter/postal dossier received after the 15:00
  cut-off, is taken as received at office opening of the next working day; that day becomes
  the receipt day;
* a limit that ends on a day off ends on the next working day; a due date-time is the end of the
  last office period of its day (17:00), except for ``hours`` limits, which end at the exact
  moment inside an office period.
"""
from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from engine.rules.errors import DefinitionError

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
DEFAULT_CALENDAR = "vn"
DAY_OFF_KINDS = ("holiday", "compensatory", "swapped")
WORKING_DAY_KINDS = ("swapped",)
DEFAULT_WEEKEND = ("saturday", "sunday")
DEFAULT_OFFICE_HOURS = (("07:30", "11:30"), ("13:30", "17:00"))
DEFAULT_CUTOFF = "15:00"

_CALENDAR_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_YEAR = re.compile(r"^(19|[2-9]\d)\d\d$")


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
        office_hours=tuple((_to_time(s), _to_time(e)) for s, e in office_hours),
        cutoff=_to_time(cutoff),
        years=frozenset(int(y) for y in years),
        provisional_years=frozenset(int(y) for y in provisional_years),
        entries=entries,
    )


# --------------------------------------------------------------------------- counting


def effective_start(received_at: datetime, cal: Calendar, *, cutoff_applies: bool) -> datetime:
    """The moment counting starts from.

    * received on a day off -> the next working day at office opening;
    * ``cutoff_applies`` (counter and postal filings, Decree 61/2018 Art. 18) and received strictly
      after the cut-off (15:00) -> the next working day at office opening;
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

    Let ``s = effective_start(start, cal, cutoff_applies=...)`` and call ``s.date()`` the receipt
    day. The receipt day is never counted (Civil Code Art. 147): when the start was moved to the
    next working day (day off, or a counter filing after the cut-off) that moved day is the
    receipt day, so "received Thursday 15:30 at the counter, 1 working day" is due at the end of
    the first working day after Friday.

    * ``working_days``: the ``value``-th working day after the receipt day, at
      :meth:`Calendar.day_end`.
    * ``days``: the receipt day plus ``value`` calendar days; a last day that is not a working day
      moves to the next working day (Art. 148); due at ``day_end``.
    * ``hours``: ``value`` working hours (fractions allowed) counted from ``s`` inside the office
      periods of working days; due at that exact moment (the end of a period when the count ends
      there, not the opening of the next one).
    * ``immediate``: ``day_end`` of the receipt day; when ``s`` is already at or after that day's
      end (an online filing after office hours), ``day_end`` of the next working day.

    ``value`` must be > 0 (a whole number for ``working_days`` and ``days``); it is ignored for
    ``immediate`` (any number >= 0). A bad unit or value raises ``ValueError``.
    """
    _check_unit(unit)
    _check_value(value, unit)
    s = effective_start(start, cal, cutoff_applies=cutoff_applies)
    receipt_day = s.date()
    if unit == "working_days":
        return cal.day_end(cal.add_working_days(receipt_day, int(value)))
    if unit == "days":
        last = receipt_day + timedelta(days=int(value))
        if not cal.is_working_day(last):
            last = cal.next_working_day(last)
        return cal.day_end(last)
    if unit == "hours":
        return add_working_time(s, timedelta(hours=value), cal)
    end = cal.day_end(receipt_day)
    return end if s < end else cal.day_end(cal.next_working_day(receipt_day))


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


# --------------------------------------------------------------------------- loading files


def load_calendars(paths: Iterable[Path | str] | Path | str) -> dict[str, Calendar]:
    """Load every ``*.yaml`` of the given folders (or the given files) into calendars by name.

    Every problem is collected and raised together as one :class:`DefinitionError`, one
    ``file:line: message`` per problem (line numbers are 1-based).
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    problems: list[str] = []
    files: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = sorted(path.glob("*.yaml"))
        elif path.is_file():
            candidates = [path]
        else:
            problems.append(f"{path}:1: no such calendar file or folder")
            continue
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                files.append(candidate)
    parsed = [_CalendarFile.parse(f, problems) for f in files]
    calendars = _merge([p for p in parsed if p is not None], problems)
    if problems:
        raise DefinitionError(problems)
    return calendars


_TOP_KEYS = (
    "name", "year", "provisional", "weekend", "office_hours", "cutoff", "days_off", "working_days"
)
_ENTRY_KEYS = ("date", "kind", "name", "source")
_NAME_KEYS = ("vi", "en")
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


@dataclass
class _CalendarFile:
    """One calendar file as read; fields stay ``None`` where the file is invalid."""

    path: str
    problems: list[str]
    top_line: int = 1
    lines: dict[str, int] = field(default_factory=dict)
    name: str | None = DEFAULT_CALENDAR
    year: int | None = None
    provisional: bool = False
    weekend: frozenset[int] | None = None
    office_hours: tuple[tuple[time, time], ...] | None = None
    cutoff: time | None = None
    days: list[CalendarDay] = field(default_factory=list)

    @classmethod
    def parse(cls, path: Path, problems: list[str]) -> _CalendarFile | None:
        name = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{name}:1: cannot read the file: {exc}")
            return None
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else 1
            problems.append(f"{name}:{line}: YAML syntax error: {exc.problem or exc.context}")
            return None
        except yaml.YAMLError as exc:
            problems.append(f"{name}:1: YAML syntax error: {exc}")
            return None
        finally:
            loader.dispose()
        if root is None:
            problems.append(f"{name}:1: the calendar file is empty")
            return None
        if not isinstance(root, yaml.MappingNode):
            problems.append(f"{name}:{_line(root)}: a calendar file must be a mapping of keys")
            return None
        cf = cls(path=name, problems=problems, top_line=_line(root))
        cf._read(root)
        return cf

    def add(self, line: int, message: str) -> None:
        self.problems.append(f"{self.path}:{line}: {message}")

    # -- node readers

    def _mapping(
        self, node: yaml.Node, allowed: tuple[str, ...], what: str
    ) -> dict[str, tuple[int, yaml.Node]] | None:
        if not isinstance(node, yaml.MappingNode):
            self.add(_line(node), f"{what} must be a mapping")
            return None
        out: dict[str, tuple[int, yaml.Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR:
                self.add(_line(key_node), f"{what}: keys must be names")
                continue
            key = key_node.value
            if key in out:
                self.add(_line(key_node), f"{what}: duplicate key '{key}'")
                continue
            if key not in allowed:
                self.add(
                    _line(key_node),
                    f"{what}: unknown key '{key}' (allowed: {', '.join(allowed)})",
                )
                continue
            out[key] = (_line(key_node), value_node)
        return out

    def _string(self, node: yaml.Node, what: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag != _STR or not node.value.strip():
            self.add(_line(node), f"{what} must be a non-empty string")
            return None
        return node.value

    def _time(self, node: yaml.Node, what: str) -> time | None:
        match = _CLOCK.match(node.value) if isinstance(node, yaml.ScalarNode) else None
        if match and int(match[1]) <= 23 and int(match[2]) <= 59:
            return time(int(match[1]), int(match[2]))
        self.add(_line(node), f'{what} must be a time "HH:MM"')
        return None

    def _list(self, node: yaml.Node, what: str, *, null_ok: bool = False) -> list[yaml.Node] | None:
        if null_ok and isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.add(_line(node), f"{what} must be a list")
            return None
        return list(node.value)

    # -- the file

    def _read(self, root: yaml.MappingNode) -> None:
        keys = self._mapping(root, _TOP_KEYS, "calendar")
        if keys is None:
            return
        self.lines = {key: line for key, (line, _) in keys.items()}
        if "name" in keys:
            name = self._string(keys["name"][1], "name")
            if name is not None and not _CALENDAR_NAME.match(name):
                self.add(
                    _line(keys["name"][1]),
                    f"name '{name}' must be lower case letters, digits, '-' or '_'",
                )
                name = None
            self.name = name
        if "year" not in keys:
            self.add(self.top_line, "missing key 'year'")
        else:
            self.year = self._year(keys["year"][1])
        if "provisional" in keys:
            node = keys["provisional"][1]
            if isinstance(node, yaml.ScalarNode) and node.tag == _BOOL:
                self.provisional = node.value.lower() in ("true", "yes", "on")
            else:
                self.add(_line(node), "provisional must be true or false")
        if "weekend" in keys:
            self.weekend = self._weekend(keys["weekend"][1])
        else:
            self.weekend = frozenset(WEEKDAYS[n] for n in DEFAULT_WEEKEND)
        if "office_hours" in keys:
            self.office_hours = self._office_hours(keys["office_hours"][1])
        else:
            self.office_hours = tuple((_to_time(s), _to_time(e)) for s, e in DEFAULT_OFFICE_HOURS)
        if "cutoff" in keys:
            self.cutoff = self._time(keys["cutoff"][1], "cutoff")
        else:
            self.cutoff = _to_time(DEFAULT_CUTOFF)
        seen: dict[date, tuple[str, int]] = {}
        for key, working in (("days_off", False), ("working_days", True)):
            if key in keys:
                items = self._list(keys[key][1], key, null_ok=True) or []
                for item in items:
                    self._entry(item, key, working, seen)

    def _year(self, node: yaml.Node) -> int | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == _INT and _YEAR.match(node.value):
            return int(node.value)
        self.add(_line(node), "year must be a four-digit year such as 2026")
        return None

    def _weekend(self, node: yaml.Node) -> frozenset[int] | None:
        items = self._list(node, "weekend")
        if items is None:
            return None
        days: set[int] = set()
        ok = True
        for item in items:
            value = item.value if isinstance(item, yaml.ScalarNode) and item.tag == _STR else None
            if value not in WEEKDAYS:
                self.add(_line(item), f"weekend: expected a weekday name ({', '.join(WEEKDAYS)})")
                ok = False
            elif WEEKDAYS[value] in days:
                self.add(_line(item), f"weekend: '{value}' is listed twice")
                ok = False
            else:
                days.add(WEEKDAYS[value])
        if len(days) == 7:
            self.add(_line(node), "weekend: the whole week cannot be a weekend")
            ok = False
        return frozenset(days) if ok else None

    def _office_hours(self, node: yaml.Node) -> tuple[tuple[time, time], ...] | None:
        items = self._list(node, "office_hours")
        if items is None:
            return None
        if not items:
            self.add(_line(node), "office_hours must list at least one period")
            return None
        periods: list[tuple[time, time]] = []
        ok = True
        for item in items:
            if not isinstance(item, yaml.SequenceNode) or len(item.value) != 2:
                self.add(_line(item), 'office_hours: each period must be ["HH:MM", "HH:MM"]')
                ok = False
                continue
            start = self._time(item.value[0], "office_hours: period start")
            end = self._time(item.value[1], "office_hours: period end")
            if start is None or end is None:
                ok = False
                continue
            if not start < end:
                self.add(_line(item), "office_hours: a period must end after it starts")
                ok = False
            elif periods and start < periods[-1][1]:
                self.add(
                    _line(item), "office_hours: periods must be increasing and must not overlap"
                )
                ok = False
            periods.append((start, end))
        return tuple(periods) if ok else None

    def _entry(
        self, node: yaml.Node, key: str, working: bool, seen: dict[date, tuple[str, int]]
    ) -> None:
        what = f"{key} entry"
        fields = self._mapping(node, _ENTRY_KEYS, what)
        if fields is None:
            return
        line = _line(node)
        for required in ("date", "kind", "name"):
            if required not in fields:
                self.add(line, f"{what}: missing key '{required}'")
        day = self._date(fields["date"][1]) if "date" in fields else None
        kind = None
        if "kind" in fields:
            kinds = WORKING_DAY_KINDS if working else DAY_OFF_KINDS
            kind = self._string(fields["kind"][1], f"{what}: kind")
            if kind is not None and kind not in kinds:
                self.add(
                    _line(fields["kind"][1]),
                    f"{what}: kind '{kind}' is not one of {', '.join(kinds)}",
                )
                kind = None
        names = self._names(fields["name"][1], what) if "name" in fields else None
        source = None
        if "source" in fields:
            node_source = fields["source"][1]
            if not (isinstance(node_source, yaml.ScalarNode) and node_source.tag == _NULL):
                source = self._string(node_source, f"{what}: source")
        if day is None:
            return
        if self.year is not None and day.year != self.year:
            self.add(line, f"{what}: {day.isoformat()} is outside the file's year {self.year}")
            return
        if day in seen:
            other_key, other_line = seen[day]
            where = "" if other_key == key else f" in {other_key}"
            self.add(
                line, f"{what}: {day.isoformat()} is already listed{where} at line {other_line}"
            )
            return
        seen[day] = (key, line)
        weekday = WEEKDAY_NAMES[day.weekday()]
        if self.weekend is not None:
            on_weekend = day.weekday() in self.weekend
            if working and not on_weekend:
                self.add(line, f"{what}: {day.isoformat()} is a {weekday}, not a weekend day")
                return
            if not working and kind in ("compensatory", "swapped") and on_weekend:
                self.add(
                    line,
                    f"{what}: a {kind} day off must be a weekday; {day.isoformat()} is a {weekday}",
                )
                return
        if kind is None or names is None:
            return
        self.days.append(CalendarDay(day, kind, working, names[0], names[1], source))

    def _date(self, node: yaml.Node) -> date | None:
        if isinstance(node, yaml.ScalarNode) and _ISO_DATE.match(node.value):
            try:
                return date.fromisoformat(node.value)
            except ValueError as exc:
                self.add(_line(node), f"bad date '{node.value}': {exc}")
                return None
        value = node.value if isinstance(node, yaml.ScalarNode) else "a collection"
        self.add(_line(node), f"bad date '{value}': expected YYYY-MM-DD")
        return None

    def _names(self, node: yaml.Node, what: str) -> tuple[str, str] | None:
        fields = self._mapping(node, _NAME_KEYS, f"{what}: name")
        if fields is None:
            return None
        values = []
        for lang in _NAME_KEYS:
            if lang not in fields:
                self.add(_line(node), f"{what}: name: missing key '{lang}'")
                values.append(None)
            else:
                values.append(self._string(fields[lang][1], f"{what}: name.{lang}"))
        if values[0] is None or values[1] is None:
            return None
        return values[0], values[1]


def _merge(files: list[_CalendarFile], problems: list[str]) -> dict[str, Calendar]:
    """Merge files by calendar name; report clashes at the later file."""
    groups: dict[str, list[_CalendarFile]] = {}
    for cf in files:
        if cf.name is not None:
            groups.setdefault(cf.name, []).append(cf)
    calendars: dict[str, Calendar] = {}
    for name, group in groups.items():
        first = group[0]
        by_year: dict[int, _CalendarFile] = {}
        failed = False
        for cf in group:
            if cf.year is not None:
                if cf.year in by_year:
                    other = by_year[cf.year]
                    cf.add(
                        cf.lines.get("year", cf.top_line),
                        f"calendar '{name}' year {cf.year} is already defined in {other.path}",
                    )
                    failed = True
                else:
                    by_year[cf.year] = cf
            if cf is first:
                continue
            for setting in ("weekend", "office_hours", "cutoff"):
                mine, theirs = getattr(cf, setting), getattr(first, setting)
                if mine is not None and theirs is not None and mine != theirs:
                    cf.add(
                        cf.lines.get(setting, cf.top_line),
                        f"calendar '{name}': {setting} differs from {first.path}",
                    )
                    failed = True
        incomplete = any(
            None in (cf.year, cf.weekend, cf.office_hours, cf.cutoff) for cf in group
        )
        if failed or incomplete:
            continue
        entries = sorted((day for cf in group for day in cf.days), key=lambda day: day.date)
        calendars[name] = Calendar(
            name=name,
            weekend=first.weekend,
            days_off=frozenset(day.date for day in entries if not day.working),
            working_days=frozenset(day.date for day in entries if day.working),
            office_hours=first.office_hours,
            cutoff=first.cutoff,
            years=frozenset(cf.year for cf in group),
            provisional_years=frozenset(cf.year for cf in group if cf.provisional),
            entries=tuple(entries),
        )
    return calendars


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


def _to_time(value: time | str) -> time:
    if isinstance(value, time):
        return value
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f'expected a time "HH:MM", not {value!r}')
    return time(int(match[1]), int(match[2]))


def _clock(value: time) -> str:
    return value.strftime("%H:%M")
