"""What a public verification page may show of a result, and the verdict in one word (pure rules)."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.rules.definitions import load_catalogue
from engine.rules.definitions.loading import printed_keys
from engine.rules.identity import mask_personal_id
from engine.rules.results import outcome, public_data

PROCEDURES = Path(__file__).resolve().parents[2] / "procedures"


def test_a_personal_id_keeps_its_first_four_and_last_two_digits():
    assert mask_personal_id("001198012344") == "0011******44"
    assert mask_personal_id("12345") == "*****"


def test_the_printed_keys_are_the_data_keys_the_template_uses():
    text = '{{ data.child_full_name }} {% if data["registration_type"] == "late" %}{{ agency.name }}{% endif %}'
    assert printed_keys(text) == {"child_full_name", "registration_type"}


def test_the_birth_certificate_shows_names_and_masked_ids_but_no_address_nor_unprinted_id():
    proc = load_catalogue([PROCEDURES]).latest("birth-registration")
    result = proc.results[0]
    data = {key: f"value of {key}" for key, _ in result.data}
    data.update(requester_personal_id="001198012344", mother_personal_id="001198012344",
                father_personal_id="001095000111")
    shown = public_data(result, proc, data)
    assert shown["requester_personal_id"] == "0011******44"
    assert shown["mother_full_name"] == "value of mother_full_name"
    for hidden in ("mother_personal_id", "father_personal_id", "mother_residence", "father_residence",
                   "requester_relationship", "received_at", "registry"):
        assert hidden not in shown, hidden
    assert public_data(None, proc, data) == {}


@pytest.mark.parametrize("kwargs, expected", [
    ({"checked": True, "valid": True, "problem": None, "status": "valid"}, "genuine"),
    ({"checked": True, "valid": False, "problem": "the document is revoked", "status": "revoked"}, "revoked"),
    ({"checked": True, "valid": False, "problem": "modified after signing", "status": "valid"}, "tampered"),
    ({"checked": True, "valid": False, "problem": "no signature", "status": None}, "unknown"),
    ({"checked": True, "valid": False, "problem": "timestamp not valid or not trusted", "status": "valid"}, "unverified"),
    ({"checked": False, "valid": False, "problem": None, "status": "valid"}, "recorded"),
    ({"checked": False, "valid": False, "problem": None, "status": "expired"}, "expired"),
])
def test_the_verdict_in_one_word(kwargs, expected):
    assert outcome(**kwargs) == expected
