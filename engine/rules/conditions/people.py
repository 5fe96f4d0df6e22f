"""Rules about the people a form names, read from the population register: that they exist, are
different people, have the sex and the age the law requires, and are alive (or deceased)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.rules.conditions import CONDITIONS, Facts, Verdict
from engine.rules.conditions.params import PERSON, Choice, FieldMap, Fields, Number, spec
from engine.rules.conditions.reading import (
    REGISTER_EN, REGISTER_VI, born_on, died_on, failed, full_years, iso, nobody, not_checked, parties, passed,
    role, roles, value,
)

SEXES = ("female", "male")
SEX_WORDS = {"female": ("nữ", "female"), "male": ("nam", "male")}


@CONDITIONS.register("parties_exist", check=spec(parties=Fields(PERSON)))
def parties_exist(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """Every personal id the fields hold is a person of the register."""
    found = parties(facts, params["parties"])
    used = {p.field: p.personal_id for p in found}
    missing = [p.field for p in found if p.person is None]
    if missing:
        vi, en = roles(missing)
        return failed("parties_exist", missing,
                      f"Không tìm thấy {vi} trong {REGISTER_VI} theo số định danh cá nhân đã nhập",
                      f"No person was found in {REGISTER_EN} for the personal identification number given "
                      f"for {en}", {"personal_ids": used, "missing": missing})
    return passed("parties_exist", params["parties"], f"Có trong {REGISTER_VI}", f"Found in {REGISTER_EN}",
                  {"personal_ids": used})


@CONDITIONS.register("different_people", check=spec(parties=Fields(PERSON, min_items=2)))
def different_people(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """The fields name different people (no one marries themself)."""
    seen: dict[str, str] = {}
    for f in params["parties"]:
        pid = value(facts, f)
        if not pid:
            continue
        if pid in seen:
            vi, en = roles([seen[pid], f])
            return failed("different_people", [seen[pid], f],
                          f"Số định danh cá nhân của {vi} trùng nhau: phải là hai người khác nhau",
                          f"The personal identification numbers of {en} are the same: they must be two "
                          "different people", {"personal_id": pid, "fields": [seen[pid], f]})
        seen[pid] = f
    return passed("different_people", params["parties"], "Là những người khác nhau", "Different people",
                  {"personal_ids": {f: p for p, f in seen.items()}})


@CONDITIONS.register("party_sex", check=spec(parties=FieldMap(PERSON, Choice(SEXES))))
def party_sex(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """Each party's sex in the register is the one the field requires (marriage: Law on Marriage and
    Family 2014, Art. 8(2), one female and one male party)."""
    wanted: Mapping[str, str] = params["parties"]
    found = [p for p in parties(facts, wanted) if p.person is not None]
    if not found:
        return nobody("party_sex", wanted)
    used = {p.field: {"personal_id": p.personal_id, "sex": p.person.sex} for p in found}
    wrong = [p.field for p in found if p.person.sex != wanted[p.field]]
    if wrong:
        f = wrong[0]
        vi, en = role(f)
        sex_vi, sex_en = SEX_WORDS[wanted[f]]
        return failed("party_sex", wrong,
                      f"Theo {REGISTER_VI}, {vi} không phải là {sex_vi}; Nhà nước không thừa nhận hôn nhân giữa "
                      "những người cùng giới tính (Luật Hôn nhân và gia đình 2014, Điều 8, khoản 2)",
                      f"According to {REGISTER_EN}, {en} is not {sex_en}; the State does not recognise marriage "
                      "between persons of the same sex (Law on Marriage and Family 2014, Art. 8(2))", used)
    return passed("party_sex", wanted, "Giới tính đúng theo quy định", "Sex as the law requires", used)


@CONDITIONS.register("minimum_age", check=spec(parties=FieldMap(PERSON, Number(0, 150))))
def minimum_age(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """Each party has completed the field's number of years on the filing date (marriage: men 20,
    women 18, Law on Marriage and Family 2014, Art. 8(1)(a))."""
    years: Mapping[str, int] = params["parties"]
    found = [p for p in parties(facts, years) if p.person is not None]
    if not found:
        return nobody("minimum_age", years)
    used: dict[str, Any] = {"on": facts.on.isoformat()}
    young, unknown = [], []
    for p in found:
        born = born_on(p.person)
        if born is None:
            unknown.append(p.field)
            continue
        age = full_years(born, facts.on)
        used[p.field] = {"personal_id": p.personal_id, "date_of_birth": born.isoformat(), "age": age,
                         "minimum": years[p.field]}
        if age < years[p.field]:
            young.append(p.field)
    if young:
        f = young[0]
        vi, en = role(f)
        return failed("minimum_age", young,
                      f"{vi.capitalize()} chưa đủ {years[f]} tuổi vào ngày nộp hồ sơ ({facts.on:%d/%m/%Y})",
                      f"{en.capitalize()} is not yet {years[f]} years old on the filing date ({facts.on.isoformat()})",
                      used)
    if unknown:
        vi, en = roles(unknown)
        return not_checked("minimum_age", unknown, f"Chưa kiểm tra được: {REGISTER_VI} không có ngày sinh của {vi}",
                           f"Not checked: {REGISTER_EN} has no date of birth for {en}", used)
    return passed("minimum_age", years, "Đủ tuổi theo quy định", "Of the age the law requires", used)


@CONDITIONS.register("life_status", check=spec(parties=Fields(PERSON), status=Choice(("alive", "deceased"))))
def life_status(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """``status: alive``: no party is recorded as deceased in the register (a death is registered
    once; the dead do not marry). ``status: deceased``: every party is."""
    want_alive = params["status"] == "alive"
    found = [p for p in parties(facts, params["parties"]) if p.person is not None]
    if not found:
        return nobody("life_status", params["parties"])
    used = {p.field: {"personal_id": p.personal_id, "date_of_death": iso(died_on(p.person))} for p in found}
    dead = [p.field for p in found if p.person.attributes.get("date_of_death")]
    if want_alive and dead:
        vi, en = roles(dead)
        return failed("life_status", dead, f"Theo {REGISTER_VI}, {vi} đã được ghi nhận là đã chết",
                      f"According to {REGISTER_EN}, {en} is already recorded as deceased", used)
    alive = [p.field for p in found if not p.person.attributes.get("date_of_death")]
    if not want_alive and alive:
        vi, en = roles(alive)
        return failed("life_status", alive, f"Theo {REGISTER_VI}, {vi} chưa được ghi nhận là đã chết",
                      f"According to {REGISTER_EN}, {en} is not recorded as deceased", used)
    return passed("life_status", params["parties"],
                  "Còn sống theo dữ liệu dân cư" if want_alive else "Đã được ghi nhận là đã chết",
                  "Alive according to the register" if want_alive else "Recorded as deceased", used)
