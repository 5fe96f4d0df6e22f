"""What an online applicant still types after the real prefill (Prefill.typing_left), the measure
behind `motcua procedures list`'s measured cut: fields left empty and fields in conflict count."""
from __future__ import annotations

import pytest

from engine.rules.metrics import sample_cut
from motcua.demo.samples import adults, samples

pytestmark = pytest.mark.database


def test_a_married_couple_on_the_marriage_form_types_the_fields_in_conflict(services, demo):
    couple = demo["scenarios"]["married_couple"]
    t = services.prefill.typing_left("marriage-registration", couple["wife"],
                                     {"wife_personal_id": couple["wife"], "husband_personal_id": couple["husband"]})
    assert t is not None and t.declared == len(services.catalogue.latest("marriage-registration").fields)
    assert set(t.conflicts) == {"wife_marital_status", "husband_marital_status"}
    assert set(t.conflicts) <= set(t.typed)
    # the ids she typed count as typed; her name and her husband's (her family) come from the register
    assert {"wife_personal_id", "husband_personal_id"} <= set(t.typed)
    assert "wife_full_name" not in t.typed and "husband_full_name" not in t.typed


def test_an_unmarried_applicant_types_the_other_partys_data_but_nothing_is_in_conflict(services, demo):
    [(woman, hints), *_] = samples("marriage-registration", demo["scenarios"])
    t = services.prefill.typing_left("marriage-registration", woman, hints)
    assert t.conflicts == ()
    assert "wife_full_name" not in t.typed and "husband_full_name" in t.typed  # not her family: not looked up


def test_the_measure_reads_nothing_into_anyones_access_log_and_skips_unknown_people(services, demo, api_as):
    couple = demo["scenarios"]["married_couple"]
    services.prefill.typing_left("death-registration", couple["wife"], {"deceased_personal_id": couple["husband"]})
    assert api_as(couple["husband"]).get("/api/v1/me/access-log").get_json()["entries"] == []
    assert services.prefill.typing_left("birth-registration", "001099999999") is None


def test_every_bundled_procedure_has_demo_applicants_and_a_measured_cut(services, demo):
    scenarios = demo["scenarios"]
    assert len(adults(scenarios)) == len(set(adults(scenarios))) >= 4
    for proc in services.catalogue.current():
        taken = [services.prefill.typing_left(proc.id, pid, hints) for pid, hints in samples(proc.id, scenarios)]
        cut = sample_cut(len(proc.fields), [len(t.typed) for t in taken if t])
        assert cut is not None and 0 <= cut.cut <= 1, proc.id
        assert cut.cut == pytest.approx(1 - cut.typed / len(proc.fields))
    assert sample_cut(10, []) is None
