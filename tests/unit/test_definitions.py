"""Loading procedure definitions: broken files are reported as ``file:line: message``; valid ones
drive the static workflow on plain objects."""
from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.rules import deadlines
from engine.rules.calendars import load_calendars
from engine.rules.definitions import Catalogue, load_catalogue
from engine.rules.errors import ActionNotAllowedError, DefinitionError, PermissionDeniedError, ValidationError
from engine.rules.workflow import ActionContext, available_actions, check_role, fire

PROCEDURES = Path(__file__).resolve().parents[2] / "procedures"
CALENDARS = ["vn"]
NOW = dt.datetime(2026, 3, 2, 9, 0)  # Monday, an ordinary working morning

EVIDENCE = textwrap.dedent("""\
    evidence_types:
      - id: supporting-letter
        title: {vi: "Giấy giới thiệu", en: "Supporting letter"}
""")

TEMPLATE = "<p>{{ result.number }} {{ data.full_name }}</p>\n"

# A small valid definition on the one-stop lifecycle. Cases below break one thing each.
ONE_STOP = textwrap.dedent("""\
    id: trial-permit
    code: "9.000001"
    version: 1
    effective_from: 2025-07-01
    title: {vi: "Cấp giấy phép thử", en: "Trial permit"}
    authority: commune
    online: full
    channels: [online, counter]
    time_limit: {value: 3, unit: working_days}
    supplement_policy: restart
    fee: {amount: 0}
    form:
      fields:
        - id: applicant_personal_id
          label: {vi: "Số định danh cá nhân", en: "Personal identification number"}
          type: personal_id
          required: true
        - id: full_name
          label: {vi: "Họ, chữ đệm, tên", en: "Full name"}
          type: text
          required: true
          max_length: 120
          prefill: {source: population, person: applicant_personal_id, path: full_name, editable: false}
        - id: purpose
          label: {vi: "Mục đích", en: "Purpose"}
          type: select
          required: true
          options:
            - {value: work, label: {vi: "Làm việc", en: "Work"}}
            - {value: study, label: {vi: "Học tập", en: "Study"}}
    documents:
      - id: supporting_letter
        label: {vi: "Giấy giới thiệu", en: "Supporting letter"}
        required: false
        accept: [application/pdf]
        max_mb: 5
        replaced_by: {evidence: supporting-letter}
    lifecycle: one-stop
    steps:
      - id: appraise
        label: {vi: "Thẩm định", en: "Appraise"}
        roles: [specialist]
        time_share: 0.5
    decided_by: [leader]
    results:
      trial-permit:
        title: {vi: "Giấy phép thử", en: "Trial permit"}
        template: templates/trial-permit.html.j2
        number: "{seq}/{year}/GP"
        data:
          full_name: form.full_name
          purpose: form.purpose
        holder: form.applicant_personal_id
        evidence: trial-permit
        signers: [leader, agency]
""")

# The same procedure with its workflow spelled out.
_HEAD, _, _ = ONE_STOP.partition("lifecycle: one-stop\n")
_, _, _RESULTS = ONE_STOP.partition("decided_by: [leader]\n")
EXPLICIT = _HEAD + textwrap.dedent("""\
    workflow:
      initial: draft
      states:
        draft: {}
        submitted: {status_code: 1}
        received: {status_code: 2, clock: running}
        decided: {status_code: 9}
        refused: {status_code: 3, final: true, outcome: refusal}
        returned: {status_code: 10, final: true, outcome: result}
      actions:
        submit:
          from: draft
          to: submitted
          roles: [applicant]
          guards: [form_complete]
          effects: [mark_submitted]
        receive:
          from: submitted
          to: received
          roles: [clerk]
          effects: [assign_code, start_clock]
        refuse:
          from: submitted
          to: refused
          roles: [clerk]
          guards: [reason_given]
          effects: [close]
        approve:
          from: received
          to: decided
          roles: [leader]
          guards: [fee_paid]
          effects: [record_result]
        return_result:
          from: decided
          to: returned
          roles: [clerk, records]
          effects: [close]
""") + _RESULTS


def _replace(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def _line(text: str, needle: str) -> int:
    """The 1-based line of the one line containing ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) == 1, f"{needle!r} is on lines {hits}"
    return hits[0]


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write ``<tmp>/<root>/<folder>/procedure.yaml`` (+ the template); return the yaml's path."""

    def make(text: str, *, folder: str = "trial-permit", root: str = "procs", template: bool = True) -> Path:
        base = tmp_path / root
        (base / folder).mkdir(parents=True, exist_ok=True)
        if not (base / "evidence-types.yaml").exists():
            (base / "evidence-types.yaml").write_text(EVIDENCE, encoding="utf-8")
        path = base / folder / "procedure.yaml"
        path.write_text(text, encoding="utf-8")
        if template:
            (base / folder / "templates").mkdir(exist_ok=True)
            (base / folder / "templates" / "trial-permit.html.j2").write_text(TEMPLATE, encoding="utf-8")
        return path

    return make


def _load(*roots: Path) -> Catalogue:
    return load_catalogue(list(roots), calendars=CALENDARS)


def _problems(*roots: Path) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        _load(*roots)
    assert caught.value.problems, "a DefinitionError must list its problems"
    return caught.value.problems


def _assert_reported(problems: list[str], path: Path, line: int, *words: str) -> None:
    prefix = f"{path}:{line}: "
    matching = [p for p in problems if p.startswith(prefix) and all(w in p for w in words)]
    assert matching, f"expected {prefix}... with {words} in:\n" + "\n".join(problems)


# --------------------------------------------------------------------------- the valid ones


def test_the_small_one_stop_definition_loads(write):
    path = write(ONE_STOP)
    cat = _load(path.parent.parent)
    proc = cat.get("trial-permit", 1)
    assert proc is not None and cat.latest("trial-permit") is proc
    assert [f.id for f in proc.fields] == ["applicant_personal_id", "full_name", "purpose"]
    assert proc.field("full_name").prefill.person == "applicant_personal_id"
    assert proc.document("supporting_letter").replaced_by == "supporting-letter"
    assert {s.id for s in proc.states} >= {"draft", "processing_appraise", "returned"}
    assert set(cat.evidence_types) == {"supporting-letter", "trial-permit"}


def test_the_small_explicit_workflow_definition_loads(write):
    path = write(EXPLICIT)
    proc = _load(path.parent.parent).get("trial-permit", 1)
    assert proc.lifecycle is None and proc.initial == "draft"
    assert [s.id for s in proc.states] == ["draft", "submitted", "received", "decided", "refused", "returned"]
    assert [a.id for a in proc.actions] == ["submit", "receive", "refuse", "approve", "return_result"]
    assert proc.action("approve").effects == ("record_result",)
    assert proc.state("returned").final and proc.state("returned").status_code == 10


# --------------------------------------------------------------------------- broken definitions

# (case id, base text, old, new, the text on the line that must be reported, words of the message)
BROKEN = [
    ("yaml_syntax_error", ONE_STOP, "authority: commune\n", "authority: commune: town\n",
     "authority: commune: town", ("YAML syntax error", "mapping values are not allowed")),
    ("unknown_top_level_key_with_suggestion", ONE_STOP, "supplement_policy: restart", "suplement_policy: restart",
     "suplement_policy", ("unknown key 'suplement_policy' in the procedure", "did you mean 'supplement_policy'?")),
    ("unknown_key_inside_a_field", ONE_STOP, "      max_length: 120\n", "      max_length: 120\n      hint: Ghi rõ\n",
     "hint: Ghi rõ", ("unknown key 'hint' in a form field",)),
    ("wrong_type", ONE_STOP, "version: 1\n", 'version: "one"\n',
     'version: "one"', ("'version' in the procedure must be an integer, not a string",)),
    ("version_below_one", ONE_STOP, "version: 1\n", "version: 0\n",
     "version: 0", ("version must be a whole number of at least 1",)),
    ("unknown_role_in_a_step", ONE_STOP, "roles: [specialist]", "roles: [specialst]",
     "roles: [specialst]", ("step 'appraise': unknown role 'specialst'", "did you mean 'specialist'?")),
    ("unknown_guard_in_a_workflow", EXPLICIT, "guards: [form_complete]", "guards: [form_completed]",
     "guards: [form_completed]", ("action 'submit': unknown guard 'form_completed'", "did you mean 'form_complete'?")),
    ("unknown_effect", EXPLICIT, "effects: [mark_submitted]", "effects: [mark_submited]",
     "effects: [mark_submited]", ("action 'submit': unknown effect 'mark_submited'", "did you mean 'mark_submitted'?")),
    ("unknown_prefill_source", ONE_STOP, "prefill: {source: population,", "prefill: {source: populace,",
     "source: populace", ("field 'full_name': unknown prefill source 'populace'",)),
    ("unknown_evidence_type_in_replaced_by", ONE_STOP, "evidence: supporting-letter}", "evidence: no-such-letter}",
     "- id: supporting_letter", ("document 'supporting_letter': unknown evidence type 'no-such-letter'",)),
    ("unreachable_state", EXPLICIT, "    returned: {status_code: 10, final: true, outcome: result}\n",
     "    returned: {status_code: 10, final: true, outcome: result}\n    archived: {status_code: 10, final: true}\n",
     "archived:", ("state 'archived' is unreachable from 'draft'",)),
    ("unknown_state_in_an_action", EXPLICIT, "      to: returned\n", "      to: returnd\n",
     "  return_result:", ("action 'return_result': unknown state 'returnd' in 'to'",)),
    ("dead_end_state",
     _replace(EXPLICIT, "    return_result:\n", "    hold:\n      from: received\n      to: on_hold\n      roles: [leader]\n"
              "    return_result:\n"),
     "    decided: {status_code: 9}\n",
     "    decided: {status_code: 9}\n    on_hold: {status_code: 4}\n",
     "on_hold:", ("state 'on_hold' is a dead end", "not final and no action leaves it")),
    ("duplicate_field_id", ONE_STOP, "documents:\n",
     "    - id: purpose  # again\n      label: {vi: \"Mục đích khác\", en: \"Other purpose\"}\n      type: text\ndocuments:\n",
     "# again", ("duplicate field id 'purpose'",)),
    ("select_field_without_options", ONE_STOP,
     "      options:\n        - {value: work, label: {vi: \"Làm việc\", en: \"Work\"}}\n"
     "        - {value: study, label: {vi: \"Học tập\", en: \"Study\"}}\n", "",
     "- id: purpose", ("field 'purpose': a select field needs options",)),
    ("unknown_field_type", ONE_STOP, "type: text\n", "type: txt\n",
     "type: txt", ("field 'full_name': unknown type 'txt'", "did you mean 'text'?")),
    ("result_holder_naming_no_field", ONE_STOP, "holder: form.applicant_personal_id", "holder: form.applicant_id",
     "holder: form.applicant_id", ("result 'trial-permit': holder", "'form.applicant_id' names no field")),
    ("label_without_vietnamese_text", ONE_STOP,
     'label: {vi: "Số định danh cá nhân", en: "Personal identification number"}',
     'label: {en: "Personal identification number"}',
     'label: {en: "Personal identification number"}', ("'label' in a form field needs a Vietnamese text (vi)",)),
    ("duplicate_yaml_key", ONE_STOP, "online: full\n", "online: full\nauthority: province\n",
     "authority: province", ("duplicate key 'authority'",)),
    ("unknown_prefill_conflict_policy", ONE_STOP, "path: full_name, editable: false}",
     "path: full_name, editable: false, on_conflict: ignore}",
     "on_conflict: ignore", ("field 'full_name': prefill 'on_conflict' must be one of refuse, declare, not 'ignore'",)),
    ("conflict_policy_declare_on_an_editable_field", ONE_STOP, "path: full_name, editable: false}",
     "path: full_name, editable: true, on_conflict: declare}",
     "on_conflict: declare", ("field 'full_name': 'on_conflict: declare' is for a field that is not editable",)),
]


@pytest.mark.parametrize(("base", "old", "new", "needle", "words"),
                         [pytest.param(*case[1:], id=case[0]) for case in BROKEN])
def test_a_broken_definition_is_reported_at_its_line(write, base, old, new, needle, words):
    text = _replace(base, old, new)
    path = write(text)
    problems = _problems(path.parent.parent)
    line = _line(text, needle)
    _assert_reported(problems, path, line, *words)
    # one message per problem: nothing else is reported on that line
    assert len([p for p in problems if p.startswith(f"{path}:{line}: ")]) == 1, problems


def test_the_broken_definition_kinds_cover_at_least_twelve_different_problems():
    assert len({case[0] for case in BROKEN}) == len(BROKEN) >= 12


def test_an_id_that_differs_from_its_folder_name_is_reported(write):
    path = write(ONE_STOP, folder="trial-licence")
    problems = _problems(path.parent.parent)
    _assert_reported(problems, path, _line(ONE_STOP, "id: trial-permit"),
                     "id 'trial-permit' differs from its folder name 'trial-licence'")


def test_a_missing_template_file_is_reported_at_its_result(write):
    path = write(ONE_STOP, template=False)
    problems = _problems(path.parent.parent)
    _assert_reported(problems, path, _line(ONE_STOP, "  trial-permit:"),
                     "result 'trial-permit': template 'templates/trial-permit.html.j2' not found")


def test_several_problems_in_one_file_are_all_reported_at_once(write):
    text = ONE_STOP
    text = _replace(text, "supplement_policy: restart", "suplement_policy: restart")
    text = _replace(text, "type: text\n", "type: txt\n")
    text = _replace(text, "roles: [specialist]", "roles: [specialst]")
    text = _replace(text, "holder: form.applicant_personal_id", "holder: form.applicant_id")
    path = write(text)
    problems = _problems(path.parent.parent)
    _assert_reported(problems, path, _line(text, "suplement_policy"), "unknown key 'suplement_policy'")
    _assert_reported(problems, path, _line(text, "type: txt"), "unknown type 'txt'")
    _assert_reported(problems, path, _line(text, "roles: [specialst]"), "unknown role 'specialst'")
    _assert_reported(problems, path, _line(text, "holder: form.applicant_id"), "names no field")
    assert len(problems) == 4, problems


def test_problems_in_several_files_are_all_reported_at_once(write):
    first = write(_replace(ONE_STOP, "type: text\n", "type: txt\n"))
    other = _replace(_replace(ONE_STOP, "id: trial-permit\n", "id: other-permit\n"), "version: 1\n", 'version: "one"\n')
    second = write(other, folder="other-permit")
    problems = _problems(first.parent.parent)
    _assert_reported(problems, first, _line(ONE_STOP, "type: text"), "unknown type 'txt'")
    _assert_reported(problems, second, _line(other, "version:"), "must be an integer")


# --------------------------------------------------------------------------- several folders


def _renamed(new_id: str) -> str:
    return _replace(ONE_STOP, "id: trial-permit\n", f"id: {new_id}\n")


def test_a_later_folder_adds_a_procedure(write, tmp_path):
    write(ONE_STOP, root="base")
    write(_renamed("extra-permit"), root="local", folder="extra-permit")
    cat = _load(tmp_path / "base", tmp_path / "local")
    assert sorted(cat.procedures) == [("extra-permit", 1), ("trial-permit", 1)]
    assert [p.id for p in cat.current()] == ["extra-permit", "trial-permit"]
    assert Path(cat.get("extra-permit", 1).folder) == tmp_path / "local" / "extra-permit"


def test_the_same_id_and_version_in_two_folders_is_an_error(write, tmp_path):
    write(ONE_STOP, root="base")
    second = write(ONE_STOP, root="local")
    problems = _problems(tmp_path / "base", tmp_path / "local")
    _assert_reported(problems, second, 1, "procedure 'trial-permit' version 1 is also defined in",
                     str(tmp_path / "base" / "trial-permit" / "procedure.yaml"))


def test_a_new_version_in_a_later_folder_is_offered_while_the_old_one_stays_loaded(write, tmp_path):
    write(ONE_STOP, root="base")
    v2 = _replace(_replace(ONE_STOP, "version: 1\n", "version: 2\n"), "value: 3, unit", "value: 2, unit")
    write(v2, root="local")
    cat = _load(tmp_path / "base", tmp_path / "local")
    latest = cat.latest("trial-permit")
    assert latest is not None and latest.version == 2 and latest.time_limit_value == 2
    old = cat.get("trial-permit", 1)
    assert old is not None and old.version == 1 and old.time_limit_value == 3
    assert cat.current() == [latest]


def test_a_folder_that_does_not_exist_is_reported(tmp_path):
    problems = _problems(tmp_path / "nowhere")
    assert problems == [f"{tmp_path / 'nowhere'}:1: procedures folder does not exist"]


# --------------------------------------------------------------------------- workflow on plain objects


class PlainDossier:
    """The attributes the workflow reads and writes; no database, no ORM."""

    def __init__(self, state: str = "draft", data: dict | None = None, channel: str = "online"):
        self.state = state
        self.data = data or {}
        self.due_at: dt.datetime | None = None
        self.extended = False
        self.received_at: dt.datetime | None = None
        self.fee_paid = False
        self.channel = channel
        self.supplement_rounds = 0
        self.paused_at: dt.datetime | None = None
        self.original_due_at: dt.datetime | None = None
        self.clock_started_at: dt.datetime | None = None
        self.overdue = False
        self.submitted_at: dt.datetime | None = None
        self.closed_at: dt.datetime | None = None
        self.status_code: int | None = None
        self.updated_at: dt.datetime | None = None


FORM = {"applicant_personal_id": "001190000001", "full_name": "Nguyễn Văn A", "purpose": "work"}


@pytest.fixture(scope="module")
def calendar() -> deadlines.Calendar:
    return load_calendars([PROCEDURES / "calendars"])["vn"]


@pytest.fixture
def context(calendar) -> Callable[..., ActionContext]:
    def make(proc, *roles: str, now: dt.datetime = NOW, **kwargs) -> ActionContext:
        return ActionContext(procedure=proc, calendar=calendar, now=now, roles=frozenset(roles), **kwargs)

    return make


@pytest.fixture
def explicit(write):
    path = write(EXPLICIT)
    return _load(path.parent.parent).get("trial-permit", 1)


def test_an_explicit_workflow_fires_from_draft_to_returned(explicit, context, calendar):
    d = PlainDossier(data=dict(FORM))
    fire(explicit, d, "submit", context(explicit, "applicant"))
    assert (d.state, d.status_code, d.submitted_at, d.updated_at) == ("submitted", 1, NOW, NOW)

    later = NOW + dt.timedelta(hours=1)
    action = fire(explicit, d, "receive", context(explicit, "clerk", now=later))
    assert action.effects == ("assign_code", "start_clock")  # assign_code is left to the service
    assert (d.state, d.status_code, d.received_at) == ("received", 2, later)
    assert d.due_at == deadlines.compute_due(later, 3, "working_days", calendar) == dt.datetime(2026, 3, 5, 17, 0)
    assert d.original_due_at == d.due_at and d.clock_started_at is not None

    with pytest.raises(PermissionDeniedError):
        fire(explicit, d, "approve", context(explicit, "clerk"))
    assert d.state == "received"
    fire(explicit, d, "approve", context(explicit, "leader"))
    assert (d.state, d.status_code, d.closed_at) == ("decided", 9, None)

    ctx = context(explicit, "records")
    fire(explicit, d, "return_result", ctx)
    assert (d.state, d.status_code, d.closed_at) == ("returned", 10, NOW)
    assert ctx.role_used == "records"


def test_an_explicit_workflow_checks_its_guards_and_states(explicit, context):
    d = PlainDossier(data={"applicant_personal_id": "001190000001"})
    with pytest.raises(ValidationError) as caught:
        fire(explicit, d, "submit", context(explicit, "applicant"))
    assert {"full_name", "purpose"} <= set(caught.value.fields)
    assert d.state == "draft" and d.submitted_at is None

    with pytest.raises(ActionNotAllowedError):
        fire(explicit, d, "receive", context(explicit, "clerk"))
    with pytest.raises(ActionNotAllowedError):
        fire(explicit, d, "request_withdrawal", context(explicit, "applicant"))  # not in this workflow

    d.data = dict(FORM)
    fire(explicit, d, "submit", context(explicit, "applicant"))
    with pytest.raises(ValidationError) as caught:
        fire(explicit, d, "refuse", context(explicit, "clerk"))
    assert "reason" in caught.value.fields
    fire(explicit, d, "refuse", context(explicit, "clerk", reason="Không thuộc thẩm quyền"))
    assert (d.state, d.status_code, d.closed_at) == ("refused", 3, NOW)


# --------------------------------------------------------------------------- bundled birth registration


@pytest.fixture(scope="module")
def birth():
    return load_catalogue([PROCEDURES], calendars=CALENDARS).latest("birth-registration")


def _ids(actions) -> list[str]:
    return [a.id for a in actions]


def test_available_actions_follow_the_state_and_the_roles(birth, context):
    draft = PlainDossier("draft")
    assert _ids(available_actions(birth, draft, frozenset({"applicant"}), context(birth, "applicant"))) == ["submit"]
    # a citizen's online draft is theirs to submit; a clerk files only a draft started at the counter
    assert _ids(available_actions(birth, draft, frozenset({"clerk"}), context(birth, "clerk"))) == []
    counter_draft = PlainDossier("draft", channel="counter")
    assert _ids(available_actions(birth, counter_draft, frozenset({"clerk"}), context(birth, "clerk"))) == ["file_at_counter"]

    submitted = PlainDossier("submitted")
    clerk = available_actions(birth, submitted, frozenset({"clerk"}), context(birth, "clerk"))
    assert _ids(clerk) == ["receive", "request_supplement", "refuse"]
    by_id = {a.id: a for a in clerk}
    assert by_id["refuse"].to == "refused" and by_id["refuse"].inputs == ("reason",)
    assert by_id["request_supplement"].to == "reception_supplement" and by_id["request_supplement"].inputs == ("items",)
    assert _ids(available_actions(birth, submitted, frozenset({"applicant"}), context(birth, "applicant"))) == [
        "request_withdrawal"]
    assert available_actions(birth, submitted, frozenset({"specialist"}), context(birth, "specialist")) == []

    processing = PlainDossier("processing_appraise")
    specialist = available_actions(birth, processing, frozenset({"specialist"}), context(birth, "specialist"))
    assert "appraise" in _ids(specialist)
    assert next(a for a in specialist if a.id == "appraise").to == "awaiting_decision"


def test_available_actions_hide_actions_whose_dossier_guards_fail(birth, context):
    received = PlainDossier("received")
    received.received_at = NOW
    received.due_at = dt.datetime(2026, 3, 5, 17, 0)
    leader = frozenset({"leader"})
    assert "extend_due" in _ids(available_actions(birth, received, leader, context(birth, "leader")))
    received.extended = True  # an extension is allowed once
    assert "extend_due" not in _ids(available_actions(birth, received, leader, context(birth, "leader")))

    deciding = PlainDossier("awaiting_decision")
    deciding.due_at = dt.datetime(2026, 3, 3, 17, 0)
    assert {"approve", "reject"} <= set(_ids(available_actions(birth, deciding, leader, context(birth, "leader"))))
    late = context(birth, "leader", now=dt.datetime(2026, 3, 4, 9, 0))  # past the due date: no rejection
    assert "reject" not in _ids(available_actions(birth, deciding, leader, late))


def test_check_role_names_the_role_that_may_act(birth):
    d = PlainDossier("submitted")
    action, role = check_role(birth, d, "receive", frozenset({"clerk", "specialist"}))
    assert (action.id, action.dest, role) == ("receive", "received", "clerk")


def test_check_role_refuses_a_wrong_role(birth):
    with pytest.raises(PermissionDeniedError) as caught:
        check_role(birth, PlainDossier("submitted"), "receive", frozenset({"applicant"}))
    assert "clerk" in caught.value.message
    with pytest.raises(PermissionDeniedError):
        check_role(birth, PlainDossier("awaiting_decision"), "approve", frozenset({"specialist"}))


def test_check_role_refuses_an_action_in_the_wrong_state(birth):
    with pytest.raises(ActionNotAllowedError) as caught:
        check_role(birth, PlainDossier("draft"), "approve", frozenset({"leader"}))
    assert "draft" in caught.value.message
    with pytest.raises(ActionNotAllowedError):
        check_role(birth, PlainDossier("returned"), "return_result", frozenset({"clerk"}))
    with pytest.raises(ActionNotAllowedError) as caught:
        check_role(birth, PlainDossier("submitted"), "teleport", frozenset({"clerk"}))
    assert "teleport" in caught.value.message


def test_the_actions_from_a_state_are_those_whose_sources_name_it_in_the_definitions_order():
    catalogue = load_catalogue([PROCEDURES], calendars=CALENDARS)
    assert catalogue.procedures
    for proc in catalogue.procedures.values():
        for state in [s.id for s in proc.states] + ["no-such-state"]:
            assert proc.actions_from(state) == tuple(a for a in proc.actions if state in a.sources), (proc.id, state)
