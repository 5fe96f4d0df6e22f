"""The desk's use cases on a real database: the queue's timeliness counts, a dossier as the desk shows it,
the procedures a counter takes, and filing for a walk-in citizen in one step."""
from __future__ import annotations

import datetime as dt

import pytest

from engine.rules.errors import NotFoundError, PermissionDeniedError, ValidationError
from engine.adapters.models import Account, Agency, ResultAccess
from tests.web.test_lifecycle_api import PDF, birth_form
from motcua.demo import seed_demo_queue

pytestmark = pytest.mark.database

WALK_IN_FORM = {"requester_relationship": "self", "issuance_type": "first", "copies_count": 1,
                "purpose": "Để bổ sung hồ sơ vay vốn ngân hàng"}


@pytest.fixture
def couple(demo) -> dict:
    return demo["scenarios"]["married_couple"]


@pytest.fixture
def single(demo) -> str:
    return demo["scenarios"]["single_adults"][0]["personal_id"]


def _submitted_birth(services, couple: dict) -> str:
    citizen = services.accounts.actor_for(couple["wife"])
    d = services.filing.start_dossier("birth-registration", birth_form(couple), citizen)
    services.filing.add_document(d.id, "medical_birth_notice", "gcs.pdf", PDF, citizen)
    services.actions.perform_action(d.id, "submit", citizen)
    return d.id


def _other_agency_clerk(services, clock, level: str = "commune") -> object:
    with services.uow() as uow:
        agency = Agency(code="000.00.99.H99", name_vi="UBND xã Thử Nghiệm", name_en="Test Commune",
                        level=level, address=None, calendar="vn")
        uow.session.add(agency)
        uow.session.flush()
        uow.session.add(Account(username="clerk-other", kind="staff", display_name="Cán bộ xã khác", password_hash=None,
                                roles=["clerk"], agency_id=agency.id, personal_id=None, allowed_evidence=[],
                                active=True, created_at=clock()))
        uow.commit()
    return services.accounts.actor_for("clerk-other")


def test_the_queue_counts_cover_every_page_and_follow_the_filters(services, couple, clock):
    clerk = services.accounts.actor_for("clerk")
    first = _submitted_birth(services, couple)
    services.actions.perform_action(first, "receive", clerk)  # due Tuesday 17:00
    _submitted_birth(services, couple)
    assert services.desk.count_queue(clerk) == {"overdue": 0, "due_soon": 1, "on_time": 0, "none": 1}
    assert services.desk.count_queue(clerk, state="submitted") == {"overdue": 0, "due_soon": 0, "on_time": 0, "none": 1}
    assert services.desk.count_queue(clerk, states=["received"]) == {"overdue": 0, "due_soon": 1, "on_time": 0, "none": 0}
    assert services.desk.count_queue(clerk, procedure="marriage-registration") == dict.fromkeys(
        ("overdue", "due_soon", "on_time", "none"), 0)
    clock.set(dt.datetime(2026, 3, 4, 8, 0))
    assert services.desk.count_queue(clerk)["overdue"] == 1
    # the counts agree with the badges of the list
    page = services.desk.list_dossiers(clerk)
    assert sorted(i.timeliness for i in page.items) == ["none", "overdue"]
    with pytest.raises(PermissionDeniedError):
        services.desk.count_queue(services.accounts.actor_for(couple["wife"]))


def test_the_desk_dossier_says_who_may_add_scans_and_names_the_results_reused(services, couple, clock):
    did = _submitted_birth(services, couple)
    clerk, specialist = services.accounts.actor_for("clerk"), services.accounts.actor_for("specialist")
    desk = services.desk.get_desk_dossier(did, clerk)
    assert desk.dossier.id == did and desk.procedure.id == "birth-registration" and desk.uploads_open
    assert not services.desk.get_desk_dossier(did, specialist).uploads_open  # a specialist never adds documents
    reused = [e for e in desk.evidence.values() if e.requirement == "parents_marriage_certificate"]
    assert len(reused) == 1 and reused[0].result_id == couple["marriage_certificate"]
    assert reused[0].number and reused[0].status == "valid" and reused[0].verify_url.startswith("http")
    services.actions.perform_action(did, "receive", clerk)
    assert not services.desk.get_desk_dossier(did, clerk).uploads_open  # received: the documents are closed
    with pytest.raises(NotFoundError):
        services.desk.get_desk_dossier(did, _other_agency_clerk(services, clock))
    with pytest.raises(PermissionDeniedError):
        services.desk.get_desk_dossier(did, services.accounts.actor_for(couple["wife"]))


def test_reading_the_desk_dossier_of_the_issuing_agency_logs_no_read(services, couple):
    did = _submitted_birth(services, couple)
    services.desk.get_desk_dossier(did, services.accounts.actor_for("clerk"))
    with services.uow(write=False) as uow:
        assert uow.session.query(ResultAccess).count() == 0  # the agency's own results


def test_a_commune_counter_takes_the_commune_procedures_only(services, demo, clock):
    ids = {p.id for p in services.counter.counter_procedures(services.accounts.actor_for("clerk"))}
    assert "marital-status-certification" in ids and "birth-registration" in ids
    assert "criminal-record-certificate" not in ids  # a province procedure
    with pytest.raises(PermissionDeniedError):
        services.counter.counter_procedures(services.accounts.actor_for(demo["scenarios"]["married_couple"]["wife"]))


def test_filing_for_a_walk_in_creates_a_submitted_prefilled_dossier_once(services, single):
    clerk = services.accounts.actor_for("clerk")
    d = services.counter.file_for_walk_in("marital-status-certification", WALK_IN_FORM, clerk, applicant=single,
                                  idempotency_key="quay-1")
    assert (d.state, d.channel, d.applicant["personal_id"]) == ("submitted", "counter", single)
    assert [e.action for e in d.events] == ["create", "file_at_counter"]
    assert d.provenance["subject_full_name"]["source"] == "population"
    assert d.data["copies_count"] == 1
    again = services.counter.file_for_walk_in("marital-status-certification", WALK_IN_FORM, clerk, applicant=single,
                                      idempotency_key="quay-1")
    assert again.id == d.id and [e.action for e in again.events] == ["create", "file_at_counter"]
    assert services.desk.list_dossiers(services.accounts.actor_for(single)).total == 1


def test_an_incomplete_walk_in_form_creates_nothing(services, single):
    clerk = services.accounts.actor_for("clerk")
    with pytest.raises(ValidationError) as err:
        services.counter.file_for_walk_in("marital-status-certification", {**WALK_IN_FORM, "purpose": ""}, clerk,
                                  applicant=single, idempotency_key="quay-2")
    assert set(err.value.fields) == {"purpose"}
    with pytest.raises(ValidationError) as err:
        services.counter.file_for_walk_in("marital-status-certification", {**WALK_IN_FORM, "subject_full_name": "Người Khác"},
                                  clerk, applicant=single)
    assert "subject_full_name" in err.value.fields  # a register value is corrected at the register
    with pytest.raises(ValidationError) as err:
        services.counter.file_for_walk_in("marital-status-certification", {**WALK_IN_FORM, "copies_count": "nhiều"}, clerk,
                                  applicant=single)
    assert "copies_count" in err.value.fields
    assert services.desk.list_dossiers(services.accounts.actor_for(single)).total == 0


def test_only_a_clerk_files_at_the_counter_and_only_what_the_agency_handles(services, single, clock):
    with pytest.raises(PermissionDeniedError):
        services.counter.file_for_walk_in("marital-status-certification", WALK_IN_FORM, services.accounts.actor_for("specialist"),
                                  applicant=single)
    with pytest.raises(PermissionDeniedError):
        services.counter.file_for_walk_in("marital-status-certification", WALK_IN_FORM, services.accounts.actor_for(single),
                                  applicant=single)
    clerk = services.accounts.actor_for("clerk")
    with pytest.raises(NotFoundError):
        services.counter.file_for_walk_in("no-such-procedure", WALK_IN_FORM, clerk, applicant=single)
    with pytest.raises(ValidationError) as err:
        services.counter.file_for_walk_in("criminal-record-certificate", {}, clerk, applicant=single)
    assert "procedure" in err.value.fields
    for bad in ("12345", "00119330164x", None):
        with pytest.raises(ValidationError) as err:
            services.counter.file_for_walk_in("marital-status-certification", WALK_IN_FORM, clerk, applicant=bad)
        assert "applicant" in err.value.fields
    with pytest.raises(ValidationError) as err:  # nobody with this number in the register
        services.counter.file_for_walk_in("marital-status-certification", WALK_IN_FORM, clerk, applicant="000000000000")
    assert set(err.value.fields) == {"applicant"}


def test_the_demo_queue_gives_every_staff_role_work_and_is_seeded_once(services, demo):
    filed = seed_demo_queue(services, demo)
    assert filed == 8
    clerk, leader, specialist = (services.accounts.actor_for(u) for u in ("clerk", "leader", "specialist"))
    everything = services.desk.list_dossiers(clerk).items
    states = sorted(item.state for item in everything)
    assert states == sorted(["submitted", "submitted", "reception_supplement", "received", "processing_appraise",
                             "processing_appraise", "awaiting_decision", "returned"])
    named = {demo["scenarios"]["married_couple"]["wife"]} | {p["personal_id"] for p in demo["scenarios"]["single_adults"]}
    applicants = {services.dossiers.get_dossier(item.id, clerk).applicant["personal_id"] for item in everything}
    assert len(applicants) == 8 and not applicants & named  # the login page's citizens start with no dossiers
    assert services.desk.list_dossiers(clerk, states=services.desk.queue_states(clerk)).total >= 3
    assert "awaiting_decision" in {i.state for i in services.desk.list_dossiers(leader, states=services.desk.queue_states(leader)).items}
    assert "processing_appraise" in {i.state for i in services.desk.list_dossiers(specialist, states=services.desk.queue_states(specialist)).items}
    returned = next(i for i in everything if i.state == "returned")
    assert services.dossiers.get_dossier(returned.id, clerk).results[0].status == "valid"
    assert seed_demo_queue(services, demo) == 0  # idempotent
    assert services.desk.list_dossiers(clerk).total == 8
