"""Property: whatever JSON, text or file name a client sends to a write endpoint, the answer is 2xx or 4xx
(never 5xx), a refused request changes nothing, and the dossier stays readable and actionable.

Random JSON values (lone surrogates, NUL and control characters, huge strings, deep nesting, wrong
types) go through every write endpoint of the JSON API; the examples are bounded by the "motcua"
hypothesis profile (tests/conftest.py).
"""
from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from tests.web.test_access_and_errors import assert_error
from tests.web.test_lifecycle_api import PDF, birth_form

pytestmark = pytest.mark.database

NASTY = ["\ud800", "\udfff", "a\udc80b", "\x00", "x\x00y", "\x01", "\x1b[31m", "\x7f", "\x85", "\u2028", "\ufeff",
         "\uffff", "\U0001f600", "Trần Thị Ánh", "a" * 20_000, " ", "", "\t\n\r", "%00", "%FF", "null", "1e999",
         "2026-02-30", "0001-01-01", "9999-12-31T23:59:59.999999", "-1", "99999999999999999999999"]
text = st.one_of(st.sampled_from(NASTY), st.text(st.characters(exclude_categories=()), max_size=40))
scalar = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
                   st.floats(allow_nan=True, allow_infinity=True), text)
json_value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
                          max_leaves=12)
FIELDS = ["requester_relationship", "child_full_name", "child_date_of_birth", "child_sex", "child_place_of_birth",
          "registration_type", "child_home_town", "mother_birth_year", "father_full_name"]
form_data = st.one_of(json_value, st.dictionaries(st.sampled_from(FIELDS) | text, json_value, max_size=5))


@st.composite
def body(draw, keys: list[str]) -> str:
    """A request body as sent on the wire: a JSON object of these keys (and others), or something else."""
    kind = draw(st.sampled_from(["object", "object", "object", "any", "deep", "broken"]))
    if kind == "any":
        return json.dumps(draw(json_value))
    if kind == "broken":
        return draw(st.sampled_from(["{", "", "[]", "nul", '{"a": NaN}', '{"a": -Infinity}', '"\\ud800"', "\x00",
                                     '{"data": 1e999}']))
    obj = {k: draw(form_data if k == "data" else json_value) for k in keys if draw(st.booleans())}
    obj.update(draw(st.dictionaries(text, json_value, max_size=2)))
    if kind == "deep":
        depth = draw(st.integers(min_value=20, max_value=3000))
        return json.dumps(obj)[:-1] + (", " if obj else "") + '"nested": ' + "[" * depth + "]" * depth + "}"
    return json.dumps(obj)  # ensure_ascii: a lone surrogate travels as its \\u escape, as a client would send it


def multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    """A multipart body built by hand: the test client would refuse to encode a lone surrogate."""
    boundary = "motcua-boundary-7d1f"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode("utf-8", "surrogatepass")
             + v.encode("utf-8", "surrogatepass") + b"\r\n" for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
                 + filename.replace('"', "").encode("utf-8", "surrogatepass")
                 + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_any_input_to_a_write_endpoint_is_answered_without_a_server_error_and_leaves_the_dossier_usable(
        demo, api_as, services):
    couple = demo["scenarios"]["married_couple"]
    citizen, clerk, leader = api_as(couple["wife"]), api_as("clerk"), api_as("leader")
    draft = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": birth_form(couple)}).get_json()
    did = draft["id"]
    certificate = couple["marriage_certificate"]
    seen: dict[str, int] = {}

    endpoints = {
        "file": (citizen, "post", "/api/v1/dossiers", ["procedure", "data", "applicant", "agency"]),
        "counter": (clerk, "post", "/api/v1/dossiers", ["procedure", "data", "applicant", "agency"]),
        "update": (citizen, "patch", f"/api/v1/dossiers/{did}", ["data", "expected_version"]),
        "link": (citizen, "post", f"/api/v1/dossiers/{did}/documents", ["requirement", "result_id"]),
        "submit": (citizen, "post", f"/api/v1/dossiers/{did}/actions/submit",
                   ["comment", "reason", "items", "new_due_at", "expected_version"]),
        "receive": (clerk, "post", f"/api/v1/dossiers/{did}/actions/receive", ["comment", "expected_version"]),
        "extend": (leader, "post", f"/api/v1/dossiers/{did}/actions/extend_due", ["reason", "new_due_at"]),
        "consent": (citizen, "post", "/api/v1/me/consents", ["agency", "evidence"]),
        "revoke": (leader, "post", "/api/v1/results/no-such-result/revoke", ["reason"]),
        "supersede": (leader, "post", "/api/v1/results/no-such-result/supersede", ["data", "reason"]),
    }

    @given(st.data())
    def probe(data):
        before = citizen.get(f"/api/v1/dossiers/{did}").get_json()
        choice = data.draw(st.sampled_from([*endpoints, "upload", "verify", "withdraw", "action"]), label="endpoint")
        if choice in endpoints:
            who, method, path, keys = endpoints[choice]
            payload = data.draw(body(keys), label="body")
            headers = {}
            if choice in ("file", "counter") and data.draw(st.booleans()):
                key = data.draw(text.filter(lambda k: "\n" not in k and "\r" not in k), label="key")
                # as a WSGI server hands it over: the header's UTF-8 bytes read as ISO-8859-1
                headers["Idempotency-Key"] = key.encode("utf-8", "surrogatepass").decode("latin-1")
            r = getattr(who, method)(path, data=payload.encode("utf-8", "surrogatepass"),
                                     content_type="application/json", headers=headers)
        elif choice == "upload":
            fields = {"requirement": data.draw(st.sampled_from(["medical_birth_notice"]) | text, label="requirement")}
            payload, ctype = multipart(fields, data.draw(text, label="filename"),
                                       data.draw(st.sampled_from([b"", b"not a pdf", b"\x00" * 10]), label="bytes"))
            r = citizen.post(f"/api/v1/dossiers/{did}/documents", data=payload, content_type=ctype)
        elif choice == "verify":
            content = data.draw(st.binary(max_size=200) | st.sampled_from([PDF, b"%PDF-1.7\n" + b"\xff" * 50]), label="pdf")
            r = citizen.post("/api/v1/verify", data=content, content_type=data.draw(
                st.sampled_from(["application/pdf", "application/json", "text/plain"])))
        elif choice == "withdraw":
            consent_id = data.draw(st.integers(min_value=0, max_value=10 ** 40), label="consent id")
            r = citizen.delete(f"/api/v1/me/consents/{consent_id}")
        else:
            action = data.draw(text.filter(lambda a: "/" not in a and a not in (".", "..")) | st.sampled_from(
                ["approve", "refuse", "stop"]), label="action")
            from urllib.parse import quote

            r = clerk.post(f"/api/v1/dossiers/{did}/actions/{quote(action.encode('utf-8', 'surrogatepass'), safe='')}",
                           data=data.draw(body(["comment", "reason"]), label="body").encode("utf-8", "surrogatepass"),
                           content_type="application/json")
        note(f"{choice}: {r.status_code} {r.get_data(as_text=True)[:300]}")
        seen[choice] = seen.get(choice, 0) + 1
        assert r.status_code < 500
        if r.status_code >= 400 and r.mimetype == "application/json":
            assert_error(r, r.status_code)
        after = citizen.get(f"/api/v1/dossiers/{did}")
        assert after.status_code == 200
        after = after.get_json()
        if r.status_code >= 400:  # a refused request commits nothing
            assert (after["version_counter"], after["data"], len(after["events"]), len(after["documents"])) == (
                before["version_counter"], before["data"], len(before["events"]), len(before["documents"]))
        assert after["state"] == "draft" or choice in ("submit", "receive", "action")

    probe()
    print("examples by endpoint:", dict(sorted(seen.items())))

    # afterwards the dossier still takes a document, is submitted and received; nothing waits for issuance
    d = citizen.get(f"/api/v1/dossiers/{did}").get_json()
    if d["state"] == "draft":  # random updates may have cleared fields (null clears): fill the form in again
        r = citizen.patch(f"/api/v1/dossiers/{did}", json={"data": birth_form(couple)})
        assert r.status_code == 200, r.get_json()
        r = citizen.post(f"/api/v1/dossiers/{did}/documents", content_type="multipart/form-data",
                         data={"requirement": "medical_birth_notice", "file": (io.BytesIO(PDF), "notice.pdf")})
        assert r.status_code == 201, r.get_json()
        d = citizen.act(did, "submit")
    if d["state"] == "submitted":
        d = clerk.act(did, "receive")
    assert d["state"] != "draft" and clerk.get(f"/api/v1/dossiers/{did}").status_code == 200
    report = services.issuance.issue_pending()
    assert (report.failed, services.issuance.count_pending()) == (0, 0)
    assert citizen.get(f"/api/v1/results/{certificate}").status_code == 200
