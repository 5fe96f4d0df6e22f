"""The working-day calendar and time-limit counting: fixed dates, no wall clock."""
from __future__ import annotations

import ast
import sys
import textwrap
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from engine.rules.calendars import load_calendars
from engine.rules.deadlines import (
    UNITS,
    WEEKDAYS,
    Calendar,
    CalendarDay,
    add_working_time,
    calendar_from_days,
    compute_due,
    effective_start,
    extension_allowed,
    is_overdue,
    pause_shift,
    working_days_since,
    working_time_between,
)
from engine.rules.errors import DefinitionError

CALENDARS = Path(__file__).resolve().parents[2] / "procedures" / "calendars"


@pytest.fixture(scope="module")
def cal() -> Calendar:
    return load_calendars([CALENDARS])["vn"]


@pytest.fixture
def write_calendar(tmp_path):
    """Write a calendar file into a temporary folder and return its path."""

    def write(text: str, filename: str = "vn-2026.yaml") -> Path:
        path = tmp_path / filename
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


def problems_of(paths) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_calendars(paths)
    return caught.value.problems


def days(start: date, end: date):
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


MINIMAL = """
year: 2026
days_off:
  - {date: 2026-01-01, kind: holiday, name: {vi: Tết Dương lịch, en: New Year's Day}}
"""


# --------------------------------------------------------------------------- the published files


def test_calendar_files_merge_into_one_vn_calendar_covering_2025_to_2027(cal):
    assert cal.name == "vn"
    assert cal.years == frozenset({2025, 2026, 2027})
    assert cal.provisional_years == frozenset({2027})
    assert cal.weekend == frozenset({5, 6})
    assert cal.office_hours == ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))
    assert cal.cutoff == time(15, 0)


def test_swapped_saturday_10_january_2026_is_a_working_day(cal):
    assert cal.is_working_day(date(2026, 1, 10))
    assert not cal.is_working_day(date(2026, 1, 2))
    assert not cal.is_working_day(date(2026, 1, 3))


def test_vietnam_culture_day_is_off_from_2026_only(cal):
    assert not cal.is_working_day(date(2026, 11, 24))
    assert not cal.is_working_day(date(2027, 11, 24))
    assert cal.is_working_day(date(2025, 11, 24))


def test_tet_2026_break_runs_from_14_to_22_february(cal):
    assert cal.is_working_day(date(2026, 2, 13))
    assert not any(cal.is_working_day(d) for d in days(date(2026, 2, 14), date(2026, 2, 22)))
    assert cal.is_working_day(date(2026, 2, 23))


def test_2026_holiday_breaks_match_the_published_schedule(cal):
    off = [
        (date(2026, 1, 1), date(2026, 1, 4)),
        (date(2026, 4, 25), date(2026, 4, 27)),
        (date(2026, 4, 30), date(2026, 5, 3)),
        (date(2026, 8, 29), date(2026, 9, 2)),
    ]
    for first, last in off:
        assert not any(cal.is_working_day(d) for d in days(first, last)), (first, last)
        assert cal.is_working_day(first - timedelta(days=1))
        assert cal.is_working_day(last + timedelta(days=1))


def test_2025_holiday_breaks_match_the_published_schedule(cal):
    for first, last in [
        (date(2025, 1, 25), date(2025, 2, 2)),
        (date(2025, 4, 30), date(2025, 5, 4)),
        (date(2025, 8, 30), date(2025, 9, 2)),
    ]:
        assert not any(cal.is_working_day(d) for d in days(first, last)), (first, last)
    assert not cal.is_working_day(date(2025, 1, 1))
    assert not cal.is_working_day(date(2025, 4, 7))
    assert cal.is_working_day(date(2025, 4, 26))  # Saturday worked in exchange for 2 May
    assert cal.is_working_day(date(2025, 9, 3))


def test_2027_provisional_year_has_lunar_holidays_and_compensatory_days(cal):
    assert not any(cal.is_working_day(d) for d in days(date(2027, 2, 4), date(2027, 2, 10)))
    assert cal.is_working_day(date(2027, 2, 11))
    assert not cal.is_working_day(date(2027, 4, 16))  # 10/3 lunar
    assert not cal.is_working_day(date(2027, 5, 3))  # 1/5 on a Saturday
    assert not cal.is_working_day(date(2027, 1, 1))


def test_each_published_entry_has_names_a_source_and_a_known_kind(cal):
    assert cal.entries
    assert list(cal.entries) == sorted(cal.entries, key=lambda e: e.date)
    for entry in cal.entries:
        assert entry.name_vi and entry.name_en and entry.source, entry
        assert entry.kind in ("holiday", "compensatory", "swapped")
        assert entry.working == (entry.date in cal.working_days)
    entry = next(e for e in cal.entries if e.date == date(2026, 1, 10))
    assert entry.working and entry.kind == "swapped"
    assert "12729/VPCP-KGVX" in entry.source


def test_dates_after_the_last_published_year_only_have_weekends_off(cal):
    assert not cal.covers(date(2028, 1, 3))
    assert cal.covers(date(2027, 12, 31))
    assert cal.is_working_day(date(2030, 1, 1))  # a Tuesday, no data for 2030
    assert not cal.is_working_day(date(2030, 1, 5))  # Saturday


# --------------------------------------------------------------------------- calendar arithmetic


def test_next_and_previous_working_day_skip_tet(cal):
    assert cal.next_working_day(date(2026, 2, 13)) == date(2026, 2, 23)
    assert cal.previous_working_day(date(2026, 2, 23)) == date(2026, 2, 13)
    assert cal.next_working_day(date(2026, 1, 9)) == date(2026, 1, 10)


def test_add_zero_working_days_returns_the_day_or_the_next_working_day(cal):
    assert cal.add_working_days(date(2026, 3, 2), 0) == date(2026, 3, 2)
    assert cal.add_working_days(date(2026, 2, 14), 0) == date(2026, 2, 23)


def test_add_working_days_counts_strictly_after_the_day(cal):
    assert cal.add_working_days(date(2026, 2, 12), 3) == date(2026, 2, 24)
    assert cal.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 23)


@pytest.mark.parametrize("n", [-1, 1.5, True])
def test_add_working_days_refuses_negative_or_non_integer_counts(cal, n):
    with pytest.raises(ValueError):
        cal.add_working_days(date(2026, 3, 2), n)


def test_working_days_between_counts_after_a_up_to_and_including_b(cal):
    assert cal.working_days_between(date(2026, 3, 2), date(2026, 3, 5)) == 3
    assert cal.working_days_between(date(2026, 2, 12), date(2026, 2, 24)) == 3
    assert cal.working_days_between(date(2026, 1, 9), date(2026, 1, 12)) == 2  # Sat 10/01 worked
    assert cal.working_days_between(date(2026, 3, 5), date(2026, 3, 5)) == 0
    assert cal.working_days_between(date(2026, 3, 5), date(2026, 3, 2)) == 0


def test_working_days_between_agrees_with_counting_day_by_day(cal):
    anchors = [date(2024, 12, 20), date(2025, 4, 20), date(2026, 1, 1), date(2026, 8, 25)]
    for a in anchors:
        for span in (1, 2, 5, 6, 7, 8, 13, 30, 100, 400, 1200):
            b = a + timedelta(days=span)
            expected = sum(1 for d in days(a + timedelta(days=1), b) if cal.is_working_day(d))
            assert cal.working_days_between(a, b) == expected, (a, b)
            if expected:
                last = cal.add_working_days(a, expected)
                assert last <= b < cal.add_working_days(a, expected + 1)


def test_day_end_is_the_close_of_the_last_office_period(cal):
    assert cal.day_end(date(2026, 3, 2)) == datetime(2026, 3, 2, 17, 0)
    assert cal.day_start(date(2026, 3, 2)) == datetime(2026, 3, 2, 7, 30)


def test_calendar_methods_accept_datetimes_as_their_day(cal):
    assert cal.is_working_day(datetime(2026, 1, 10, 9, 0))
    assert not cal.is_working_day(datetime(2026, 11, 24, 9, 0))


def test_calendar_refuses_a_date_both_off_and_worked():
    d = date(2026, 1, 10)
    with pytest.raises(ValueError, match="both"):
        Calendar("x", frozenset({5, 6}), frozenset({d}), frozenset({d}),
                 ((time(7, 30), time(17, 0)),), time(15, 0), frozenset({2026}))


@pytest.mark.parametrize(
    "hours",
    [(), ((time(13, 30), time(17, 0)), (time(7, 30), time(11, 30))), ((time(9, 0), time(8, 0)),)],
)
def test_calendar_refuses_office_hours_that_are_not_increasing(hours):
    with pytest.raises(ValueError, match="office"):
        Calendar("x", frozenset({5, 6}), frozenset(), frozenset(), hours, time(15, 0), frozenset())


def test_calendar_refuses_a_weekend_of_the_whole_week():
    with pytest.raises(ValueError, match="whole week"):
        Calendar("x", frozenset(range(7)), frozenset(), frozenset(),
                 ((time(7, 30), time(17, 0)),), time(15, 0), frozenset())


def test_calendar_from_days_rebuilds_the_loaded_calendar_from_its_rows(cal):
    settings = cal.settings()
    assert settings == {
        "weekend": ["saturday", "sunday"],
        "office_hours": [["07:30", "11:30"], ["13:30", "17:00"]],
        "cutoff": "15:00",
        "years": [2025, 2026, 2027],
        "provisional_years": [2027],
    }
    rebuilt = calendar_from_days("vn", reversed(cal.entries), **settings)
    assert rebuilt == cal


def test_calendar_from_days_accepts_weekday_numbers_and_time_objects():
    rebuilt = calendar_from_days(
        "vn",
        [CalendarDay(date(2026, 1, 10), "swapped", True, "Làm bù", "Worked", None)],
        weekend=[5, 6],
        office_hours=[(time(7, 30), time(11, 30))],
        cutoff=time(15, 0),
        years=[2026],
    )
    assert rebuilt.is_working_day(date(2026, 1, 10))
    assert rebuilt.day_end(date(2026, 1, 10)) == datetime(2026, 1, 10, 11, 30)


def test_calendar_from_days_refuses_a_date_listed_twice():
    row = CalendarDay(date(2026, 1, 1), "holiday", False, "Tết", "New Year", None)
    with pytest.raises(ValueError, match="twice"):
        calendar_from_days("vn", [row, row], weekend=["saturday", "sunday"],
                           office_hours=[("07:30", "17:00")], cutoff="15:00", years=[2026])


def test_calendar_from_days_refuses_unknown_weekday_names():
    with pytest.raises(ValueError, match="weekday"):
        calendar_from_days("vn", [], weekend=["caturday"], office_hours=[("07:30", "17:00")],
                           cutoff="15:00", years=[2026])


def _non_stdlib_imports(module: str) -> set[str]:
    source = Path(__file__).resolve().parents[2] / "engine" / "rules" / module
    imported = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = node.module
            imported.add(module if module.startswith("engine") else module.split(".")[0])
    return {name for name in imported if name not in sys.stdlib_module_names}


def test_deadlines_module_imports_only_the_standard_library():
    # counting needs no files: reading calendar files (yaml, DefinitionError) is engine.rules.calendars
    assert _non_stdlib_imports("deadlines.py") == set()


def test_calendars_module_imports_only_the_standard_library_yaml_engine_errors_and_deadlines():
    assert _non_stdlib_imports("calendars.py") == {"yaml", "engine.rules.errors", "engine.rules.deadlines"}


def test_module_constants_name_weekdays_and_units():
    assert WEEKDAYS["monday"] == 0 and WEEKDAYS["sunday"] == 6
    assert UNITS == ("working_days", "days", "hours", "immediate")


# --------------------------------------------------------------------------- effective start


def test_online_filing_after_the_cutoff_starts_when_received(cal):
    at = datetime(2026, 1, 8, 15, 30)
    assert effective_start(at, cal, cutoff_applies=False) == at


def test_counter_filing_after_the_cutoff_starts_next_working_morning(cal):
    start = effective_start(datetime(2026, 1, 8, 15, 30), cal, cutoff_applies=True)
    assert start == datetime(2026, 1, 9, 7, 30)


def test_counter_filing_at_exactly_the_cutoff_starts_the_same_day(cal):
    at = datetime(2026, 1, 8, 15, 0)
    assert effective_start(at, cal, cutoff_applies=True) == at


def test_filing_on_a_day_off_starts_next_working_morning(cal):
    assert effective_start(datetime(2026, 2, 15, 9, 0), cal, cutoff_applies=False) == datetime(
        2026, 2, 23, 7, 30
    )
    assert effective_start(datetime(2026, 1, 3, 9, 0), cal, cutoff_applies=True) == datetime(
        2026, 1, 5, 7, 30
    )


def test_a_counter_filing_after_the_cutoff_before_a_swapped_saturday_starts_that_saturday(cal):
    start = effective_start(datetime(2026, 1, 9, 16, 0), cal, cutoff_applies=True)
    assert start == datetime(2026, 1, 10, 7, 30)


def test_aware_datetimes_are_refused(cal):
    with pytest.raises(ValueError, match="naive"):
        effective_start(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc), cal, cutoff_applies=False)


# --------------------------------------------------------------------------- compute_due


def test_three_working_days_from_12_february_2026_skip_tet(cal):
    due = compute_due(datetime(2026, 2, 12, 10, 0), 3, "working_days", cal)
    assert due == datetime(2026, 2, 24, 17, 0)


def test_counter_filing_after_cutoff_excludes_the_receipt_day_once(cal):
    # Thursday 08/01 15:30 at the counter: Thursday is the receipt day (not counted); the dossier
    # reaches the desk on Friday morning, which is the first counted day. Friday is not excluded a
    # second time, so one working day ends on Friday, not on the swapped Saturday 10/01.
    due = compute_due(datetime(2026, 1, 8, 15, 30), 1, "working_days", cal, cutoff_applies=True)
    assert due == datetime(2026, 1, 9, 17, 0)
    two = compute_due(datetime(2026, 1, 8, 15, 30), 2, "working_days", cal, cutoff_applies=True)
    assert two == datetime(2026, 1, 10, 17, 0)  # the swapped Saturday counts as a working day


def test_online_filing_after_cutoff_is_due_the_next_working_day(cal):
    due = compute_due(datetime(2026, 1, 8, 15, 30), 1, "working_days", cal)
    assert due == datetime(2026, 1, 9, 17, 0)


def test_one_working_day_from_24_april_2026_skips_hung_kings_break(cal):
    due = compute_due(datetime(2026, 4, 24, 10, 0), 1, "working_days", cal)
    assert due == datetime(2026, 4, 28, 17, 0)


def test_working_days_received_on_a_day_off_count_from_the_next_working_day(cal):
    # Received Saturday 14/02: taken as received Monday 23/02, which is not counted.
    due = compute_due(datetime(2026, 2, 14, 9, 0), 1, "working_days", cal)
    assert due == datetime(2026, 2, 24, 17, 0)


def test_working_days_accept_a_whole_float(cal):
    due = compute_due(datetime(2026, 3, 2, 9, 0), 2.0, "working_days", cal)
    assert due == datetime(2026, 3, 4, 17, 0)


def test_calendar_days_ending_on_a_day_off_move_to_the_next_working_day(cal):
    due = compute_due(datetime(2026, 8, 24, 10, 0), 5, "days", cal)  # ends Saturday 29/08
    assert due == datetime(2026, 9, 3, 17, 0)
    assert compute_due(datetime(2026, 8, 28, 10, 0), 1, "days", cal) == datetime(2026, 9, 3, 17, 0)


def test_calendar_days_count_weekends_and_holidays_in_between(cal):
    assert compute_due(datetime(2026, 3, 2, 9, 0), 3, "days", cal) == datetime(2026, 3, 5, 17, 0)
    due = compute_due(datetime(2026, 2, 12, 9, 0), 10, "days", cal)  # 22/02 is a Sunday
    assert due == datetime(2026, 2, 23, 17, 0)


def test_calendar_days_after_the_cutoff_exclude_the_receipt_day_once(cal):
    # Monday 02/03 16:00 at the counter: Monday is not counted, Tuesday and Wednesday are.
    due = compute_due(datetime(2026, 3, 2, 16, 0), 2, "days", cal, cutoff_applies=True)
    assert due == datetime(2026, 3, 4, 17, 0)


def test_eight_working_hours_from_monday_afternoon_end_tuesday_afternoon(cal):
    # 14:00-17:00 (3 h), Tuesday 07:30-11:30 (4 h), then 1 h from 13:30.
    due = compute_due(datetime(2026, 3, 2, 14, 0), 8, "hours", cal)
    assert due == datetime(2026, 3, 3, 14, 30)


def test_working_hours_ending_at_a_period_end_stop_there(cal):
    assert compute_due(datetime(2026, 3, 2, 9, 30), 2, "hours", cal) == datetime(2026, 3, 2, 11, 30)


def test_fractional_working_hours_skip_the_lunch_break(cal):
    assert compute_due(datetime(2026, 3, 2, 11, 15), 0.5, "hours", cal) == datetime(
        2026, 3, 2, 13, 45
    )


def test_working_hours_before_opening_count_from_opening(cal):
    assert compute_due(datetime(2026, 3, 2, 6, 0), 1, "hours", cal) == datetime(2026, 3, 2, 8, 30)


def test_working_hours_skip_tet(cal):
    due = compute_due(datetime(2026, 2, 13, 15, 0), 4, "hours", cal)
    assert due == datetime(2026, 2, 23, 9, 30)


def test_working_hours_of_a_counter_filing_after_cutoff_start_next_morning(cal):
    due = compute_due(datetime(2026, 1, 8, 16, 0), 1, "hours", cal, cutoff_applies=True)
    assert due == datetime(2026, 1, 9, 8, 30)


def test_immediate_is_due_at_the_end_of_the_receipt_day(cal):
    assert compute_due(datetime(2026, 3, 2, 9, 0), 0, "immediate", cal) == datetime(
        2026, 3, 2, 17, 0
    )


def test_immediate_counter_filing_after_cutoff_is_due_end_of_next_working_day(cal):
    due = compute_due(datetime(2026, 1, 8, 15, 30), 0, "immediate", cal, cutoff_applies=True)
    assert due == datetime(2026, 1, 9, 17, 0)
    # §2.7 rule 5 says it of same-day procedures whatever the channel: online too.
    online = compute_due(datetime(2026, 1, 8, 15, 30), 0, "immediate", cal)
    assert online == datetime(2026, 1, 9, 17, 0)


def test_immediate_online_filing_after_office_hours_is_due_next_working_day(cal):
    due = compute_due(datetime(2026, 1, 8, 18, 0), 1, "immediate", cal)
    assert due == datetime(2026, 1, 9, 17, 0)


def test_immediate_filing_on_a_day_off_is_due_next_working_day(cal):
    due = compute_due(datetime(2026, 11, 24, 9, 0), 0, "immediate", cal)
    assert due == datetime(2026, 11, 25, 17, 0)


def test_deadlines_run_past_the_last_published_year(cal):
    due = compute_due(datetime(2027, 12, 30, 9, 0), 5, "working_days", cal)
    assert due == datetime(2028, 1, 6, 17, 0)
    assert not cal.covers(due.date())


def test_unknown_unit_is_refused_with_the_known_units(cal):
    with pytest.raises(ValueError, match="working_days, days, hours, immediate"):
        compute_due(datetime(2026, 3, 2, 9, 0), 1, "months", cal)


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        (0, "working_days"),
        (-1, "days"),
        (0, "hours"),
        (1.5, "working_days"),
        (2.5, "days"),
        (True, "working_days"),
        ("3", "days"),
        (float("nan"), "hours"),
        (float("inf"), "hours"),
        (-1, "immediate"),
    ],
)
def test_bad_time_limit_values_are_refused(cal, value, unit):
    with pytest.raises(ValueError):
        compute_due(datetime(2026, 3, 2, 9, 0), value, unit, cal)


# --------------------------------------------------------------------------- pause and resume


def test_pause_in_working_days_pushes_by_the_working_days_paused(cal):
    due = datetime(2026, 3, 13, 17, 0)
    shifted = pause_shift(due, datetime(2026, 3, 2, 10, 0), datetime(2026, 3, 4, 9, 0),
                          "working_days", cal)
    assert shifted == datetime(2026, 3, 17, 17, 0)


def test_pause_resumed_the_same_day_does_not_move_the_due_date(cal):
    due = datetime(2026, 3, 13, 17, 0)
    for unit in UNITS:
        assert pause_shift(due, datetime(2026, 3, 2, 10, 0), datetime(2026, 3, 2, 10, 0),
                           unit, cal) == due
        if unit != "hours":
            assert pause_shift(due, datetime(2026, 3, 2, 10, 0), datetime(2026, 3, 2, 16, 0),
                               unit, cal) == due


def test_pause_over_tet_counts_only_working_days(cal):
    due = datetime(2026, 3, 2, 17, 0)
    shifted = pause_shift(due, datetime(2026, 2, 12, 9, 0), datetime(2026, 2, 23, 9, 0),
                          "working_days", cal)
    assert shifted == datetime(2026, 3, 4, 17, 0)  # Friday 13/02 and Monday 23/02 paused


def test_pause_in_calendar_days_moves_off_a_day_off(cal):
    due = datetime(2026, 8, 27, 17, 0)
    one_day = pause_shift(
        due, datetime(2026, 8, 24, 9, 0), datetime(2026, 8, 25, 9, 0), "days", cal
    )
    assert one_day == datetime(2026, 8, 28, 17, 0)
    two_days = pause_shift(
        due, datetime(2026, 8, 24, 9, 0), datetime(2026, 8, 26, 9, 0), "days", cal
    )
    assert two_days == datetime(2026, 9, 3, 17, 0)


def test_pause_in_hours_pushes_by_the_working_time_paused(cal):
    due = datetime(2026, 3, 2, 16, 0)
    # Paused 10:00-14:00: 1.5 h before lunch and 0.5 h after count, lunch does not.
    shifted = pause_shift(
        due, datetime(2026, 3, 2, 10, 0), datetime(2026, 3, 2, 14, 0), "hours", cal
    )
    assert shifted == datetime(2026, 3, 3, 8, 30)


def test_pause_in_hours_outside_office_hours_does_not_move_the_due_date(cal):
    due = datetime(2026, 3, 3, 10, 0)
    shifted = pause_shift(
        due, datetime(2026, 3, 2, 17, 30), datetime(2026, 3, 3, 7, 0), "hours", cal
    )
    assert shifted == due


def test_pause_of_an_immediate_limit_moves_to_the_end_of_the_resume_day(cal):
    due = datetime(2026, 3, 2, 17, 0)
    shifted = pause_shift(
        due, datetime(2026, 3, 2, 10, 0), datetime(2026, 3, 4, 9, 0), "immediate", cal
    )
    assert shifted == datetime(2026, 3, 4, 17, 0)
    weekend = pause_shift(
        due, datetime(2026, 3, 2, 10, 0), datetime(2026, 3, 7, 9, 0), "immediate", cal
    )
    assert weekend == datetime(2026, 3, 9, 17, 0)


def test_pause_refuses_a_resume_before_the_pause(cal):
    with pytest.raises(ValueError, match="before"):
        pause_shift(datetime(2026, 3, 13, 17, 0), datetime(2026, 3, 4, 9, 0),
                    datetime(2026, 3, 2, 9, 0), "working_days", cal)


def test_pause_refuses_an_unknown_unit(cal):
    with pytest.raises(ValueError, match="unit"):
        pause_shift(datetime(2026, 3, 13, 17, 0), datetime(2026, 3, 2, 9, 0),
                    datetime(2026, 3, 4, 9, 0), "weeks", cal)


def test_working_time_between_counts_only_office_periods(cal):
    assert working_time_between(datetime(2026, 3, 2, 6, 0), datetime(2026, 3, 2, 20, 0), cal) == (
        timedelta(hours=7, minutes=30)
    )
    assert working_time_between(datetime(2026, 2, 13, 16, 0), datetime(2026, 2, 23, 8, 0), cal) == (
        timedelta(hours=1, minutes=30)
    )
    assert working_time_between(datetime(2026, 3, 3), datetime(2026, 3, 2), cal) == timedelta(0)


def test_add_working_time_refuses_negative_amounts(cal):
    with pytest.raises(ValueError):
        add_working_time(datetime(2026, 3, 2, 9, 0), timedelta(hours=-1), cal)


# --------------------------------------------------------------------------- guards


def test_working_days_since_receipt_does_not_count_the_receipt_day(cal):
    received = datetime(2026, 3, 2, 10, 0)
    assert working_days_since(received, datetime(2026, 3, 2, 16, 0), cal) == 0
    assert working_days_since(received, datetime(2026, 3, 5, 16, 0), cal) == 3
    assert working_days_since(received, datetime(2026, 3, 6, 8, 0), cal) == 4
    assert working_days_since(datetime(2026, 2, 12, 9, 0), datetime(2026, 2, 24, 9, 0), cal) == 3


def test_extension_is_allowed_up_to_the_working_day_before_the_due_day(cal):
    due = datetime(2026, 3, 6, 17, 0)  # Friday
    assert extension_allowed(due, datetime(2026, 3, 4, 9, 0), cal)
    assert extension_allowed(due, datetime(2026, 3, 5, 16, 59), cal)
    assert not extension_allowed(due, datetime(2026, 3, 6, 8, 0), cal)
    assert not extension_allowed(due, datetime(2026, 3, 9, 8, 0), cal)


def test_extension_for_a_monday_due_date_must_be_made_by_friday(cal):
    due = datetime(2026, 3, 9, 17, 0)
    assert extension_allowed(due, datetime(2026, 3, 6, 16, 0), cal)
    assert not extension_allowed(due, datetime(2026, 3, 7, 9, 0), cal)


def test_extension_before_a_due_date_after_tet_may_be_made_on_the_monday_after(cal):
    due = datetime(2026, 2, 24, 17, 0)
    assert extension_allowed(due, datetime(2026, 2, 21, 9, 0), cal)
    assert extension_allowed(due, datetime(2026, 2, 23, 9, 0), cal)
    assert not extension_allowed(due, datetime(2026, 2, 24, 9, 0), cal)


def test_overdue_only_after_the_due_moment():
    due = datetime(2026, 3, 6, 17, 0)
    assert not is_overdue(None, datetime(2030, 1, 1))
    assert not is_overdue(due, due)
    assert is_overdue(due, due + timedelta(seconds=1))


# --------------------------------------------------------------------------- loading: good paths


def test_a_minimal_file_uses_the_default_name_weekend_hours_and_cutoff(write_calendar):
    calendars = load_calendars([write_calendar(MINIMAL).parent])
    vn = calendars["vn"]
    assert vn.years == frozenset({2026}) and not vn.provisional_years
    assert vn.weekend == frozenset({5, 6})
    assert vn.cutoff == time(15, 0)
    assert vn.day_end(date(2026, 1, 5)) == datetime(2026, 1, 5, 17, 0)
    assert vn.entries == (
        CalendarDay(date(2026, 1, 1), "holiday", False, "Tết Dương lịch", "New Year's Day", None),
    )


def test_files_of_different_names_make_separate_calendars(write_calendar):
    write_calendar(MINIMAL)
    write_calendar(
        """
        name: hcm
        year: 2026
        weekend: [sunday]
        cutoff: "16:00"
        days_off: []
        """,
        "hcm-2026.yaml",
    )
    calendars = load_calendars(write_calendar(MINIMAL).parent)
    assert set(calendars) == {"vn", "hcm"}
    assert calendars["hcm"].is_working_day(date(2026, 1, 3))  # Saturday
    assert calendars["hcm"].cutoff == time(16, 0)


def test_files_of_the_same_name_merge_their_years(write_calendar):
    write_calendar(MINIMAL)
    folder = write_calendar(
        """
        year: 2027
        provisional: true
        working_days:
          - {date: 2027-01-09, kind: swapped, name: {vi: Làm bù, en: Worked}, source: test}
        """,
        "vn-2027.yaml",
    ).parent
    vn = load_calendars([folder])["vn"]
    assert vn.years == frozenset({2026, 2027})
    assert vn.provisional_years == frozenset({2027})
    assert vn.working_days == frozenset({date(2027, 1, 9)})


def test_unquoted_times_and_empty_lists_are_accepted(write_calendar):
    path = write_calendar(
        """
        year: 2026
        office_hours: [[8:00, 12:00], [13:00, 17:30]]
        cutoff: 16:00
        days_off:
        working_days:
        """
    )
    vn = load_calendars([path])["vn"]
    assert vn.office_hours == ((time(8, 0), time(12, 0)), (time(13, 0), time(17, 30)))
    assert vn.cutoff == time(16, 0)
    assert not vn.days_off and not vn.working_days


def test_a_holiday_on_a_weekend_may_be_listed(write_calendar):
    path = write_calendar(
        """
        year: 2026
        days_off:
          - {date: 2026-04-26, kind: holiday, name: {vi: Giỗ Tổ, en: Hung Kings}}
        """
    )
    assert not load_calendars([path])["vn"].is_working_day(date(2026, 4, 26))


def test_a_file_given_both_directly_and_in_its_folder_is_read_once(write_calendar):
    path = write_calendar(MINIMAL)
    assert load_calendars([path.parent, path])["vn"].years == frozenset({2026})


def test_files_other_than_yaml_in_a_folder_are_ignored(write_calendar, tmp_path):
    write_calendar(MINIMAL)
    (tmp_path / "README.md").write_text("not a calendar: [", encoding="utf-8")
    assert set(load_calendars([tmp_path])) == {"vn"}


def test_no_files_give_no_calendars(tmp_path):
    assert load_calendars([tmp_path]) == {}


# --------------------------------------------------------------------------- loading: bad paths


def test_yaml_syntax_error_is_reported_with_its_line(write_calendar):
    path = write_calendar(
        """
        year: 2026
        days_off:
          - {date: 2026-01-01, kind: holiday
        working_days: []
        """
    )
    [problem] = problems_of([path])
    assert problem.startswith(f"{path}:4: YAML syntax error")


def test_unknown_keys_are_reported_with_their_lines(write_calendar):
    path = write_calendar(
        """
        year: 2026
        holidays: []
        days_off:
          - {date: 2026-01-01, kind: holiday, name: {vi: A, en: B}, note: x}
        """
    )
    problems = problems_of([path])
    assert f"{path}:2: calendar: unknown key 'holidays'" in problems[0]
    assert problems[1].startswith(f"{path}:4: days_off entry: unknown key 'note'")
    assert len(problems) == 2


def test_duplicate_keys_are_reported(write_calendar):
    path = write_calendar(
        """
        year: 2026
        cutoff: "15:00"
        cutoff: "16:00"
        """
    )
    assert problems_of([path]) == [f"{path}:3: calendar: duplicate key 'cutoff'"]


def test_a_missing_year_is_reported_at_the_top(write_calendar):
    path = write_calendar(
        """
        name: vn
        days_off: []
        """
    )
    assert problems_of([path]) == [f"{path}:1: missing key 'year'"]


@pytest.mark.parametrize("year", ["twenty", "'2026'", "26", "2026.0", "true"])
def test_a_year_that_is_not_a_four_digit_number_is_reported(write_calendar, year):
    path = write_calendar(f"name: vn\nyear: {year}\n")
    [problem] = problems_of([path])
    assert problem.startswith(f"{path}:2: year must be a four-digit year")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-02-30", "bad date '2026-02-30'"),
        ("01/02/2026", "bad date '01/02/2026': expected YYYY-MM-DD"),
        ("2026-1-1", "bad date '2026-1-1': expected YYYY-MM-DD"),
        ("[2026, 1, 1]", "bad date 'a collection'"),
    ],
)
def test_bad_dates_are_reported(write_calendar, value, message):
    path = write_calendar(
        f"""
        year: 2026
        days_off:
          - date: {value}
            kind: holiday
            name: {{vi: A, en: B}}
        """
    )
    [problem] = problems_of([path])
    assert problem.startswith(f"{path}:3: {message}")


def test_a_date_outside_the_files_year_is_reported(write_calendar):
    path = write_calendar(
        """
        year: 2026
        days_off:
          - {date: 2026-01-01, kind: holiday, name: {vi: A, en: B}}
          - {date: 2027-01-01, kind: holiday, name: {vi: A, en: B}}
        """
    )
    assert problems_of([path]) == [
        f"{path}:4: days_off entry: 2027-01-01 is outside the file's year 2026"
    ]


def test_duplicate_dates_are_reported_with_the_first_line(write_calendar):
    path = write_calendar(
        """
        year: 2026
        days_off:
          - {date: 2026-01-01, kind: holiday, name: {vi: A, en: B}}
          - {date: 2026-01-01, kind: holiday, name: {vi: C, en: D}}
        """
    )
    assert problems_of([path]) == [
        f"{path}:4: days_off entry: 2026-01-01 is already listed at line 3"
    ]


def test_a_date_in_both_lists_is_reported(write_calendar):
    path = write_calendar(
        """
        year: 2026
        days_off:
          - {date: 2026-01-10, kind: holiday, name: {vi: A, en: B}}
        working_days:
          - {date: 2026-01-10, kind: swapped, name: {vi: A, en: B}}
        """
    )
    assert problems_of([path]) == [
        f"{path}:5: working_days entry: 2026-01-10 is already listed in days_off at line 3"
    ]


def test_a_worked_day_that_is_not_a_weekend_day_is_reported(write_calendar):
    path = write_calendar(
        """
        year: 2026
        working_days:
          - {date: 2026-01-09, kind: swapped, name: {vi: A, en: B}}
        """
    )
    assert problems_of([path]) == [
        f"{path}:3: working_days entry: 2026-01-09 is a friday, not a weekend day"
    ]


def test_a_compensatory_day_on_a_weekend_is_reported(write_calendar):
    path = write_calendar(
        """
        year: 2026
        days_off:
          - {date: 2026-04-25, kind: compensatory, name: {vi: A, en: B}}
        """
    )
    [problem] = problems_of([path])
    assert problem.startswith(f"{path}:3: days_off entry: a compensatory day off must be a weekday")


def test_unknown_kinds_and_missing_entry_keys_are_reported(write_calendar):
    path = write_calendar(
        """
        year: 2026
        days_off:
          - {date: 2026-01-01, kind: party, name: {vi: A, en: B}}
          - {date: 2026-01-02}
        working_days:
          - {date: 2026-01-10, kind: holiday, name: {vi: A}}
        """
    )
    problems = problems_of([path])
    assert problems == [
        f"{path}:3: days_off entry: kind 'party' is not one of holiday, compensatory, swapped",
        f"{path}:4: days_off entry: missing key 'kind'",
        f"{path}:4: days_off entry: missing key 'name'",
        f"{path}:6: working_days entry: kind 'holiday' is not one of swapped",
        f"{path}:6: working_days entry: name: missing key 'en'",
    ]


def test_wrong_types_are_reported(write_calendar):
    path = write_calendar(
        """
        name: 12
        year: 2026
        provisional: maybe
        weekend: saturday
        days_off: {date: 2026-01-01}
        working_days:
          - 2026-01-10
          - {date: 2026-01-17, kind: swapped, name: Làm bù, source: [a]}
        """
    )
    problems = problems_of([path])
    assert problems == [
        f"{path}:1: name must be a non-empty string",
        f"{path}:3: provisional must be true or false",
        f"{path}:4: weekend must be a list",
        f"{path}:5: days_off must be a list",
        f"{path}:7: working_days entry must be a mapping",
        f"{path}:8: working_days entry: name must be a mapping",
        f"{path}:8: working_days entry: source must be a non-empty string",
    ]


def test_a_bad_calendar_name_is_reported(write_calendar):
    path = write_calendar("name: Việt Nam\nyear: 2026\n")
    [problem] = problems_of([path])
    assert problem.startswith(f"{path}:1: name 'Việt Nam' must be lower case")


def test_bad_weekends_are_reported(write_calendar):
    path = write_calendar(
        """
        year: 2026
        weekend: [saturday, caturday, saturday]
        """
    )
    assert problems_of([path]) == [
        f"{path}:2: weekend: expected a weekday name "
        "(monday, tuesday, wednesday, thursday, friday, saturday, sunday)",
        f"{path}:2: weekend: 'saturday' is listed twice",
    ]
    whole = write_calendar(
        "year: 2026\nweekend: [monday, tuesday, wednesday, thursday, friday, saturday, sunday]\n",
        "whole.yaml",
    )
    assert problems_of([whole]) == [f"{whole}:2: weekend: the whole week cannot be a weekend"]


def test_office_hours_that_are_not_increasing_are_reported(write_calendar):
    path = write_calendar(
        """
        year: 2026
        office_hours:
          - ["13:30", "17:00"]
          - ["07:30", "11:30"]
          - ["18:00", "17:30"]
        """
    )
    assert problems_of([path]) == [
        f"{path}:4: office_hours: periods must be increasing and must not overlap",
        f"{path}:5: office_hours: a period must end after it starts",
    ]


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ('[["25:00", "17:00"]]', 'office_hours: period start must be a time "HH:MM"'),
        ('[["07:30"]]', 'office_hours: each period must be ["HH:MM", "HH:MM"]'),
        ("[]", "office_hours must list at least one period"),
        ('"07:30-17:00"', "office_hours must be a list"),
    ],
)
def test_malformed_office_hours_are_reported(write_calendar, hours, message):
    path = write_calendar(f"year: 2026\noffice_hours: {hours}\n")
    assert problems_of([path]) == [f"{path}:2: {message}"]


def test_a_bad_cutoff_is_reported(write_calendar):
    path = write_calendar('year: 2026\ncutoff: "3pm"\n')
    assert problems_of([path]) == [f'{path}:2: cutoff must be a time "HH:MM"']


def test_two_files_of_the_same_name_and_year_are_reported(write_calendar):
    first = write_calendar(MINIMAL, "a.yaml")
    second = write_calendar("# copy\nname: vn\nyear: 2026\n", "b.yaml")
    assert problems_of([first.parent]) == [
        f"{second}:3: calendar 'vn' year 2026 is already defined in {first}"
    ]


def test_files_of_the_same_name_must_agree_on_settings(write_calendar):
    first = write_calendar(MINIMAL, "vn-2026.yaml")
    second = write_calendar(
        """
        year: 2027
        cutoff: "16:00"
        office_hours: [["08:00", "17:00"]]
        """,
        "vn-2027.yaml",
    )
    third = write_calendar("year: 2028\nweekend: [sunday]\n", "vn-2028.yaml")
    assert problems_of([first.parent]) == [
        f"{second}:3: calendar 'vn': office_hours differs from {first}",
        f"{second}:2: calendar 'vn': cutoff differs from {first}",
        f"{third}:2: calendar 'vn': weekend differs from {first}",
    ]


def test_an_empty_file_or_a_list_is_reported(write_calendar):
    empty = write_calendar("# nothing yet\n", "empty.yaml")
    listed = write_calendar("- year: 2026\n", "list.yaml")
    assert problems_of([empty, listed]) == [
        f"{empty}:1: the calendar file is empty",
        f"{listed}:1: a calendar file must be a mapping of keys",
    ]


def test_several_documents_in_one_file_are_reported(write_calendar):
    path = write_calendar("year: 2026\n---\nyear: 2027\n")
    [problem] = problems_of([path])
    assert problem.startswith(f"{path}:2: YAML syntax error")


def test_a_missing_path_is_reported(tmp_path):
    missing = tmp_path / "nowhere"
    assert problems_of([missing]) == [f"{missing}:1: no such calendar file or folder"]


def test_every_problem_of_every_file_is_reported_at_once(write_calendar):
    a = write_calendar("year: 2026\nextra: 1\n", "a.yaml")
    b = write_calendar("name: other\nyear: 2026\ncutoff: late\n", "b.yaml")
    with pytest.raises(DefinitionError) as caught:
        load_calendars([a.parent])
    assert caught.value.problems == [
        f"{a}:2: calendar: unknown key 'extra' "
        "(allowed: name, year, provisional, weekend, office_hours, cutoff, days_off, working_days)",
        f"{b}:3: cutoff must be a time \"HH:MM\"",
    ]
    assert str(a) in caught.value.message and str(b) in caught.value.message
