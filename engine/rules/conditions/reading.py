"""How the condition rules read their facts: the people a form's fields name, dates and full years,
and the role words a message uses instead of a person's name (a message may reach a citizen who
must not learn a third party's data)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.rules.conditions import FAILED, NOT_CHECKED, PASSED, Facts, Verdict

if TYPE_CHECKING:
    from engine.rules.prefill import PersonRecord

REGISTER_VI = "Cơ sở dữ liệu quốc gia về dân cư"
REGISTER_EN = "the national population database"

# Role words by the first word of a field id (``wife_personal_id`` -> the female party).
ROLES: dict[str, tuple[str, str]] = {
    "wife": ("bên nữ", "the female party"),
    "husband": ("bên nam", "the male party"),
    "mother": ("người mẹ", "the mother"),
    "father": ("người cha", "the father"),
    "child": ("người được khai sinh", "the child"),
    "deceased": ("người đã chết", "the deceased"),
    "subject": ("người được xác nhận", "the person concerned"),
    "requester": ("người yêu cầu", "the requester"),
    "applicant": ("người nộp hồ sơ", "the applicant"),
    "date": ("ngày", "the date"),
}


def role(field_id: str) -> tuple[str, str]:
    """(vi, en) words for the person a field names, from the field id's first word."""
    return ROLES.get(field_id.split("_", 1)[0], ("người có số định danh tại trường " + field_id,
                                                  f"the person named in field {field_id}"))


def roles(field_ids: Iterable[str]) -> tuple[str, str]:
    words = [role(f) for f in field_ids]
    return ", ".join(w[0] for w in words), ", ".join(w[1] for w in words)


@dataclass(frozen=True)
class Party:
    """One person a form field names: the field, the personal id typed, the register's record."""

    field: str
    personal_id: str
    person: PersonRecord | None


def value(facts: Facts, field_id: str) -> str | None:
    raw = facts.form.get(field_id)
    if raw is None:
        return None
    text = str(raw).strip()
    return text or None


def parties(facts: Facts, field_ids: Iterable[str]) -> list[Party]:
    """The people the fields name, in order; an empty field is left out. Reads the register once a
    person."""
    out = []
    for f in field_ids:
        pid = value(facts, f)
        if pid:
            out.append(Party(f, pid, facts.person(pid)))
    return out


def as_date(raw: Any) -> dt.date | None:
    """A date from the register or a cleaned form (a date, a datetime or an ISO string); None when
    there is none or it cannot be read."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw).strip()[:10])
    except ValueError:
        return None


def full_years(born: dt.date, on: dt.date) -> int:
    """Full years from ``born`` to ``on``: the birthday itself counts (someone born on 29 February
    completes a year on 1 March in a common year)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def born_on(person: PersonRecord) -> dt.date | None:
    return as_date(person.attributes.get("date_of_birth"))


def died_on(person: PersonRecord) -> dt.date | None:
    return as_date(person.attributes.get("date_of_death"))


def iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def passed(rule: str, fields: Iterable[str], vi: str, en: str, used: Mapping[str, Any]) -> Verdict:
    return Verdict(rule, PASSED, tuple(fields), vi, en, dict(used))


def failed(rule: str, fields: Iterable[str], vi: str, en: str, used: Mapping[str, Any]) -> Verdict:
    return Verdict(rule, FAILED, tuple(fields), vi, en, dict(used))


def not_checked(rule: str, fields: Iterable[str], vi: str, en: str, used: Mapping[str, Any] | None = None) -> Verdict:
    return Verdict(rule, NOT_CHECKED, tuple(fields), vi, en, dict(used or {}))


def nobody(rule: str, fields: Iterable[str]) -> Verdict:
    """Not checked: none of the people the rule needs is in the register (parties_exist says so)."""
    return not_checked(rule, fields, f"Chưa kiểm tra được: không tìm thấy người cần kiểm tra trong {REGISTER_VI}",
                       f"Not checked: the people to check are not in {REGISTER_EN}", {"found": []})
