"""The write-back rules (pure): personal ids, the plans of a birth, a marriage and a death, locked
records, and the checks of the ``writes_back`` key of a definition."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.rules.definitions import parse_procedure
from engine.rules.prefill import PersonRecord
from engine.rules.writeback import (
    WRITE_BACKS, WriteBackContext, WriteBackRefused, compose_personal_id, personal_id_prefix,
)
from motcua.settings import BUNDLED_PROCEDURES

MOTHER = PersonRecord("001190000001", {"sex": "female", "current_address": "Số 1 phố Quán Thánh",
                                       "current_unit": "00004", "ethnicity": "Tày", "nationality": "Việt Nam",
                                       "marital_status": "married"}, spouse="001090000002")
FATHER = PersonRecord("001090000002", {"sex": "male", "marital_status": "married"}, spouse="001190000001")
BIRTH = {"mother": "mother_personal_id", "father": "father_personal_id", "full_name": "child_full_name",
         "date_of_birth": "child_date_of_birth", "sex": "child_sex", "ethnicity": "child_ethnicity",
         "personal_id_to": "child_personal_id"}


def ctx(form: dict, people=(MOTHER, FATHER), province: str | None = "001") -> WriteBackContext:
    by_id = {p.personal_id: p for p in people}
    return WriteBackContext(form, dt.date(2026, 3, 2), province, by_id.get)


@given(st.sampled_from(["female", "male"]), st.dates(dt.date(1900, 1, 1), dt.date(2099, 12, 31)),
       st.integers(0, 999_999))
def test_a_personal_id_is_province_century_and_sex_year_and_six_digits(sex, born, serial):
    pid = compose_personal_id(personal_id_prefix("036", sex, born), serial)
    assert len(pid) == 12 and pid.isdigit() and pid.startswith("036")
    assert pid[3] == str((born.year // 100 - 19) * 2 + (sex == "female"))
    assert pid[4:6] == f"{born.year % 100:02d}" and int(pid[6:]) == serial


@pytest.mark.parametrize("province", [None, "1", "0a1", "0011"])
def test_no_personal_id_without_a_three_digit_province_code(province):
    with pytest.raises(WriteBackRefused, match="province code"):
        personal_id_prefix(province, "male", dt.date(2026, 1, 1))


def test_a_birth_plans_a_new_person_linked_to_the_parents_living_with_the_mother():
    form = {"mother_personal_id": MOTHER.personal_id, "father_personal_id": FATHER.personal_id,
            "child_full_name": "Lò Văn An", "child_date_of_birth": "2026-02-20", "child_sex": "male"}
    change = WRITE_BACKS.get("birth")(ctx(form), BIRTH)
    [child] = change.people
    assert child.create and child.personal_id is None and child.id_prefix == "001226"
    assert child.links == {"mother": MOTHER.personal_id, "father": FATHER.personal_id}
    assert child.set["current_address"] == "Số 1 phố Quán Thánh" and child.set["current_unit"] == "00004"
    assert child.set["ethnicity"] == "Tày"  # follows the parent when the form leaves it empty
    assert child.data_key == "child_personal_id"


@pytest.mark.parametrize("change, message", [
    ({"mother_personal_id": "001199999999"}, "not in the population register"),
    ({"child_date_of_birth": "2026-03-03"}, "after the registration"),
    ({"child_date_of_birth": "20/02/2026"}, "not a date"),
    ({"child_sex": ""}, "sex is missing"),
])
def test_a_birth_the_register_cannot_take_is_refused(change, message):
    form = {"mother_personal_id": MOTHER.personal_id, "child_full_name": "An", "child_date_of_birth": "2026-02-20",
            "child_sex": "male", **change}
    with pytest.raises(WriteBackRefused, match=message):
        WRITE_BACKS.get("birth")(ctx(form), BIRTH)


def test_a_marriage_sets_both_married_with_the_spouse_link_and_refuses_a_deceased_party():
    single_w = PersonRecord("001195000001", {"marital_status": "single"})
    single_h = PersonRecord("001095000002", {"marital_status": "divorced"})
    change = WRITE_BACKS.get("marriage")(ctx({"w": single_w.personal_id, "h": single_h.personal_id},
                                             (single_w, single_h)), {"wife": "w", "husband": "h"})
    assert [(p.personal_id, dict(p.set), dict(p.links)) for p in change.people] == [
        (single_w.personal_id, {"marital_status": "married"}, {"spouse": single_h.personal_id}),
        (single_h.personal_id, {"marital_status": "married"}, {"spouse": single_w.personal_id})]
    dead = PersonRecord("001095000002", {"date_of_death": "2025-01-01"})
    with pytest.raises(WriteBackRefused, match="locked"):
        WRITE_BACKS.get("marriage")(ctx({"w": single_w.personal_id, "h": dead.personal_id}, (single_w, dead)),
                                    {"wife": "w", "husband": "h"})


def test_a_death_sets_the_date_widows_the_spouse_and_cannot_be_recorded_twice():
    params = {"deceased": "d", "date_of_death": "on"}
    change = WRITE_BACKS.get("death")(ctx({"d": FATHER.personal_id, "on": "2026-02-28"}), params)
    assert [(p.personal_id, dict(p.set)) for p in change.people] == [
        (FATHER.personal_id, {"date_of_death": "2026-02-28"}), (MOTHER.personal_id, {"marital_status": "widowed"})]
    dead = PersonRecord(FATHER.personal_id, {"date_of_death": "2026-02-28"}, spouse=MOTHER.personal_id)
    with pytest.raises(WriteBackRefused, match="already recorded"):
        WRITE_BACKS.get("death")(ctx({"d": dead.personal_id, "on": "2026-02-28"}, (dead, MOTHER)), params)


def _birth_text(writes_back: str) -> str:
    text = (BUNDLED_PROCEDURES / "birth-registration" / "procedure.yaml").read_text(encoding="utf-8")
    start = text.index("    writes_back:")
    return text[:start] + writes_back


@pytest.mark.parametrize("block, message", [
    ("    writes_back: {rule: adoption}\n", "unknown write-back rule 'adoption'"),
    ("    writes_back:\n      rule: birth\n      params: {mother: mother_personal_id}\n", "param 'full_name' is required"),
    ("    writes_back:\n      rule: marriage\n      params: {wife: mother_full_name, husband: father_personal_id}\n",
     "field 'mother_full_name' is not a personal_id field"),
    ("    writes_back:\n      rule: death\n      params: {deceased: nobody, date_of_death: child_date_of_birth}\n",
     "'nobody' names no field of this form"),
    ("    writes_back:\n      rule: death\n      params: {deceased: mother_personal_id, date_of_death: child_date_of_birth, when: x}\n",
     "unknown param 'when'"),
    ("    writes_back: {rule: birth, params: {full_name: child_full_name, date_of_birth: child_date_of_birth, "
     "sex: child_sex, personal_id_to: no_such_key}}\n", "'no_such_key' is no data key of this result"),
    ("    writes_back: {rule: birth, extra: 1}\n", "unknown key 'extra'"),
])
def test_a_bad_writes_back_entry_is_reported_at_its_line(block, message):
    text = _birth_text(block)
    proc, problems = parse_procedure(text, "birth-registration/procedure.yaml",
                                     folder=BUNDLED_PROCEDURES / "birth-registration")
    assert proc is None or problems
    hits = [p for p in problems if message in p]
    assert hits, problems
    line = int(hits[0].split(":")[1])
    assert line >= text[:text.index("    writes_back")].count("\n") + 1


def test_the_bundled_civil_status_results_write_back():
    from engine.rules.definitions import load_catalogue

    catalogue = load_catalogue([BUNDLED_PROCEDURES])
    rules = {p.id: [r.writes_back.rule for r in p.results if r.writes_back] for p in catalogue.current()}
    assert rules["birth-registration"] == ["birth"] and rules["marriage-registration"] == ["marriage"]
    assert rules["death-registration"] == ["death"]
    assert {k.key for k in catalogue.evidence_types["medical-birth-notice"].data} >= {
        "date_of_birth", "time_of_birth", "sex", "place_of_birth", "weight", "mother_personal_id", "issued_by"}


def test_evidence_type_data_keys_are_checked_and_a_prefill_may_name_only_declared_keys(tmp_path):
    import shutil

    from engine.rules.definitions import load_catalogue, load_evidence_types
    from engine.rules.errors import DefinitionError

    bad = tmp_path / "evidence-types.yaml"
    bad.write_text("evidence_types:\n  - id: x-notice\n    title: X\n    data:\n      when: {type: moment}\n"
                   "      Bad-Key: {type: text}\n", encoding="utf-8")
    _, problems = load_evidence_types(bad)
    assert any(p.startswith(f"{bad}:5:") and "unknown type 'moment'" in p for p in problems), problems
    assert any(":6:" in p and "must be snake_case" in p for p in problems), problems

    root = tmp_path / "procs"
    shutil.copytree(BUNDLED_PROCEDURES, root)
    path = root / "birth-registration" / "procedure.yaml"
    text = path.read_text(encoding="utf-8").replace("medical-birth-notice.sex", "medical-birth-notice.gender")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        load_catalogue([root])
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "medical-birth-notice.gender" in t)
    assert f"procedure.yaml:{line}: field 'child_sex': evidence type 'medical-birth-notice' has no data key 'gender'" in str(err.value)
