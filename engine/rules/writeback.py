"""Write-back: what a result establishes, written into the population register (vietnam-rules §6.10).

A result definition may name a rule with the form fields it reads:

    results:
      birth-certificate:
        writes_back:
          rule: birth
          params: {mother: mother_personal_id, father: father_personal_id, ..., personal_id_to: child_personal_id}

A rule is a pure function ``(context, params) -> RegisterChange``: it reads the dossier's form, the
issue date, the issuing agency's province code and the register (through ``context.person``) and
returns the plan of the change. It never writes; the use case applies the plan through the
register's port in the approval's transaction. A rule that cannot write (an unknown party, a
record already locked by a death) raises :class:`WriteBackRefused`, and the approval fails with
nothing committed.

Each rule's registration says which params it takes (``params={name: (kind, required)}``) so that a
definition naming an unknown or missing param fails to load, at its line. Kinds: ``personal_id`` (a
form field of type personal_id), ``field`` (any form field), ``data_key`` (a data key of the result).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.rules.registry import Registry

if TYPE_CHECKING:  # engine.rules.prefill loads the definitions, whose checks load this module
    from engine.rules.prefill import PersonRecord

PARAM_KINDS = frozenset({"personal_id", "field", "data_key"})
RESIDENCE = ("permanent_address", "current_address", "permanent_unit", "current_unit")


class WriteBackRefused(Exception):
    """The register cannot take this change; the message is in both languages."""


@dataclass(frozen=True)
class PersonChange:
    """One person's part of a change: a new person (``personal_id`` None until the use case issues
    one starting with ``id_prefix``) or an update of an existing record."""

    personal_id: str | None
    set: Mapping[str, Any] = field(default_factory=dict)  # attribute -> value (dates as ISO strings)
    links: Mapping[str, str | None] = field(default_factory=dict)  # father | mother | spouse -> personal id
    create: bool = False
    id_prefix: str | None = None  # a new person: the first nine digits of the id to issue
    data_key: str | None = None  # a new person: the result data key that receives the issued id

    def as_json(self) -> dict[str, Any]:
        return {"personal_id": self.personal_id, "create": self.create, "set": dict(self.set),
                "links": dict(self.links)}


@dataclass(frozen=True)
class RegisterChange:
    rule: str
    people: tuple[PersonChange, ...]


@dataclass(frozen=True)
class WriteBackContext:
    form: Mapping[str, Any]
    issued_on: dt.date
    province_code: str | None  # the issuing agency's (opens the personal ids it issues)
    person: Callable[[str], PersonRecord | None]  # the register (may raise when it cannot be reached)


Rule = Callable[[WriteBackContext, Mapping[str, str]], RegisterChange]
WRITE_BACKS: Registry[Rule] = Registry("write-back rule")


# --------------------------------------------------------------------------- personal ids


def century_sex_digit(sex: str, born: dt.date) -> str:
    """The fourth digit of a personal id: 0/1 male/female born 1900-1999, 2/3 born 2000-2099 (and so
    on by century)."""
    century = born.year // 100 - 19
    if century < 0 or century > 4:
        raise WriteBackRefused(f"Năm sinh {born.year} ngoài phạm vi cấp số định danh / "
                               f"no personal id can be issued for a birth in {born.year}")
    return str(century * 2 + (1 if sex == "female" else 0))


def personal_id_prefix(province_code: str | None, sex: str, born: dt.date) -> str:
    """The first nine digits: the province of birth registration, century and sex, the year of birth."""
    if not (isinstance(province_code, str) and len(province_code) == 3 and province_code.isdigit()):
        raise WriteBackRefused("Cơ quan đăng ký chưa có mã tỉnh để cấp số định danh / "
                               "the registering agency has no province code to issue a personal id")
    return f"{province_code}{century_sex_digit(sex, born)}{born.year % 100:02d}"


def compose_personal_id(prefix: str, serial: int) -> str:
    """The prefix and six random digits (``serial`` in 0..999999)."""
    if not 0 <= serial < 10**6:
        raise ValueError("serial out of range")
    return f"{prefix}{serial:06d}"


# --------------------------------------------------------------------------- helpers


def _text(form: Mapping[str, Any], field_id: str | None) -> str | None:
    if not field_id:
        return None
    value = form.get(field_id)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value.strip() if isinstance(value, str) else str(value)


def _date(form: Mapping[str, Any], field_id: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(form.get(field_id)))
    except ValueError:
        raise WriteBackRefused(f"Thiếu hoặc sai {what} / {what}: missing or not a date") from None


def _existing(ctx: WriteBackContext, pid: str | None, who: str) -> PersonRecord:
    if not pid:
        raise WriteBackRefused(f"Thiếu số định danh của {who} / the {who}'s personal id is missing")
    record = ctx.person(pid)
    if record is None:
        raise WriteBackRefused(f"Không có {who} ({pid}) trong Cơ sở dữ liệu dân cư / "
                               f"the {who} ({pid}) is not in the population register")
    return record


def locked(record: PersonRecord) -> bool:
    """A deceased person's record is locked (Law on Civil Status Art. 34(2)): no change is written to it."""
    return record.attributes.get("date_of_death") not in (None, "")


def _unlocked(record: PersonRecord, who: str) -> PersonRecord:
    if locked(record):
        raise WriteBackRefused(f"Hồ sơ của {who} ({record.personal_id}) đã khóa do đã chết / "
                               f"the {who}'s record ({record.personal_id}) is locked: the person is deceased")
    return record


# --------------------------------------------------------------------------- the rules


@WRITE_BACKS.register("birth", params={
    "mother": ("personal_id", False), "father": ("personal_id", False),
    "full_name": ("field", True), "date_of_birth": ("field", True), "sex": ("field", True),
    "place_of_birth": ("field", False), "ethnicity": ("field", False), "nationality": ("field", False),
    "home_town": ("field", False), "residence": ("field", False), "personal_id_to": ("data_key", True),
})
def birth(ctx: WriteBackContext, params: Mapping[str, str]) -> RegisterChange:
    """The child enters the register with a newly issued personal id, linked to the parents in the
    register, living where the mother lives (else the father, else the residence the form gives)."""
    form = ctx.form
    name = _text(form, params["full_name"])
    sex = _text(form, params["sex"])
    if not name or sex not in ("female", "male"):
        raise WriteBackRefused("Thiếu họ tên hoặc giới tính của trẻ / the child's name or sex is missing")
    born = _date(form, params["date_of_birth"], "ngày sinh / date of birth")
    if born > ctx.issued_on:
        raise WriteBackRefused("Ngày sinh sau ngày đăng ký / the date of birth is after the registration")
    parents: dict[str, PersonRecord | None] = {}
    for role, who in (("mother", "người mẹ / mother"), ("father", "người cha / father")):
        pid = _text(form, params.get(role))
        parents[role] = _existing(ctx, pid, who.split(" / ")[1]) if pid else None
    attributes: dict[str, Any] = {
        "full_name": name, "sex": sex, "date_of_birth": born.isoformat(), "marital_status": "single",
        "place_of_birth": _text(form, params.get("place_of_birth")),
        "ethnicity": _text(form, params.get("ethnicity")), "nationality": _text(form, params.get("nationality")),
        "home_town": _text(form, params.get("home_town")),
    }
    lives_with = parents["mother"] or parents["father"]
    if lives_with is not None:
        attributes.update({k: lives_with.attributes.get(k) for k in RESIDENCE})
        for key in ("ethnicity", "nationality", "home_town"):  # by law these follow a parent's
            attributes[key] = attributes[key] or lives_with.attributes.get(key)
    if not attributes["ethnicity"] or not attributes["nationality"]:
        raise WriteBackRefused("Thiếu dân tộc hoặc quốc tịch của trẻ / the child's ethnicity or nationality is missing")
    elif (typed := _text(form, params.get("residence"))) is not None:
        attributes.update(permanent_address=typed, current_address=typed)
    child = PersonChange(
        personal_id=None, create=True, set={k: v for k, v in attributes.items() if v is not None},
        links={role: rec.personal_id for role, rec in parents.items() if rec is not None},
        id_prefix=personal_id_prefix(ctx.province_code, sex, born), data_key=params["personal_id_to"],
    )
    return RegisterChange("birth", (child,))


@WRITE_BACKS.register("marriage", params={"wife": ("personal_id", True), "husband": ("personal_id", True)})
def marriage(ctx: WriteBackContext, params: Mapping[str, str]) -> RegisterChange:
    """Both parties married, each the other's spouse."""
    wife = _unlocked(_existing(ctx, _text(ctx.form, params["wife"]), "wife"), "wife")
    husband = _unlocked(_existing(ctx, _text(ctx.form, params["husband"]), "husband"), "husband")
    if wife.personal_id == husband.personal_id:
        raise WriteBackRefused("Hai bên kết hôn là một người / both parties are the same person")
    return RegisterChange("marriage", (
        PersonChange(wife.personal_id, set={"marital_status": "married"}, links={"spouse": husband.personal_id}),
        PersonChange(husband.personal_id, set={"marital_status": "married"}, links={"spouse": wife.personal_id}),
    ))


@WRITE_BACKS.register("death", params={"deceased": ("personal_id", True), "date_of_death": ("field", True)})
def death(ctx: WriteBackContext, params: Mapping[str, str]) -> RegisterChange:
    """The deceased's date of death (which locks the record) and a surviving spouse widowed."""
    deceased = _existing(ctx, _text(ctx.form, params["deceased"]), "deceased")
    if locked(deceased):
        raise WriteBackRefused(f"Người này đã được ghi nhận là đã chết / {deceased.personal_id} is already recorded as deceased")
    died = _date(ctx.form, params["date_of_death"], "ngày chết / date of death")
    if died > ctx.issued_on:
        raise WriteBackRefused("Ngày chết sau ngày đăng ký / the date of death is after the registration")
    changes = [PersonChange(deceased.personal_id, set={"date_of_death": died.isoformat()})]
    spouse = ctx.person(deceased.spouse) if deceased.spouse else None
    if (spouse is not None and not locked(spouse) and spouse.spouse == deceased.personal_id
            and spouse.attributes.get("marital_status") == "married"):
        changes.append(PersonChange(spouse.personal_id, set={"marital_status": "widowed"}))
    return RegisterChange("death", tuple(changes))


# --------------------------------------------------------------------------- definition checks


def check_params(rule: str, params: Mapping[str, Any], field_types: Mapping[str, str],
                 data_keys: set[str]) -> list[str]:
    """Problems with a ``writes_back`` entry (empty when fine), given the form's field types."""
    if rule not in WRITE_BACKS:
        known = ", ".join(sorted(WRITE_BACKS))
        return [f"unknown write-back rule '{rule}' (known: {known})"]
    spec: Mapping[str, tuple[str, bool]] = WRITE_BACKS.info(rule).get("params", {})
    problems = [f"write-back '{rule}': unknown param '{name}' (takes {', '.join(sorted(spec))})"
                for name in params if name not in spec]
    for name, (kind, required) in spec.items():
        value = params.get(name)
        if value is None:
            if required:
                problems.append(f"write-back '{rule}': param '{name}' is required")
            continue
        if not isinstance(value, str):
            problems.append(f"write-back '{rule}': param '{name}' must name a {'data key' if kind == 'data_key' else 'form field'}")
        elif kind == "data_key":
            if value not in data_keys:
                problems.append(f"write-back '{rule}': param '{name}': '{value}' is no data key of this result")
        elif value not in field_types:
            problems.append(f"write-back '{rule}': param '{name}': '{value}' names no field of this form")
        elif kind == "personal_id" and field_types[value] != "personal_id":
            problems.append(f"write-back '{rule}': param '{name}': field '{value}' is not a personal_id field")
    return problems
