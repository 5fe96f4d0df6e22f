"""The bundled procedures' conditions against the demo world, read through the real register and
results-store adapters: every citizen the demo offers stays eligible for what the demo lets them
try."""
from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.rules.conditions import PASSED, AgencyFacts, Verdict, evaluate
from engine.rules.prefill import PersonRecord, StoredResult
from motcua.demo.world import AGENCY_UNIT


@dataclass
class RegisterFacts:
    """Facts read from the services' population register and results store."""

    services: Any
    form: Mapping[str, Any]
    applicant: str | None
    on: dt.date
    agency: AgencyFacts

    def person(self, personal_id: str) -> PersonRecord | None:
        return self.services.prefill.prefiller.population.person(personal_id)

    def results(self, personal_ids: Iterable[str], evidence_types: Iterable[str]) -> list[StoredResult]:
        return self.services.prefill.prefiller.results.valid_results(personal_ids, evidence_types)


def check(services, demo, procedure_id: str, form: dict, applicant: str) -> list[Verdict]:
    proc = services.catalogue.latest(procedure_id)
    agency = AgencyFacts(demo["agency"]["code"], "commune", AGENCY_UNIT)
    verdicts = evaluate(proc.conditions, RegisterFacts(services, form, applicant, services.clock().date(), agency))
    assert len(verdicts) == len(proc.conditions) > 0
    return verdicts


def not_passed(verdicts: list[Verdict]) -> list[dict]:
    return [v.as_dict() for v in verdicts if v.status != PASSED]


def test_every_pair_of_demo_singles_may_marry_here(services, demo):
    singles = demo["scenarios"]["single_adults"]
    women = [p["personal_id"] for p in singles if p["sex"] == "female"]
    men = [p["personal_id"] for p in singles if p["sex"] == "male"]
    assert women and men
    for wife, husband in itertools.product(women, men):
        form = {"wife_personal_id": wife, "husband_personal_id": husband}
        for applicant in (wife, husband):
            assert not_passed(check(services, demo, "marriage-registration", form, applicant)) == []


def test_the_demo_married_couple_is_married_to_each_other(services, demo):
    couple = demo["scenarios"]["married_couple"]
    form = {"wife_personal_id": couple["wife"], "husband_personal_id": couple["husband"]}
    verdicts = {v.rule: v for v in check(services, demo, "marriage-registration", form, couple["wife"])}
    assert {r for r, v in verdicts.items() if v.status != PASSED} == {"not_married"}
    married = verdicts["not_married"].used
    assert married["wife_personal_id"]["spouse"] == couple["husband"]
    assert married["husband_personal_id"]["spouse"] == couple["wife"]


def test_the_demo_couples_may_register_a_new_child_here(services, demo):
    today = services.clock().date()
    scenarios = demo["scenarios"]
    for couple in (scenarios["married_couple"], scenarios.get("family_with_child")):
        if couple is None:
            continue
        form = {"mother_personal_id": couple["wife"], "father_personal_id": couple["husband"],
                "child_date_of_birth": (today - dt.timedelta(days=10)).isoformat(),
                "requester_relationship": "mother", "registration_type": "on_time"}
        for applicant in (couple["wife"], couple["husband"]):
            verdicts = check(services, demo, "birth-registration", form, applicant)
            assert not_passed(verdicts) == []


def test_every_demo_citizen_may_ask_for_a_certificate_of_marital_status_here(services, demo):
    scenarios = demo["scenarios"]
    people = [p["personal_id"] for p in scenarios["single_adults"] + scenarios["divorced_adults"]]
    people += [scenarios["married_couple"]["wife"], scenarios["married_couple"]["husband"]]
    for pid in people:
        form = {"subject_personal_id": pid, "requester_relationship": "self"}
        assert not_passed(check(services, demo, "marital-status-certification", form, pid)) == []
    couple = scenarios["married_couple"]
    form = {"subject_personal_id": couple["husband"], "requester_relationship": "relative"}
    [link] = [v.used["link"] for v in check(services, demo, "marital-status-certification", form, couple["wife"])
              if v.rule == "applicant_related"]
    assert link == "spouse"


def test_a_demo_death_is_registered_by_the_spouse_here(services, demo):
    couple = demo["scenarios"]["married_couple"]
    today = services.clock().date()
    form = {"deceased_personal_id": couple["husband"], "date_of_death": (today - dt.timedelta(days=3)).isoformat(),
            "requester_relationship": "spouse", "registration_type": "on_time"}
    assert not_passed(check(services, demo, "death-registration", form, couple["wife"])) == []
