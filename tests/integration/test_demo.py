"""The synthetic demo data: a plausible population, accounts and earlier results, seeded once."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import Session

from motcua.demo.world import (
    AGENCY_CODE,
    DEMO_PASSWORD,
    STAFF_ROLES,
    age_on,
    date_in_words,
    seed_demo,
)
from engine.adapters.models import Account, Agency, Base, Person, Result, ResultHolder

NOW = dt.datetime(2026, 3, 10, 9, 30)


def _engine():
    engine = create_engine("sqlite://")

    @event.listens_for(engine, "connect")
    def _foreign_keys(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    Base.metadata.create_all(engine)
    return engine


@pytest.fixture(scope="module")
def seeded():
    engine = _engine()
    with Session(engine) as session:
        summary = seed_demo(session, NOW)
        session.commit()
    session = Session(engine)
    yield session, summary
    session.close()
    engine.dispose()


@pytest.fixture(scope="module")
def population(seeded):
    session, _ = seeded
    people = session.scalars(select(Person)).all()
    return {p.id: p for p in people}


def test_seeds_at_least_a_thousand_people_in_households(seeded, population):
    _, summary = seeded
    assert len(population) >= 1000
    assert summary.people == len(population)
    assert all(p.household_id and p.relation_to_head for p in population.values())
    heads = {}
    for p in population.values():
        if p.relation_to_head == "Chủ hộ":
            heads.setdefault(p.household_id, []).append(p)
    households = {p.household_id for p in population.values()}
    assert set(heads) == households
    assert all(len(h) == 1 for h in heads.values())
    # Some three-generation households: a grandparent living with a married child's family.
    grandparents = [p for p in population.values() if p.relation_to_head in ("Cha", "Mẹ")]
    assert grandparents
    statuses = {p.marital_status for p in population.values()}
    assert statuses == {"single", "married", "divorced", "widowed"}


def test_personal_ids_are_unique_twelve_digits_with_the_century_and_sex_digit(population):
    ids = [p.personal_id for p in population.values()]
    assert len(ids) == len(set(ids))
    for p in population.values():
        assert re.fullmatch(r"\d{12}", p.personal_id), p.personal_id
        century = p.date_of_birth.year // 100 - 19
        assert int(p.personal_id[3]) == 2 * century + (p.sex == "female")
        assert p.personal_id[4:6] == f"{p.date_of_birth.year % 100:02d}"
        assert p.sex in ("female", "male")


def test_people_carry_the_register_fields(population):
    today = NOW.date()
    for p in population.values():
        adult = age_on(p.date_of_birth, today) >= 18
        assert p.nationality == "Việt Nam"
        assert p.ethnicity and p.religion and p.home_town and p.place_of_birth
        assert p.permanent_address.endswith("thành phố Hà Nội")
        assert p.current_address.endswith("thành phố Hà Nội")
        if adult:
            assert re.fullmatch(r"0[35789]\d{8}", p.phone), p.phone
            assert p.email and "@example." in p.email
            assert p.id_issued_by == "Cục Cảnh sát quản lý hành chính về trật tự xã hội"
            assert p.date_of_birth < p.id_issued_on <= today
        words = p.full_name.split()
        assert len(words) >= 3
        if p.sex == "male":
            assert "Thị" not in words[1:-1]
        else:
            assert "Văn" not in words[1:-1]
    assert sum(p.ethnicity == "Kinh" for p in population.values()) > 0.8 * len(population)
    assert len({p.ethnicity for p in population.values()}) >= 5
    assert sum(p.religion == "Không" for p in population.values()) > 0.6 * len(population)


def test_spouses_point_at_each_other_with_opposite_sex_and_both_married(population):
    married = [p for p in population.values() if p.marital_status == "married"]
    assert len(married) >= 200
    for p in married:
        spouse = population[p.spouse_id]
        assert spouse.spouse_id == p.id
        assert spouse.sex != p.sex
        assert spouse.marital_status == "married"
        assert spouse.household_id == p.household_id
    assert all(p.spouse_id is None for p in population.values() if p.marital_status != "married")


def test_children_are_at_least_sixteen_years_younger_than_each_parent(population):
    children = [p for p in population.values() if p.father_id or p.mother_id]
    assert len(children) >= 200
    for child in children:
        for parent_id in (child.father_id, child.mother_id):
            if parent_id is None:
                continue
            parent = population[parent_id]
            assert age_on(parent.date_of_birth, child.date_of_birth) >= 16
        if child.father_id:
            father = population[child.father_id]
            assert father.sex == "male"
            assert child.full_name.split()[0] == father.full_name.split()[0]
        if child.mother_id:
            assert population[child.mother_id].sex == "female"


def test_every_adult_has_a_citizen_account_and_children_have_none(seeded, population):
    session, _ = seeded
    accounts = {a.username: a for a in session.scalars(select(Account).where(Account.kind == "citizen"))}
    today = NOW.date()
    adults = {p.personal_id: p for p in population.values() if age_on(p.date_of_birth, today) >= 18}
    assert set(accounts) == set(adults)
    for pid, account in accounts.items():
        assert account.personal_id == pid
        assert account.display_name == adults[pid].full_name
        assert account.roles == ["citizen"]
        assert account.active
    # One hash for all demo accounts; it is a real argon2 hash of the demo password.
    hashes = {a.password_hash for a in session.scalars(select(Account))}
    assert len(hashes) == 1
    assert PasswordHasher().verify(hashes.pop(), DEMO_PASSWORD)


def test_staff_accounts_exist_for_every_role_and_the_agency_client(seeded):
    session, summary = seeded
    agency = session.scalar(select(Agency).where(Agency.code == AGENCY_CODE))
    assert agency.name_vi == "Ủy ban nhân dân phường Ba Đình"
    assert agency.level == "commune" and agency.calendar == "vn"
    assert summary.agency_code == AGENCY_CODE
    assert set(summary.staff) == set(STAFF_ROLES) == {"clerk", "specialist", "leader", "records", "admin"}
    for role in STAFF_ROLES:
        account = session.scalar(select(Account).where(Account.username == role))
        assert account.kind == "staff"
        assert account.roles == [role]
        assert account.agency_id == agency.id
        assert account.display_name == summary.staff[role]
        assert len(account.display_name.split()) >= 3
    client = session.scalar(select(Account).where(Account.username == summary.agency_client))
    assert summary.agency_client == "agency"
    assert client.kind == "agency_client" and client.roles == ["agency_client"]
    assert set(client.allowed_evidence) == {"marriage-certificate", "birth-certificate"}
    assert client.agency_id != agency.id
    assert summary.password == DEMO_PASSWORD


def _valid_results(session, evidence):
    holders: dict[str, set[str]] = {}
    rows = session.execute(
        select(Result.id, ResultHolder.personal_id)
        .join(ResultHolder, ResultHolder.result_id == Result.id)
        .where(Result.evidence_type == evidence, Result.status == "valid")
    ).all()
    for result_id, pid in rows:
        holders.setdefault(result_id, set()).add(pid)
    return holders


def test_each_married_couple_holds_exactly_one_valid_marriage_certificate(seeded, population):
    session, _ = seeded
    certificates = _valid_results(session, "marriage-certificate")
    couples = {
        frozenset((p.personal_id, population[p.spouse_id].personal_id))
        for p in population.values() if p.marital_status == "married"
    }
    held = [frozenset(h) for h in certificates.values()]
    assert all(len(h) == 2 for h in held)
    for couple in couples:
        assert held.count(couple) == 1
    assert len(held) == len(couples)
    result = session.scalars(select(Result).where(Result.evidence_type == "marriage-certificate")).first()
    assert result.procedure_id == "marriage-registration" and result.procedure_version == 1
    assert result.result_key == "marriage-certificate"
    for number, issued_at in session.execute(select(Result.number, Result.issued_at)):
        assert re.fullmatch(r"\d+/\d{4}/TP-K[HS]", number)
        assert number.split("/")[1] == str(issued_at.year)
        assert issued_at < NOW


def test_each_child_holds_a_birth_certificate_with_the_form_fields(seeded, population):
    session, _ = seeded
    certificates = _valid_results(session, "birth-certificate")
    holders = {pid for h in certificates.values() for pid in h}
    children = {p.personal_id for p in population.values() if p.father_id or p.mother_id}
    assert children <= holders
    assert all(len(h) == 1 for h in certificates.values())
    by_pid = {p.personal_id: p for p in population.values()}
    results = session.scalars(select(Result).where(Result.evidence_type == "birth-certificate")).all()
    for result in results[:50]:
        child = by_pid[result.data["child_personal_id"]]
        assert result.data["child_full_name"] == child.full_name
        assert result.data["child_date_of_birth"] == child.date_of_birth.isoformat()
        assert result.data["child_date_of_birth_in_words"] == date_in_words(child.date_of_birth)
        assert result.issued_at.date() >= child.date_of_birth
        assert result.procedure_id == "birth-registration" and result.result_key == "birth-certificate"


def test_the_scenario_people_exist_and_match_their_description(seeded, population):
    session, summary = seeded
    scenarios = json.loads(json.dumps(summary.scenarios))  # JSON-able
    by_pid = {p.personal_id: p for p in population.values()}
    today = NOW.date()

    couple = scenarios["married_couple"]
    wife, husband = by_pid[couple["wife"]], by_pid[couple["husband"]]
    assert (wife.sex, husband.sex) == ("female", "male")
    assert wife.spouse_id == husband.id and husband.spouse_id == wife.id
    assert not any(p.father_id == husband.id or p.mother_id == wife.id for p in population.values())
    certificate = session.get(Result, couple["marriage_certificate"])
    assert certificate.status == "valid" and certificate.evidence_type == "marriage-certificate"
    assert {h.personal_id for h in certificate.holders} == {wife.personal_id, husband.personal_id}

    family = scenarios["family_with_child"]
    child = by_pid[family["child"]]
    assert child.mother_id == by_pid[family["wife"]].id
    assert child.father_id == by_pid[family["husband"]].id
    birth = session.get(Result, family["birth_certificate"])
    assert {h.personal_id for h in birth.holders} == {child.personal_id}
    assert session.get(Result, family["marriage_certificate"]).evidence_type == "marriage-certificate"

    singles = scenarios["single_adults"]
    assert sum(s["sex"] == "female" for s in singles) >= 2
    assert sum(s["sex"] == "male" for s in singles) >= 2
    for single in singles:
        person = by_pid[single["personal_id"]]
        assert person.sex == single["sex"]
        assert person.marital_status == "single" and person.spouse_id is None
        assert age_on(person.date_of_birth, today) >= (20 if person.sex == "male" else 18)
    assert len({by_pid[s["personal_id"]].household_id for s in singles}) == len(singles)

    for adult in (wife, husband, *(by_pid[s["personal_id"]] for s in singles)):
        assert session.scalar(select(Account).where(Account.username == adult.personal_id)) is not None


def test_seeding_twice_inserts_nothing_more(seeded):
    session, summary = seeded

    def counts():
        return [session.scalar(select(func.count()).select_from(model))
                for model in (Agency, Account, Person, Result, ResultHolder)]

    before = counts()
    again = seed_demo(session, NOW)
    session.commit()
    assert counts() == before
    assert again == summary


def _personal_ids(seed: int, people: int = 1200) -> list[str]:
    engine = _engine()
    with Session(engine) as session:
        seed_demo(session, NOW, seed=seed, people=people)
        session.commit()
        ids = list(session.scalars(select(Person.personal_id).order_by(Person.id)))
    engine.dispose()
    return ids


def test_the_same_seed_gives_the_same_personal_ids(population):
    first = _personal_ids(2026)
    assert first == [p.personal_id for p in sorted(population.values(), key=lambda p: p.id)]
    assert _personal_ids(2026) == first
    assert _personal_ids(7, people=200)[:50] != first[:50]


def test_result_data_goes_through_the_given_callables():
    engine = _engine()
    with Session(engine) as session:
        seed_demo(
            session, NOW, people=80,
            marriage_result_data=lambda form: {"registry": "demo", "wife": form["wife_full_name"]},
            birth_result_data=lambda form: {"registry": "demo", "child": form["child_full_name"]},
        )
        session.commit()
        results = session.scalars(select(Result)).all()
        assert results
        for result in results:
            assert result.data["registry"] == "demo"
            key = "wife" if result.evidence_type == "marriage-certificate" else "child"
            assert result.data[key]
    engine.dispose()


@pytest.mark.parametrize(("day", "words"), [
    (dt.date(2018, 3, 15), "Ngày mười lăm, tháng ba, năm hai nghìn không trăm mười tám"),
    (dt.date(2005, 4, 1), "Ngày một, tháng tư, năm hai nghìn không trăm linh năm"),
    (dt.date(1995, 12, 21), "Ngày hai mươi mốt, tháng mười hai, năm một nghìn chín trăm chín mươi lăm"),
    (dt.date(2000, 10, 24), "Ngày hai mươi tư, tháng mười, năm hai nghìn"),
])
def test_dates_are_written_in_vietnamese_words(day, words):
    assert date_in_words(day) == words
