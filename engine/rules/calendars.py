"""Calendar files: one YAML file per year in ``procedures/calendars/``, loaded into the
:class:`~engine.rules.deadlines.Calendar` that deadline counting uses.

Files with the same ``name`` merge into one calendar. A day is a working day when it is listed in
``working_days`` (a worked weekend day, e.g. a swapped Saturday), else when it is not listed in
``days_off`` and is not a weekly rest day. Every problem is reported as ``file:line: message``
(1-based lines) in one :class:`~engine.rules.errors.DefinitionError`.

Pure rules: the standard library, ``yaml``, :mod:`engine.rules.errors` and
:mod:`engine.rules.deadlines` only.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

import yaml

from engine.rules.deadlines import WEEKDAY_NAMES, WEEKDAYS, Calendar, CalendarDay, to_time
from engine.rules.errors import DefinitionError

DEFAULT_CALENDAR = "vn"
DAY_OFF_KINDS = ("holiday", "compensatory", "swapped")
WORKING_DAY_KINDS = ("swapped",)
DEFAULT_WEEKEND = ("saturday", "sunday")
DEFAULT_OFFICE_HOURS = (("07:30", "11:30"), ("13:30", "17:00"))
DEFAULT_CUTOFF = "15:00"

_CALENDAR_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR = re.compile(r"^(19|[2-9]\d)\d\d$")


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
        if isinstance(node, yaml.ScalarNode):
            try:
                return to_time(node.value)
            except ValueError:
                pass
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
            self.office_hours = tuple((to_time(s), to_time(e)) for s, e in DEFAULT_OFFICE_HOURS)
        if "cutoff" in keys:
            self.cutoff = self._time(keys["cutoff"][1], "cutoff")
        else:
            self.cutoff = to_time(DEFAULT_CUTOFF)
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
