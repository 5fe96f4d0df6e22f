"""The statutory time limits through the API and the desk: immediate civil-status procedures, the
15:00 cut-off, and the verification case of a marriage applied with its reason."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from tests.web.test_lifecycle_api import PDF, birth_form, marriage_form

pytestmark = pytest.mark.database


def _submitted_marriage(demo, api_as, n: int = 0) -> str:
    singles = demo["scenarios"]["single_adults"]
    wife = [p["personal_id"] for p in singles if p["sex"] == "female"][n]
    husband = [p["personal_id"] for p in singles if p["sex"] == "male"][n]
    citizen = api_as(wife)
    r = citizen.post("/api/v1/dossiers", json={"procedure": "marriage-registration", "data": marriage_form(wife, husband)})
    assert r.status_code == 201, r.get_json()
    did = r.get_json()["id"]
    citizen.act(did, "submit")
    return did


def test_a_marriage_is_due_the_same_day_and_its_verification_case_gives_five_working_days(
    demo, api_as, clock, services
):
    clerk, specialist, leader = api_as("clerk"), api_as("specialist"), api_as("leader")
    did = _submitted_marriage(demo, api_as)
    clock.set(dt.datetime(2026, 3, 2, 10, 0))  # Monday 10:00
    d = clerk.act(did, "receive")
    assert d["due_at"] == "2026-03-02T17:00:00"  # immediately: by the end of the day
    assert d["time_limit_case"] is None
    d = leader.act(did, "assign")
    offered = {a["id"]: a for a in specialist.get(f"/api/v1/dossiers/{did}").get_json()["available_actions"]}
    assert offered["apply_time_limit_case"]["inputs"] == ["reason", "case"]

    # bad input: 422 in both languages, nothing changed
    for body, field in [({"case": "verification"}, "reason"), ({"reason": "Xác minh"}, "case"),
                        ({"reason": "Xác minh", "case": "urgent"}, "case"), ({"reason": "Xác minh", "case": 5}, "case"),
                        ({"reason": "Xác minh", "case": "x" * 61}, "case")]:
        err = specialist.act(did, "apply_time_limit_case", expect=422, **body)
        assert field in err["fields"] and " / " in err["message"], err
    api_as(demo["scenarios"]["single_adults"][0]["personal_id"]).act(did, "apply_time_limit_case", expect=403,
                                                                    reason="x", case="verification")
    assert specialist.get(f"/api/v1/dossiers/{did}").get_json()["due_at"] == "2026-03-02T17:00:00"

    clock.set(dt.datetime(2026, 3, 2, 14, 0))
    d = specialist.act(did, "apply_time_limit_case", case="verification",
                       reason="Cần xác minh tình trạng hôn nhân của bên nam tại nơi cư trú trước")
    assert d["state"] == "processing_appraise"
    assert d["due_at"] == "2026-03-09T17:00:00"  # 5 working days from Monday's receipt
    assert d["original_due_at"] == "2026-03-02T17:00:00"
    assert d["time_limit_case"] == "verification"
    event = d["events"][-1]
    assert event["action"] == "apply_time_limit_case"
    assert event["reason"] == "Cần xác minh tình trạng hôn nhân của bên nam tại nơi cư trú trước"
    assert event["details"]["time_limit_case"] == {
        "id": "verification", "value": 5, "unit": "working_days",
        "reason": "Cần xác minh tình trạng hôn nhân của bên nam tại nơi cư trú trước"}
    assert event["details"]["due_at"] == "2026-03-09T17:00:00"

    # once only
    assert "apply_time_limit_case" not in [a["id"] for a in d["available_actions"]]
    err = specialist.act(did, "apply_time_limit_case", expect=409, case="verification", reason="again")
    assert "verification" in err["message"]
    assert services.audit.verify_audit(did).problems == []


def test_a_case_cannot_be_applied_once_the_dossier_is_due(demo, api_as, clock):
    did = _submitted_marriage(demo, api_as)
    api_as("clerk").act(did, "receive")  # Monday 09:00, due 17:00
    clock.set(dt.datetime(2026, 3, 3, 8, 0))
    refused = api_as("specialist").act(did, "apply_time_limit_case", expect=409, case="verification", reason="Xác minh")
    assert refused["error"] == "action_not_allowed"
    d = api_as("clerk").get(f"/api/v1/dossiers/{did}").get_json()
    assert d["due_at"] == "2026-03-02T17:00:00" and d["time_limit_case"] is None  # nothing changed


def test_a_procedure_without_cases_has_no_case_action(couple_birth):
    d = couple_birth(dt.datetime(2026, 3, 2, 9, 0))
    assert "apply_time_limit_case" not in [a["id"] for a in d["available_actions"]]


@pytest.fixture
def couple_birth(demo, api_as, clock):
    """A birth registration filed online by the mother and received by the clerk at ``at``."""
    couple = demo["scenarios"]["married_couple"]

    def make(at: dt.datetime) -> dict:
        clock.set(at - dt.timedelta(hours=2))  # filed the same day, a child born a few days before
        citizen = api_as(couple["wife"])
        data = {**birth_form(couple), "child_date_of_birth": (at.date() - dt.timedelta(days=5)).isoformat()}
        did = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration",
                                                     "data": data}).get_json()["id"]
        r = citizen.post(f"/api/v1/dossiers/{did}/documents",
                         data={"requirement": "medical_birth_notice", "file": (io.BytesIO(PDF), "gcs.pdf")},
                         content_type="multipart/form-data")
        assert r.status_code == 201, r.get_json()
        citizen.act(did, "submit")
        clock.set(at)
        return api_as("clerk").act(did, "receive")

    return make


def test_a_birth_received_friday_after_15_00_is_due_monday(couple_birth):
    d = couple_birth(dt.datetime(2026, 3, 6, 15, 30))  # Friday 15:30
    assert d["due_at"] == "2026-03-09T17:00:00"


def test_a_birth_received_before_a_holiday_after_15_00_is_due_after_the_break(couple_birth):
    d = couple_birth(dt.datetime(2026, 4, 29, 15, 30))  # Wednesday; 30/4 - 3/5 are days off
    assert d["due_at"] == "2026-05-04T17:00:00"


def test_the_procedure_definition_lists_its_time_limit_cases(client):
    p = client.get("/api/v1/procedures/marriage-registration").get_json()
    assert p["time_limit"] == {"value": 0, "unit": "immediate", "cases": [
        {"id": "verification", "value": 5, "unit": "working_days",
         "label": {"vi": "Cần xác minh điều kiện kết hôn", "en": "The conditions for marriage need verification"}}]}
    summary = next(x for x in client.get("/api/v1/procedures").get_json()["procedures"]
                   if x["id"] == "criminal-record-certificate")
    assert (summary["time_limit"]["value"], summary["time_limit"]["unit"]) == (10, "days")
    assert [c["id"] for c in summary["time_limit"]["cases"]] == ["verification"]


def test_the_desk_asks_for_the_case_and_the_reason(demo, api_as, web_as, services):
    did = _submitted_marriage(demo, api_as)
    api_as("clerk").act(did, "receive")
    clerk = web_as("clerk")
    html = clerk.text(clerk.get(f"/desk/dossiers/{did}"))
    form = html[html.index('id="act-apply_time_limit_case"'):]
    form = form[:form.index("</form>")]
    assert '<select id="apply_time_limit_case-case" name="case"' in form
    assert re.search(r'<option value="verification">Cần xác minh điều kiện kết hôn \(5 ngày làm việc\)</option>', form)
    assert 'name="reason"' in form
    version = str(services.dossiers.get_dossier(did, services.accounts.actor_for("clerk")).version_counter)

    r = clerk.post(f"/desk/dossiers/{did}/actions/apply_time_limit_case",
                   {"expected_version": version, "reason": "Xác minh", "case": ""})
    assert r.status_code == 422 and 'id="apply_time_limit_case-case-error"' in clerk.text(r)
    r = clerk.post(f"/desk/dossiers/{did}/actions/apply_time_limit_case",
                   {"expected_version": version, "reason": "", "case": "verification"})
    page = clerk.text(r)
    assert r.status_code == 422 and 'id="apply_time_limit_case-reason-error"' in page
    assert '<option value="verification" selected>' in page  # what was chosen is kept
    r = clerk.post(f"/desk/dossiers/{did}/actions/apply_time_limit_case",
                   {"expected_version": version, "reason": "Cần xác minh nơi cư trú", "case": "verification"})
    assert r.status_code == 303
    d = services.dossiers.get_dossier(did, services.accounts.actor_for("clerk"))
    assert (d.time_limit_case, d.due_at) == ("verification", dt.datetime(2026, 3, 9, 17, 0))


def test_the_procedure_page_shows_the_cases_beside_the_time_limit(web_as):
    visitor = web_as(None)
    html = visitor.text(visitor.get("/procedures/marriage-registration"))
    assert "Giải quyết ngay" in html
    assert "Trường hợp cần xác minh điều kiện kết hôn: 5 ngày làm việc" in html
    html = visitor.text(visitor.get("/procedures/birth-registration"))
    assert "Giải quyết ngay" in html and "Trường hợp" not in html[html.index("Giải quyết ngay"):][:200]
