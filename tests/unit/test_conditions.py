"""Conditions of eligibility: each rule refuses what the law refuses and lets the ordinary case
through, judged on the register and the results store (plain data here); the bundled procedures'
conditions; the ``conditions:`` key's checks at load time; the demo world stays eligible."""
from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.rules import registration_periods
from engine.rules.conditions import (
    CONDITIONS, FAILED, NOT_CHECKED, PASSED, AgencyFacts, SourceUnavailable, Verdict, blocking, evaluate,
)
from engine.rules.conditions.kinship import Family
from engine.rules.definitions import load_catalogue
from engine.rules.prefill import DERIVATIONS, PersonRecord, StoredResult
from tests.unit.test_definitions import ONE_STOP, _assert_reported, _line, _problems, _replace, write  # noqa: F401

PROCEDURES = Path(__file__).resolve().parents[2] / "procedures"
ON = dt.date(2026, 3, 2)
AREA = "00004"
ELSEWHERE = "00031"
CATALOGUE = load_catalogue([PROCEDURES], calendars=["vn"])


def conditions_of(procedure_id: str) -> tuple[Mapping[str, Any], ...]:
    return CATALOGUE.latest(procedure_id).conditions


# --------------------------------------------------------------------------- a fake world


@dataclass
class World:
    """People and results as plain data; ``facts`` answers like the use case's Facts."""

    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: list[StoredResult] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def add(self, sex: str, born: str | dt.date, *, father: str | None = None, mother: str | None = None,
            marital_status: str = "single", died: str | None = None, unit: str | None = AREA) -> str:
        pid = f"{'0' if sex == 'male' else '1'}{next(self._ids):011d}"
        self.people[pid] = {"sex": sex, "date_of_birth": dt.date.fromisoformat(str(born)), "father": father,
                            "mother": mother, "spouse": None, "marital_status": marital_status,
                            "date_of_death": dt.date.fromisoformat(died) if died else None,
                            "permanent_unit": unit, "current_unit": unit}
        return pid

    def marry(self, a: str, b: str) -> None:
        for x, y in ((a, b), (b, a)):
            self.people[x].update(spouse=y, marital_status="married")

    def result(self, evidence: str, holders: Iterable[str], issued: str, **data: Any) -> StoredResult:
        n = len(self.results) + 1
        r = StoredResult(f"r{n}", evidence, f"{n}/2020/X", evidence, tuple(holders), dict(data),
                         dt.datetime.fromisoformat(issued))
        self.results.append(r)
        return r

    def record(self, pid: str) -> PersonRecord | None:
        p = self.people.get(pid)
        if p is None:
            return None
        children = tuple(c for c, q in self.people.items() if pid in (q["father"], q["mother"]))
        attributes = {k: v for k, v in p.items() if k not in ("father", "mother", "spouse")}
        return PersonRecord(pid, attributes, spouse=p["spouse"], father=p["father"], mother=p["mother"],
                            children=children)

    def facts(self, form: Mapping[str, Any], *, applicant: str | None = None, on: dt.date = ON,
              unit: str | None = AREA) -> Facts:
        return Facts(self, dict(form), on, applicant, AgencyFacts("UB-TEST", "commune", unit))


@dataclass
class Facts:
    world: World
    form: dict[str, Any]
    on: dt.date
    applicant: str | None
    agency: AgencyFacts
    reads: list[str] = field(default_factory=list)

    def person(self, personal_id: str) -> PersonRecord | None:
        self.reads.append(personal_id)
        return self.world.record(personal_id)

    def results(self, personal_ids: Iterable[str], evidence_types: Iterable[str]) -> list[StoredResult]:
        pids, types = set(personal_ids), set(evidence_types)
        return [r for r in self.world.results if r.evidence_type in types and pids & set(r.holders)]


def run(rule: str, facts: Facts, **params: Any) -> Verdict:
    verdict = CONDITIONS.get(rule)(facts, params)
    assert verdict.rule == rule and verdict.status in (PASSED, FAILED, NOT_CHECKED)
    assert verdict.message_vi and verdict.message_en
    return verdict


def by_rule(verdicts: list[Verdict]) -> dict[str, Verdict]:
    return {v.rule: v for v in verdicts}


def failed_rules(verdicts: list[Verdict]) -> set[str]:
    return {v.rule for v in blocking(verdicts)}


# --------------------------------------------------------------------------- marriage


@pytest.fixture
def world() -> World:
    return World()


def marriage(world: World, wife: str, husband: str, *, applicant: str | None = "wife", **kw: Any) -> list[Verdict]:
    who = {"wife": wife, "husband": husband}.get(applicant or "", applicant)
    return evaluate(conditions_of("marriage-registration"),
                    world.facts({"wife_personal_id": wife, "husband_personal_id": husband}, applicant=who, **kw))


def test_an_ordinary_couple_meets_every_condition_of_marriage(world):
    bride, groom = world.add("female", "1998-05-01"), world.add("male", "1996-01-10", unit=ELSEWHERE)
    verdicts = marriage(world, bride, groom)
    assert [v.rule for v in verdicts] == [c["rule"] for c in conditions_of("marriage-registration")]
    assert {v.status for v in verdicts} == {PASSED}, [v.as_dict() for v in verdicts if v.status != PASSED]
    assert by_rule(verdicts)["residence_in_area"].used["resident"] == "wife_personal_id"
    assert by_rule(verdicts)["applicant_is_party"].used["link"] == "party"


def test_a_person_cannot_marry_themself(world):
    bride = world.add("female", "1998-05-01")
    verdicts = marriage(world, bride, bride)
    assert "different_people" in failed_rules(verdicts)
    v = by_rule(verdicts)["different_people"]
    assert v.fields == ("wife_personal_id", "husband_personal_id") and "khác nhau" in v.message_vi


def test_two_women_cannot_marry(world):
    a, b = world.add("female", "1998-05-01"), world.add("female", "1997-02-03")
    verdicts = marriage(world, a, b)
    assert failed_rules(verdicts) == {"party_sex"}
    v = by_rule(verdicts)["party_sex"]
    assert v.fields == ("husband_personal_id",)
    assert "bên nam" in v.message_vi and "the male party" in v.message_en and "Art. 8(2)" in v.message_en
    assert v.used["husband_personal_id"] == {"personal_id": b, "sex": "female"}


def test_a_sixteen_year_old_girl_cannot_marry(world):
    girl, groom = world.add("female", "2009-09-01"), world.add("male", "1996-01-10")
    v = by_rule(marriage(world, girl, groom))["minimum_age"]
    assert v.status == FAILED and v.fields == ("wife_personal_id",)
    assert "18" in v.message_vi and "2009" not in v.message_vi  # the age limit, not the other's data
    assert v.used["wife_personal_id"]["age"] == 16


def test_a_nineteen_year_old_man_cannot_marry(world):
    bride, boy = world.add("female", "2000-01-01"), world.add("male", "2006-06-30")
    v = by_rule(marriage(world, bride, boy))["minimum_age"]
    assert v.status == FAILED and v.fields == ("husband_personal_id",) and "20" in v.message_en
    assert v.used["husband_personal_id"]["age"] == 19


def test_a_woman_married_in_the_register_cannot_marry_again(world):
    wife, husband = world.add("female", "1990-01-01"), world.add("male", "1988-01-01")
    world.marry(wife, husband)
    groom = world.add("male", "1990-03-03")
    verdicts = marriage(world, wife, groom)
    assert failed_rules(verdicts) == {"not_married"}
    v = by_rule(verdicts)["not_married"]
    assert v.fields == ("wife_personal_id",) and "bên nữ" in v.message_vi and "Cơ sở dữ liệu" in v.message_vi
    assert v.used["wife_personal_id"]["married"]["source"] == "register"
    assert husband not in v.message_vi + v.message_en


def test_a_spouse_link_to_a_dead_spouse_is_no_marriage(world):
    wife, husband = world.add("female", "1960-01-01"), world.add("male", "1955-01-01", died="2024-05-01")
    world.marry(wife, husband)  # the register still says married
    assert run("not_married", world.facts({"w": wife}), parties=["w"]).status == PASSED


def test_a_marriage_certificate_in_the_store_bars_a_new_marriage_until_a_divorce_or_a_death(world):
    wife = world.add("female", "1990-01-01", marital_status="single")  # the register is behind
    former = world.add("male", "1988-01-01")
    groom = world.add("male", "1990-03-03")
    cert = world.result("marriage-certificate", [wife, former], "2015-06-01T09:00:00")
    v = by_rule(marriage(world, wife, groom))["not_married"]
    assert v.status == FAILED and v.used["wife_personal_id"]["married"]["marriage_certificate"] == cert.number
    assert "Giấy chứng nhận kết hôn" in v.message_vi

    # a divorce judgment older than the marriage does not end it
    world.result("divorce-judgment", [wife, former], "2014-01-01T09:00:00")
    assert by_rule(marriage(world, wife, groom))["not_married"].status == FAILED
    world.results.pop()
    # a later one does
    world.result("divorce-judgment", [wife, former], "2019-11-20T10:00:00")
    assert by_rule(marriage(world, wife, groom))["not_married"].status == PASSED


def test_a_marriage_certificate_ends_with_the_spouses_death(world):
    wife, former, groom = world.add("female", "1990-01-01"), world.add("male", "1988-01-01"), world.add("male", "1990-03-03")
    world.result("marriage-certificate", [wife, former], "2015-06-01T09:00:00")
    assert by_rule(marriage(world, wife, groom))["not_married"].status == FAILED
    # a death certificate the former spouse only requested (of someone else) does not count
    world.result("death-certificate", [world.add("male", "1930-01-01"), former], "2020-01-01T09:00:00",
                 deceased_personal_id="someone-else", date_of_death="2019-12-25")
    assert by_rule(marriage(world, wife, groom))["not_married"].status == FAILED
    # the spouse's own death certificate does
    world.result("death-certificate", [former, wife], "2021-01-04T09:00:00", deceased_personal_id=former,
                 date_of_death="2021-01-01")
    assert by_rule(marriage(world, wife, groom))["not_married"].status == PASSED
    # so does a death recorded in the register
    world.results.pop()
    world.people[former]["date_of_death"] = dt.date(2022, 2, 2)
    assert by_rule(marriage(world, wife, groom))["not_married"].status == PASSED


@pytest.fixture
def family(world: World) -> dict[str, str]:
    """Three generations: grandparents; their son (married) and daughter; the son's children with his
    wife and a half-sister by another woman; the daughter's children (the cousins)."""
    f: dict[str, str] = {}
    f["grandfather"], f["grandmother"] = world.add("male", "1940-01-01"), world.add("female", "1942-01-01")
    f["son"] = world.add("male", "1965-01-01", father=f["grandfather"], mother=f["grandmother"])
    f["daughter"] = world.add("female", "1967-01-01", father=f["grandfather"], mother=f["grandmother"])
    f["son_wife"], f["other_woman"] = world.add("female", "1968-01-01"), world.add("female", "1969-01-01")
    world.marry(f["son"], f["son_wife"])
    f["boy"] = world.add("male", "1990-01-01", father=f["son"], mother=f["son_wife"])
    f["girl"] = world.add("female", "1992-01-01", father=f["son"], mother=f["son_wife"])
    f["half_sister"] = world.add("female", "1993-01-01", father=f["son"], mother=f["other_woman"])
    f["cousin"] = world.add("female", "1994-01-01", mother=f["daughter"])
    f["great_grandchild"] = world.add("female", "2004-01-01", father=f["boy"])
    f["stranger"] = world.add("female", "1994-01-01")
    return f


@pytest.mark.parametrize("man,woman,relation,words", [
    ("son", "girl", "parent", "trực hệ"),  # father and daughter (what he is to her)
    ("boy", "girl", "sibling", "ba đời"),
    ("boy", "half_sister", "sibling", "ba đời"),
    ("boy", "cousin", "cousin", "ba đời"),
    ("grandfather", "girl", "grandparent", "trực hệ"),
    ("grandfather", "great_grandchild", "great_grandparent", "trực hệ"),
    ("son", "cousin", "parent_sibling", "ba đời"),  # uncle and niece
])
def test_kin_cannot_marry(world, family, man, woman, relation, words):
    world.people[family[man]].update(spouse=None, marital_status="single")  # only the kinship is in question
    verdicts = marriage(world, family[woman], family[man])
    v = by_rule(verdicts)["no_prohibited_kinship"]
    assert v.status == FAILED and words in v.message_vi and "Art. 5(2)(d)" in v.message_en
    assert v.used["relation"] == relation
    assert v.fields == ("wife_personal_id", "husband_personal_id")


def test_step_and_in_law_relations_are_read_from_the_spouse_links(world, family):
    kin = Family(world.facts({}))
    assert kin.relation(family["half_sister"], family["son_wife"])[0] == "step_parent"
    assert kin.relation(family["son_wife"], family["half_sister"])[0] == "step_child"
    assert kin.relation(family["son_wife"], family["grandfather"]) == ("parent_in_law", {"through": family["son"]})
    assert kin.relation(family["grandfather"], family["son_wife"])[0] == "child_in_law"
    assert kin.relation(family["boy"], family["stranger"]) is None
    # a step-son and his step-mother, her marriage over in the register: still prohibited
    world.people[family["son_wife"]]["marital_status"] = "widowed"
    stepson = world.add("male", "1990-05-05", father=family["son"], mother=family["other_woman"])
    v = run("no_prohibited_kinship", world.facts({"w": family["son_wife"], "h": stepson}), parties=["w", "h"])
    assert v.status == FAILED and v.used["relation"] == "step_child" and "cha mẹ kế" in v.message_vi


def test_unrelated_people_from_the_same_family_tree_may_marry(world, family):
    groom = world.add("male", "1993-01-01", father=world.add("male", "1960-01-01"))
    assert by_rule(marriage(world, family["cousin"], groom))["no_prohibited_kinship"].status == PASSED


def test_a_party_unknown_to_the_register_fails_one_rule_and_crashes_none(world):
    bride = world.add("female", "1998-05-01")
    verdicts = marriage(world, bride, "012345678901")
    assert failed_rules(verdicts) == {"parties_exist"}
    v = by_rule(verdicts)["parties_exist"]
    assert v.fields == ("husband_personal_id",) and "bên nam" in v.message_vi
    assert by_rule(verdicts)["no_prohibited_kinship"].status == NOT_CHECKED
    nobody = marriage(world, "012345678901", "112345678902", applicant="012345678901")
    assert failed_rules(nobody) == {"parties_exist"}
    assert by_rule(nobody)["residence_in_area"].status == NOT_CHECKED


def test_a_marriage_filed_by_neither_party_is_refused(world):
    bride, groom = world.add("female", "1998-05-01"), world.add("male", "1996-01-10")
    mother = world.add("female", "1970-01-01")
    verdicts = marriage(world, bride, groom, applicant=mother)
    assert failed_rules(verdicts) == {"applicant_is_party"}
    assert by_rule(marriage(world, bride, groom, applicant="husband"))["applicant_is_party"].fields == ("husband_personal_id",)
    assert by_rule(marriage(world, bride, groom, applicant=None))["applicant_is_party"].status == NOT_CHECKED


def test_a_dead_party_cannot_marry(world):
    bride, groom = world.add("female", "1998-05-01"), world.add("male", "1996-01-10", died="2025-12-01")
    v = by_rule(marriage(world, bride, groom))["life_status"]
    assert v.status == FAILED and v.fields == ("husband_personal_id",) and "đã chết" in v.message_vi


# --------------------------------------------------------------------------- residence


def test_jurisdiction_follows_the_residence_of_either_party(world):
    bride, groom = world.add("female", "1998-05-01", unit=ELSEWHERE), world.add("male", "1996-01-10", unit=ELSEWHERE)
    v = by_rule(marriage(world, bride, groom))["residence_in_area"]
    assert v.status == FAILED and "cấp xã nơi cư trú" in v.message_vi
    assert v.used["wife_personal_id"]["current_unit"] == ELSEWHERE
    world.people[groom]["current_unit"] = AREA  # lives here now, registered elsewhere
    v = by_rule(marriage(world, bride, groom))["residence_in_area"]
    assert v.status == PASSED and v.used["resident"] == "husband_personal_id" and v.used["by"] == "current_unit"
    assert by_rule(marriage(world, bride, groom, unit=None))["residence_in_area"].status == NOT_CHECKED


# --------------------------------------------------------------------------- birth


@pytest.fixture
def parents(world: World) -> dict[str, str]:
    mother, father = world.add("female", "1996-04-04"), world.add("male", "1975-02-02", unit=ELSEWHERE)
    world.marry(mother, father)
    grandmother = world.add("female", "1968-01-01")
    world.people[mother]["mother"] = grandmother
    aunt = world.add("female", "1992-01-01")
    world.people[aunt]["mother"] = grandmother
    return {"mother": mother, "father": father, "grandmother": grandmother, "aunt": aunt,
            "stranger": world.add("female", "1980-01-01")}


def birth(world: World, parents: dict, *, born: str = "2026-02-20", applicant: str = "mother",
          relationship: str = "mother", declared: str | None = None, **kw: Any) -> list[Verdict]:
    form = {"mother_personal_id": parents["mother"], "father_personal_id": parents["father"],
            "child_date_of_birth": born, "requester_relationship": relationship,
            "registration_type": declared}
    return evaluate(conditions_of("birth-registration"),
                    world.facts(form, applicant=parents.get(applicant, applicant), **kw))


def test_an_ordinary_birth_meets_every_condition(world, parents):
    verdicts = birth(world, parents)
    assert {v.status for v in verdicts} == {PASSED}, [v.as_dict() for v in verdicts if v.status != PASSED]
    assert by_rule(verdicts)["registration_period"].used["category"] == "on_time"
    assert by_rule(verdicts)["applicant_may_register_birth"].used["link"] == "parent"


def test_a_child_born_next_year_is_refused(world, parents):
    v = by_rule(birth(world, parents, born="2027-01-10"))["birth_date_possible"]
    assert v.status == FAILED and v.fields == ("child_date_of_birth",) and "sau ngày nộp" in v.message_vi


@pytest.mark.parametrize("born", ["1990-01-01", "2004-06-01"])  # before the mother's birth; the mother aged 8
def test_a_child_born_before_its_mother_could_have_borne_it_is_refused(world, parents, born):
    v = by_rule(birth(world, parents, born=born))["birth_date_possible"]
    assert v.status == FAILED and v.fields == ("child_date_of_birth", "mother_personal_id")
    assert "người mẹ" in v.message_vi and "1996" not in v.message_vi


def test_who_may_register_a_birth(world, parents):
    rule = "applicant_may_register_birth"
    v = by_rule(birth(world, parents, applicant="stranger", relationship="other_relative"))[rule]
    assert v.status == FAILED and "requester_relationship" in v.fields and "Art. 15" in v.message_en
    assert by_rule(birth(world, parents, applicant="father", relationship="father"))[rule].used["link"] == "parent"
    v = by_rule(birth(world, parents, applicant="grandmother", relationship="grandparent"))[rule]
    assert v.status == PASSED and v.used["link"] == "grandparent" and v.used["through"] == "mother_personal_id"
    assert by_rule(birth(world, parents, applicant="aunt", relationship="other_relative"))[rule].used["link"] == "parent_sibling"
    # a carer is not in the register's links: the official checks the papers
    v = by_rule(birth(world, parents, applicant="stranger", relationship="caregiver"))[rule]
    assert v.status == NOT_CHECKED and v.used["declared"] == "caregiver"
    # an adult registering their own (late) birth: a child of the parents born that day
    me = world.add("male", "1999-09-09", father=parents["father"], mother=parents["mother"])
    v = by_rule(birth(world, parents, born="1999-09-09", applicant=me, relationship="self"))[rule]
    assert v.status == PASSED and v.used["link"] == "self"
    older = world.add("male", "2015-09-09", father=parents["father"], mother=parents["mother"])
    assert by_rule(birth(world, parents, applicant=older, relationship="other_relative"))[rule].used["link"] == "sibling"


def test_jurisdiction_of_a_birth_is_the_father_or_the_mother(world, parents):
    assert by_rule(birth(world, parents))["residence_in_area"].used["resident"] == "mother_personal_id"
    world.people[parents["mother"]].update(permanent_unit=ELSEWHERE, current_unit=ELSEWHERE)
    assert by_rule(birth(world, parents))["residence_in_area"].status == FAILED
    world.people[parents["father"]]["permanent_unit"] = AREA
    assert by_rule(birth(world, parents))["residence_in_area"].used["resident"] == "father_personal_id"


def test_a_late_birth_registration_is_derived_not_declared(world, parents):
    v = by_rule(birth(world, parents, born="2025-12-01"))["registration_period"]
    assert v.status == PASSED and v.used["category"] == "late" and v.used["days_since"] == 91
    v = by_rule(birth(world, parents, born="2025-12-01", declared="on_time"))["registration_period"]
    assert v.status == FAILED and v.fields[0] == "registration_type" and "quá hạn" in v.message_vi
    assert by_rule(birth(world, parents, born="2025-12-01", declared="re_registration"))["registration_period"].status == PASSED


def test_the_registration_type_derivations_use_the_filing_date():
    birth_type, death_type = DERIVATIONS.get("birth_registration_type"), DERIVATIONS.get("death_registration_type")
    assert DERIVATIONS.info("birth_registration_type")["on_date"] is True
    assert birth_type(["2026-01-01", ON]) == "on_time"  # 60 days
    assert birth_type(["2025-12-31", ON]) == "late"
    assert death_type(["2026-02-15", ON]) == "on_time" and death_type(["2026-02-14", ON]) == "late"
    assert birth_type(["not a date", ON]) is None
    fields = {f.id: f for f in CATALOGUE.latest("birth-registration").fields}
    assert fields["registration_type"].prefill.rule == "birth_registration_type"


# --------------------------------------------------------------------------- death


@pytest.fixture
def deceased(world: World) -> dict[str, str]:
    wife, husband = world.add("female", "1950-01-01"), world.add("male", "1948-03-03")
    world.marry(wife, husband)
    son = world.add("male", "1975-01-01", father=husband, mother=wife)
    return {"deceased": husband, "wife": wife, "son": son, "stranger": world.add("female", "1950-01-01")}


def death(world: World, people: dict, *, applicant: str = "wife", relationship: str = "spouse",
          died: str = "2026-02-25", **kw: Any) -> list[Verdict]:
    form = {"deceased_personal_id": people["deceased"], "date_of_death": died,
            "requester_relationship": relationship, "registration_type": None}
    return evaluate(conditions_of("death-registration"), world.facts(form, applicant=people.get(applicant, applicant), **kw))


def test_an_ordinary_death_registration_meets_every_condition(world, deceased):
    verdicts = death(world, deceased)
    assert {v.status for v in verdicts} == {PASSED}, [v.as_dict() for v in verdicts if v.status != PASSED]
    assert by_rule(verdicts)["applicant_related"].used["link"] == "spouse"
    assert by_rule(death(world, deceased, applicant="son", relationship="child"))["applicant_related"].used["link"] == "child"


def test_a_death_already_in_the_register_is_not_registered_again(world, deceased):
    world.people[deceased["deceased"]]["date_of_death"] = dt.date(2026, 2, 25)
    v = by_rule(death(world, deceased))["life_status"]
    assert v.status == FAILED and v.fields == ("deceased_personal_id",) and "đã chết" in v.message_vi
    v = run("life_status", world.facts({"d": deceased["deceased"]}), parties=["d"], status="deceased")
    assert v.status == PASSED
    v = run("life_status", world.facts({"d": deceased["wife"]}), parties=["d"], status="deceased")
    assert v.status == FAILED


def test_a_stranger_claiming_to_be_the_spouse_is_refused(world, deceased):
    v = by_rule(death(world, deceased, applicant="stranger", relationship="spouse"))["applicant_related"]
    assert v.status == FAILED and v.fields == ("deceased_personal_id", "requester_relationship")
    assert "vợ hoặc chồng" in v.message_vi and "người đã chết" in v.message_vi
    # a person or body with no relative to file ("other") is checked on the papers
    v = by_rule(death(world, deceased, applicant="stranger", relationship="other"))["applicant_related"]
    assert v.status == NOT_CHECKED


@pytest.mark.parametrize("died,words", [("2026-03-03", "sau ngày nộp"), ("1940-01-01", "trước ngày sinh")])
def test_an_impossible_date_of_death_is_refused(world, deceased, died, words):
    v = by_rule(death(world, deceased, died=died))["death_date_possible"]
    assert v.status == FAILED and v.fields == ("date_of_death",) and words in v.message_vi


def test_a_death_registered_after_fifteen_days_is_late(world, deceased):
    assert by_rule(death(world, deceased, died="2026-02-15"))["registration_period"].used["category"] == "on_time"
    assert by_rule(death(world, deceased, died="2026-02-14"))["registration_period"].used["category"] == "late"


def test_jurisdiction_of_a_death_is_the_last_residence(world, deceased):
    world.people[deceased["deceased"]].update(permanent_unit=ELSEWHERE, current_unit=ELSEWHERE)
    v = by_rule(death(world, deceased))["residence_in_area"]
    assert v.status == FAILED and "người đã chết" in v.message_vi and "does not reside" in v.message_en


# --------------------------------------------------------------------------- marital status


def test_a_certificate_of_marital_status_is_asked_by_the_person_or_a_close_relative(world, deceased):
    conds = conditions_of("marital-status-certification")

    def ask(applicant: str, relationship: str) -> dict[str, Verdict]:
        form = {"subject_personal_id": deceased["son"], "requester_relationship": relationship}
        return by_rule(evaluate(conds, world.facts(form, applicant=applicant)))

    assert {v.status for v in ask(deceased["son"], "self").values()} == {PASSED}
    assert ask(deceased["son"], "self")["applicant_related"].used["link"] == "self"
    assert ask(deceased["wife"], "relative")["applicant_related"].used["link"] == "parent"
    assert ask(deceased["stranger"], "relative")["applicant_related"].status == FAILED
    assert ask(deceased["stranger"], "authorised")["applicant_related"].status == NOT_CHECKED


# --------------------------------------------------------------------------- evaluate


def test_a_source_that_cannot_be_reached_is_not_checked_never_a_refusal(world):
    class Down(Facts):
        def person(self, personal_id: str) -> PersonRecord | None:
            raise SourceUnavailable("register timed out")

    facts = Down(world, {"wife_personal_id": "100000000001", "husband_personal_id": "000000000002"}, ON,
                 "100000000001", AgencyFacts("UB-TEST", "commune", AREA))
    verdicts = evaluate(conditions_of("marriage-registration"), facts)
    assert not blocking(verdicts)
    assert by_rule(verdicts)["parties_exist"].status == NOT_CHECKED
    assert by_rule(verdicts)["applicant_is_party"].status == PASSED  # needs no source


def test_empty_fields_are_left_to_the_form(world):
    v = run("parties_exist", world.facts({"a": "", "b": None}), parties=["a", "b"])
    assert v.status == PASSED and v.used["personal_ids"] == {}
    assert run("birth_date_possible", world.facts({"d": "soon"}), date="d").status == NOT_CHECKED
    assert run("registration_period", world.facts({}), date="d", period="birth").status == NOT_CHECKED


# --------------------------------------------------------------------------- dates and ages (properties)

DAYS = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2030, 12, 31))


def _birthday(born: dt.date, years: int) -> dt.date:
    """The day ``years`` are completed: the anniversary, or 1 March for 29 February in a common year."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return dt.date(born.year + years, 3, 1)


@given(born=DAYS, on=DAYS, years=st.integers(min_value=0, max_value=40))
def test_minimum_age_is_met_from_the_birthday_itself(born, on, years):
    world = World()
    pid = world.add("female", born)
    v = run("minimum_age", world.facts({"p": pid}, on=on), parties={"p": years})
    assert (v.status == PASSED) == (on >= _birthday(born, years))


@pytest.mark.parametrize("on,status", [(dt.date(2026, 2, 28), FAILED), (dt.date(2026, 3, 1), PASSED),
                                       (dt.date(2028, 2, 29), PASSED)])
def test_a_leap_day_birthday_completes_its_years_on_the_first_of_march(on, status):
    world = World()
    pid = world.add("female", "2008-02-29")
    assert run("minimum_age", world.facts({"p": pid}, on=on), parties={"p": 18}).status == status


@given(event=DAYS, on=DAYS, period=st.sampled_from(sorted(registration_periods.PERIODS)))
def test_the_registration_period_counts_days_from_the_event(event, on, period):
    v = run("registration_period", World().facts({"d": event.isoformat()}, on=on), date="d", period=period)
    late = on > event + dt.timedelta(days=registration_periods.PERIODS[period])
    assert v.status == PASSED and v.used["category"] == ("late" if late else "on_time")


@given(mother_born=DAYS, child_born=DAYS, on=DAYS)
def test_a_birth_date_is_possible_only_before_the_filing_date_and_after_the_mother_turned_twelve(mother_born, child_born, on):
    world = World()
    mother = world.add("female", mother_born)
    v = run("birth_date_possible", world.facts({"d": child_born.isoformat(), "m": mother}, on=on), date="d", parents=["m"])
    assert (v.status == PASSED) == (child_born <= on and child_born >= _birthday(mother_born, 12))


# --------------------------------------------------------------------------- the conditions: key


CONDITIONS_BLOCK = """\
conditions:
  - {rule: parties_exist, parties: [applicant_personal_id]}
  - {rule: minimum_age, parties: {applicant_personal_id: 18}}
documents:
"""


def _with_conditions(block: str) -> str:
    return _replace(ONE_STOP, "documents:\n", block)


def test_a_conditions_block_loads_into_the_procedure(write):
    path = write(_with_conditions(CONDITIONS_BLOCK))
    proc = load_catalogue([path.parent.parent], calendars=["vn"]).get("trial-permit", 1)
    assert proc.conditions == ({"rule": "parties_exist", "parties": ["applicant_personal_id"]},
                               {"rule": "minimum_age", "parties": {"applicant_personal_id": 18}})
    assert type(proc.conditions[1]["parties"]) is dict  # plain data, not the loader's line-keeping kind
    hash(proc)  # a procedure stays hashable


@pytest.mark.parametrize("old,new,needle,words", [
    ("{rule: parties_exist,", "{rule: parties_exists,", "parties_exists",
     ("unknown condition rule 'parties_exists'", "did you mean 'parties_exist'")),
    ("{applicant_personal_id: 18}", "{applicant_personal_id: eighteen}", "eighteen",
     ("condition 'minimum_age'", "'parties.applicant_personal_id' must be a whole number")),
    ("[applicant_personal_id]}", "[wife_personal_id]}", "wife_personal_id",
     ("condition 'parties_exist'", "'wife_personal_id' is not a field of this form")),
    ("[applicant_personal_id]}", "[purpose]}", "[purpose]",
     ("condition 'parties_exist'", "field 'purpose' is a select field, not personal_id")),
    ("{rule: parties_exist, parties: [applicant_personal_id]}", "{rule: parties_exist, party: [applicant_personal_id]}",
     "party:", ("unknown parameter 'party'", )),
    ("{rule: parties_exist, parties: [applicant_personal_id]}", "{rule: parties_exist}", "{rule: parties_exist}",
     ("missing parameter 'parties'",)),
    ("{rule: parties_exist, parties: [applicant_personal_id]}", "{parties: [applicant_personal_id]}",
     "{parties: [applicant_personal_id]}", ("a condition needs 'rule'",)),
])
def test_a_bad_condition_is_reported_at_its_line(write, old, new, needle, words):
    text = _with_conditions(_replace(CONDITIONS_BLOCK, old, new))
    path = write(text)
    _assert_reported(_problems(path.parent.parent), path, _line(text, needle), *words)


def test_conditions_must_be_a_list(write):
    text = _with_conditions("conditions: parties_exist\ndocuments:\n")
    path = write(text)
    _assert_reported(_problems(path.parent.parent), path, _line(text, "conditions:"), "conditions must be a list")


@pytest.mark.parametrize("rule,params,problem", [
    ("party_sex", {"parties": {"p": "other"}}, "unknown value 'other'"),
    ("no_prohibited_kinship", {"parties": ["p"]}, "exactly 2"),
    ("different_people", {"parties": ["p", "p"]}, "names a field twice"),
    ("registration_period", {"date": "d", "period": "marriage"}, "use birth, death"),
    ("registration_period", {"date": "p", "period": "birth"}, "is a personal_id field, not date"),
    ("applicant_related", {"subject": "p", "relations": ["friend"]}, "unknown value 'friend'"),
    ("birth_date_possible", {"date": "d", "min_parent_age": 0}, "from 1 to 100"),
    ("life_status", {"parties": ["p"], "status": "undead"}, "use alive, deceased"),
])
def test_every_rule_checks_its_parameters(rule, params, problem):
    from engine.rules.conditions import check_entry
    problems = check_entry(rule, params, {"p": "personal_id", "d": "date"})
    assert any(problem in p for p in problems), problems


def test_every_rule_has_a_parameter_check():
    assert all(callable(CONDITIONS.info(name).get("check")) for name in CONDITIONS)
