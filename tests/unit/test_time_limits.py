"""Time limits: the counting rules of §2.7 on the published calendar, hypothesis properties, the
``immediate`` unit, and the time-limit cases of a definition (checks at their lines, the
``apply_time_limit_case`` action on plain objects)."""
from __future__ import annotations

import datetime as dt
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rules import deadlines
from engine.rules.calendars import load_calendars
from engine.rules.deadlines import compute_due, effective_start, receipt_day
from engine.rules.errors import ActionNotAllowedError, PermissionDeniedError, ValidationError
from engine.rules.workflow import ActionContext, available_actions, fire
from tests.unit.test_definitions import (  # noqa: F401  (write is a fixture)
    EXPLICIT,
    FORM,
    ONE_STOP,
    PlainDossier,
    _assert_reported,
    _line,
    _load,
    _problems,
    _replace,
    write,
)

CALENDARS = Path(__file__).resolve().parents[2] / "procedures" / "calendars"
CAL = load_calendars([CALENDARS])["vn"]


# --------------------------------------------------------------------------- §2.7, rule by rule


def test_rule_2_the_receipt_day_is_not_counted():
    # received Monday 2 March at 09:00: 1 working day is Tuesday, 1 day is Tuesday
    assert compute_due(datetime(2026, 3, 2, 9, 0), 1, "working_days", CAL) == datetime(2026, 3, 3, 17, 0)
    assert compute_due(datetime(2026, 3, 2, 9, 0), 1, "days", CAL) == datetime(2026, 3, 3, 17, 0)
    # received at 07:00, before office hours, it is still the receipt day
    assert compute_due(datetime(2026, 3, 2, 7, 0), 1, "working_days", CAL) == datetime(2026, 3, 3, 17, 0)


def test_rule_2_hours_start_at_the_moment_of_receipt():
    assert compute_due(datetime(2026, 3, 2, 9, 0), 2, "hours", CAL) == datetime(2026, 3, 2, 11, 0)


def test_rule_3_a_limit_ending_on_a_weekend_or_holiday_ends_the_next_working_day():
    # Thursday 26 March + 2 days = Saturday 28 -> Monday 30
    assert compute_due(datetime(2026, 3, 26, 9, 0), 2, "days", CAL) == datetime(2026, 3, 30, 17, 0)
    # Tuesday 28 April + 2 days = Thursday 30 April (holiday until Sunday 3 May) -> Monday 4 May
    assert compute_due(datetime(2026, 4, 28, 9, 0), 2, "days", CAL) == datetime(2026, 5, 4, 17, 0)


def test_rule_4_working_days_skip_holidays_and_count_a_swapped_saturday():
    # Wednesday 29 April, 1 working day: 30/4 - 3/5 are off -> Monday 4 May
    assert compute_due(datetime(2026, 4, 29, 9, 0), 1, "working_days", CAL) == datetime(2026, 5, 4, 17, 0)
    # Friday 9 January, 1 working day: Saturday 10 January 2026 is worked (swap for Friday 2 January)
    assert compute_due(datetime(2026, 1, 9, 9, 0), 1, "working_days", CAL) == datetime(2026, 1, 10, 17, 0)


def test_rule_5_the_cutoff_excludes_the_receipt_day_once():
    at = datetime(2026, 3, 5, 15, 30)  # Thursday, after 15:00, at the counter
    assert receipt_day(at, CAL) == date(2026, 3, 5)
    assert effective_start(at, CAL, cutoff_applies=True) == datetime(2026, 3, 6, 7, 30)
    for n in (1, 3, 5):
        counter = compute_due(at, n, "working_days", CAL, cutoff_applies=True)
        assert counter == compute_due(at.replace(hour=10), n, "working_days", CAL)
        assert CAL.working_days_between(at.date(), counter.date()) == n
    assert compute_due(at, 5, "working_days", CAL, cutoff_applies=True) == datetime(2026, 3, 12, 17, 0)


def test_rule_5_exactly_15_00_is_not_after_the_cutoff():
    assert compute_due(datetime(2026, 3, 2, 15, 0), 0, "immediate", CAL) == datetime(2026, 3, 2, 17, 0)
    assert compute_due(datetime(2026, 3, 2, 15, 1), 0, "immediate", CAL) == datetime(2026, 3, 3, 17, 0)


@pytest.mark.parametrize(("received", "due"), [
    (datetime(2026, 3, 2, 10, 0), datetime(2026, 3, 2, 17, 0)),   # Monday morning: the same day
    (datetime(2026, 3, 2, 15, 30), datetime(2026, 3, 3, 17, 0)),  # Monday after 15:00: Tuesday
    (datetime(2026, 3, 6, 15, 30), datetime(2026, 3, 9, 17, 0)),  # Friday after 15:00: Monday
    (datetime(2026, 3, 7, 10, 0), datetime(2026, 3, 9, 17, 0)),   # Saturday: Monday
    (datetime(2026, 4, 29, 15, 30), datetime(2026, 5, 4, 17, 0)),  # before the 30/4 - 1/5 break
    (datetime(2026, 2, 13, 16, 0), datetime(2026, 2, 23, 17, 0)),  # Friday before Tết: after the break
    (datetime(2026, 1, 9, 15, 30), datetime(2026, 1, 10, 17, 0)),  # Friday before a worked Saturday
    (datetime(2026, 3, 2, 18, 0), datetime(2026, 3, 3, 17, 0)),   # after office hours
])
@pytest.mark.parametrize("cutoff_applies", [True, False])
def test_immediate_is_due_the_same_working_day_before_15_00_else_the_next(received, due, cutoff_applies):
    assert compute_due(received, 0, "immediate", CAL, cutoff_applies=cutoff_applies) == due


def test_the_cutoff_still_starts_an_hours_count_the_next_morning_at_the_counter_only():
    at = datetime(2026, 3, 2, 16, 0)
    assert compute_due(at, 1, "hours", CAL, cutoff_applies=True) == datetime(2026, 3, 3, 8, 30)
    assert compute_due(at, 1, "hours", CAL) == datetime(2026, 3, 2, 17, 0)


# --------------------------------------------------------------------------- properties

WORKING_YEARS = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))
CLOCK = st.times().map(lambda t: t.replace(second=0, microsecond=0))


def _working(d: date) -> date:
    return d if CAL.is_working_day(d) else CAL.next_working_day(d)


@settings(max_examples=300, deadline=None)
@given(day=WORKING_YEARS, at=CLOCK, n=st.integers(0, 40), unit=st.sampled_from(deadlines.UNITS),
       cutoff=st.booleans())
def test_the_due_date_is_never_before_the_receipt_and_ends_in_office_hours_of_a_working_day(day, at, n, unit, cutoff):
    value = n if unit == "immediate" else max(n, 1)
    received = datetime.combine(day, at)
    due = compute_due(received, value, unit, CAL, cutoff_applies=cutoff)
    assert due >= received
    assert CAL.is_working_day(due.date())
    assert CAL.office_hours[0][0] <= due.time() <= CAL.office_hours[-1][1]


@settings(max_examples=300, deadline=None)
@given(day=WORKING_YEARS, minutes=st.integers(1, 9 * 60 - 1))
def test_the_cutoff_shifts_an_immediate_limit_by_exactly_one_working_day(day, minutes):
    day = _working(day)
    before = datetime.combine(day, time(15, 0)) - timedelta(hours=1)
    after = datetime.combine(day, time(15, 0)) + timedelta(minutes=minutes)
    same_day = compute_due(before, 0, "immediate", CAL)
    assert same_day == CAL.day_end(day)
    assert compute_due(after, 0, "immediate", CAL) == CAL.day_end(CAL.next_working_day(day))
    assert effective_start(after, CAL, cutoff_applies=True) == CAL.day_start(CAL.next_working_day(day))


@settings(max_examples=300, deadline=None)
@given(day=WORKING_YEARS, minutes=st.integers(1, 9 * 60 - 1), n=st.integers(1, 30))
def test_n_working_days_after_15_00_are_n_counted_from_the_next_working_morning(day, minutes, n):
    day = _working(day)
    after = datetime.combine(day, time(15, 0)) + timedelta(minutes=minutes)
    due = compute_due(after, n, "working_days", CAL, cutoff_applies=True)
    morning = CAL.day_start(CAL.next_working_day(day))
    # counting starts that morning, which is day 1 of n: the receipt day alone is excluded
    assert due == CAL.day_end(CAL.add_working_days(morning.date(), n - 1))
    assert CAL.working_days_between(day, due.date()) == n
    # the same as for a dossier received that morning before the cut-off, or online
    assert due == compute_due(datetime.combine(day, time(9, 0)), n, "working_days", CAL)
    assert due == compute_due(after, n, "working_days", CAL, cutoff_applies=False)


@settings(max_examples=200, deadline=None)
@given(day=WORKING_YEARS, at=CLOCK, n=st.integers(1, 30))
def test_a_longer_limit_is_never_due_earlier(day, at, n):
    received = datetime.combine(day, at)
    for unit in ("working_days", "days"):
        assert compute_due(received, n, unit, CAL) <= compute_due(received, n + 1, unit, CAL)
    assert compute_due(received, 0, "immediate", CAL) <= compute_due(received, n, "working_days", CAL)


# --------------------------------------------------------------------------- definitions: cases

CASE_TEXT = ('    - id: verification\n      value: 5\n      unit: working_days\n'
             '      label: {vi: "Cần xác minh", en: "Verification is needed"}\n')
CASES = _replace(ONE_STOP, "time_limit: {value: 3, unit: working_days}\n", """\
time_limit:
  value: 0
  unit: immediate
  cases:
    - id: verification
      value: 5
      unit: working_days
      label: {vi: "Cần xác minh", en: "Verification is needed"}
""")


def test_a_definition_with_cases_loads_them_and_gets_the_action(write):
    proc = _load(write(CASES).parent.parent).get("trial-permit", 1)
    assert (proc.time_limit_value, proc.time_limit_unit) == (0, "immediate")
    (case,) = proc.time_limit_cases
    assert (case.id, case.value, case.unit, case.label.en) == ("verification", 5, "working_days", "Verification is needed")
    assert proc.time_limit("verification") == (5, "working_days") and proc.time_limit(None) == (0, "immediate")
    action = proc.action("apply_time_limit_case")
    assert action is not None and action.dest is None and set(action.roles) == {"clerk", "specialist"}
    assert set(action.sources) == {"received", "processing_appraise"}
    assert action.effects == ("apply_time_limit_case",)


def test_a_definition_without_cases_has_no_case_action(write):
    proc = _load(write(ONE_STOP).parent.parent).get("trial-permit", 1)
    assert proc.time_limit_cases == () and proc.action("apply_time_limit_case") is None


BROKEN_LIMITS = [
    ("unknown_unit", "unit: working_days\n      label", "unit: workdays\n      label", "unit: workdays",
     ("time-limit case 'verification': unknown time unit 'workdays'",)),
    ("immediate_case", "unit: working_days\n      label", "unit: immediate\n      label", "      unit: immediate",
     ("a case makes the limit longer; it cannot be immediate",)),
    ("zero_value", "value: 5", "value: 0", "      value: 0", ("value must be greater than 0",)),
    ("fractional_working_days", "value: 5", "value: 2.5", "value: 2.5", ("must be a whole number",)),
    ("bad_id", "- id: verification", "- id: Verification", "- id: Verification", ("id must be snake_case",)),
    ("missing_label", '      label: {vi: "Cần xác minh", en: "Verification is needed"}\n', "", "- id: verification",
     ("is missing the required key 'label'",)),
    ("unknown_key", "      value: 5\n", "      value: 5\n      days: 5\n", "days: 5", ("unknown key 'days' in a time-limit case",)),
    ("immediate_with_a_value", "  value: 0\n  unit: immediate", "  value: 1\n  unit: immediate", "  value: 1",
     ("an immediate limit has no value",)),
    ("not_a_list", "  cases:\n" + CASE_TEXT, "  cases: verification\n", "cases: verification",
     ("'cases' in time_limit must be a list",)),
]


@pytest.mark.parametrize(("old", "new", "needle", "words"), [pytest.param(*c[1:], id=c[0]) for c in BROKEN_LIMITS])
def test_a_bad_time_limit_is_reported_at_its_line(write, old, new, needle, words):
    text = _replace(CASES, old, new)
    path = write(text)
    problems = _problems(path.parent.parent)
    _assert_reported(problems, path, _line(text, needle), *words)


def test_a_case_no_longer_than_the_ordinary_limit_is_reported(write):
    text = _replace(_replace(CASES, "  value: 0\n  unit: immediate", "  value: 5\n  unit: working_days"),
                    "value: 5\n      unit", "value: 3\n      unit")
    path = write(text)
    _assert_reported(_problems(path.parent.parent), path, _line(text, "value: 3"),
                     "the value must be greater than the ordinary 5 working_days")


def test_duplicate_cases_are_reported(write):
    text = _replace(CASES, CASE_TEXT, CASE_TEXT + CASE_TEXT.replace("value: 5", "value: 6"))
    path = write(text)
    problems = _problems(path.parent.parent)
    assert any(p.startswith(f"{path}:") and "duplicate time-limit case 'verification'" in p for p in problems), problems


def test_cases_need_the_action_that_applies_them_in_an_explicit_workflow(write):
    text = _replace(EXPLICIT, "time_limit: {value: 3, unit: working_days}\n",
                    "time_limit: {value: 3, unit: working_days, cases: [{id: long, value: 9, unit: working_days, "
                    "label: {vi: Dài, en: Long}}]}\n")
    path = write(text)
    _assert_reported(_problems(path.parent.parent), path, _line(text, "time_limit:"),
                     "time_limit cases need an action with the effect 'apply_time_limit_case'")


def test_the_effect_without_cases_is_reported(write):
    text = _replace(EXPLICIT, "effects: [assign_code, start_clock]\n",
                    "effects: [assign_code, start_clock, apply_time_limit_case]\n")
    path = write(text)
    _assert_reported(_problems(path.parent.parent), path, _line(text, "workflow:"),
                     "has the effect 'apply_time_limit_case' but time_limit lists no cases")


# --------------------------------------------------------------------------- the action on plain objects


class CaseDossier(PlainDossier):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.time_limit_case: str | None = None


def _ctx(proc, *roles, now, **kwargs) -> ActionContext:
    return ActionContext(procedure=proc, calendar=CAL, now=now, roles=frozenset(roles), **kwargs)


@pytest.fixture
def with_cases(write):
    return _load(write(CASES).parent.parent).get("trial-permit", 1)


def _received(proc, at: datetime, channel: str = "online") -> CaseDossier:
    d = CaseDossier(data=dict(FORM), channel=channel)
    fire(proc, d, "submit", _ctx(proc, "applicant", now=at))
    fire(proc, d, "receive", _ctx(proc, "clerk", now=at))
    return d


def test_applying_a_case_counts_again_from_the_receipt_and_keeps_the_first_due_date(with_cases):
    d = _received(with_cases, datetime(2026, 3, 2, 10, 0))
    assert d.due_at == datetime(2026, 3, 2, 17, 0)
    assert "apply_time_limit_case" in [a.id for a in available_actions(
        with_cases, d, frozenset({"specialist"}), _ctx(with_cases, "specialist", now=datetime(2026, 3, 2, 11, 0)))]
    fire(with_cases, d, "apply_time_limit_case", _ctx(with_cases, "specialist", now=datetime(2026, 3, 2, 14, 0),
                                                      reason="Xác minh", time_limit_case="verification"))
    assert (d.state, d.time_limit_case) == ("received", "verification")
    assert d.due_at == datetime(2026, 3, 9, 17, 0)  # 5 working days from Monday's receipt
    assert d.original_due_at == datetime(2026, 3, 2, 17, 0)
    # once only: the action is no longer offered, and firing it is refused
    later = _ctx(with_cases, "specialist", now=datetime(2026, 3, 3, 9, 0), reason="again", time_limit_case="verification")
    assert "apply_time_limit_case" not in [a.id for a in available_actions(with_cases, d, frozenset({"specialist"}), later)]
    with pytest.raises(ActionNotAllowedError, match="already applied"):
        fire(with_cases, d, "apply_time_limit_case", later)


def test_a_case_applied_to_a_counter_filing_after_15_00_excludes_the_receipt_day_once(with_cases):
    d = _received(with_cases, datetime(2026, 3, 5, 15, 30), channel="counter")
    assert d.due_at == datetime(2026, 3, 6, 17, 0)
    fire(with_cases, d, "apply_time_limit_case", _ctx(with_cases, "clerk", now=datetime(2026, 3, 6, 9, 0),
                                                      reason="Xác minh", time_limit_case="verification"))
    assert d.due_at == datetime(2026, 3, 12, 17, 0)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"reason": "Xác minh"}, "case"),
    ({"reason": "Xác minh", "time_limit_case": "urgent"}, "case"),
    ({"time_limit_case": "verification"}, "reason"),
    ({"reason": "   ", "time_limit_case": "verification"}, "reason"),
])
def test_a_case_needs_a_known_case_and_a_reason(with_cases, kwargs, field):
    d = _received(with_cases, datetime(2026, 3, 2, 10, 0))
    with pytest.raises(ValidationError) as caught:
        fire(with_cases, d, "apply_time_limit_case", _ctx(with_cases, "specialist", now=datetime(2026, 3, 2, 11, 0),
                                                          **kwargs))
    assert field in caught.value.fields and " / " in caught.value.message
    assert (d.due_at, d.time_limit_case) == (datetime(2026, 3, 2, 17, 0), None)


def test_a_case_cannot_be_applied_after_the_due_date_or_by_the_applicant(with_cases):
    d = _received(with_cases, datetime(2026, 3, 2, 10, 0))
    late = _ctx(with_cases, "specialist", now=datetime(2026, 3, 3, 8, 0), reason="Xác minh",
                time_limit_case="verification")
    with pytest.raises(ActionNotAllowedError):
        fire(with_cases, d, "apply_time_limit_case", late)
    with pytest.raises(PermissionDeniedError):
        fire(with_cases, d, "apply_time_limit_case", _ctx(with_cases, "applicant", now=datetime(2026, 3, 2, 11, 0),
                                                          reason="x", time_limit_case="verification"))
    assert d.time_limit_case is None


def test_a_restart_after_a_supplement_counts_by_the_case_applied(with_cases):
    d = _received(with_cases, datetime(2026, 3, 2, 10, 0))
    fire(with_cases, d, "apply_time_limit_case", _ctx(with_cases, "specialist", now=datetime(2026, 3, 2, 11, 0),
                                                      reason="Xác minh", time_limit_case="verification"))
    fire(with_cases, d, "request_supplement", _ctx(with_cases, "specialist", now=datetime(2026, 3, 2, 12, 0),
                                                   items=["Bổ sung"]))
    fire(with_cases, d, "provide_supplement", _ctx(with_cases, "applicant", now=datetime(2026, 3, 4, 9, 0)))
    assert d.due_at == datetime(2026, 3, 11, 17, 0)  # 5 working days from Wednesday, not immediately


def test_the_time_limit_case_reaches_the_context_only_as_given():
    ctx = ActionContext(procedure=None, calendar=CAL, now=dt.datetime(2026, 3, 2), roles=frozenset())  # type: ignore[arg-type]
    assert ctx.time_limit_case is None


# --------------------------------------------------------------------------- timeliness and indicators


class _Due:
    def __init__(self, due_at, decided_at=None):
        self.due_at, self.decided_at, self.closed_at, self.overdue = due_at, decided_at, None, False


def test_an_immediate_limit_is_due_soon_the_same_day_and_overdue_after_office_hours():
    from engine.rules.timeliness import timeliness

    due = compute_due(datetime(2026, 3, 2, 10, 0), 0, "immediate", CAL)
    assert timeliness(_Due(due), datetime(2026, 3, 2, 10, 5), CAL) == "due_soon"
    assert timeliness(_Due(due), datetime(2026, 3, 2, 17, 0), CAL) == "due_soon"
    assert timeliness(_Due(due), datetime(2026, 3, 2, 17, 1), CAL) == "overdue"
    assert timeliness(_Due(due, decided_at=datetime(2026, 3, 2, 16, 0)), datetime(2026, 3, 3, 9, 0), CAL) == "on_time"


def test_the_on_time_rate_counts_immediate_limits_by_their_due_moment():
    from engine.rules.metrics import DossierFacts, kpis

    due = compute_due(datetime(2026, 3, 2, 10, 0), 0, "immediate", CAL)
    facts = [DossierFacts(True, True, due, datetime(2026, 3, 2, 16, 30), 0, False, False),
             DossierFacts(True, False, due, datetime(2026, 3, 3, 8, 0), 0, False, False)]
    out = kpis(facts, e_result_dossiers=0, result_dossiers=0, cuts_by_procedure={}, definition_cuts={},
               period=(datetime(2026, 3, 1), datetime(2026, 3, 31)))
    assert (out["on_time_rate"], out["satisfaction"]) == (0.5, 0.5)
