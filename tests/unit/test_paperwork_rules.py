"""Pure rules of the one-stop papers: the slip catalogue and its signers, the copies of results (their
definition checks and fee lines), and the hand-overs' verdicts."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.rules.copies import copies_wanted, fee_lines
from engine.rules.definitions import load_catalogue
from engine.rules.definitions.schema import CopiesDef, Text
from engine.rules.errors import DefinitionError
from engine.rules.handovers import EARLY, LATE, ON_TIME, verdict
from engine.rules.slips import HEAD, RECEIVER, SLIP_FORMS, signature

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "procedures"
CALENDARS = ["vn"]
COPIES = CopiesDef("form.copies_count", "form.copies_requested", 8000, Text("Bản sao trích lục", "Copy"))


def test_every_slip_form_names_its_template_and_who_signs_it():
    for form in SLIP_FORMS.values():
        assert (PROCEDURES / "slips" / form.template).is_file(), form.id
        assert form.signer in (RECEIVER, HEAD)
    assert {k for k, f in SLIP_FORMS.items() if f.signer == HEAD} == {"04", "05", "TC"}
    assert [k for k, f in SLIP_FORMS.items() if f.outcome] == ["TC"]


def test_the_head_signs_in_person_and_anyone_else_on_the_heads_behalf():
    head = signature(SLIP_FORMS["04"], roles={"leader"}, name="A", title="Chủ tịch", agency_level="commune")
    assert head == {"capacity": "Chủ tịch", "title": None, "name": "A", "on_behalf": False}
    clerk = signature(SLIP_FORMS["05"], roles={"clerk"}, name="B", title="Công chức", agency_level="commune")
    assert clerk == {"capacity": "TL. Chủ tịch", "title": "Công chức", "name": "B", "on_behalf": True}
    assert signature(SLIP_FORMS["TC"], roles={"specialist"}, name="C", title="X",
                     agency_level="province")["capacity"] == "TL. Giám đốc"
    receipt = signature(SLIP_FORMS["01"], roles={"leader"}, name="D", title="Chủ tịch", agency_level="commune")
    assert receipt["capacity"] == "Người tiếp nhận hồ sơ" and not receipt["on_behalf"]


@given(st.one_of(st.none(), st.booleans(), st.integers(-5, 80), st.floats(allow_nan=True), st.text(max_size=3)),
       st.one_of(st.none(), st.booleans(), st.text(max_size=3)))
def test_copies_wanted_is_a_bounded_whole_number_only_when_asked(count, requested):
    n = copies_wanted(COPIES, {"copies_count": count, "copies_requested": requested})
    assert 0 <= n <= 50
    if requested is not True:
        assert n == 0
    if n:
        assert n == min(int(count), 50)


def test_fee_lines_charge_each_copy():
    class Res:
        id, copies = "x", COPIES

    class Proc:
        results = (Res,)

    assert fee_lines(Proc, {"copies_requested": True, "copies_count": 3})[0]["amount"] == 24000
    assert fee_lines(Proc, {"copies_requested": True, "copies_count": 0}) == []


def test_verdicts_compare_with_the_due_day_and_moment():
    due = dt.datetime(2026, 3, 3, 17, 0)
    assert verdict(dt.datetime(2026, 3, 2, 16, 0), due) == EARLY
    assert verdict(dt.datetime(2026, 3, 3, 8, 0), due) == ON_TIME
    assert verdict(due, due) == ON_TIME
    assert verdict(dt.datetime(2026, 3, 3, 17, 1), due) == LATE
    assert verdict(due, None) is None


BAD_COPIES = [
    ("count: form.copies_count", "count: form.no_such_field", "count must name a form field"),
    ("count: form.copies_count", "count: form.copies_requested", "count must name a number field"),
    ("when: form.copies_requested", "when: form.copies_count", "when must name a boolean field"),
    ("fee_per_copy: 8000", "fee_per_copy: -1", "fee_per_copy must be a whole number"),
    ("fee_per_copy: 8000", "fee_per_copy: lots", "fee_per_copy"),
    ("fee_per_copy: 8000", "fee_per_copy: 8000\n      colour: red", "unknown key 'colour'"),
]


@pytest.mark.parametrize("old,new,message", BAD_COPIES)
def test_a_bad_copies_block_is_an_error_at_its_line(tmp_path, old, new, message):
    root = tmp_path / "procedures"
    shutil.copytree(PROCEDURES, root)
    path = root / "birth-registration" / "procedure.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("    copies:\n")
    assert old in text[start:]
    path.write_text(text[:start] + text[start:].replace(old, new, 1), encoding="utf-8")
    line = text[:start].count("\n") + 1 + text[start:].split(old)[0].count("\n") + new.count("\n")
    with pytest.raises(DefinitionError) as err:
        load_catalogue([root], calendars=CALENDARS)
    problems = [p for p in err.value.problems if message in p]
    assert problems, err.value.problems
    assert problems[0].startswith(f"{path}:{line}: "), problems


def test_the_bundled_civil_status_results_offer_copies_at_8000_each():
    cat = load_catalogue([PROCEDURES], calendars=CALENDARS)
    for pid in ("birth-registration", "marriage-registration", "death-registration"):
        (res,) = cat.latest(pid).results
        assert res.copies is not None and res.copies.fee_per_copy == 8000 and res.copies.title.vi.startswith("Bản sao")
