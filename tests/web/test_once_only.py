"""Once-only: a citizen never types, nor uploads, what the state already holds."""
from __future__ import annotations

import http.server
import io
import logging
import threading
import time

import pytest
from sqlalchemy import func, select, update

from engine.adapters.models import Person, Result, ResultAccess
from engine.rules.prefill import Applicant
from engine.adapters.sources import HttpPopulationRegister
from tests.web.test_lifecycle_api import PDF, birth_form, marriage_form

pytestmark = pytest.mark.database


def test_a_married_couple_files_a_birth_registration_with_most_fields_prefilled_and_no_paper_marriage_certificate(
        demo, api_as, services):
    couple = demo["scenarios"]["married_couple"]
    citizen = api_as(couple["wife"])
    pre = citizen.get("/api/v1/procedures/birth-registration/prefill").get_json()
    assert pre["counts"]["total"] == 28
    assert pre["counts"]["prefilled"] / pre["counts"]["total"] >= 0.6, pre["counts"]
    assert pre["fields"]["mother_personal_id"]["value"] == couple["wife"]
    assert pre["fields"]["father_personal_id"]["value"] == couple["husband"]
    assert pre["fields"]["mother_full_name"]["source"] == "population"
    assert pre["fields"]["requester_full_name"]["source"] == "identity"
    assert pre["documents"]["parents_marriage_certificate"]["result_id"] == couple["marriage_certificate"]

    r = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": birth_form(couple)})
    assert r.status_code == 201, r.get_json()
    d = r.get_json()
    reqs = {q["id"]: q for q in d["requirements"]}
    assert reqs["parents_marriage_certificate"] == {**reqs["parents_marriage_certificate"], "satisfied": True, "by": "result"}
    [linked] = [doc for doc in d["documents"] if doc["by"] == "result"]
    assert linked["verify_url"].startswith(f"http://127.0.0.1:8000/verify/{couple['marriage_certificate']}/")
    prov = d["provenance"]
    prefilled = [k for k, p in prov.items() if not p["declared"]]
    assert len(prefilled) / 28 >= 0.6, sorted(prov)
    with services.uow(write=False) as uow:
        mother_name = uow.session.execute(select(Person.full_name).where(Person.personal_id == couple["wife"])).scalar_one()
    assert d["data"]["mother_full_name"] == mother_name
    assert prov["mother_full_name"]["record"] == f"person:{couple['wife']}"
    assert prov["mother_full_name"]["label"] == "Cơ sở dữ liệu quốc gia về dân cư"
    assert prov["child_date_of_birth_in_words"]["source"] == "derived"
    assert d["data"]["child_date_of_birth_in_words"].startswith("Ngày hai mươi, tháng hai, năm hai nghìn")
    # the audit event names the prefilled fields, never their values
    details = d["events"][0]["details"]
    assert "mother_full_name" in details["prefilled"] and mother_name not in str(details)
    # only the birth notice has to be uploaded
    citizen.post(f"/api/v1/dossiers/{d['id']}/documents", content_type="multipart/form-data",
                 data={"requirement": "medical_birth_notice", "file": (io.BytesIO(PDF), "gcs.pdf")})
    assert citizen.act(d["id"], "submit")["state"] == "submitted"


def test_register_data_cannot_be_typed_over_but_editable_values_can_and_are_marked_declared(demo, api_as):
    couple = demo["scenarios"]["married_couple"]
    citizen = api_as(couple["wife"])
    r = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration",
                                               "data": {**birth_form(couple), "mother_full_name": "Tên khác"}})
    assert r.status_code == 422 and "mother_full_name" in r.get_json()["fields"]
    d = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": birth_form(couple)}).get_json()
    r = citizen.patch(f"/api/v1/dossiers/{d['id']}", json={"data": {"mother_full_name": "Tên khác"}})
    assert r.status_code == 422 and "mother_full_name" in r.get_json()["fields"]
    r = citizen.patch(f"/api/v1/dossiers/{d['id']}", json={"data": {"child_home_town": "Thái Bình"}})
    assert r.status_code == 200
    prov = r.get_json()["provenance"]["child_home_town"]
    assert prov["declared"] is True and prov["source"] == "population"


def test_a_citizen_cannot_prefill_from_or_link_another_familys_data(demo, api_as):
    couple = demo["scenarios"]["married_couple"]
    other = demo["scenarios"]["family_with_child"]
    single = next(p["personal_id"] for p in demo["scenarios"]["single_adults"] if p["sex"] == "female")
    stranger = api_as(single)
    # naming someone else's personal id does not reveal their register data
    pre = stranger.get(f"/api/v1/procedures/marriage-registration/prefill?wife_personal_id={single}"
                       f"&husband_personal_id={couple['husband']}").get_json()
    assert "husband_full_name" not in pre["fields"] and "husband_full_name" in pre["withheld"]
    assert pre["fields"]["wife_full_name"]["source"] == "population"  # her own data, yes
    # nor another family's results
    d = api_as(couple["wife"]).post("/api/v1/dossiers", json={"procedure": "birth-registration",
                                                              "data": birth_form(couple)}).get_json()
    r = api_as(couple["wife"]).post(f"/api/v1/dossiers/{d['id']}/documents",
                                    json={"requirement": "parents_marriage_certificate",
                                          "result_id": other["marriage_certificate"]})
    assert r.status_code == 404
    # the results store lists only one's own
    assert api_as(couple["wife"]).get(f"/api/v1/results?holder={other['wife']}").status_code == 403


def test_a_revoked_result_is_neither_linked_automatically_nor_by_hand(demo, api_as, services):
    couple = demo["scenarios"]["married_couple"]
    with services.uow() as uow:
        uow.session.execute(update(Result).where(Result.id == couple["marriage_certificate"]).values(status="revoked"))
        uow.commit()
    citizen = api_as(couple["wife"])
    d = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": birth_form(couple)}).get_json()
    reqs = {q["id"]: q for q in d["requirements"]}
    assert reqs["parents_marriage_certificate"]["satisfied"] is False
    r = citizen.post(f"/api/v1/dossiers/{d['id']}/documents",
                     json={"requirement": "parents_marriage_certificate", "result_id": couple["marriage_certificate"]})
    assert r.status_code == 422


class _FailingRegister:
    def person(self, personal_id: str):
        raise TimeoutError("register did not answer")


def test_a_failing_population_register_leaves_the_form_usable_and_logs_no_personal_data(demo, api_as, services, caplog):
    couple = demo["scenarios"]["married_couple"]
    services.prefill.prefiller.population = _FailingRegister()
    citizen = api_as(couple["wife"])
    with caplog.at_level(logging.WARNING):
        pre = citizen.get("/api/v1/procedures/birth-registration/prefill").get_json()
        r = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": birth_form(couple)})
    assert pre["unavailable_sources"] == ["population"]
    assert pre["fields"]["requester_full_name"]["source"] == "identity"  # the account still answers
    assert "mother_full_name" not in pre["fields"]
    assert r.status_code == 201
    assert "mother_full_name" not in r.get_json()["data"]  # left to type
    assert "prefill source 'population' failed" in caplog.text
    assert couple["wife"] not in caplog.text


def test_the_http_register_adapter_gives_up_after_its_timeout():
    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            time.sleep(1.5)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        register = HttpPopulationRegister(f"http://127.0.0.1:{server.server_port}/people", timeout=0.3)
        started = time.monotonic()
        with pytest.raises(OSError):
            register.person("001190000001")
        assert time.monotonic() - started < 1.4
        assert register.person("not-an-id") is None  # never sent
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _reads(services) -> int:
    with services.uow(write=False) as uow:
        return uow.session.execute(select(func.count()).select_from(ResultAccess)).scalar_one()


def test_agency_reads_need_a_purpose_and_an_allowed_type_and_every_read_is_in_the_holders_log(demo, api_as, services):
    couple = demo["scenarios"]["married_couple"]
    agency = api_as("agency")  # may read marriage and birth certificates by law (allowed_evidence)
    holder = couple["wife"]
    r = agency.get(f"/api/v1/results?holder={holder}&evidence=marriage-certificate")
    assert r.status_code == 403 and "X-Purpose" in r.get_json()["message"]
    assert _reads(services) == 0
    r = agency.get(f"/api/v1/results/{couple['marriage_certificate']}")
    assert r.status_code == 403 and _reads(services) == 0
    purpose = {"X-Purpose": "Xác minh hồ sơ cấp phiếu lý lịch tư pháp số 123"}
    r = agency.get(f"/api/v1/results?holder={holder}&evidence=marriage-certificate", headers=purpose)
    assert r.status_code == 200 and [x["id"] for x in r.get_json()["results"]] == [couple["marriage_certificate"]]
    r = agency.get(f"/api/v1/results/{couple['marriage_certificate']}", headers=purpose)
    assert r.status_code == 200
    assert _reads(services) == 2
    log = api_as(holder).get("/api/v1/me/access-log").get_json()["entries"]
    assert [(e["result_id"], e["purpose"], e["basis"]) for e in log] == [
        (couple["marriage_certificate"], purpose["X-Purpose"], "law")] * 2
    assert log[0]["reader_agency"] == "Công an thành phố Hà Nội"
    # the husband holds the same certificate and sees the same reads
    assert len(api_as(couple["husband"]).get("/api/v1/me/access-log").get_json()["entries"]) == 2


def test_consent_opens_an_evidence_type_to_an_agency_and_withdrawal_closes_it(demo, api_as, services):
    couple = demo["scenarios"]["married_couple"]
    with services.uow() as uow:  # a marital-status certificate the agency client is not allowed by law
        from engine.adapters.models import ResultHolder

        r = Result(number="9/2026/XNTTHN", procedure_id="marriage-registration", procedure_version=1,
                   result_key="marital-status-certificate", evidence_type="marital-status-certificate",
                   issuer_agency_id=1, issued_at=services.clock(), status="valid", data={"status": "single"},
                   issue_attempts=0)
        r.holders = [ResultHolder(personal_id=couple["wife"])]
        uow.session.add(r)
        uow.commit()
        rid = r.id
    agency = api_as("agency")
    purpose = {"X-Purpose": "Cấp phiếu lý lịch tư pháp"}
    assert agency.get(f"/api/v1/results/{rid}", headers=purpose).status_code == 404
    r = agency.get(f"/api/v1/results?holder={couple['wife']}&evidence=marital-status-certificate", headers=purpose)
    assert r.status_code == 403 and _reads(services) == 0
    wife = api_as(couple["wife"])
    c = wife.post("/api/v1/me/consents", json={"agency": "000.00.31.H26", "evidence": "marital-status-certificate"})
    assert c.status_code == 201, c.get_json()
    assert agency.get(f"/api/v1/results/{rid}", headers=purpose).status_code == 200
    assert wife.get("/api/v1/me/access-log").get_json()["entries"][0]["basis"] == "consent"
    assert wife.delete(f"/api/v1/me/consents/{c.get_json()['id']}").get_json()["withdrawn_at"]
    assert agency.get(f"/api/v1/results/{rid}", headers=purpose).status_code == 404
    assert api_as(couple["husband"]).delete(f"/api/v1/me/consents/{c.get_json()['id']}").status_code == 404


def test_counter_filing_prefills_the_walk_in_citizen_from_the_register(demo, api_as):
    singles = demo["scenarios"]["single_adults"]
    wife = next(p["personal_id"] for p in singles if p["sex"] == "female")
    husband = next(p["personal_id"] for p in singles if p["sex"] == "male")
    r = api_as("clerk").post("/api/v1/dossiers", json={"procedure": "marriage-registration", "applicant": wife,
                                                        "data": marriage_form(wife, husband, other_party_typed=False)})
    assert r.status_code == 201, r.get_json()
    d = r.get_json()
    assert d["provenance"]["husband_full_name"]["source"] == "population"  # both present at the counter
    assert d["provenance"]["wife_marital_status"]["editable"] is False


def test_kpis_report_the_declared_field_cut_measured_on_filed_dossiers(demo, api_as):
    couple = demo["scenarios"]["married_couple"]
    citizen = api_as(couple["wife"])
    d = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": birth_form(couple)}).get_json()
    citizen.post(f"/api/v1/dossiers/{d['id']}/documents", content_type="multipart/form-data",
                 data={"requirement": "medical_birth_notice", "file": (io.BytesIO(PDF), "gcs.pdf")})
    citizen.act(d["id"], "submit")
    api_as("clerk").act(d["id"], "receive")
    k = api_as("leader").get("/api/v1/kpis").get_json()
    cut = k["declared_field_cut"]
    assert cut["by_procedure"]["birth-registration"] >= 0.6
    assert cut["overall"] == cut["by_procedure"]["birth-registration"]
    assert cut["definition_overall"] >= 0.4
    assert k["online_rate"] == 1.0 and k["reuse_rate"] == 1.0 and k["dossiers_received"] == 1
    assert api_as(couple["wife"]).get("/api/v1/kpis").status_code == 403
    assert api_as("leader").get("/api/v1/kpis?from=nope").status_code == 422


def test_applicant_prefill_for_a_staff_filing_uses_the_register_not_the_clerks_account(services, demo):
    couple = demo["scenarios"]["married_couple"]
    proc = services.procedures.get_procedure("birth-registration")
    outcome = services.prefill.prefiller.prefill(proc, Applicant(None, couple["wife"], couple["wife"], "", None, None, True),
                                         {}, services.clock())
    assert outcome.values["requester_personal_id"].value == couple["wife"]
    assert outcome.values["requester_full_name"].source == "population"
