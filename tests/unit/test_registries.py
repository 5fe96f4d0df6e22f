"""Registries of named guards, effects, derivations and prefill sources; the one-stop expansion
names its slips and its decision as effects; state flags."""
from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from engine.rules import guards as guard_module
from engine.rules.context import ActionContext
from engine.rules.definitions import ONE_STOP_STATES, load_catalogue
from engine.rules.effects import EFFECTS, SERVICE_EFFECTS, records_result, slip_form
from engine.rules.errors import DefinitionError
from engine.rules.guards import GUARDS
from engine.rules.prefill import DERIVATIONS, PREFILL_SOURCES
from engine.rules.registry import DuplicateNameError, Registry
from engine.rules.slips import SLIP_SUFFIX, SLIP_TEMPLATES, SLIP_TITLES
from engine.rules.workflow import fire
from tests.unit.test_definitions import EXPLICIT, ONE_STOP, PlainDossier, _line, _replace

NOW = dt.datetime(2026, 3, 2, 9, 0)
PROCEDURES = Path(__file__).resolve().parents[2] / "procedures"
# Which one-stop action issues which slip form (Circular 01/2018 Art. 9).
SLIP_OF_ACTION = {"receive": "01", "request_supplement": "02", "refuse": "03", "extend_due": "04", "stop": "05",
                  "reject": "TC"}


# --------------------------------------------------------------------------- the registry


def test_a_name_registered_twice_raises():
    reg: Registry[object] = Registry("gadget")

    @reg.register("spin")
    def spin() -> None: ...

    with pytest.raises(DuplicateNameError, match="gadget 'spin' is registered twice"):
        @reg.register("spin")
        def spin_again() -> None: ...

    assert reg.get("spin") is spin and "spin" in reg and reg.names() == frozenset({"spin"})


def test_registering_an_existing_guard_again_raises():
    with pytest.raises(DuplicateNameError):
        GUARDS.add("fee_paid", lambda d, c: None)


def test_an_unknown_name_is_a_key_error_naming_the_kind():
    with pytest.raises(KeyError, match="unknown effect 'no_such_effect'"):
        EFFECTS.get("no_such_effect")


def test_the_registries_hold_the_names_the_files_use():
    assert {"form_complete", "reason_given", "results_issued", "counter_draft"} <= GUARDS.names()
    assert {"mark_submitted", "record_result", "close", "mark_decided", "issue_receipt"} <= EFFECTS.names()
    assert DERIVATIONS.names() == {"date_in_words", "copy_of", "birth_registration_type", "death_registration_type"}
    assert PREFILL_SOURCES.names() == {"identity", "population", "results", "derived"}
    assert guard_module.GUARD_INPUTS == {"reason_given": "reason", "items_given": "items",
                                         "new_due_date_given": "new_due_at", "time_limit_case_given": "case"}


def test_service_effects_are_the_ones_the_use_case_carries_out():
    assert SERVICE_EFFECTS == {"assign_code", "record_result", "issue_receipt", "issue_supplement_request",
                               "issue_refusal", "issue_extension_apology", "issue_stop_notice",
                               "issue_refusal_after_appraisal"}
    assert "mark_decided" not in SERVICE_EFFECTS
    forms = {EFFECTS.info(name)["slip"] for name in SERVICE_EFFECTS if "slip" in EFFECTS.info(name)}
    assert forms == set(SLIP_TITLES) == set(SLIP_TEMPLATES) == set(SLIP_SUFFIX)


# --------------------------------------------------------------------------- unknown names at their line

UNKNOWN = [
    ("guard", EXPLICIT, "guards: [form_complete]", "guards: [form_completed]", "guards: [form_completed]",
     "action 'submit': unknown guard 'form_completed' (did you mean 'form_complete'?)"),
    ("effect", EXPLICIT, "effects: [mark_submitted]", "effects: [mark_submited]", "effects: [mark_submited]",
     "action 'submit': unknown effect 'mark_submited' (did you mean 'mark_submitted'?)"),
    ("prefill_source", ONE_STOP, "prefill: {source: population,", "prefill: {source: populace,", "source: populace",
     "field 'full_name': unknown prefill source 'populace' (did you mean 'population'?)"),
    ("derivation", ONE_STOP, "prefill: {source: population, person: applicant_personal_id, path: full_name, editable: false}",
     "prefill: {source: derived, rule: date_in_word, args: [purpose]}", "rule: date_in_word",
     "field 'full_name': unknown derivation 'date_in_word' (known: birth_registration_type, copy_of, date_in_words, death_registration_type)"),
]


@pytest.mark.parametrize(("base", "old", "new", "needle", "message"),
                         [pytest.param(*case[1:], id=case[0]) for case in UNKNOWN])
def test_an_unknown_registered_name_is_reported_at_its_line(tmp_path, base, old, new, needle, message):
    text = _replace(base, old, new)
    folder = tmp_path / "procs" / "trial-permit"
    (folder / "templates").mkdir(parents=True)
    (folder / "templates" / "trial-permit.html.j2").write_text("<p>{{ result.number }}</p>\n", encoding="utf-8")
    (tmp_path / "procs" / "evidence-types.yaml").write_text(textwrap.dedent("""\
        evidence_types:
          - id: supporting-letter
            title: {vi: "Giấy giới thiệu", en: "Supporting letter"}
    """), encoding="utf-8")
    path = folder / "procedure.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_catalogue([tmp_path / "procs"], calendars=["vn"])
    assert f"{path}:{_line(text, needle)}: {message}" in caught.value.problems


# --------------------------------------------------------------------------- the one-stop expansion


@pytest.fixture(scope="module")
def bundled():
    return load_catalogue([PROCEDURES], calendars=["vn"])


def test_receive_issues_the_receipt_slip_form_01(bundled):
    proc = bundled.latest("birth-registration")
    receive = proc.action("receive")
    assert "issue_receipt" in receive.effects
    assert slip_form(receive) == "01"


def test_every_one_stop_action_issues_the_slip_of_its_name_and_only_approve_records_results(bundled):
    for proc in bundled.procedures.values():
        for action in proc.actions:
            assert slip_form(action) == SLIP_OF_ACTION.get(action.id), (proc.id, action.id)
            assert records_result(action) == (action.id == "approve"), (proc.id, action.id)
            assert ("mark_decided" in action.effects) == (action.id in ("approve", "reject")), (proc.id, action.id)


def test_mark_decided_sets_the_decision_time_of_the_action(bundled):
    from engine.rules.calendars import load_calendars

    calendar = load_calendars([PROCEDURES / "calendars"])["vn"]
    proc = bundled.latest("birth-registration")
    d = PlainDossier(state="awaiting_decision")
    d.decided_at = None
    d.data = {}
    fire(proc, d, "approve", ActionContext(procedure=proc, calendar=calendar, now=NOW, roles=frozenset({"leader"})))
    assert (d.state, d.decided_at) == ("decided", NOW)


def test_the_one_stop_expansion_flags_editable_and_supplement_states(bundled):
    proc = bundled.latest("birth-registration")
    assert proc.editable_states == {"draft", "reception_supplement", "processing_supplement"}
    assert proc.supplement_states == {"reception_supplement", "processing_supplement"}
    assert proc.state("reception_supplement").editable and proc.state("reception_supplement").supplement
    assert proc.state("draft").editable and not proc.state("draft").supplement
    assert not any(proc.state(s).editable for s in ONE_STOP_STATES if s not in proc.editable_states)


def test_an_explicit_workflow_declares_its_state_flags(tmp_path):
    text = _replace(EXPLICIT, "    draft: {}\n", "    draft: {editable: true}\n")
    text = _replace(text, "    submitted: {status_code: 1}\n",
                    "    submitted: {status_code: 1, editable: true, supplement: true}\n")
    folder = tmp_path / "procs" / "trial-permit"
    (folder / "templates").mkdir(parents=True)
    (folder / "templates" / "trial-permit.html.j2").write_text("<p></p>\n", encoding="utf-8")
    (tmp_path / "procs" / "evidence-types.yaml").write_text(
        'evidence_types:\n  - id: supporting-letter\n    title: {vi: "Giấy giới thiệu", en: "Letter"}\n', encoding="utf-8")
    (folder / "procedure.yaml").write_text(text, encoding="utf-8")
    proc = load_catalogue([tmp_path / "procs"], calendars=["vn"]).get("trial-permit", 1)
    assert proc.editable_states == {"draft", "submitted"}
    assert proc.supplement_states == {"submitted"}
    assert not proc.state("received").editable and not proc.state("received").supplement


def test_a_state_flag_must_be_true_or_false(tmp_path):
    text = _replace(EXPLICIT, "    draft: {}\n", "    draft: {editable: sometimes}\n")
    folder = tmp_path / "procs" / "trial-permit"
    (folder / "templates").mkdir(parents=True)
    (folder / "templates" / "trial-permit.html.j2").write_text("<p></p>\n", encoding="utf-8")
    (tmp_path / "procs" / "evidence-types.yaml").write_text(
        'evidence_types:\n  - id: supporting-letter\n    title: {vi: "Giấy giới thiệu", en: "Letter"}\n', encoding="utf-8")
    (folder / "procedure.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_catalogue([tmp_path / "procs"], calendars=["vn"])
    line = _line(text, "editable: sometimes")
    assert any(p.startswith(f"{folder / 'procedure.yaml'}:{line}: 'editable' in state 'draft' must be true or false")
               for p in caught.value.problems), caught.value.problems
