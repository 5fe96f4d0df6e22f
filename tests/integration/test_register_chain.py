"""The chain the state's data make: a returned marriage makes both parties married (a second marriage of
either fails its condition), the couple's child gets a personal id on its birth certificate and in the
register, the wife's certificate of marital status says whom she is married to and by which certificate,
and a returned death makes new filings for the deceased fail."""
from __future__ import annotations

import pytest

from engine.rules.errors import ConditionsNotMetError
from tests.integration.test_writeback import returned
from tests.web.test_lifecycle_api import PDF, birth_form, marriage_form

pytestmark = pytest.mark.database


def _refused_rules(services, procedure: str, data: dict, actor) -> set[str]:
    d = services.filing.start_dossier(procedure, data, actor)
    with pytest.raises(ConditionsNotMetError) as failed:
        services.actions.perform_action(d.id, "submit", actor)
    assert services.dossiers.get_dossier(d.id, actor).state == "draft"  # nothing filed
    return {c["rule"] for c in failed.value.conditions}


def test_marriage_then_a_child_then_a_marital_status_certificate_then_a_death(services, demo):
    singles = demo["scenarios"]["single_adults"]
    women = [p["personal_id"] for p in singles if p["sex"] == "female"]
    men = [p["personal_id"] for p in singles if p["sex"] == "male"]
    wife_id, other_woman_id, husband_id = women[0], women[1], men[0]
    wife, other_woman = services.accounts.actor_for(wife_id), services.accounts.actor_for(other_woman_id)
    register = services.prefill.prefiller.population

    # 1. they marry
    d = services.filing.start_dossier("marriage-registration", marriage_form(wife_id, husband_id), wife)
    [certificate] = returned(services, d.id, wife).results
    assert register.person(wife_id).spouse == husband_id

    # 2. a second marriage of the husband fails its condition, whatever the new bride types
    assert "not_married" in _refused_rules(services, "marriage-registration",
                                           marriage_form(other_woman_id, husband_id), other_woman)

    # 3. their child: a personal id on the certificate, in the register, and in the next prefill
    couple = {"wife": wife_id, "husband": husband_id}
    b = services.filing.start_dossier("birth-registration", birth_form(couple), wife)
    if any(r.id == "medical_birth_notice" and r.required and not r.satisfied for r in b.requirements):
        services.filing.add_document(b.id, "medical_birth_notice", "gcs.pdf", PDF, wife)
    [birth] = returned(services, b.id, wife).results
    child_id = birth.data["child_personal_id"]
    child = register.person(child_id)
    assert (child.mother, child.father) == (wife_id, husband_id)
    assert child_id in register.person(husband_id).children

    # 4. her certificate of marital status: married, to him, by that certificate
    pre = services.prefill.prefill_for("marital-status-certification", wife)
    assert pre.fields["marital_status"].value == "married"
    husband_name = register.person(husband_id).attributes["full_name"]
    assert pre.fields["spouse_full_name"].value == husband_name
    assert pre.fields["marriage_certificate_number"].value == certificate.number
    m = services.filing.start_dossier("marital-status-certification", {
        "requester_relationship": "self", "issuance_type": "first", "purpose": "Bổ sung hồ sơ vay vốn ngân hàng",
        "copies_count": 1}, wife)
    [status] = returned(services, m.id, wife).results
    assert (status.data["marital_status"], status.data["spouse_full_name"],
            status.data["marriage_certificate_number"]) == ("married", husband_name, certificate.number)

    # 5. he dies: registered by his wife; then new filings about him fail their conditions
    death = services.filing.start_dossier("death-registration", {
        "requester_relationship": "spouse", "deceased_personal_id": husband_id, "registration_type": "on_time",
        "date_of_death": "2026-02-27", "time_of_death": "08:30", "place_of_death": "Bệnh viện Bạch Mai",
        "cause_of_death": "Bệnh", "death_notice_number": "123/GBT", "death_notice_issued_by": "Bệnh viện Bạch Mai",
        "death_notice_issued_on": "2026-02-27"}, wife)
    if any(r.id == "death_notice" and r.required and not r.satisfied for r in death.requirements):
        services.filing.add_document(death.id, "death_notice", "giay-bao-tu.pdf", PDF, wife)
    returned(services, death.id, wife)
    assert str(register.person(husband_id).attributes["date_of_death"]) == "2026-02-27"
    assert register.person(wife_id).attributes["marital_status"] == "widowed"
    assert "life_status" in _refused_rules(services, "marriage-registration",
                                           marriage_form(other_woman_id, husband_id), other_woman)
    assert "life_status" in _death_again(services, husband_id, wife)


def _death_again(services, husband_id: str, wife) -> set[str]:
    data = {"requester_relationship": "spouse", "deceased_personal_id": husband_id, "registration_type": "on_time",
            "date_of_death": "2026-02-27", "time_of_death": "08:30", "place_of_death": "Bệnh viện Bạch Mai",
            "cause_of_death": "Bệnh", "death_notice_number": "124/GBT", "death_notice_issued_by": "Bệnh viện Bạch Mai",
            "death_notice_issued_on": "2026-02-27"}
    d = services.filing.start_dossier("death-registration", data, wife)
    if any(r.id == "death_notice" and r.required and not r.satisfied for r in d.requirements):
        services.filing.add_document(d.id, "death_notice", "giay-bao-tu.pdf", PDF, wife)
    with pytest.raises(ConditionsNotMetError) as failed:
        services.actions.perform_action(d.id, "submit", wife)
    return {c["rule"] for c in failed.value.conditions}
