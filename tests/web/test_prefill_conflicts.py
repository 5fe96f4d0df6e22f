"""A register value the form cannot hold (a married person's marital status on the marriage form,
whose options are single, divorced and widowed) is shown beside the field, in both languages, to
the citizen, the API and the staff; the field gets no invented value, nobody types over it, and
the dossier cannot be submitted or filed at the counter while the conflict stands."""
from __future__ import annotations

import html
import re

import pytest

pytestmark = pytest.mark.database

MARRIAGE = "marriage-registration"


@pytest.fixture
def couple(demo) -> dict:
    """Already married to each other in the register: neither can choose a marital status the form offers."""
    return demo["scenarios"]["married_couple"]


def lookup(couple: dict) -> str:
    return f"wife_personal_id={couple['wife']}&husband_personal_id={couple['husband']}"


def page(user, path: str, status: int = 200) -> str:
    r = user.get(path)
    assert r.status_code == status, (path, r.status_code, user.text(r)[:800])
    return html.unescape(user.text(r))


def marital_block(text: str, party: str) -> str:
    """The HTML of one field's block on the citizen form."""
    start = text.index(f'<label for="f-{party}_marital_status">')
    return text[text.rindex("<div", 0, start):text.index("</div>", start)]


def test_a_married_citizen_opening_the_marriage_form_sees_the_conflict_beside_the_field_in_both_languages(
        couple, web_as):
    wife = web_as(couple["wife"])
    text = page(wife, f"/procedures/{MARRIAGE}/apply?{lookup(couple)}")
    block = marital_block(text, "wife")
    assert "Cơ sở dữ liệu quốc gia về dân cư ghi nhận “đã kết hôn”; không chọn được giá trị này ở trường này" in block
    assert "cần điều chỉnh cơ sở dữ liệu trước" in block
    # no value invented: a read-only, empty field, and no choice offered in its place
    assert re.search(r'<input id="f-wife_marital_status" value="" readonly', block)
    assert 'name="wife_marital_status"' not in text and 'value="single" selected' not in block
    assert 'aria-describedby="f-wife_marital_status-conflict' in block
    # the husband is in the same situation; the fields the register can fill are filled as before
    assert "ghi nhận “đã kết hôn”" in marital_block(text, "husband")
    assert 'id="f-wife_full_name"' in text and "Từ Cơ sở dữ liệu quốc gia về dân cư" in text

    assert wife.get(f"/lang/en?next=/procedures/{MARRIAGE}/apply").status_code == 302
    english = marital_block(page(wife, f"/procedures/{MARRIAGE}/apply?{lookup(couple)}"), "wife")
    assert ("The national population database records “married”; this value cannot be chosen in this field "
            "(not one of the options).") in english
    assert "until then the dossier cannot be submitted" in english


def test_a_single_citizen_sees_no_conflict(demo, web_as):
    singles = demo["scenarios"]["single_adults"]
    woman = next(p["personal_id"] for p in singles if p["sex"] == "female")
    text = page(web_as(woman), f"/procedures/{MARRIAGE}/apply?wife_personal_id={woman}")
    assert "field-conflict" not in text and "ghi nhận" not in text
    assert re.search(r'id="f-wife_marital_status" value="Chưa kết hôn" readonly', text)


def test_the_api_prefill_answer_lists_the_conflicts_and_the_dossier_keeps_them(couple, api_as, web_as):
    wife = api_as(couple["wife"])
    r = wife.get(f"/api/v1/procedures/{MARRIAGE}/prefill?{lookup(couple)}")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert set(body["conflicts"]) == {"wife_marital_status", "husband_marital_status"}
    c = body["conflicts"]["wife_marital_status"]
    assert (c["value"], c["source"], c["editable"]) == ("married", "population", False)
    assert c["record"] == f"person:{couple['wife']}"
    vi, _, en = c["message"].partition(" / ")
    assert "“married”" in vi and "records “married”" in en and "not one of the options" in c["reason"]
    assert "wife_marital_status" not in body["fields"] and "wife_full_name" in body["fields"]
    assert body["counts"]["conflicts"] == 2
    assert body["counts"]["prefilled"] + body["counts"]["to_declare"] == body["counts"]["total"]

    # typing over the register's value is refused, naming the field, in both languages; nothing is filed
    form = {"wife_personal_id": couple["wife"], "husband_personal_id": couple["husband"],
            "wife_marriage_order": 2, "husband_marriage_order": 2}
    r = wife.post("/api/v1/dossiers", json={"procedure": MARRIAGE, "data": {**form, "wife_marital_status": "single"}})
    assert r.status_code == 422, r.get_json()
    message = r.get_json()["fields"]["wife_marital_status"][0]
    assert "“married”" in message and " / " in message and "cannot be typed here" in message
    assert wife.get("/api/v1/dossiers").get_json()["items"] == []

    # without it, a draft is created: the conflict is kept with the dossier, the field stays empty
    r = wife.post("/api/v1/dossiers", json={"procedure": MARRIAGE, "data": form})
    assert r.status_code == 201, r.get_json()
    d = r.get_json()
    assert "wife_marital_status" not in d["data"]
    entry = d["provenance"]["wife_marital_status"]
    assert entry["conflict"]["value"] == "married" and entry["editable"] is False and entry["source"] == "population"
    assert wife.get(f"/api/v1/dossiers/{d['id']}").get_json()["provenance"]["husband_marital_status"]["conflict"]
    # a value patched in later is refused the same way
    r = wife.patch(f"/api/v1/dossiers/{d['id']}", json={"data": {"wife_marital_status": "widowed"}})
    assert r.status_code == 422 and "wife_marital_status" in r.get_json()["fields"]
    # and the submission is refused, naming the field, while the register says married
    body = wife.act(d["id"], "submit", expect=422)
    assert {"wife_marital_status", "husband_marital_status"} <= set(body["fields"])
    assert " / " in body["message"] and "“married”" in body["fields"]["wife_marital_status"][0]
    assert wife.get(f"/api/v1/dossiers/{d['id']}").get_json()["state"] == "draft"
    # the citizen's dossier page shows it beside the empty field, which is not offered for typing
    text = page(web_as(couple["wife"]), f"/my/dossiers/{d['id']}")
    assert "ghi nhận “đã kết hôn”" in marital_block(text, "wife")
    assert 'name="wife_marital_status"' not in text


def test_the_staff_see_the_conflict_on_the_dossier_page_and_the_counter_form(couple, api_as, web_as, services):
    # the clerk starts a counter draft for the wife: the conflict is kept with it
    r = api_as("clerk").post("/api/v1/dossiers", json={"procedure": MARRIAGE, "applicant": couple["wife"], "data": {
        "wife_personal_id": couple["wife"], "husband_personal_id": couple["husband"],
        "wife_marriage_order": 2, "husband_marriage_order": 2}})
    assert r.status_code == 201, r.get_json()
    did = r.get_json()["id"]
    clerk = web_as("clerk")
    text = page(clerk, f"/desk/dossiers/{did}")
    assert re.search(r'<span class="field-conflict">Cơ sở dữ liệu quốc gia về dân cư ghi nhận “đã kết hôn”', text)
    assert text.count('class="field-conflict"') == 2
    # filing it at the counter is refused, naming the field
    body = api_as("clerk").act(did, "file_at_counter", expect=422)
    assert "wife_marital_status" in body["fields"]

    # the counter form shows it beside the field too; filing from it files nothing
    form = page(clerk, f"/desk/counter/{MARRIAGE}?applicant={couple['wife']}")
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    r = clerk.post(f"/desk/counter/{MARRIAGE}", {
        "applicant": couple["wife"], "idempotency_key": key, "lookup": "1",
        "wife_personal_id": couple["wife"], "husband_personal_id": couple["husband"]})
    text = html.unescape(clerk.text(r))
    assert re.search(r'<p class="field-conflict" id="f-wife_marital_status-conflict" role="note">'
                     r'Cơ sở dữ liệu quốc gia về dân cư ghi nhận “đã kết hôn”', text)
    before = services.desk.list_dossiers(services.accounts.actor_for("clerk")).total
    r = clerk.post(f"/desk/counter/{MARRIAGE}", {
        "applicant": couple["wife"], "idempotency_key": key, "wife_personal_id": couple["wife"],
        "husband_personal_id": couple["husband"], "wife_marriage_order": "2", "husband_marriage_order": "2",
        "wife_marital_status": "single"})
    assert r.status_code == 422
    assert "“married”" in clerk.text(r) or "“đã kết hôn”" in html.unescape(clerk.text(r))
    assert services.desk.list_dossiers(services.accounts.actor_for("clerk")).total == before
