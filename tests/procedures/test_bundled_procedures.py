"""Every bundled procedure definition loads, follows the national lifecycle and renders its results."""
from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import FileSystemLoader, StrictUndefined, meta
from jinja2.sandbox import SandboxedEnvironment

from engine.rules.calendars import load_calendars
from engine.rules.definitions import Procedure, load_catalogue

PROCEDURES = Path(__file__).resolve().parents[2] / "procedures"
BUNDLED_IDS = sorted(p.parent.name for p in PROCEDURES.glob("*/procedure.yaml"))

# DESIGN.md, "The one-stop lifecycle": national status code per state (draft has none).
NATIONAL_CODES = {
    "draft": None,
    "submitted": 1,
    "reception_supplement": 5,
    "refused": 3,
    "received": 2,
    "processing_supplement": 5,
    "awaiting_payment": 6,
    "withdrawal_requested": 7,
    "stopped": 8,
    "rejected": 9,
    "decided": 9,
    "returned": 10,
}
# What a result template may use (the renderer passes exactly these; `copy` is None but for a copy).
TEMPLATE_VARIABLES = {"result", "agency", "data", "signers", "qr_svg", "verify_url", "copy"}


@pytest.fixture(scope="module")
def catalogue():
    calendars = load_calendars([PROCEDURES / "calendars"])
    return load_catalogue([PROCEDURES], calendars=calendars.keys())


@pytest.fixture(scope="module")
def procedures(catalogue) -> dict[str, Procedure]:
    return {p.id: p for p in catalogue.current()}


def _env(folder: str) -> SandboxedEnvironment:
    return SandboxedEnvironment(loader=FileSystemLoader(folder), autoescape=True, undefined=StrictUndefined)


def _context(data: dict) -> dict:
    return {
        "result": {"number": "17/2026/TP-XX", "issued_at": "2026-03-02"},
        "agency": {"name": "Ủy ban nhân dân phường Ba Đình"},
        "data": data,
        "signers": [
            {"name": "Nguyễn Văn A", "title": "Chủ tịch"},
            {"name": "Ủy ban nhân dân phường Ba Đình", "title": "Cơ quan"},
        ],
        "qr_svg": "",
        "verify_url": "https://motcua.example/verify/abc/def",
    }


def _results():
    calendars = load_calendars([PROCEDURES / "calendars"])
    cat = load_catalogue([PROCEDURES], calendars=calendars.keys())
    return [pytest.param(p, r, id=f"{p.id}:{r.id}") for p in cat.current() for r in p.results]


def test_the_bundled_folder_holds_the_two_reference_procedures():
    assert {"birth-registration", "marriage-registration"} <= set(BUNDLED_IDS)


def test_every_bundled_definition_loads_with_its_id_equal_to_its_folder(catalogue):
    loaded = sorted(pid for pid, _ in catalogue.procedures)
    assert loaded == BUNDLED_IDS
    for proc in catalogue.procedures.values():
        assert Path(proc.folder).name == proc.id
        assert Path(proc.source_name) == PROCEDURES / proc.id / "procedure.yaml"
        assert proc.version >= 1
        assert proc.sha256 and len(proc.sha256) == 64


@pytest.mark.parametrize("procedure_id", BUNDLED_IDS)
def test_one_stop_lifecycle_states_carry_the_national_status_codes(procedures, procedure_id):
    proc = procedures[procedure_id]
    assert proc.lifecycle == "one-stop"
    assert proc.initial == "draft"
    codes = {s.id: s.status_code for s in proc.states}
    for state, code in NATIONAL_CODES.items():
        assert codes[state] == code, state
    processing = [s for s in codes if s.startswith("processing_") and s != "processing_supplement"]
    assert processing == [f"processing_{step.id}" for step in proc.steps]
    assert all(codes[s] == 4 for s in processing)
    # every other state of the lifecycle is a processing stage (code 4)
    others = set(codes) - set(NATIONAL_CODES) - set(processing)
    assert all(codes[s] == 4 for s in others), others
    finals = {s.id for s in proc.states if s.final}
    assert finals == {"refused", "stopped", "rejected", "returned"}


@pytest.mark.parametrize("procedure_id", BUNDLED_IDS)
def test_one_stop_lifecycle_offers_the_contract_actions(procedures, procedure_id):
    proc = procedures[procedure_id]
    actions = {a.id for a in proc.actions}
    contract = {
        "submit", "file_at_counter", "receive", "request_supplement", "provide_supplement", "refuse",
        "assign", "request_payment", "confirm_payment", "request_withdrawal", "stop", "reject",
        "approve", "extend_due", "return_result",
    }
    # a procedure whose time limit has cases adds the action that applies one
    if proc.time_limit_cases:
        contract |= {"apply_time_limit_case"}
    assert contract | {s.id for s in proc.steps} == actions
    approve = proc.action("approve")
    assert approve is not None and approve.dest == "decided"
    assert set(approve.roles) == set(proc.decided_by)


@pytest.mark.parametrize(("proc", "result"), _results())
def test_result_template_uses_only_the_variables_the_renderer_passes(proc, result):
    env = _env(proc.folder)
    source = (Path(proc.folder) / result.template).read_text(encoding="utf-8")
    used = meta.find_undeclared_variables(env.parse(source))
    assert used <= TEMPLATE_VARIABLES, used - TEMPLATE_VARIABLES
    assert {"result", "data", "agency", "signers", "verify_url"} <= used


@pytest.mark.parametrize(("proc", "result"), _results())
def test_result_template_renders_sample_data_with_strict_undefined(proc, result):
    data = {key: f"Giá trị {key}" for key, _ in result.data}
    html = _env(proc.folder).get_template(result.template).render(**_context(data))
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert "17/2026/TP-XX" in html
    assert "Ủy ban nhân dân phường Ba Đình" in html
    assert "Nguyễn Văn A" in html and "Chủ tịch" in html
    assert "https://motcua.example/verify/abc/def" in html
    assert str(result.title.vi).upper() in html
    # the first data value (a name of the holder in both real results) is printed
    assert f"Giá trị {result.data[0][0]}" in html


@pytest.mark.parametrize(("proc", "result"), _results())
def test_result_template_escapes_markup_in_data_values(proc, result):
    data = {key: f"<script>alert('{key}')</script>" for key, _ in result.data}
    html = _env(proc.folder).get_template(result.template).render(**_context(data))
    assert "<script" not in html
    assert "&lt;script&gt;alert(" in html


def test_marriage_registration_declares_eighteen_fields(procedures):
    proc = procedures["marriage-registration"]
    assert len(proc.fields) == 18
    assert [f.id for f in proc.fields][:2] == ["wife_personal_id", "wife_full_name"]
    assert {f.group for f in proc.fields} == {"wife", "husband", "copies"}
    assert [r.id for r in proc.results] == ["marriage-certificate"]
    assert proc.results[0].holder == ("form.wife_personal_id", "form.husband_personal_id")


def test_birth_registration_declares_twenty_eight_fields(procedures):
    proc = procedures["birth-registration"]
    assert len(proc.fields) == 28
    assert {f.group for f in proc.fields} == {"requester", "child", "mother", "father", "registration"}
    assert [r.id for r in proc.results] == ["birth-certificate"]
    assert proc.results[0].holder == ("form.child_personal_id",)
    assert proc.time_limit_value == 0 and proc.time_limit_unit == "immediate"  # Law on Civil Status Art. 16


def _texts(proc: Procedure):
    yield "title", proc.title
    for g in proc.groups:
        yield f"group {g.id}", g.label
    for f in proc.fields:
        yield f"field {f.id}", f.label
        if f.help is not None:
            yield f"help of {f.id}", f.help
        for o in f.options:
            yield f"option {f.id}={o.value}", o.label
    for d in proc.documents:
        yield f"document {d.id}", d.label
    for s in proc.steps:
        yield f"step {s.id}", s.label
    for r in proc.results:
        yield f"result {r.id}", r.title
    if proc.fee_note is not None:
        yield "fee note", proc.fee_note


@pytest.mark.parametrize("procedure_id", BUNDLED_IDS)
def test_every_label_is_given_in_vietnamese_and_english(procedures, procedure_id):
    proc = procedures[procedure_id]
    for where, text in _texts(proc):
        assert text.vi.strip() and text.en.strip(), where
        # a missing English text falls back to the Vietnamese one: they must differ
        assert text.vi != text.en, f"{where} has no English text"


# The statutory time limits of §6.9 (edited with the definitions; a change of limit is a new version).
TIME_LIMITS = {
    "birth-registration": ((0, "immediate"), {}),
    "death-registration": ((0, "immediate"), {}),
    "marriage-registration": ((0, "immediate"), {"verification": (5, "working_days")}),
    "marital-status-certification": ((3, "working_days"), {}),
    "criminal-record-certificate": ((10, "days"), {"verification": (15, "days")}),
    "household-business-registration": ((3, "working_days"), {}),
}


@pytest.mark.parametrize("procedure_id", sorted(TIME_LIMITS))
def test_bundled_procedures_carry_the_statutory_time_limits(procedures, procedure_id):
    proc = procedures[procedure_id]
    ordinary, cases = TIME_LIMITS[procedure_id]
    assert (proc.time_limit_value, proc.time_limit_unit) == ordinary
    assert {c.id: (c.value, c.unit) for c in proc.time_limit_cases} == cases
    assert all(c.label.vi and c.label.en and c.label.vi != c.label.en for c in proc.time_limit_cases)
    assert (proc.action("apply_time_limit_case") is not None) == bool(cases)
