"""Text and numbers at the edge: what no request may store, and what no parameter may turn into a 500.

Lone surrogates, NUL and other control characters, over-long strings, and integers or dates out of
range are refused with the contract's error body before anything is stored; a dossier that met one
stays readable and actionable, and nothing is left pending for issuance.
"""
from __future__ import annotations

import io
import json

import pytest

from tests.web.test_access_and_errors import assert_error
from tests.web.test_lifecycle_api import PDF, birth_form

pytestmark = pytest.mark.database


@pytest.fixture
def couple(demo) -> dict:
    return demo["scenarios"]["married_couple"]


@pytest.fixture
def draft(couple, api_as) -> dict:
    r = api_as(couple["wife"]).post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": birth_form(couple)})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def raw_json(obj_text: str) -> dict:
    """A JSON body as sent on the wire (json= would refuse a lone surrogate on the client side)."""
    return {"data": obj_text.encode(), "content_type": "application/json"}


def assert_still_usable(api_as, couple, services, dossier_id: str) -> None:
    """The dossier reads, takes a document, is submitted and received, and nothing waits for issuance."""
    citizen = api_as(couple["wife"])
    r = citizen.get(f"/api/v1/dossiers/{dossier_id}")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert "\ud800" not in json.dumps(r.get_json(), ensure_ascii=False, default=str).encode("utf-8", "surrogatepass").decode(
        "utf-8", "replace")
    r = citizen.post(f"/api/v1/dossiers/{dossier_id}/documents", content_type="multipart/form-data",
                     data={"requirement": "medical_birth_notice", "file": (io.BytesIO(PDF), "notice.pdf")})
    assert r.status_code == 201, r.get_json()
    assert citizen.act(dossier_id, "submit")["state"] == "submitted"
    assert api_as("clerk").act(dossier_id, "receive")["state"] == "received"
    assert api_as("clerk").get(f"/api/v1/dossiers/{dossier_id}").status_code == 200
    report = services.issuance.issue_pending()
    assert (report.failed, services.issuance.count_pending()) == (0, 0)


# --------------------------------------------------------------------------- finding 2: one string breaks a dossier


@pytest.mark.parametrize("value", ["\\ud800", "a\\udfffb", "\\udc80\\ud800", "x\\u0001y", "\\u001b[31m", "a\\u007fb",
                                   "\\u0085"])
def test_a_form_update_with_a_lone_surrogate_or_control_character_is_refused_and_the_dossier_stays_usable(
        draft, api_as, couple, services, value):
    citizen = api_as(couple["wife"])
    before = citizen.get(f"/api/v1/dossiers/{draft['id']}").get_json()
    r = citizen.patch(f"/api/v1/dossiers/{draft['id']}", **raw_json('{"data": {"child_place_of_birth": "%s"}}' % value))
    body = assert_error(r, 422, "validation_error")
    assert " / " in body["message"]  # both languages
    after = citizen.get(f"/api/v1/dossiers/{draft['id']}").get_json()
    assert after["data"] == before["data"] and after["version_counter"] == before["version_counter"]
    assert_still_usable(api_as, couple, services, draft["id"])


def test_a_lone_surrogate_in_a_key_is_refused(draft, api_as, couple, services):
    citizen = api_as(couple["wife"])
    r = citizen.patch(f"/api/v1/dossiers/{draft['id']}", **raw_json('{"data": {"child_\\ud800": "x"}}'))
    assert_error(r, 422, "validation_error")
    assert_still_usable(api_as, couple, services, draft["id"])


@pytest.mark.parametrize("body", [
    '{"procedure": "birth-registration", "data": {"child_full_name": "\\ud800"}}',
    '{"procedure": "birth-\\ud800registration", "data": {}}',
    '{"procedure": "birth-registration", "data": {}, "agency": "\\udfff"}',
    '{"procedure": "birth-registration", "data": {"child_full_name": "Tr\\u0007n"}}',
])
def test_filing_with_a_lone_surrogate_or_control_character_is_refused_and_nothing_is_created(api_as, couple, body):
    citizen = api_as(couple["wife"])
    assert_error(citizen.post("/api/v1/dossiers", **raw_json(body)), 422, "validation_error")
    assert citizen.get("/api/v1/dossiers").get_json()["total"] == 0


def test_a_huge_string_is_refused_before_it_is_stored(draft, api_as, couple):
    citizen = api_as(couple["wife"])
    r = citizen.post(f"/api/v1/dossiers/{draft['id']}/actions/submit", json={"comment": "x" * 200_000})
    assert_error(r, 422, "validation_error")
    r = citizen.patch(f"/api/v1/dossiers/{draft['id']}", json={"data": {"k" * 5000: "x"}})
    assert_error(r, 422, "validation_error")
    assert citizen.get(f"/api/v1/dossiers/{draft['id']}").get_json()["version_counter"] == draft["version_counter"]


def test_action_comments_and_items_refuse_surrogates_and_control_characters(draft, api_as, couple, services):
    citizen = api_as(couple["wife"])
    for body in ('{"comment": "\\ud800"}', '{"reason": "a\\u0000"}', '{"items": ["ok", "\\udc00"]}'):
        r = citizen.post(f"/api/v1/dossiers/{draft['id']}/actions/submit", **raw_json(body))
        assert_error(r, 422, "validation_error")
    assert_still_usable(api_as, couple, services, draft["id"])


def test_an_upload_requirement_with_a_control_character_is_refused_and_a_file_name_is_cleaned(draft, api_as, couple):
    citizen = api_as(couple["wife"])
    r = citizen.post(f"/api/v1/dossiers/{draft['id']}/documents", content_type="multipart/form-data",
                     data={"requirement": "medical\x02birth_notice", "file": (io.BytesIO(PDF), "ok.pdf")})
    assert_error(r, 400, "bad_request", fields=("requirement",))
    assert [d for d in citizen.get(f"/api/v1/dossiers/{draft['id']}").get_json()["documents"] if d["by"] == "upload"] == []
    # a file name keeps its printable characters (the contract of filing), whatever the client sent
    r = citizen.post(f"/api/v1/dossiers/{draft['id']}/documents", content_type="multipart/form-data",
                     data={"requirement": "medical_birth_notice", "file": (io.BytesIO(PDF), "giấy\x01.pdf")})
    assert r.status_code == 201, r.get_json()
    [doc] = [d for d in r.get_json()["documents"] if d["by"] == "upload"]
    assert doc["filename"].encode("utf-8") and "\x01" not in doc["filename"] and doc["filename"].endswith("ấy.pdf")


def test_query_strings_and_headers_refuse_control_characters(api_as, couple, demo):
    citizen, clerk = api_as(couple["wife"]), api_as("clerk")
    for r in (clerk.get("/api/v1/dossiers?state=a%01b"), citizen.get("/api/v1/results?evidence=%1b"),
              citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": {}},
                           headers={"Idempotency-Key": "a\x07b"}),
              api_as("agency").get(f"/api/v1/results/{demo['scenarios']['married_couple']['marriage_certificate']}",
                                   headers={"X-Purpose": "a\x1bb"})):
        assert_error(r, 400, "bad_request")
    assert citizen.get("/api/v1/dossiers").get_json()["total"] == 0


def test_the_html_form_refuses_a_control_character_and_stores_nothing(web_as, couple, draft):
    wife = web_as(couple["wife"])
    r = wife.post(f"/my/dossiers/{draft['id']}/form", {"child_place_of_birth": "Bệnh viện\x01"})
    assert r.status_code == 400, r.status_code
    assert "không hợp lệ" in wife.text(r)
    assert web_as(couple["wife"]).get(f"/my/dossiers/{draft['id']}").status_code == 200


# --------------------------------------------------------------------------- the engine's last line


def test_the_form_rules_refuse_surrogates_and_control_characters_in_text():
    from engine.rules.definitions.schema import FieldDef, Text
    from engine.rules.forms import check_value

    field = FieldDef(id="name", label=Text("Tên", "Name"), type="text")
    for bad in ("\ud800", "a\x00b", "\x1b[0m", "x\x7f", "a\x85b"):
        assert check_value(field, bad)[1], repr(bad)
    assert check_value(field, "Trần\tVăn") == ("Trần\tVăn", None)


# --------------------------------------------------------------------------- finding 6: numbers and dates out of range


@pytest.mark.parametrize("consent_id", ["1" * 30, "9223372036854775808", "2147483648", "0"])
def test_withdrawing_a_consent_with_an_id_out_of_range_is_not_found(api_as, couple, consent_id):
    assert_error(api_as(couple["wife"]).delete(f"/api/v1/me/consents/{consent_id}"), 404, "not_found")


@pytest.mark.parametrize("query, field", [
    ("to=0001-01-01", "to"), ("from=0001-01-01", "from"), ("from=1899-12-31", "from"), ("to=9999-12-31T23:59:59", None),
    ("from=2026-03-01&to=2026-01-01", "from"), ("from=2026-01-01T00:00%2B07:00", None),
    ("from=2026-01-01T00:00%2B07:00&to=2026-02-01", None), ("to=2026-01-01T00:00-12:00", None),
])
def test_kpis_with_dates_out_of_range_are_validation_errors(api_as, demo, query, field):
    r = api_as("clerk").get(f"/api/v1/kpis?{query}")
    if field is None:
        assert r.status_code in (200, 422), r.get_data(as_text=True)[:300]
        if r.status_code == 422:
            assert_error(r, 422, "validation_error")
    else:
        assert_error(r, 422, "validation_error", fields=(field,))


@pytest.mark.parametrize("version", [2 ** 63, -(2 ** 63) - 1, 10 ** 30, -1])
def test_an_expected_version_out_of_range_is_a_conflict_or_validation_error(draft, api_as, couple, version):
    citizen = api_as(couple["wife"])
    r = citizen.patch(f"/api/v1/dossiers/{draft['id']}", json={"data": {}, "expected_version": version})
    assert r.status_code in (409, 422), r.get_data(as_text=True)[:300]
    r = citizen.post(f"/api/v1/dossiers/{draft['id']}/actions/submit", json={"expected_version": version})
    assert r.status_code in (409, 422), r.get_data(as_text=True)[:300]


@pytest.mark.parametrize("due", ["0001-01-01", "9999-12-31T23:59:59.999999", "1899-01-01", "2026-03-10T10:00+14:00"])
def test_a_new_due_date_out_of_range_is_a_validation_error(api_as, couple, draft, due):
    r = api_as("leader").post(f"/api/v1/dossiers/{draft['id']}/actions/extend_due",
                              json={"reason": "xác minh", "new_due_at": due})
    assert r.status_code in (409, 422), r.get_data(as_text=True)[:300]


@pytest.mark.parametrize("page", ["99999999999999999999", "0", "-1", "1e5"])
def test_the_citizens_dossier_list_takes_any_page_number(web_as, couple, draft, page):
    assert web_as(couple["wife"]).get(f"/my/dossiers?page={page}").status_code == 200


# --------------------------------------------------------------------------- X-Purpose in UTF-8


PURPOSE = "Xác minh hồ sơ đăng ký thường trú số 42"


def _agency_reads(api_as, couple, header_value: str):
    return api_as("agency").get(f"/api/v1/results/{couple['marriage_certificate']}", headers={"X-Purpose": header_value})


@pytest.mark.parametrize("on_the_wire", [
    PURPOSE.encode("utf-8").decode("latin-1"),  # UTF-8 bytes, as a WSGI server hands them over (ISO-8859-1)
    __import__("urllib.parse").parse.quote(PURPOSE),  # percent-encoded
    PURPOSE,  # already text (the test client, or a server that decoded it)
])
def test_a_vietnamese_purpose_is_logged_and_shown_as_written(api_as, couple, web_as, on_the_wire):
    assert _agency_reads(api_as, couple, on_the_wire).status_code == 200
    entries = api_as(couple["wife"]).get("/api/v1/me/access-log").get_json()["entries"]
    assert [e["purpose"] for e in entries] == [PURPOSE]
    page = web_as(couple["wife"]).get("/my/results")
    assert PURPOSE in page.get_data(as_text=True)


def test_a_purpose_that_is_not_utf8_keeps_its_latin1_reading(api_as, couple):
    assert _agency_reads(api_as, couple, "Caf\xe9 only").status_code == 200
    assert api_as(couple["wife"]).get("/api/v1/me/access-log").get_json()["entries"][0]["purpose"] == "Caf\xe9 only"


def test_a_purpose_with_bad_percent_encoding_is_a_bad_request(api_as, couple):
    assert_error(_agency_reads(api_as, couple, "%FF%FE%C3"), 400, "bad_request")
    assert api_as(couple["wife"]).get("/api/v1/me/access-log").get_json()["entries"] == []


def test_a_multipart_part_without_a_name_is_answered_without_a_server_error(api_as, couple, draft):
    """Found by schemathesis: a form part named "" reached the edge check as None."""
    boundary = "b0undary"
    payload = (f'--{boundary}\r\nContent-Disposition: form-data; name=""\r\n\r\n{{}}\r\n'
               f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4\r\n'
               f'--{boundary}--\r\n').encode()
    for path in ("/api/v1/verify", f"/api/v1/dossiers/{draft['id']}/documents"):
        r = api_as(couple["wife"]).post(path, data=payload, content_type=f"multipart/form-data; boundary={boundary}")
        assert r.status_code < 500, (path, r.status_code)


@pytest.mark.parametrize("query", ["from=0001-01-01", "to=0001-01-01", "from=9999-12-31", "from=2026-03-01&to=2026-01-01"])
def test_the_indicators_page_answers_dates_out_of_range_with_the_form_not_a_crash(web_as, demo, query):
    r = web_as("admin").get(f"/admin/?{query}")
    assert r.status_code in (200, 422), r.status_code
