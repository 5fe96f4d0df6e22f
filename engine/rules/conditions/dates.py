"""Rules about the dates of civil-status events: possible (not after the filing date, not before
the people concerned could have lived them) and registered on time or late."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.rules import registration_periods
from engine.rules.conditions import CONDITIONS, Facts, Verdict
from engine.rules.conditions.params import DATE, PERSON, SELECT, Choice, Field, Fields, Number, spec
from engine.rules.conditions.reading import (
    REGISTER_EN, REGISTER_VI, as_date, born_on, failed, full_years, not_checked, parties, passed, role, roles,
)

MIN_PARENT_AGE = 12  # years: a parent younger than this at the birth is taken as an error in the data


def _no_date(rule: str, field: str) -> Verdict:
    return not_checked(rule, [field], "Chưa kiểm tra được: chưa có ngày hợp lệ", "Not checked: no valid date given")


def _future(rule: str, field: str, day: Any, facts: Facts, vi: str, en: str) -> Verdict:
    return failed(rule, [field], f"{vi} ({day:%d/%m/%Y}) sau ngày nộp hồ sơ ({facts.on:%d/%m/%Y})",
                  f"{en} ({day.isoformat()}) is after the filing date ({facts.on.isoformat()})",
                  {"date": day.isoformat(), "on": facts.on.isoformat()})


@CONDITIONS.register("birth_date_possible", check=spec(date=Field(DATE), parents=Fields(PERSON, required=False),
                                                       min_parent_age=Number(1, 100, required=False)))
def birth_date_possible(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """The child's date of birth is not after the filing date, and each parent the form names had
    completed ``min_parent_age`` years (default 12) on it, by the register's dates of birth."""
    field = params["date"]
    day = as_date(facts.form.get(field))
    if day is None:
        return _no_date("birth_date_possible", field)
    if day > facts.on:
        return _future("birth_date_possible", field, day, facts, "Ngày sinh", "The date of birth")
    least = params.get("min_parent_age", MIN_PARENT_AGE)
    used: dict[str, Any] = {"date": day.isoformat(), "min_parent_age": least}
    too_young = []
    for p in parties(facts, params.get("parents", [])):
        born = born_on(p.person) if p.person is not None else None
        if born is None:
            continue
        used[p.field] = {"personal_id": p.personal_id, "date_of_birth": born.isoformat()}
        if day <= born or full_years(born, day) < least:
            too_young.append(p.field)
    if too_young:
        vi, en = roles(too_young)
        return failed("birth_date_possible", [field, *too_young],
                      f"Ngày sinh không phù hợp với ngày sinh của {vi} trong {REGISTER_VI}",
                      f"The date of birth is not possible given the date of birth of {en} in {REGISTER_EN}", used)
    return passed("birth_date_possible", [field], "Ngày sinh hợp lệ", "A possible date of birth", used)


@CONDITIONS.register("death_date_possible", check=spec(date=Field(DATE), deceased=Field(PERSON)))
def death_date_possible(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """The date of death is not after the filing date, nor before the deceased's date of birth in the
    register."""
    field = params["date"]
    day = as_date(facts.form.get(field))
    if day is None:
        return _no_date("death_date_possible", field)
    if day > facts.on:
        return _future("death_date_possible", field, day, facts, "Ngày chết", "The date of death")
    used: dict[str, Any] = {"date": day.isoformat()}
    for p in parties(facts, [params["deceased"]]):
        born = born_on(p.person) if p.person is not None else None
        if born is None:
            continue
        used.update(personal_id=p.personal_id, date_of_birth=born.isoformat())
        if day < born:
            vi, en = role(p.field)
            return failed("death_date_possible", [field],
                          f"Ngày chết trước ngày sinh của {vi} trong {REGISTER_VI}",
                          f"The date of death is before the date of birth of {en} in {REGISTER_EN}", used)
    return passed("death_date_possible", [field], "Ngày chết hợp lệ", "A possible date of death", used)


PERIOD_WORDS = {"birth": ("sinh", "the birth"), "death": ("chết", "the death")}


@CONDITIONS.register("registration_period", check=spec(
    date=Field(DATE), period=Choice(tuple(registration_periods.PERIODS)), declared=Field(SELECT, required=False)))
def registration_period(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """On time or late, derived from the event's date and the filing date (birth: 60 days, death:
    15 days); ``used["category"]`` carries it. A ``declared`` registration type that says
    ``on_time`` for a late registration (or ``late`` for an on-time one) fails; re-registration and
    the like are the official's to judge."""
    field, period = params["date"], params["period"]
    day = as_date(facts.form.get(field))
    if day is None:
        return _no_date("registration_period", field)
    days = registration_periods.PERIODS[period]
    category = registration_periods.category(day, facts.on, period)
    used: dict[str, Any] = {"category": category, "days_since": (facts.on - day).days, "limit_days": days}
    ev_vi, ev_en = PERIOD_WORDS[period]
    declared = facts.form.get(params["declared"]) if params.get("declared") else None
    if declared:
        used["declared"] = declared
    if declared in (registration_periods.ON_TIME, registration_periods.LATE) and declared != category:
        return failed("registration_period", [params["declared"], field],
                      f"Loại đăng ký không đúng: đăng ký {'đúng hạn' if category == 'on_time' else 'quá hạn'} "
                      f"(thời hạn {days} ngày kể từ ngày {ev_vi})",
                      f"Wrong registration type: this is {'an on-time' if category == 'on_time' else 'a late'} "
                      f"registration (within {days} days of {ev_en} is on time)", used)
    if category == registration_periods.ON_TIME:
        return passed("registration_period", [field], f"Đăng ký đúng hạn (trong {days} ngày kể từ ngày {ev_vi})",
                      f"On-time registration (within {days} days of {ev_en})", used)
    return passed("registration_period", [field], f"Đăng ký quá hạn (quá {days} ngày kể từ ngày {ev_vi})",
                  f"Late registration (more than {days} days after {ev_en})", used)
