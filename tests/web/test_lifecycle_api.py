"""Both real procedures driven through the HTTP API, from draft to a final state."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from tests import pdf_samples

pytestmark = pytest.mark.database

PDF = pdf_samples.plain()  # a real one-page PDF: uploads are parsed and screened


def birth_form(couple: dict) -> dict:
    """What the mother declares: the child. Her own, her husband's data come from the registers."""
    return {
        "requester_relationship": "mother",
        "child_full_name": "Trần Minh Khôi",
        "child_date_of_birth": "2026-02-20",
        "child_sex": "male",
        "child_place_of_birth": "Bệnh viện Phụ sản Hà Nội",
        "registration_type": "on_time",
    }


def in_appraisal(services, demo):
    """A birth registration filed by the mother, received and assigned (processing_appraise): (dossier,
    citizen, specialist)."""
    couple = demo["scenarios"]["married_couple"]
    actor = services.accounts.actor_for
    citizen, specialist = actor(couple["wife"]), actor("specialist")
    d = services.filing.start_dossier("birth-registration", birth_form(couple), citizen)
    services.filing.add_document(d.id, "medical_birth_notice", "giay-chung-sinh.pdf", PDF, citizen)
    services.actions.perform_action(d.id, "submit", citizen)
    services.actions.perform_action(d.id, "receive", actor("clerk"))
    services.actions.perform_action(d.id, "assign", actor("leader"))
    return d, citizen, specialist


def marriage_form(wife: str, husband: str, *, other_party_typed: bool = True) -> dict:
    """Filed by the wife: her data come from the register; her partner's she types (not her family yet)."""
    form = {"wife_personal_id": wife, "husband_personal_id": husband, "wife_marriage_order": 1,
            "husband_marriage_order": 1}
    if other_party_typed:
        form.update({
            "husband_full_name": "Phạm Văn Nam", "husband_date_of_birth": "1993-11-20", "husband_ethnicity": "Tày",
            "husband_nationality": "Việt Nam", "husband_residence": "Số 8 phố Liễu Giai, phường Ba Đình, thành phố Hà Nội",
            "husband_marital_status": "single"})
    return form


def test_birth_registration_runs_from_filing_to_returned_result_with_supplement_and_extension(
    demo, api_as, clock, services
):
    couple = demo["scenarios"]["married_couple"]
    citizen, clerk, leader, specialist = api_as(couple["wife"]), api_as("clerk"), api_as("leader"), api_as("specialist")

    r = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": birth_form(couple)})
    assert r.status_code == 201, r.get_json()
    d = r.get_json()
    did = d["id"]
    assert (d["state"], d["status_code"], d["code"], d["version"]) == ("draft", None, None, 1)
    assert [a["id"] for a in d["available_actions"]] == ["submit", "request_withdrawal"] or "submit" in [
        a["id"] for a in d["available_actions"]]

    # submitting without the medical birth notice is refused with the missing requirement named
    r = citizen.post(f"/api/v1/dossiers/{did}/actions/submit", json={})
    assert r.status_code == 422
    assert "medical_birth_notice" in r.get_json()["fields"]

    r = citizen.post(f"/api/v1/dossiers/{did}/documents",
                     data={"requirement": "medical_birth_notice", "file": (__import__("io").BytesIO(PDF), "giay-chung-sinh.pdf")},
                     content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    r = citizen.post(f"/api/v1/dossiers/{did}/documents",
                     json={"requirement": "parents_marriage_certificate", "result_id": couple["marriage_certificate"]})
    assert r.status_code == 201, r.get_json()
    reqs = {q["id"]: q for q in r.get_json()["requirements"]}
    assert reqs["medical_birth_notice"]["satisfied"] and reqs["medical_birth_notice"]["by"] == "upload"
    assert reqs["parents_marriage_certificate"]["by"] == "result"

    d = citizen.act(did, "submit")
    assert (d["state"], d["status_code"]) == ("submitted", 1)

    # the clerk receives: dossier code, clock started (immediately: due at the end of the day)
    d = clerk.act(did, "receive", comment="Hồ sơ đầy đủ")
    assert (d["state"], d["status_code"]) == ("received", 2)
    assert re.fullmatch(r"000\.00\.25\.H26-260302-0001", d["code"])
    assert d["due_at"] == "2026-03-02T17:00:00"

    d = leader.act(did, "assign")
    assert (d["state"], d["status_code"]) == ("processing_appraise", 4)

    # a supplement during processing: one consolidated list of items, the clock stops
    specialist.act(did, "request_supplement", expect=422)  # no items
    clock.advance(hours=2)
    d = specialist.act(did, "request_supplement", items=["Giấy chứng sinh bản rõ nét", "Ghi rõ nơi sinh"])
    assert (d["state"], d["status_code"], d["supplement_rounds"]) == ("processing_supplement", 5, 1)
    assert d["events"][-1]["items"] == ["Giấy chứng sinh bản rõ nét", "Ghi rõ nơi sinh"]

    clock.set(dt.datetime(2026, 3, 3, 15, 30))  # after 15:00: an immediate limit runs to the next working day
    r = citizen.patch(f"/api/v1/dossiers/{did}", json={"data": {"child_place_of_birth": "Bệnh viện Phụ sản Hà Nội, phường Đống Đa"}})
    assert r.status_code == 200, r.get_json()
    d = citizen.act(did, "provide_supplement")
    # restart policy: the time limit counts again from zero (Decree 61/2018 Art. 19(4))
    assert d["state"] == "processing_appraise"
    assert d["due_at"] == "2026-03-04T17:00:00"

    # an extension: once, with a reason, at least one working day ahead
    clerk.act(did, "extend_due", expect=422, new_due_at="2026-03-06")
    d = leader.act(did, "extend_due", reason="Cần xác minh nơi sinh với bệnh viện", new_due_at="2026-03-06")
    assert d["extended"] is True
    assert d["due_at"] == "2026-03-06T17:00:00"
    assert d["original_due_at"] == "2026-03-04T17:00:00"
    leader.act(did, "extend_due", expect=409, reason="again", new_due_at="2026-03-09")

    d = specialist.act(did, "appraise", comment="Đủ điều kiện")
    assert (d["state"], d["status_code"]) == ("awaiting_decision", 4)
    specialist.act(did, "approve", expect=403)
    d = leader.act(did, "approve")
    assert (d["state"], d["status_code"]) == ("decided", 9)
    assert len(d["results"]) == 1
    result = d["results"][0]
    assert result["evidence"] == "birth-certificate" and result["status"] == "valid"
    assert re.fullmatch(r"1/2026/TP-KS", result["number"])
    assert result["data"]["child_full_name"] == "Trần Minh Khôi"
    assert result["data"]["dossier_code"] == d["code"]

    d = clerk.act(did, "return_result")
    assert (d["state"], d["status_code"], d["available_actions"]) == ("returned", 10, [])

    # the history, in order, with actors and roles; the chain is intact
    assert [e["action"] for e in d["events"]] == [
        "create", "submit", "receive", "assign", "request_supplement", "provide_supplement",
        "extend_due", "appraise", "approve", "return_result"]
    assert [e["role"] for e in d["events"]][1:4] == ["applicant", "clerk", "leader"]
    assert d["events"][6]["reason"] == "Cần xác minh nơi sinh với bệnh viện"
    report = services.audit.verify_audit(did)
    assert report.events == 10 and report.problems == []

    # the result is in the holder's store (the newborn has no personal id yet: the parent holds it)
    r = citizen.get("/api/v1/results?evidence=birth-certificate")
    assert [x["id"] for x in r.get_json()["results"]] == [result["id"]]


def test_marriage_registration_supplement_at_reception_then_rejection_after_appraisal(demo, api_as, clock):
    singles = demo["scenarios"]["single_adults"]
    wife = next(p["personal_id"] for p in singles if p["sex"] == "female")
    husband = next(p["personal_id"] for p in singles if p["sex"] == "male")
    citizen, clerk, leader, specialist = api_as(wife), api_as("clerk"), api_as("leader"), api_as("specialist")

    d = citizen.post("/api/v1/dossiers", json={"procedure": "marriage-registration", "data": marriage_form(wife, husband)}).get_json()
    did = d["id"]
    citizen.act(did, "submit")
    # at reception: one consolidated supplement request; the clock has not started
    d = clerk.act(did, "request_supplement", items=["Bổ sung nơi cư trú của bên nam"])
    assert (d["state"], d["status_code"], d["due_at"], d["code"]) == ("reception_supplement", 5, None, None)
    d = citizen.act(did, "provide_supplement")
    assert (d["state"], d["status_code"]) == ("submitted", 1)
    clock.set(dt.datetime(2026, 3, 6, 15, 30))  # Friday, after the cut-off (immediate: it applies online too)
    d = clerk.act(did, "receive")
    assert d["due_at"] == "2026-03-09T17:00:00"  # the next working day, Monday
    leader.act(did, "assign")
    specialist.act(did, "appraise")
    leader.act(did, "reject", expect=422)  # reasons are mandatory
    d = leader.act(did, "reject", reason="Bên nam chưa đủ tuổi kết hôn theo Điều 8 Luật Hôn nhân và gia đình")
    assert (d["state"], d["status_code"], d["available_actions"], d["results"]) == ("rejected", 9, [], [])
    citizen.act(did, "request_withdrawal", expect=409)


def test_refusal_at_reception_needs_a_reason_and_ends_the_dossier(demo, api_as):
    singles = demo["scenarios"]["single_adults"]
    wife = next(p["personal_id"] for p in singles if p["sex"] == "female")
    husband = next(p["personal_id"] for p in singles if p["sex"] == "male")
    citizen, clerk = api_as(wife), api_as("clerk")
    did = citizen.post("/api/v1/dossiers", json={"procedure": "marriage-registration",
                                                  "data": marriage_form(wife, husband)}).get_json()["id"]
    citizen.act(did, "submit")
    body = clerk.act(did, "refuse", expect=422, reason="  ")
    assert body["fields"] == {"reason": ["bắt buộc / required"]}
    d = clerk.act(did, "refuse", reason="Không thuộc thẩm quyền: hai bên không cư trú tại phường")
    assert (d["state"], d["status_code"]) == ("refused", 3)
    clerk.act(did, "receive", expect=409)


def test_counter_filing_after_the_cutoff_is_due_next_day_and_its_verification_case_counts_from_receipt(demo, api_as, clock):
    singles = demo["scenarios"]["single_adults"]
    wife = next(p["personal_id"] for p in singles if p["sex"] == "female")
    husband = next(p["personal_id"] for p in singles if p["sex"] == "male")
    clerk = api_as("clerk")
    clock.set(dt.datetime(2026, 3, 5, 15, 30))  # Thursday, after 15:00
    r = clerk.post("/api/v1/dossiers", json={"procedure": "marriage-registration", "applicant": wife,
                                             "data": marriage_form(wife, husband, other_party_typed=False)})
    assert r.status_code == 201, r.get_json()
    d = r.get_json()
    assert d["channel"] == "counter" and d["applicant"]["personal_id"] == wife
    clerk.act(d["id"], "file_at_counter")
    d = clerk.act(d["id"], "receive")
    # immediate, received after 15:00: done on the next working day, Friday 6 March
    assert d["due_at"] == "2026-03-06T17:00:00"
    # with verification, 5 working days from the receipt: Thursday is the day not counted (once), so
    # they end Thursday 12 March, not Friday 13
    d = api_as("specialist").act(d["id"], "apply_time_limit_case", case="verification",
                                 reason="Xác minh tình trạng hôn nhân của bên nam")
    assert d["due_at"] == "2026-03-12T17:00:00" and d["original_due_at"] == "2026-03-06T17:00:00"
    # the citizen sees the dossier filed for them
    assert api_as(wife).get(f"/api/v1/dossiers/{d['id']}").status_code == 200


def test_withdrawal_request_then_stop(demo, api_as):
    couple = demo["scenarios"]["married_couple"]
    citizen, clerk = api_as(couple["wife"]), api_as("clerk")
    d = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": birth_form(couple)}).get_json()
    citizen.post(f"/api/v1/dossiers/{d['id']}/documents", json={"requirement": "medical_birth_notice", "result_id": "x"})
    clerk_view = clerk.get(f"/api/v1/dossiers/{d['id']}")
    assert clerk_view.status_code == 200  # staff of the agency see drafts by id
    d = citizen.act(d["id"], "request_withdrawal", expect=409)  # a draft is simply abandoned, not withdrawn
