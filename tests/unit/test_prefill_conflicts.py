"""Prefill conflicts: a source value the field cannot hold is kept as a conflict of that field (the
source, its value, why it cannot be used), never dropped and never replaced by what the applicant
types where they may not type. Pure rules, on the bundled definitions and a register in memory."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rules import guards
from engine.rules.definitions import load_catalogue
from engine.rules.errors import ValidationError
from engine.rules.forms import check_value
from engine.rules.prefill import (
    Applicant, PersonRecord, Prefilled, Prefiller, PrefillOutcome, conflict_message, declared_share,
    in_conflict, merge, standing_conflicts, typed_fields,
)

PROCEDURES = Path(__file__).resolve().parents[2] / "procedures"
NOW = dt.datetime(2026, 3, 2, 9, 0)
CATALOGUE = load_catalogue([PROCEDURES], calendars=["vn"])
MARRIAGE = CATALOGUE.latest("marriage-registration")
BIRTH = CATALOGUE.latest("birth-registration")

WIFE, HUSBAND = "001190000001", "001090000002"


def person(pid: str, sex: str, marital: str, **more) -> PersonRecord:
    attrs = {"full_name": "Nguyễn Thị Lan" if sex == "female" else "Trần Văn Minh", "sex": sex,
             "date_of_birth": dt.date(1995, 5, 1), "ethnicity": "Kinh", "nationality": "Việt Nam",
             "current_address": "Số 1 phố Kim Mã, phường Ba Đình, thành phố Hà Nội", "marital_status": marital, **more}
    return PersonRecord(pid, attrs)


class Register:
    def __init__(self, *people: PersonRecord):
        self.people = {p.personal_id: p for p in people}

    def person(self, personal_id: str) -> PersonRecord | None:
        return self.people.get(personal_id)


class NoResults:
    def valid_results(self, personal_ids, evidence_types):
        return []


def prefill(proc, register: Register, applicant_pid: str, form: dict):
    applicant = Applicant(1, applicant_pid, applicant_pid, register.people[applicant_pid].attributes["full_name"])
    return Prefiller(register, NoResults()).prefill(proc, applicant, form, NOW)


def marriage_outcome(wife_status: str, husband_status: str = "single") -> PrefillOutcome:
    # the wife is both parties' reader: her husband-to-be's data are shown as they would be to his spouse
    wife = dataclasses.replace(person(WIFE, "female", wife_status), spouse=HUSBAND)
    husband = dataclasses.replace(person(HUSBAND, "male", husband_status), spouse=WIFE)
    return prefill(MARRIAGE, Register(wife, husband), WIFE, {"wife_personal_id": WIFE, "husband_personal_id": HUSBAND})


# --------------------------------------------------------------------------- the outcome


def test_a_married_party_is_a_conflict_of_the_marital_status_field_not_a_dropped_value():
    out = marriage_outcome("married")
    assert "wife_marital_status" not in out.values
    c = out.conflicts["wife_marital_status"]
    assert (c.value, c.source, c.record, c.editable) == ("married", "population", f"person:{WIFE}", False)
    assert "not one of the options" in c.reason
    # the husband's valid status is prefilled as before
    assert out.values["husband_marital_status"].value == "single"
    assert out.counts(MARRIAGE)["conflicts"] == 1
    # the conflict shows the register's value: its read is logged like a value's
    assert WIFE in out.logged_reads() or out.reads["wife_marital_status"].subject == WIFE


def test_merge_keeps_the_conflict_in_the_provenance_and_puts_no_value_in_the_field():
    out = marriage_outcome("married")
    data, provenance, errors = merge(MARRIAGE, {"wife_personal_id": WIFE}, out, check_value)
    assert errors == {}
    assert "wife_marital_status" not in data
    entry = provenance["wife_marital_status"]
    assert in_conflict(entry) and entry["conflict"]["value"] == "married" and entry["editable"] is False
    assert entry["source"] == "population" and entry["declared"] is False
    message = conflict_message(entry)
    assert "“married”" in message and " / " in message and "cannot be used" in message
    # a conflict is not counted as prefilled, and the field is still to be typed (or cannot be)
    assert "wife_marital_status" in typed_fields(MARRIAGE, provenance)
    assert declared_share(MARRIAGE, provenance) < declared_share(MARRIAGE, {**provenance, "wife_marital_status": {
        **entry, "conflict": None}})


def test_a_value_typed_over_a_register_conflict_is_refused_naming_the_field():
    out = marriage_outcome("married")
    _, _, errors = merge(MARRIAGE, {"wife_marital_status": "single"}, out, check_value)
    assert list(errors) == ["wife_marital_status"]
    vi, _, en = errors["wife_marital_status"][0].partition(" / ")
    assert "không nhập thay" in vi and "cannot be typed here" in en and "“married”" in en


def test_a_field_the_definition_lets_the_applicant_declare_keeps_their_value_marked_declared():
    f = MARRIAGE.field("wife_marital_status")
    relaxed = dataclasses.replace(f, prefill=dataclasses.replace(f.prefill, on_conflict="declare"))
    proc = dataclasses.replace(MARRIAGE, fields=tuple(relaxed if x.id == f.id else x for x in MARRIAGE.fields))
    out = prefill(proc, Register(person(WIFE, "female", "married")), WIFE, {"wife_personal_id": WIFE})
    assert out.conflicts["wife_marital_status"].editable is True
    data, provenance, errors = merge(proc, {"wife_marital_status": "divorced"}, out, check_value)
    assert errors == {} and data["wife_marital_status"] == "divorced"
    assert provenance["wife_marital_status"]["declared"] is True
    assert provenance["wife_marital_status"]["conflict"]["value"] == "married"  # kept for the clerk
    assert standing_conflicts(proc, provenance, data) == {}


def test_wrong_type_too_long_and_unparsable_date_are_conflicts_too():
    long_address = "Số 1 " + "phố Kim Mã " * 60
    mother = person(WIFE, "female", "married", date_of_birth="1995-13-45", ethnicity=12,
                    current_address=long_address, nationality="Việt Nam")
    out = prefill(MARRIAGE, Register(mother), WIFE, {"wife_personal_id": WIFE})
    assert set(out.conflicts) == {"wife_date_of_birth", "wife_ethnicity", "wife_marital_status", "wife_residence"}
    assert "YYYY-MM-DD" in out.conflicts["wife_date_of_birth"].reason
    assert "text" in out.conflicts["wife_ethnicity"].reason
    # a value too long for the field: kept bounded and marked as cut; the field is editable, so the
    # applicant types the residence that applies
    residence = out.conflicts["wife_residence"]
    assert len(residence.value) == 301 and residence.value.endswith("…") and residence.editable is True
    assert out.values["wife_nationality"].value == "Việt Nam"


def test_a_standing_conflict_stops_the_submission_naming_the_field():
    out = marriage_outcome("married")
    data, provenance, _ = merge(MARRIAGE, {"wife_personal_id": WIFE, "wife_marriage_order": 1,
                                           "husband_marriage_order": 1}, out, check_value)
    stuck = standing_conflicts(MARRIAGE, provenance, data)
    assert list(stuck) == ["wife_marital_status"]
    row = SimpleNamespace(data=data, provenance=provenance)
    error = guards.GUARDS.get("form_complete")(row, SimpleNamespace(procedure=MARRIAGE))
    assert isinstance(error, ValidationError) and "wife_marital_status" in error.fields
    assert " / " in error.message
    # the same dossier without the conflict is refused for nothing but what is missing
    clean = {**provenance}
    clean.pop("wife_marital_status")
    row = SimpleNamespace(data={**data, "wife_marital_status": "single"}, provenance=clean)
    error = guards.GUARDS.get("form_complete")(row, SimpleNamespace(procedure=MARRIAGE))
    assert error is None or "wife_marital_status" not in error.fields


def test_a_conflict_resolved_at_the_register_is_replaced_by_the_value_on_the_next_merge():
    first = marriage_outcome("married")
    data, provenance, _ = merge(MARRIAGE, {}, first, check_value)
    later = marriage_outcome("divorced")
    data, provenance, _ = merge(MARRIAGE, data, later, check_value, previous=provenance)
    assert data["wife_marital_status"] == "divorced"
    assert not in_conflict(provenance["wife_marital_status"])


def test_an_outcome_built_without_the_form_rules_still_yields_conflicts_in_merge():
    out = PrefillOutcome(values={"wife_marital_status": Prefilled("married", "population", "person:x", "nguồn",
                                                                  "the source", False, NOW)})
    data, provenance, errors = merge(MARRIAGE, {}, out, check_value)
    assert "wife_marital_status" not in data and errors == {}
    assert provenance["wife_marital_status"]["conflict"]["value"] == "married"


# --------------------------------------------------------------------------- never dropped

REGISTER_VALUES = st.one_of(
    st.sampled_from(["single", "married", "divorced", "widowed", "separated", "", "1995-05-01", "1995-02-30"]),
    st.text(max_size=700),
    st.integers(min_value=-10**6, max_value=10**6),
    st.dates().map(lambda d: d.isoformat()),
    st.booleans(),
)
PATHS = ["marital_status", "full_name", "date_of_birth", "ethnicity", "nationality", "current_address"]


@settings(max_examples=200, deadline=None)
@given(values=st.fixed_dictionaries({p: REGISTER_VALUES for p in PATHS}), typed=st.dictionaries(
    st.sampled_from(["wife_marital_status", "wife_full_name", "wife_residence"]), st.sampled_from(["single", "x"]),
    max_size=2))
def test_any_register_value_lands_as_a_valid_field_value_or_as_a_conflict_never_dropped(values, typed):
    wife = PersonRecord(WIFE, {"sex": "female", **values})
    out = prefill(MARRIAGE, Register(wife), WIFE, {"wife_personal_id": WIFE})
    given_form = {"wife_personal_id": WIFE, **typed}
    data, provenance, errors = merge(MARRIAGE, given_form, out, check_value)
    for f in MARRIAGE.fields:
        spec = f.prefill
        if spec is None or spec.source != "population" or spec.person != "wife_personal_id":
            continue
        raw = values.get(spec.path)
        if raw in (None, ""):
            continue  # the register holds nothing for it
        entry = provenance.get(f.id)
        if f.id in errors:
            continue  # the applicant typed over it where they may not: refused, the form is not taken
        assert entry is not None, (f.id, raw)  # never dropped
        if in_conflict(entry):
            assert check_value(f, raw)[1] is not None
            assert data.get(f.id) in (None, "") or entry["declared"]  # no value invented from the register
        else:
            normalised, problem = check_value(f, raw)
            assert problem is None
            assert data[f.id] == (typed.get(f.id, normalised) if entry.get("declared") else normalised)


@pytest.mark.parametrize("status", ["single", "divorced", "widowed"])
def test_a_status_among_the_options_is_prefilled_without_conflict(status):
    out = marriage_outcome(status)
    assert out.conflicts == {} or "wife_marital_status" not in out.conflicts
    data, provenance, _ = merge(MARRIAGE, {}, out, check_value)
    assert data["wife_marital_status"] == status and not in_conflict(provenance["wife_marital_status"])
