"""Results from outside: a hospital deposits signed notices through POST /api/v1/results; what is
refused; the mother's birth registration then comes prefilled from the notice with no upload."""
from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from engine.adapters.models import Result, ResultDeposit
from motcua.demo import hospital_key
from signing import detached

pytestmark = pytest.mark.database


def notice(mother: str, number: str = "0001/GCS-2026", **data) -> dict:
    return {
        "evidence_type": "medical-birth-notice", "number": number, "issued_at": "2026-03-01T10:30:00",
        "holders": [mother],
        "data": {"date_of_birth": "2026-02-28", "time_of_birth": "07:45", "sex": "female",
                 "place_of_birth": "Bệnh viện Đa khoa Xanh Pôn, thành phố Hà Nội", "weight": 3150,
                 "mother_personal_id": mother, "issued_by": "Bệnh viện Đa khoa Xanh Pôn", **data},
    }


@pytest.fixture
def hospital(api_as, demo):
    """The demo hospital's client, posting bodies signed with its key (or another)."""
    api = api_as(demo["hospital_client"])
    key = hospital_key()

    def deposit(body: dict, *, signature: str | None = None, private_key: str | None = None, raw: bool = False):
        if signature is None:
            signature = detached.sign(private_key or key, detached.canonical_json(body))
        headers = {"X-Signature": signature} if signature else {}
        return api.post("/api/v1/results", json=body, headers=headers)

    return deposit


def test_a_hospital_deposits_a_birth_notice_and_the_mothers_registration_comes_prefilled_without_upload(
        hospital, demo, api_as, services):
    couple = demo["scenarios"]["married_couple"]  # no notice of their own in the demo
    body = notice(couple["wife"])
    r = hospital(body)
    assert r.status_code == 201, r.get_json()
    stored = r.get_json()
    assert (stored["evidence"], stored["number"], stored["holders"], stored["status"]) == (
        "medical-birth-notice", "0001/GCS-2026", [couple["wife"]], "valid")
    assert stored["issuer"] == "000.00.41.H26" and stored["data"]["weight"] == 3150
    with services.uow(write=False) as uow:  # the signature and the key's fingerprint are kept with it
        kept = uow.session.get(ResultDeposit, stored["id"])
        assert kept.signature == detached.sign(hospital_key(), detached.canonical_json(body))
        assert kept.key_fingerprint == detached.key_info(detached.public_pem(hospital_key()))[1]
        assert kept.algorithm == "ed25519"

    mother = api_as(couple["wife"])
    pre = mother.get("/api/v1/procedures/birth-registration/prefill").get_json()
    for field, value in (("child_date_of_birth", "2026-02-28"), ("child_sex", "female"),
                         ("child_place_of_birth", "Bệnh viện Đa khoa Xanh Pôn, thành phố Hà Nội")):
        assert pre["fields"][field]["value"] == value and pre["fields"][field]["source"] == "results", field
    assert pre["fields"]["child_date_of_birth_in_words"]["value"].startswith("Ngày hai mươi tám, tháng hai")
    assert pre["fields"]["mother_full_name"]["source"] == "population"
    assert pre["documents"]["medical_birth_notice"]["result_id"] == stored["id"]

    # she types only what no register holds, uploads nothing, and submits
    r = mother.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": {
        "requester_relationship": "mother", "child_full_name": "Trần Bảo Ngọc", "registration_type": "on_time"}})
    assert r.status_code == 201, r.get_json()
    d = r.get_json()
    reqs = {q["id"]: q for q in d["requirements"]}
    assert reqs["medical_birth_notice"]["satisfied"] and reqs["medical_birth_notice"]["by"] == "result"
    assert d["provenance"]["child_sex"]["record"] == f"result:{stored['id']}"
    assert not [x for x in d["documents"] if x["by"] == "upload"]
    d = mother.act(d["id"], "submit")
    assert d["state"] == "submitted"


def test_replaying_the_same_body_returns_the_same_result_and_another_body_with_that_number_is_refused(hospital, demo, services):
    wife = demo["scenarios"]["married_couple"]["wife"]
    first = hospital(notice(wife))
    again = hospital(notice(wife))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    other = hospital(notice(wife, sex="male"))
    assert other.status_code == 409 and other.get_json()["error"] == "idempotency_conflict"
    with services.uow(write=False) as uow:
        assert len(uow.session.scalars(select(Result).where(Result.evidence_type == "medical-birth-notice",
                                                            Result.number == "0001/GCS-2026")).all()) == 1


def test_a_bad_missing_or_foreign_signature_is_refused_and_stores_nothing(hospital, demo, services):
    wife = demo["scenarios"]["married_couple"]["wife"]
    body = notice(wife, number="0002/GCS-2026")
    good = detached.sign(hospital_key(), detached.canonical_json(body))
    tampered = copy.deepcopy(body)
    tampered["data"]["weight"] = 4000
    cases = {
        "missing": hospital(body, signature=""),
        "garbage": hospital(body, signature="not base64 !"),
        "another key": hospital(body, private_key=detached.ed25519_private_pem()),
        "another body": hospital(tampered, signature=good),
    }
    for name, r in cases.items():
        assert r.status_code == 403 and r.get_json()["error"] == "bad_signature", (name, r.get_json())
        assert " / " in r.get_json()["message"]
    with services.uow(write=False) as uow:
        assert uow.session.scalars(select(ResultDeposit)).all() == [] or all(
            d.number != "0002/GCS-2026" for d in uow.session.scalars(select(ResultDeposit)))


def test_an_ecdsa_p256_key_registered_for_a_client_verifies_its_deposits(hospital, demo, services):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    view = services.deposits.set_signing_key(demo["hospital_client"], detached.public_pem(private))
    assert view.key_algorithm == "ecdsa-p256"
    wife = demo["scenarios"]["married_couple"]["wife"]
    assert hospital(notice(wife, number="0003/GCS-2026"), private_key=private).status_code == 201
    assert hospital(notice(wife, number="0004/GCS-2026")).status_code == 403  # the old key no longer counts


@pytest.mark.parametrize("change, status, field", [
    ({"evidence_type": "no-such-type"}, 422, "evidence_type"),
    ({"evidence_type": "divorce-judgment"}, 422, "evidence_type"),  # declares no data: not depositable
    (notice("000000000000"), 422, "holders"),  # well-formed, not in the register
    ({"holders": []}, 422, "holders"),
    ({"issued_at": "2027-01-01T00:00:00"}, 422, "issued_at"),
    ({"issued_at": "yesterday"}, 422, "issued_at"),
    ({"number": ""}, 422, "number"),
    ({"extra": 1}, 422, "extra"),
    ({"data": {"date_of_birth": "2026-02-28"}}, 422, "data.sex"),  # required keys missing
])
def test_malformed_deposits_are_refused_with_the_field_named(hospital, demo, change, status, field):
    body = {**notice(demo["scenarios"]["married_couple"]["wife"]), **change}
    r = hospital(body)
    assert r.status_code == status, r.get_json()
    assert field in r.get_json()["fields"], r.get_json()


@pytest.mark.parametrize("data, field", [
    ({"sex": "boy"}, "data.sex"), ({"time_of_birth": "25:00"}, "data.time_of_birth"),
    ({"weight": -1}, "data.weight"), ({"weight": True}, "data.weight"), ({"colour": "red"}, "data.colour"),
    ({"date_of_birth": "28/02/2026"}, "data.date_of_birth"),
    ({"mother_personal_id": "001088644039"}, "data.mother_personal_id"),  # not one of the holders
])
def test_data_that_does_not_fit_the_declared_keys_is_refused(hospital, demo, data, field):
    r = hospital(notice(demo["scenarios"]["married_couple"]["wife"], **data))
    assert r.status_code == 422 and field in r.get_json()["fields"], r.get_json()


def test_only_a_client_with_the_right_to_issue_the_type_may_deposit(hospital, demo, api_as, services):
    wife = demo["scenarios"]["married_couple"]["wife"]
    body = notice(wife, number="0005/GCS-2026")
    signature = detached.sign(hospital_key(), detached.canonical_json(body))
    # the police client reads results but issues none; a citizen and staff deposit nothing
    for who in ("agency", wife, "clerk"):
        r = api_as(who).post("/api/v1/results", json=body, headers={"X-Signature": signature})
        assert r.status_code == 403, (who, r.get_json())
    services.deposits.set_issues(demo["hospital_client"], ["death-notice"])  # no longer birth notices
    r = hospital(body)
    assert r.status_code == 403 and "may not issue" in r.get_json()["message"]


def test_the_demo_seeds_properly_signed_notices_for_the_newborn_and_the_recent_death(demo, services, api_as):
    newborn, death = demo["scenarios"]["newborn"], demo["scenarios"]["recent_death"]
    assert newborn["birth_notice"] and death["death_notice"] and death["requester"]
    for result_id in (newborn["birth_notice"], death["death_notice"]):
        kept = services.deposits.deposit_of(result_id)
        with services.uow(write=False) as uow:
            r = uow.session.get(Result, result_id)
            body = {"evidence_type": r.evidence_type, "number": r.number, "issued_at": r.issued_at.isoformat(),
                    "holders": [h.personal_id for h in r.holders], "data": r.data}
        assert detached.verify(detached.public_pem(hospital_key()), detached.canonical_json(body), kept["signature"])
    pre = api_as(death["requester"]).get(
        f"/api/v1/procedures/death-registration/prefill?deceased_personal_id={death['deceased']}").get_json()
    assert pre["fields"]["cause_of_death"]["source"] == "results"
    assert pre["fields"]["death_notice_number"]["value"] == pre["documents"]["death_notice"]["number"]
