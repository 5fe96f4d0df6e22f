"""Register data in front of a person: one access rule for every path (a citizen sees themself and the
family the register links to them, whatever the dossier's channel; staff only as the reception clerk
filing at the counter of an agency that takes the procedure there), and every read by someone other
than the person lands in the person's access log."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.adapters.models import Person
from tests.web import test_clerk_pages as clerk_pages

pytestmark = pytest.mark.database

COUNTER_PURPOSE = "tiếp nhận hồ sơ tại quầy / counter filing"


@pytest.fixture
def couple(demo) -> dict:
    return demo["scenarios"]["married_couple"]


@pytest.fixture
def stranger(demo) -> str:
    """A man unrelated to the married couple."""
    return next(p["personal_id"] for p in demo["scenarios"]["single_adults"] if p["sex"] == "male")


def card(services, pid: str) -> dict:
    with services.uow(write=False) as uow:
        p = uow.session.execute(select(Person).where(Person.personal_id == pid)).scalar_one()
        return {"name": p.full_name, "dob": p.date_of_birth.isoformat(), "dob_vn": p.date_of_birth.strftime("%d/%m/%Y"),
                "residence": p.current_address, "permanent": p.permanent_address, "phone": p.phone}


def leaks(body: str, person: dict) -> list[str]:
    """Which of the person's identifying values appear in a response body."""
    return [k for k in ("name", "dob", "dob_vn", "residence", "permanent", "phone") if person[k] and person[k] in body]


def register_log(api_as, pid: str) -> list[dict]:
    entries = api_as(pid).get("/api/v1/me/access-log").get_json()["entries"]
    return [e for e in entries if e.get("kind") == "register"]


def add_staff(services, clock, username: str, roles: list[str], *, level: str | None = None) -> str:
    """A staff account of the demo agency, or (with ``level``) of a new agency of that level."""
    code = None if level is None else f"000.00.{len(username):02d}.X{level[:2].upper()}"
    return clerk_pages.add_staff(services, clock, username, roles, code, level=level or "commune")


# --------------------------------------------------------------------------- finding 1: a counter-filed dossier


def test_a_citizen_editing_a_dossier_filed_at_the_counter_cannot_read_a_strangers_register_data(
        couple, stranger, api_as, web_as, services):
    draft = api_as("clerk").post("/api/v1/dossiers", json={"procedure": "death-registration",
                                                           "applicant": couple["wife"], "data": {}})
    assert draft.status_code == 201, draft.get_json()
    did = draft.get_json()["id"]
    citizen = api_as(couple["wife"])
    r = citizen.patch(f"/api/v1/dossiers/{did}", json={"data": {"deceased_personal_id": stranger}})
    assert r.status_code == 200, r.get_json()
    person = card(services, stranger)
    assert leaks(r.get_data(as_text=True), person) == []
    assert "deceased_full_name" not in r.get_json()["data"]
    assert leaks(citizen.get(f"/api/v1/dossiers/{did}").get_data(as_text=True), person) == []
    page = web_as(couple["wife"]).get(f"/my/dossiers/{did}")
    assert page.status_code == 200 and leaks(page.get_data(as_text=True), person) == []
    assert register_log(api_as, stranger) == []  # nothing was read


def test_a_citizen_editing_a_counter_filed_dossier_still_gets_her_familys_data_and_the_read_is_logged(
        couple, api_as, services):
    did = api_as("clerk").post("/api/v1/dossiers", json={"procedure": "death-registration",
                                                         "applicant": couple["wife"], "data": {}}).get_json()["id"]
    r = api_as(couple["wife"]).patch(f"/api/v1/dossiers/{did}", json={"data": {"deceased_personal_id": couple["husband"]}})
    assert r.status_code == 200, r.get_json()
    husband = card(services, couple["husband"])
    assert r.get_json()["data"]["deceased_full_name"] == husband["name"]
    [entry] = [e for e in register_log(api_as, couple["husband"]) if e["basis"] == "family"]
    assert "full_name" in entry["attributes"] and husband["name"] not in str(entry)
    assert entry["reader"] == services.accounts.actor_for(couple["wife"]).display_name


# --------------------------------------------------------------------------- finding 3: staff prefill through the API


STAFF_READERS = [
    # (who, status, basis): only the reception clerk of an agency that takes the procedure at the counter
    ("clerk", 200, "counter_filing"),
    ("specialist", 403, None),
    ("leader", 403, None),
    ("records", 403, None),
    ("admin", 403, None),
    ("clerk-province", 403, None),  # a clerk of a province agency: not a commune procedure's counter
    ("clerk-commune", 200, "counter_filing"),  # a clerk of another commune files at its own counter
]


@pytest.mark.parametrize("who,status,basis", STAFF_READERS)
def test_staff_prefill_of_a_walk_in_needs_the_clerk_role_at_a_counter_taking_the_procedure(
        who, status, basis, stranger, api_as, services, clock):
    if who == "clerk-province":
        add_staff(services, clock, who, ["clerk"], level="province")
    elif who == "clerk-commune":
        add_staff(services, clock, who, ["clerk"], level="commune")
    r = api_as(who).get(f"/api/v1/procedures/marital-status-certification/prefill?applicant={stranger}")
    assert r.status_code == status, r.get_json()
    person = card(services, stranger)
    log = register_log(api_as, stranger)
    if status == 200:
        assert r.get_json()["fields"]["requester_full_name"]["value"] == person["name"]
        [entry] = log
        reader = services.accounts.actor_for(who)
        assert (entry["basis"], entry["purpose"], entry["reader"]) == (basis, COUNTER_PURPOSE, reader.display_name)
        assert entry["reader_agency"] is not None and "full_name" in entry["attributes"]
        assert person["name"] not in str(entry)  # names of attributes, never values
    else:
        assert leaks(r.get_data(as_text=True), person) == []
        assert log == []


def test_a_citizen_naming_a_stranger_as_applicant_gets_only_her_own_prefill(couple, stranger, api_as, services):
    r = api_as(couple["wife"]).get(f"/api/v1/procedures/death-registration/prefill?applicant={stranger}"
                                   f"&deceased_personal_id={stranger}")
    assert r.status_code == 200
    body = r.get_json()
    assert leaks(r.get_data(as_text=True), card(services, stranger)) == []
    assert "deceased_full_name" in body["withheld"]
    assert body["fields"]["requester_full_name"]["value"] == card(services, couple["wife"])["name"]
    assert register_log(api_as, stranger) == []


def test_a_stated_purpose_is_logged_for_a_staff_read(stranger, api_as):
    purpose = "Tiếp nhận hồ sơ số 12 tại quầy"
    r = api_as("clerk").get(f"/api/v1/procedures/marital-status-certification/prefill?applicant={stranger}",
                            headers={"X-Purpose": purpose})
    assert r.status_code == 200
    assert [e["purpose"] for e in register_log(api_as, stranger)] == [purpose]


# --------------------------------------------------------------------------- filing paths


def test_a_citizen_filing_online_with_a_strangers_id_gets_none_of_the_strangers_data(couple, stranger, api_as, services):
    r = api_as(couple["wife"]).post("/api/v1/dossiers", json={"procedure": "death-registration",
                                                              "data": {"deceased_personal_id": stranger}})
    assert r.status_code == 201, r.get_json()
    assert leaks(r.get_data(as_text=True), card(services, stranger)) == []
    assert "deceased_full_name" not in r.get_json()["data"]
    assert register_log(api_as, stranger) == []


@pytest.mark.parametrize("kin", ["stranger", "husband"])
def test_the_web_filing_form_shows_register_data_of_the_family_only(kin, couple, stranger, web_as, api_as, services):
    pid = stranger if kin == "stranger" else couple["husband"]
    page = web_as(couple["wife"]).get(f"/procedures/death-registration/apply?deceased_personal_id={pid}")
    assert page.status_code == 200
    person = card(services, pid)
    html = page.get_data(as_text=True)
    if kin == "stranger":
        assert leaks(html, person) == [] and register_log(api_as, pid) == []
    else:
        assert person["name"] in html
        assert [e["basis"] for e in register_log(api_as, pid)] == ["family"]


def test_a_clerk_filing_at_the_counter_logs_the_reads_of_everyone_named_in_the_form(demo, api_as, services):
    singles = demo["scenarios"]["single_adults"]
    wife = next(p["personal_id"] for p in singles if p["sex"] == "female")
    husband = next(p["personal_id"] for p in singles if p["sex"] == "male")
    from tests.web.test_lifecycle_api import marriage_form

    r = api_as("clerk").post("/api/v1/dossiers", json={"procedure": "marriage-registration", "applicant": wife,
                                                        "data": marriage_form(wife, husband, other_party_typed=False)})
    assert r.status_code == 201, r.get_json()
    for pid in (wife, husband):
        [entry] = register_log(api_as, pid)
        assert entry["basis"] == "counter_filing" and entry["purpose"] == COUNTER_PURPOSE
        assert entry["dossier_id"] == r.get_json()["id"]


# --------------------------------------------------------------------------- the counter pages


@pytest.mark.parametrize("path", ["/desk/counter?personal_id={pid}",
                                  "/desk/counter/marital-status-certification?applicant={pid}"])
@pytest.mark.parametrize("who,allowed", [("clerk", True), ("specialist", False), ("leader", False),
                                         ("records", False), ("admin", False)])
def test_the_counter_pages_show_a_person_to_the_reception_clerk_only_and_log_it(
        path, who, allowed, stranger, web_as, api_as, services):
    r = web_as(who).get(path.format(pid=stranger))
    person = card(services, stranger)
    if allowed:
        assert r.status_code == 200 and person["name"] in r.get_data(as_text=True)
        log = register_log(api_as, stranger)
        assert log and {e["basis"] for e in log} == {"counter_filing"}
        assert all(e["reader"] == services.accounts.actor_for("clerk").display_name for e in log)
    else:
        assert r.status_code == 403 and leaks(r.get_data(as_text=True), person) == []
        assert register_log(api_as, stranger) == []


def test_find_person_refuses_staff_outside_the_counter(stranger, services, clock):
    from engine.rules.errors import PermissionDeniedError

    for who in ("specialist", "leader", "records", "admin"):
        with pytest.raises(PermissionDeniedError):
            services.counter.find_person(stranger, services.accounts.actor_for(who))
    add_staff(services, clock, "clerk-ministry", ["clerk"], level="ministry")  # takes nothing at a counter
    with pytest.raises(PermissionDeniedError):
        services.counter.find_person(stranger, services.accounts.actor_for("clerk-ministry"))


def test_the_citizens_data_page_lists_register_reads(stranger, api_as, web_as, services):
    api_as("clerk").get(f"/api/v1/procedures/marital-status-certification/prefill?applicant={stranger}")
    html = web_as(stranger).get("/my/results").get_data(as_text=True)
    assert services.accounts.actor_for("clerk").display_name in html
    assert COUNTER_PURPOSE in html
    assert "Dữ liệu dân cư của tôi" in html and "Tiếp nhận hồ sơ của bạn tại quầy" in html and "họ, chữ đệm và tên" in html
    entries = api_as(stranger).get("/api/v1/me/access-log").get_json()["entries"]
    assert entries and set(entries[0]) >= {"result_id", "result_number", "evidence_type", "reader", "reader_agency",
                                           "purpose", "basis", "what", "at", "kind"}
