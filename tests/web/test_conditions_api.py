"""Conditions of eligibility where they bite: submission, counter filing and receipt refuse what the state's
data rules out (422 naming the fields and the rules, nothing filed); the ordinary case goes through and
the staff dossier page shows every verdict with the data it used; a register that cannot be reached
leaves the conditions "not checked" for the clerk instead of blocking the citizen."""
from __future__ import annotations

import datetime as dt
import html

import pytest
from sqlalchemy import func, select, update

from engine.adapters.models import EligibilityCheck, Person, RegisterRead
from tests.web.test_lifecycle_api import marriage_form

pytestmark = pytest.mark.database


def _singles(demo: dict) -> tuple[str, str]:
    singles = demo["scenarios"]["single_adults"]
    wife = next(p["personal_id"] for p in singles if p["sex"] == "female")
    husband = next(p["personal_id"] for p in singles if p["sex"] == "male")
    return wife, husband


def _draft(citizen, wife: str, husband: str, *, typed: bool = True) -> dict:
    """A marriage draft filed by ``citizen``; with ``typed`` the other party's data are typed (the register
    shows them only to the person and their family)."""
    data = marriage_form(wife, husband, other_party_typed=typed)
    r = citizen.post("/api/v1/dossiers", json={"procedure": "marriage-registration", "data": data})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _checks(services, dossier_id: str) -> int:
    with services.uow(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(EligibilityCheck)
                                  .where(EligibilityCheck.dossier_id == dossier_id))


def test_an_ordinary_marriage_passes_every_condition_and_staff_see_each_verdict_with_its_data(demo, api_as, services):
    wife, husband = _singles(demo)
    citizen, clerk = api_as(wife), api_as("clerk")
    d = _draft(citizen, wife, husband)
    assert citizen.act(d["id"], "submit")["state"] == "submitted"

    staff_view = clerk.get(f"/api/v1/dossiers/{d['id']}").get_json()
    checked = staff_view["conditions"]
    assert checked["action"] == "submit" and checked["outcome"] == "passed"
    rules = {v["rule"]: v for v in checked["verdicts"]}
    assert {"parties_exist", "different_people", "party_sex", "minimum_age", "not_married",
            "no_prohibited_kinship", "residence_in_area"} <= set(rules)
    assert all(v["status"] == "passed" for v in checked["verdicts"]), checked["verdicts"]
    assert all("used" in v for v in checked["verdicts"])
    assert husband in str(rules["parties_exist"]["used"])
    # the applicant sees the verdicts, not the register data they used (it is about other people too)
    mine = citizen.get(f"/api/v1/dossiers/{d['id']}").get_json()["conditions"]
    assert [v["rule"] for v in mine["verdicts"]] == [v["rule"] for v in checked["verdicts"]]
    assert all("used" not in v for v in mine["verdicts"])
    # the husband's register record was read for the wife's filing: logged for him
    with services.uow(write=False) as uow:
        purposes = uow.session.scalars(select(RegisterRead.basis).where(RegisterRead.personal_id == husband,
                                                                        RegisterRead.dossier_id == d["id"])).all()
    assert "eligibility" in purposes
    # received: the conditions are checked again, against the register as it is then
    assert clerk.act(d["id"], "receive")["state"] == "received"
    assert clerk.get(f"/api/v1/dossiers/{d['id']}").get_json()["conditions"]["action"] == "receive"
    assert _checks(services, d["id"]) == 2


def test_a_marriage_with_oneself_is_refused_naming_the_fields_and_the_rule_and_nothing_is_filed(demo, api_as, services):
    wife, _ = _singles(demo)
    citizen = api_as(wife)
    d = _draft(citizen, wife, wife, typed=False)
    r = citizen.post(f"/api/v1/dossiers/{d['id']}/actions/submit", json={})
    assert r.status_code == 422, r.get_json()
    body = r.get_json()
    assert body["error"] == "validation_error"
    failed = {c["rule"] for c in body["conditions"]}
    assert "different_people" in failed
    different = next(c for c in body["conditions"] if c["rule"] == "different_people")
    assert different["message"]["vi"] and different["message"]["en"]
    assert set(different["fields"]) <= set(body["fields"])
    assert " / " in body["fields"][different["fields"][0]][0]  # both languages
    after = citizen.get(f"/api/v1/dossiers/{d['id']}").get_json()
    assert after["state"] == "draft" and after["version_counter"] == d["version_counter"]
    assert _checks(services, d["id"]) == 0


def test_a_party_already_married_in_the_register_cannot_marry(demo, api_as):
    """The register's "married" cannot be typed over (a prefill conflict refuses the form) and the condition
    refuses it too: the filing never reaches the desk."""
    couple = demo["scenarios"]["married_couple"]
    _, husband = _singles(demo)
    citizen = api_as(couple["wife"])
    data = {**marriage_form(couple["wife"], husband), "wife_marital_status": "single"}
    r = citizen.post("/api/v1/dossiers", json={"procedure": "marriage-registration", "data": data})
    assert r.status_code == 422 and "wife_marital_status" in r.get_json()["fields"]
    d = _draft(citizen, couple["wife"], husband)  # the conflict stands: submission refused
    r = citizen.post(f"/api/v1/dossiers/{d['id']}/actions/submit", json={})
    assert r.status_code == 422 and "wife_marital_status" in r.get_json()["fields"], r.get_json()


def test_a_marriage_certificate_in_the_store_makes_a_party_married_whatever_the_register_says(demo, api_as, services):
    """The register lags (it still says single, no spouse), but her marriage certificate is in our own store,
    with no later divorce or death: she is married."""
    couple = demo["scenarios"]["married_couple"]
    _, husband = _singles(demo)
    with services.uow() as uow:
        uow.session.execute(update(Person).where(Person.personal_id == couple["wife"])
                            .values(marital_status="single", spouse_id=None))
        uow.commit()
    citizen = api_as(couple["wife"])
    d = _draft(citizen, couple["wife"], husband)
    r = citizen.post(f"/api/v1/dossiers/{d['id']}/actions/submit", json={})
    assert r.status_code == 422, r.get_json()
    failed = {c["rule"]: c for c in r.get_json()["conditions"]}
    assert "not_married" in failed and failed["not_married"]["fields"] == ["wife_personal_id"]


def test_two_women_and_an_under_age_groom_are_refused(demo, api_as, services):
    wife, husband = _singles(demo)
    other_woman = next(p["personal_id"] for p in demo["scenarios"]["single_adults"]
                       if p["sex"] == "female" and p["personal_id"] != wife)
    citizen = api_as(wife)
    d = _draft(citizen, wife, other_woman)
    r = citizen.post(f"/api/v1/dossiers/{d['id']}/actions/submit", json={})
    assert r.status_code == 422 and "party_sex" in {c["rule"] for c in r.get_json()["conditions"]}

    # the groom is 19 on the filing day in the register (whatever the form says)
    today = services.clock().date()
    with services.uow() as uow:
        uow.session.execute(update(Person).where(Person.personal_id == husband)
                            .values(date_of_birth=dt.date(today.year - 19, 1, 1)))
        uow.commit()
    d = _draft(citizen, wife, husband)
    r = citizen.post(f"/api/v1/dossiers/{d['id']}/actions/submit", json={})
    assert r.status_code == 422 and "minimum_age" in {c["rule"] for c in r.get_json()["conditions"]}


def test_receipt_checks_again_and_refuses_what_the_register_learnt_since_submission(demo, api_as, services):
    wife, husband = _singles(demo)
    citizen, clerk = api_as(wife), api_as("clerk")
    d = _draft(citizen, wife, husband)
    citizen.act(d["id"], "submit")
    with services.uow() as uow:  # meanwhile the register records the groom as married
        uow.session.execute(update(Person).where(Person.personal_id == husband).values(marital_status="married"))
        uow.commit()
    r = clerk.post(f"/api/v1/dossiers/{d['id']}/actions/receive", json={})
    assert r.status_code == 422 and "not_married" in {c["rule"] for c in r.get_json()["conditions"]}
    assert clerk.get(f"/api/v1/dossiers/{d['id']}").get_json()["state"] == "submitted"
    # the clerk refuses it at reception instead, with the reason
    assert clerk.act(d["id"], "refuse", reason="Bên nam đang có vợ / the groom is married")["state"] == "refused"


def test_the_citizens_page_shows_the_messages_beside_the_fields_and_files_nothing(demo, web_as, api_as, services):
    wife, _ = _singles(demo)
    d = _draft(api_as(wife), wife, wife, typed=False)  # a draft of a marriage with herself
    user = web_as(wife)
    r = user.post(f"/my/dossiers/{d['id']}/actions/submit", {"expected_version": str(d["version_counter"])})
    assert r.status_code == 422
    text = html.unescape(user.text(r))
    assert 'aria-invalid="true"' in text  # the fields the condition names are marked, with the message beside them
    assert "field-error" in text or "error" in text
    assert api_as(wife).get(f"/api/v1/dossiers/{d['id']}").get_json()["state"] == "draft"
    assert _checks(services, d["id"]) == 0


class _DownRegister:
    """A population register that cannot be reached (a timeout, a refused connection)."""

    def person(self, personal_id: str):
        raise TimeoutError("the register did not answer")


def test_an_unreachable_register_does_not_block_the_citizen_and_the_clerk_sees_not_checked(
        demo, api_as, services, monkeypatch):
    wife, husband = _singles(demo)
    citizen, clerk = api_as(wife), api_as("clerk")
    d = _draft(citizen, wife, husband)
    monkeypatch.setattr(services.eligibility, "population", _DownRegister())
    assert citizen.act(d["id"], "submit")["state"] == "submitted"
    checked = clerk.get(f"/api/v1/dossiers/{d['id']}").get_json()["conditions"]
    assert checked["outcome"] == "not_checked"
    statuses = {v["rule"]: v["status"] for v in checked["verdicts"]}
    assert statuses["parties_exist"] == "not_checked" and statuses["minimum_age"] == "not_checked"
    assert "failed" not in statuses.values()
    monkeypatch.undo()


def test_the_desk_page_lists_every_condition_with_its_verdict_and_data(demo, api_as, web_as):
    wife, husband = _singles(demo)
    citizen = api_as(wife)
    d = _draft(citizen, wife, husband)
    citizen.act(d["id"], "submit")
    text = html.unescape(web_as("clerk").text(web_as("clerk").get(f"/desk/dossiers/{d['id']}")))
    assert "Điều kiện" in text or "Conditions of eligibility" in text
    for rule in ("parties_exist", "minimum_age", "not_married", "no_prohibited_kinship", "residence_in_area"):
        assert rule in text
    assert husband in text  # the data the verdicts used
