"""Who may see and do what through the JSON API, and how every kind of bad request is answered.

Each test checks the status code and the contract's error body ``{"error", "message", "fields"}``.
"""
from __future__ import annotations

import base64
import datetime as dt
import io
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from werkzeug.datastructures import FileStorage
from werkzeug.serving import make_server
from werkzeug.test import encode_multipart

from engine.adapters.models import Account, Agency
from tests.web.test_lifecycle_api import PDF, birth_form, marriage_form

pytestmark = pytest.mark.database

ERROR_KEYS = {"error", "message", "fields"}


def assert_error(response, status: int, code: str | None = None, fields: tuple[str, ...] = ()) -> dict:
    """The response is the contract's error body with this status (and code, and these fields named)."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fields"], dict)
    assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in body["fields"].values())
    if code is not None:
        assert body["error"] == code, body
    for name in fields:
        assert name in body["fields"], body
    return body


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def couple(demo) -> dict:
    return demo["scenarios"]["married_couple"]


@pytest.fixture
def singles(demo) -> dict:
    people = demo["scenarios"]["single_adults"]
    return {
        "women": [p["personal_id"] for p in people if p["sex"] == "female"],
        "men": [p["personal_id"] for p in people if p["sex"] == "male"],
    }


@pytest.fixture
def stranger(singles) -> str:
    """A citizen unrelated to the married couple."""
    return singles["men"][0]


# the one-stop path of a birth registration: (action, who, state reached)
BIRTH_PATH = (
    ("submit", "applicant", "submitted"),
    ("receive", "clerk", "received"),
    ("assign", "leader", "processing_appraise"),
    ("appraise", "specialist", "awaiting_decision"),
)


@pytest.fixture
def birth_dossier(couple, api_as):
    """Make a birth registration dossier of the couple (filed by the wife) and drive it to ``state``."""

    def make(state: str = "draft") -> dict:
        citizen = api_as(couple["wife"])
        r = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": birth_form(couple)})
        assert r.status_code == 201, r.get_json()
        d = r.get_json()
        if state == "draft":
            return d
        r = citizen.post(f"/api/v1/dossiers/{d['id']}/documents",
                         data={"requirement": "medical_birth_notice", "file": (io.BytesIO(PDF), "notice.pdf")},
                         content_type="multipart/form-data")
        assert r.status_code == 201, r.get_json()
        for action, who, reached in BIRTH_PATH:
            d = api_as(couple["wife"] if who == "applicant" else who).act(d["id"], action)
            assert d["state"] == reached
            if reached == state:
                return d
        raise AssertionError(f"no path to {state}")

    return make


@pytest.fixture
def other_agency_clerk(services, clock, token_for) -> str:
    """A clerk of a second commune; returns the username (made after the dossiers it must not see)."""

    def make() -> str:
        with services.uow() as uow:
            agency = Agency(code="000.00.99.H99", name_vi="UBND xã Thử Nghiệm", name_en="Test Commune People's Committee",
                            level="commune", address=None, calendar="vn")
            uow.session.add(agency)
            uow.session.flush()
            uow.session.add(Account(username="clerk-other", kind="staff", display_name="Cán bộ xã khác",
                                    password_hash=None, roles=["clerk"], agency_id=agency.id, personal_id=None,
                                    allowed_evidence=[], active=True, created_at=clock()))
            uow.commit()
        return "clerk-other"

    return make


# --------------------------------------------------------------------------- access on every object


def test_another_citizen_gets_not_found_for_every_operation_on_a_dossier(birth_dossier, api_as, stranger, couple):
    d = birth_dossier("draft")
    did = d["id"]
    intruder = api_as(stranger)
    answers = [
        intruder.get(f"/api/v1/dossiers/{did}"),
        intruder.patch(f"/api/v1/dossiers/{did}", json={"data": {"child_full_name": "Kẻ Lạ"}}),
        intruder.post(f"/api/v1/dossiers/{did}/actions/submit", json={}),
        intruder.post(f"/api/v1/dossiers/{did}/actions/request_withdrawal", json={}),
        intruder.post(f"/api/v1/dossiers/{did}/documents",
                      data={"requirement": "medical_birth_notice", "file": (io.BytesIO(PDF), "x.pdf")},
                      content_type="multipart/form-data"),
        intruder.post(f"/api/v1/dossiers/{did}/documents",
                      json={"requirement": "parents_marriage_certificate", "result_id": couple["marriage_certificate"]}),
    ]
    unknown = intruder.get("/api/v1/dossiers/00000000-0000-0000-0000-000000000000")
    missing_body = assert_error(unknown, 404, "not_found")
    for r in answers:
        body = assert_error(r, 404, "not_found")
        # exactly what a dossier that does not exist answers: nothing of this one shows
        assert body == missing_body
        text = r.get_data(as_text=True)
        for secret in (did, couple["wife"], couple["husband"], "Trần Minh Khôi", "birth-registration"):
            assert secret not in text
    # nothing changed, and the intruder's own list is empty
    owner_view = api_as(couple["wife"]).get(f"/api/v1/dossiers/{did}").get_json()
    assert owner_view["data"]["child_full_name"] == "Trần Minh Khôi"
    # only the marriage certificate the engine linked from the store when the draft was made
    assert [(doc["requirement"], doc["by"]) for doc in owner_view["documents"]] == [("parents_marriage_certificate", "result")]
    r = intruder.get("/api/v1/dossiers")
    assert r.status_code == 200 and r.get_json()["items"] == [] and r.get_json()["total"] == 0


def test_a_citizen_cannot_list_or_read_another_holders_results(api_as, couple, stranger):
    intruder = api_as(stranger)
    assert_error(intruder.get(f"/api/v1/results?holder={couple['wife']}"), 403, "forbidden")
    body = assert_error(intruder.get(f"/api/v1/results/{couple['marriage_certificate']}"), 404, "not_found")
    assert couple["marriage_certificate"] not in str(body)
    # the holder does see it, in the list and by id
    holder = api_as(couple["wife"])
    r = holder.get(f"/api/v1/results?holder={couple['wife']}")
    assert r.status_code == 200
    assert couple["marriage_certificate"] in [x["id"] for x in r.get_json()["results"]]
    assert holder.get(f"/api/v1/results/{couple['marriage_certificate']}").status_code == 200


def test_a_citizen_cannot_link_another_familys_result_to_their_dossier(api_as, couple, stranger):
    intruder = api_as(stranger)
    r = intruder.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": {}})
    assert r.status_code == 201, r.get_json()
    did = r.get_json()["id"]
    r = intruder.post(f"/api/v1/dossiers/{did}/documents",
                      json={"requirement": "parents_marriage_certificate", "result_id": couple["marriage_certificate"]})
    body = assert_error(r, 404, "not_found")
    assert couple["wife"] not in str(body)
    assert [d for d in intruder.get(f"/api/v1/dossiers/{did}").get_json()["documents"] if d["by"] == "upload"] == []


def test_the_agency_client_cannot_see_the_work_queue_or_dossiers(birth_dossier, api_as):
    d = birth_dossier("submitted")
    agency = api_as("agency")
    assert_error(agency.get("/api/v1/dossiers"), 403, "forbidden")
    assert_error(agency.get(f"/api/v1/dossiers/{d['id']}"), 404, "not_found")
    assert_error(agency.post(f"/api/v1/dossiers/{d['id']}/actions/receive", json={}), 404, "not_found")


def test_staff_of_another_agency_cannot_see_or_act_on_the_dossier(birth_dossier, api_as, other_agency_clerk):
    d = birth_dossier("submitted")
    outsider = api_as(other_agency_clerk())
    assert_error(outsider.get(f"/api/v1/dossiers/{d['id']}"), 404, "not_found")
    assert_error(outsider.post(f"/api/v1/dossiers/{d['id']}/actions/receive", json={}), 404, "not_found")
    assert_error(outsider.patch(f"/api/v1/dossiers/{d['id']}", json={"data": {}}), 404, "not_found")
    r = outsider.get("/api/v1/dossiers")
    assert r.status_code == 200 and r.get_json()["items"] == []
    # the dossier's own agency still sees it
    assert api_as("clerk").get(f"/api/v1/dossiers/{d['id']}").status_code == 200


@pytest.mark.parametrize("authorization", [
    None,
    "Bearer not-a-real-token",
    "Bearer " + "x" * 500,
    "Bearer ",
    "Basic " + base64.b64encode(b"clerk:motcua").decode(),
    "Token abc",
])
def test_requests_without_a_valid_bearer_token_are_unauthenticated(client, demo, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method, path in (("get", "/api/v1/dossiers"), ("post", "/api/v1/dossiers"),
                         ("get", f"/api/v1/results/{demo['scenarios']['married_couple']['marriage_certificate']}")):
        r = getattr(client, method)(path, headers=headers, json={} if method == "post" else None)
        assert_error(r, 401, "unauthenticated")
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


# --------------------------------------------------------------------------- the role matrix


@pytest.mark.parametrize("who, status", [
    ("clerk", 200), ("specialist", 403), ("leader", 403), ("records", 403), ("applicant", 403),
])
def test_only_the_clerk_may_receive_a_submitted_dossier(birth_dossier, api_as, couple, who, status):
    d = birth_dossier("submitted")
    user = api_as(couple["wife"] if who == "applicant" else who)
    r = user.post(f"/api/v1/dossiers/{d['id']}/actions/receive", json={})
    if status == 200:
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["state"] == "received"
        # a second receive is no longer available
        assert_error(user.post(f"/api/v1/dossiers/{d['id']}/actions/receive", json={}), 409, "action_not_allowed")
    else:
        body = assert_error(r, 403, "forbidden")
        assert "clerk" in body["message"]
        assert api_as("clerk").get(f"/api/v1/dossiers/{d['id']}").get_json()["state"] == "submitted"


@pytest.mark.parametrize("who, status", [
    ("leader", 200), ("clerk", 403), ("specialist", 403), ("records", 403), ("applicant", 403),
])
def test_only_the_leader_may_approve_a_dossier_awaiting_decision(birth_dossier, api_as, couple, who, status):
    d = birth_dossier("awaiting_decision")
    user = api_as(couple["wife"] if who == "applicant" else who)
    r = user.post(f"/api/v1/dossiers/{d['id']}/actions/approve", json={})
    if status == 200:
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["state"] == "decided" and len(r.get_json()["results"]) == 1
        assert_error(user.post(f"/api/v1/dossiers/{d['id']}/actions/approve", json={}), 409, "action_not_allowed")
    else:
        assert_error(r, 403, "forbidden")
        assert api_as("leader").get(f"/api/v1/dossiers/{d['id']}").get_json()["state"] == "awaiting_decision"


def test_an_unknown_action_is_a_conflict_with_a_message(birth_dossier, api_as):
    d = birth_dossier("submitted")
    body = assert_error(api_as("clerk").post(f"/api/v1/dossiers/{d['id']}/actions/teleport", json={}),
                        409, "action_not_allowed")
    assert "teleport" in body["message"]


def test_an_action_not_available_in_the_current_state_is_a_conflict(birth_dossier, api_as):
    d = birth_dossier("draft")
    body = assert_error(api_as("leader").post(f"/api/v1/dossiers/{d['id']}/actions/approve", json={}),
                        409, "action_not_allowed")
    assert "draft" in body["message"]
    assert api_as("leader").get(f"/api/v1/dossiers/{d['id']}").get_json()["state"] == "draft"


# --------------------------------------------------------------------------- stale versions


def test_an_action_with_a_stale_expected_version_is_a_conflict(birth_dossier, api_as):
    d = birth_dossier("submitted")
    clerk = api_as("clerk")
    current = clerk.get(f"/api/v1/dossiers/{d['id']}").get_json()["version_counter"]
    assert current > 1
    r = clerk.post(f"/api/v1/dossiers/{d['id']}/actions/receive", json={"expected_version": current - 1})
    assert_error(r, 409, "conflict")
    assert clerk.get(f"/api/v1/dossiers/{d['id']}").get_json()["state"] == "submitted"
    r = clerk.post(f"/api/v1/dossiers/{d['id']}/actions/receive", json={"expected_version": current})
    assert r.status_code == 200 and r.get_json()["state"] == "received"


def test_a_form_update_with_a_stale_expected_version_is_a_conflict(birth_dossier, api_as, couple):
    d = birth_dossier("draft")
    citizen = api_as(couple["wife"])
    first = d["version_counter"]
    r = citizen.patch(f"/api/v1/dossiers/{d['id']}", json={"data": {"child_home_town": "Hà Nam"}, "expected_version": first})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["version_counter"] > first
    r = citizen.patch(f"/api/v1/dossiers/{d['id']}", json={"data": {"child_home_town": "Thái Bình"}, "expected_version": first})
    assert_error(r, 409, "conflict")
    assert citizen.get(f"/api/v1/dossiers/{d['id']}").get_json()["data"]["child_home_town"] == "Hà Nam"


# --------------------------------------------------------------------------- bad input is never a 500


def test_a_malformed_json_body_is_refused_with_the_error_body(api_as, couple):
    r = api_as(couple["wife"]).post("/api/v1/dossiers", data="{not json", content_type="application/json")
    assert r.status_code in (400, 422)
    assert_error(r, r.status_code)


def test_a_json_array_body_is_a_validation_error(api_as, couple, birth_dossier):
    citizen = api_as(couple["wife"])
    assert_error(citizen.post("/api/v1/dossiers", json=[{"procedure": "birth-registration"}]), 422, "validation_error")
    d = birth_dossier("draft")
    assert_error(citizen.patch(f"/api/v1/dossiers/{d['id']}", json=[1, 2]), 422, "validation_error")
    assert_error(citizen.post(f"/api/v1/dossiers/{d['id']}/actions/submit", json=["x"]), 422, "validation_error")


def test_a_body_that_is_not_json_is_a_validation_error(api_as, couple):
    r = api_as(couple["wife"]).post("/api/v1/dossiers", data="procedure=birth-registration",
                                    content_type="application/x-www-form-urlencoded")
    assert_error(r, 422, "validation_error")


@pytest.mark.parametrize("body, field", [
    ({"data": {}}, "procedure"),
    ({"procedure": 42, "data": {}}, "procedure"),
    ({"procedure": "no-such-procedure", "data": {}}, "procedure"),
    ({"procedure": "birth-registration", "data": {"favourite_colour": "blue"}}, "favourite_colour"),
    ({"procedure": "birth-registration", "data": {"requester_personal_id": "12345"}}, "requester_personal_id"),
    ({"procedure": "birth-registration", "data": {"mother_personal_id": "00109100123A"}}, "mother_personal_id"),
    ({"procedure": "birth-registration", "data": {"child_date_of_birth": "2026-02-30"}}, "child_date_of_birth"),
    ({"procedure": "birth-registration", "data": {"child_date_of_birth": 20260220}}, "child_date_of_birth"),
    ({"procedure": "birth-registration", "data": {"child_sex": "unknown"}}, "child_sex"),
    ({"procedure": "birth-registration", "data": {"mother_birth_year": 1800}}, "mother_birth_year"),
    ({"procedure": "birth-registration", "data": {"mother_birth_year": "nineteen"}}, "mother_birth_year"),
    ({"procedure": "birth-registration", "data": {"child_full_name": ["a", "list"]}}, "child_full_name"),
    ({"procedure": "birth-registration", "data": "not an object"}, "data"),
])
def test_filing_with_invalid_input_names_the_field(api_as, couple, body, field):
    citizen = api_as(couple["wife"])
    assert_error(citizen.post("/api/v1/dossiers", json=body), 422, "validation_error", fields=(field,))
    assert citizen.get("/api/v1/dossiers").get_json()["total"] == 0


@pytest.mark.parametrize("who, action, body, field", [
    ("clerk", "request_supplement", {"items": "one item"}, "items"),
    ("clerk", "request_supplement", {"items": [1, 2]}, "items"),
    ("leader", "extend_due", {"reason": 12, "new_due_at": "2026-03-10"}, "reason"),
    ("leader", "assign", {"comment": {"a": 1}}, "comment"),
    ("leader", "extend_due", {"reason": "xác minh", "new_due_at": "next tuesday"}, "new_due_at"),
    ("leader", "extend_due", {"reason": "xác minh", "new_due_at": 20260310}, "new_due_at"),
    ("leader", "assign", {"expected_version": "3"}, "expected_version"),
    ("leader", "assign", {"expected_version": True}, "expected_version"),
])
def test_action_inputs_of_the_wrong_type_are_validation_errors(birth_dossier, api_as, who, action, body, field):
    d = birth_dossier("received")
    r = api_as(who).post(f"/api/v1/dossiers/{d['id']}/actions/{action}", json=body)
    assert_error(r, 422, "validation_error", fields=(field,))
    after = api_as("leader").get(f"/api/v1/dossiers/{d['id']}").get_json()
    assert (after["state"], after["version_counter"]) == ("received", d["version_counter"])


def test_a_form_update_with_an_expected_version_that_is_not_an_integer_is_a_validation_error(birth_dossier, api_as, couple):
    d = birth_dossier("draft")
    citizen = api_as(couple["wife"])
    before = citizen.get(f"/api/v1/dossiers/{d['id']}").get_json()["data"]["child_home_town"]
    for bad in ("abc", str(d["version_counter"]), True, float(d["version_counter"])):
        r = citizen.patch(f"/api/v1/dossiers/{d['id']}", json={"data": {"child_home_town": "Hà Nam"}, "expected_version": bad})
        assert_error(r, 422, "validation_error", fields=("expected_version",))
    assert citizen.get(f"/api/v1/dossiers/{d['id']}").get_json()["data"]["child_home_town"] == before


def test_an_agency_that_is_not_a_code_is_a_validation_error(api_as, couple):
    citizen = api_as(couple["wife"])
    for agency in ([1], {"code": "x"}, 12):
        r = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": {}, "agency": agency})
        assert_error(r, 422, "validation_error", fields=("agency",))
    r = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": {}, "agency": "no-such-agency"})
    assert_error(r, 422, "validation_error", fields=("agency",))
    assert citizen.get("/api/v1/dossiers").get_json()["total"] == 0


@pytest.mark.parametrize("raw, field", [
    ('{"procedure": "birth-registration", "data": {"mother_birth_year": NaN}}', "mother_birth_year"),
    ('{"procedure": "marriage-registration", "data": {"wife_marriage_order": Infinity}}', "wife_marriage_order"),
    ('{"procedure": "marriage-registration", "data": {"wife_marriage_order": 1e999}}', "wife_marriage_order"),
    ('{"procedure": "birth-registration", "data": {"child_full_name": "Tr\\u0000n"}}', "child_full_name"),
    ('{"procedure": "birth-registration", "data": {"child\\u0000name": "x"}}', "child\x00name"),
    ('{"procedure": "birth-\\u0000registration", "data": {}}', "procedure"),
])
def test_values_the_database_cannot_store_are_validation_errors(api_as, couple, raw, field):
    # PostgreSQL refuses NUL characters and non-finite JSON numbers: they must never reach it
    citizen = api_as(couple["wife"])
    r = citizen.post("/api/v1/dossiers", data=raw, content_type="application/json")
    assert_error(r, 422, "validation_error", fields=(field,))
    assert citizen.get("/api/v1/dossiers").get_json()["total"] == 0


def test_nul_characters_in_the_path_query_or_headers_are_a_bad_request(api_as, couple, demo):
    citizen, clerk = api_as(couple["wife"]), api_as("clerk")
    for r in (citizen.get("/api/v1/dossiers/ab%00cd"), citizen.get("/api/v1/results/ab%00cd"),
              clerk.get("/api/v1/dossiers?state=a%00b"), clerk.get("/api/v1/dossiers?procedure=a%00b"),
              clerk.get("/api/v1/results?holder=a%00b"), citizen.get("/api/v1/results?evidence=a%00b"),
              citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": {}},
                           headers={"Idempotency-Key": "a\x00b"})):
        assert_error(r, 400, "bad_request")
    assert citizen.get("/api/v1/dossiers").get_json()["total"] == 0


@pytest.mark.parametrize("raw", ["[" * 100_000 + "]" * 100_000, '{"data":' + '{"a":' * 5000 + "1" + "}" * 5001])
def test_a_body_nested_too_deeply_is_a_validation_error(api_as, couple, raw):
    r = api_as(couple["wife"]).post("/api/v1/dossiers", data=raw, content_type="application/json")
    assert_error(r, 422, "validation_error")


@pytest.mark.parametrize("query, field", [
    ("page=abc", "page"), ("page=0", "page"), ("page=-1", "page"), ("page=99999999999999999999", "page"),
    ("overdue=maybe", "overdue"),
])
def test_bad_work_queue_parameters_are_validation_errors(api_as, demo, query, field):
    assert_error(api_as("clerk").get(f"/api/v1/dossiers?{query}"), 422, "validation_error", fields=(field,))


def test_an_unknown_route_is_a_json_not_found(api_as, demo):
    assert_error(api_as("clerk").get("/api/v1/no-such-thing"), 404, "not_found")
    page = api_as("clerk").get("/no-such-page")  # people on the HTML pages get a page, not JSON
    assert page.status_code == 404 and page.mimetype == "text/html" and "404" in page.get_data(as_text=True)


def test_a_wrong_method_is_a_json_method_not_allowed(client, token_for, demo):
    headers = {"Authorization": f"Bearer {token_for('clerk')}"}
    r = client.delete("/api/v1/procedures", headers=headers)
    assert_error(r, 405, "method_not_allowed")
    assert "GET" in r.headers["Allow"]
    assert_error(client.put("/api/v1/dossiers", json={}, headers=headers), 405, "method_not_allowed")


def test_a_thirty_megabyte_body_is_refused_as_too_large(api_as, couple, birth_dossier):
    citizen = api_as(couple["wife"])
    big = b"%PDF-1.4\n" + b"0" * (30 * 1024 * 1024)
    r = citizen.post("/api/v1/dossiers", data=b'{"procedure": "' + big + b'"}', content_type="application/json")
    assert_error(r, 413, "payload_too_large")
    d = birth_dossier("draft")
    # encoded in memory: the test client would spool a large form to a temporary file it never closes
    boundary, payload = encode_multipart({"requirement": "medical_birth_notice",
                                          "file": FileStorage(io.BytesIO(big), "big.pdf", content_type="application/pdf")})
    r = citizen.post(f"/api/v1/dossiers/{d['id']}/documents", data=payload,
                     content_type=f"multipart/form-data; boundary={boundary}")
    assert_error(r, 413, "payload_too_large")
    assert [d for d in citizen.get(f"/api/v1/dossiers/{d['id']}").get_json()["documents"] if d["by"] == "upload"] == []


def test_a_citizen_cannot_file_for_someone_else(api_as, couple):
    citizen = api_as(couple["wife"])
    r = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": birth_form(couple),
                                                "applicant": couple["husband"]})
    assert_error(r, 403, "forbidden")
    assert citizen.get("/api/v1/dossiers").get_json()["total"] == 0
    assert api_as(couple["husband"]).get("/api/v1/dossiers").get_json()["total"] == 0


@pytest.mark.parametrize("applicant", [None, "", "999999999999", "12345", 123456789012])
def test_a_counter_filing_needs_an_applicant_from_the_population_register(api_as, singles, applicant):
    body = {"procedure": "marriage-registration", "data": marriage_form(singles["women"][0], singles["men"][0])}
    if applicant is not None:
        body["applicant"] = applicant
    assert_error(api_as("clerk").post("/api/v1/dossiers", json=body), 422, "validation_error", fields=("applicant",))


def test_staff_without_the_clerk_role_cannot_file_at_the_counter(api_as, singles):
    body = {"procedure": "marriage-registration", "applicant": singles["women"][0],
            "data": marriage_form(singles["women"][0], singles["men"][0])}
    assert_error(api_as("specialist").post("/api/v1/dossiers", json=body), 403, "forbidden")
    assert_error(api_as("agency").post("/api/v1/dossiers", json=body), 403, "forbidden")


# --------------------------------------------------------------------------- idempotency


def _dossier_ids(api) -> list[str]:
    r = api.get("/api/v1/dossiers")
    assert r.status_code == 200
    return [x["id"] for x in r.get_json()["items"]]


def test_the_same_idempotency_key_twice_creates_one_dossier(api_as, couple):
    citizen = api_as(couple["wife"])
    body = {"procedure": "birth-registration", "data": birth_form(couple)}
    first = citizen.post("/api/v1/dossiers", json=body, headers={"Idempotency-Key": "form-1"})
    again = citizen.post("/api/v1/dossiers", json=body, headers={"Idempotency-Key": "form-1"})
    assert first.status_code == 201 and again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert _dossier_ids(citizen) == [first.get_json()["id"]]
    # the same key with another body is refused
    other = {"procedure": "birth-registration", "data": {**birth_form(couple), "child_full_name": "Trần Minh Khang"}}
    assert_error(citizen.post("/api/v1/dossiers", json=other, headers={"Idempotency-Key": "form-1"}),
                 409, "idempotency_conflict")
    assert _dossier_ids(citizen) == [first.get_json()["id"]]


def test_an_idempotency_key_belongs_to_its_account(api_as, singles):
    wife, husband = singles["women"][0], singles["men"][0]
    body = {"procedure": "marriage-registration", "data": marriage_form(wife, husband, other_party_typed=False)}
    a = api_as(wife).post("/api/v1/dossiers", json=body, headers={"Idempotency-Key": "shared"})
    b = api_as(husband).post("/api/v1/dossiers", json=body, headers={"Idempotency-Key": "shared"})
    assert a.status_code == 201 and b.status_code == 201
    assert a.get_json()["id"] != b.get_json()["id"]
    assert_error(api_as(wife).post("/api/v1/dossiers", json=body, headers={"Idempotency-Key": " "}),
                 422, "validation_error", fields=("Idempotency-Key",))


def test_different_idempotency_keys_create_two_dossiers(api_as, couple):
    citizen = api_as(couple["wife"])
    body = {"procedure": "birth-registration", "data": birth_form(couple)}
    a = citizen.post("/api/v1/dossiers", json=body, headers={"Idempotency-Key": "k-1"})
    b = citizen.post("/api/v1/dossiers", json=body, headers={"Idempotency-Key": "k-2"})
    assert a.status_code == 201 and b.status_code == 201
    assert a.get_json()["id"] != b.get_json()["id"]
    assert sorted(_dossier_ids(citizen)) == sorted([a.get_json()["id"], b.get_json()["id"]])
    assert_error(citizen.post("/api/v1/dossiers", json={**body, "data": {"x": 1}}, headers={"Idempotency-Key": "k-3"}),
                 422, "validation_error", fields=("x",))


def test_twenty_concurrent_posts_with_one_idempotency_key_create_one_dossier(app, api_as, couple, token_for):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.port}/api/v1/dossiers"
    headers = {"Authorization": f"Bearer {token_for(couple['wife'])}", "Idempotency-Key": "double-click"}
    body = {"procedure": "birth-registration", "data": birth_form(couple)}
    barrier = threading.Barrier(20)

    def post(_: int) -> tuple[int, dict]:
        with requests.Session() as session:
            barrier.wait(timeout=30)
            r = session.post(url, json=body, headers=headers, timeout=60)
            return r.status_code, r.json()

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(post, range(20)))
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    statuses = [status for status, _ in answers]
    assert 500 not in statuses and set(statuses) == {201}, answers
    ids = {body["id"] for _, body in answers}
    assert len(ids) == 1
    assert _dossier_ids(api_as(couple["wife"])) == list(ids)
    # and a new key with other content on the same server path still conflicts as it should
    other = {"procedure": "birth-registration", "data": {**birth_form(couple), "child_sex": "female"}}
    assert_error(api_as(couple["wife"]).post("/api/v1/dossiers", json=other,
                                             headers={"Idempotency-Key": "double-click"}), 409, "idempotency_conflict")


# --------------------------------------------------------------------------- the work queue


def test_the_work_queue_lists_the_agencys_dossiers_by_due_date_with_filters(api_as, couple, singles, clock,
                                                                          birth_dossier):
    clerk = api_as("clerk")

    def marriage(wife: str, husband: str) -> dict:
        r = api_as(wife).post("/api/v1/dossiers", json={"procedure": "marriage-registration",
                                                         "data": marriage_form(wife, husband)})
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    # submitted only: no due date yet
    waiting = marriage(singles["women"][0], singles["men"][0])
    api_as(singles["women"][0]).act(waiting["id"], "submit")
    # received Monday: a marriage is immediate, but it needs verification: 5 working days
    slow = marriage(singles["women"][1], singles["men"][1])
    api_as(singles["women"][1]).act(slow["id"], "submit")
    clerk.act(slow["id"], "receive")
    slow = clerk.act(slow["id"], "apply_time_limit_case", case="verification", reason="Xác minh nơi cư trú bên nam")
    # a birth is registered immediately: due first although received later
    clock.advance(minutes=30)
    fast = birth_dossier("received")
    # a draft is the citizen's business only
    draft = birth_dossier("draft")

    r = clerk.get("/api/v1/dossiers")
    assert r.status_code == 200
    page = r.get_json()
    items = page["items"]
    assert [x["id"] for x in items] == [fast["id"], slow["id"], waiting["id"]]
    assert page["total"] == 3 and page["page"] == 1
    assert draft["id"] not in [x["id"] for x in items]
    assert [x["due_at"] for x in items] == [fast["due_at"], slow["due_at"], None]
    assert {x["id"]: x["timeliness"] for x in items} == {
        fast["id"]: "due_soon", slow["id"]: "on_time", waiting["id"]: "none"}

    assert [x["id"] for x in clerk.get("/api/v1/dossiers?state=submitted").get_json()["items"]] == [waiting["id"]]
    assert [x["id"] for x in clerk.get("/api/v1/dossiers?procedure=birth-registration").get_json()["items"]] == [fast["id"]]
    assert [x["id"] for x in clerk.get("/api/v1/dossiers?procedure=marriage-registration").get_json()["items"]] == [
        slow["id"], waiting["id"]]
    assert clerk.get("/api/v1/dossiers?overdue=true").get_json()["items"] == []

    # past the birth dossier's due date (Monday 17:00)
    clock.set(dt.datetime.fromisoformat(fast["due_at"]) + dt.timedelta(hours=16))
    overdue = clerk.get("/api/v1/dossiers?overdue=true").get_json()["items"]
    assert [(x["id"], x["timeliness"]) for x in overdue] == [(fast["id"], "overdue")]
    assert [x["id"] for x in clerk.get("/api/v1/dossiers?overdue=false").get_json()["items"]] == [
        slow["id"], waiting["id"]]
    assert_error(clerk.get("/api/v1/dossiers?overdue=yes please"), 422, "validation_error", fields=("overdue",))


def test_a_citizen_lists_only_their_own_dossiers(api_as, couple, singles, birth_dossier):
    mine = birth_dossier("draft")
    wife, husband = singles["women"][0], singles["men"][0]
    theirs = api_as(wife).post("/api/v1/dossiers", json={"procedure": "marriage-registration",
                                                          "data": marriage_form(wife, husband)}).get_json()
    r = api_as(couple["wife"]).get("/api/v1/dossiers")
    assert r.status_code == 200
    assert [x["id"] for x in r.get_json()["items"]] == [mine["id"]]
    assert [x["id"] for x in api_as(wife).get("/api/v1/dossiers").get_json()["items"]] == [theirs["id"]]
    assert api_as(husband).get("/api/v1/dossiers").get_json()["items"] == []
    assert_error(api_as(couple["wife"]).get(f"/api/v1/dossiers/{theirs['id']}"), 404, "not_found")


# --------------------------------------------------------------------------- public documents


def test_the_procedure_catalogue_and_definitions_are_public(client, services):
    r = client.get("/api/v1/procedures")
    assert r.status_code == 200
    catalogue = {p["id"]: p for p in r.get_json()["procedures"]}
    assert {"birth-registration", "marriage-registration"} <= set(catalogue)
    assert {"id", "code", "version", "title"} <= set(catalogue["birth-registration"])

    r = client.get("/api/v1/procedures/birth-registration")
    assert r.status_code == 200
    p = r.get_json()
    for key in ("fields", "documents", "states", "actions", "time_limit", "fee"):
        assert p[key] not in (None, [], {}), key
    assert p["id"] == "birth-registration"
    assert p["time_limit"] == {"value": 0, "unit": "immediate", "cases": []}
    assert {"amount", "currency"} <= set(p["fee"])
    assert "medical_birth_notice" in [d["id"] for d in p["documents"]]
    assert "child_full_name" in [f["id"] for f in p["fields"]]
    assert {"draft", "submitted", "received", "returned"} <= {s["id"] for s in p["states"]}
    assert {"submit", "receive", "approve", "return_result"} <= {a["id"] for a in p["actions"]}

    assert_error(client.get("/api/v1/procedures/nope"), 404, "not_found")


def test_the_openapi_document_lists_every_api_route(client, app):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.get_json()
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["title"] and doc["info"]["version"]
    assert set(doc["components"]["schemas"]["Error"]["required"]) == ERROR_KEYS

    def shape(path: str) -> str:
        return re.sub(r"<[^>]*>|\{[^}]*\}", "{}", path)

    documented: dict[str, set[str]] = {}
    for path, ops in doc["paths"].items():
        assert path.startswith("/")
        documented.setdefault(shape(path), set()).update(m.upper() for m in ops)
        for method, op in ops.items():
            assert method in {"get", "post", "put", "patch", "delete"}
            assert op["responses"], (path, method)
    routed: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            routed.setdefault(shape(rule.rule), set()).update(rule.methods - {"HEAD", "OPTIONS"})
    missing = {path: sorted(methods - documented.get(path, set())) for path, methods in routed.items()
               if methods - documented.get(path, set())}
    assert missing == {}
    assert_error(client.get("/api/v1/openapi.yaml"), 404, "not_found")


def test_the_health_check_answers_without_a_token(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "checks": {"database": "ok", "blob_store": "ok"}}
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert_error(client.post("/healthz"), 405, "method_not_allowed")


def test_a_clerk_cannot_file_a_citizens_online_draft_at_the_counter(demo, api_as):
    from tests.web.test_lifecycle_api import birth_form

    couple = demo["scenarios"]["married_couple"]
    citizen, clerk = api_as(couple["wife"]), api_as("clerk")
    d = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": birth_form(couple)}).get_json()
    seen = clerk.get(f"/api/v1/dossiers/{d['id']}").get_json()
    assert "file_at_counter" not in [a["id"] for a in seen["available_actions"]]
    r = clerk.post(f"/api/v1/dossiers/{d['id']}/actions/file_at_counter", json={})
    assert r.status_code == 409, r.get_json()
    assert citizen.get(f"/api/v1/dossiers/{d['id']}").get_json()["state"] == "draft"


def test_a_clerk_files_through_the_api_only_what_the_agency_handles(demo, api_as):
    single = demo["scenarios"]["single_adults"][0]["personal_id"]
    clerk = api_as("clerk")
    # the criminal record certificate is a provincial procedure: a commune's counter does not take it
    r = clerk.post("/api/v1/dossiers", json={"procedure": "criminal-record-certificate", "data": {}, "applicant": single})
    assert r.status_code == 422, r.get_json()
    assert "procedure" in r.get_json()["fields"]
    r = clerk.post("/api/v1/dossiers", json={"procedure": "marital-status-certification", "data": {}, "applicant": single})
    assert r.status_code == 201, r.get_json()
