"""The ``motcua`` command line, run as a real subprocess against an embedded SQLite data dir."""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from motcua.bootstrap import create_app
from motcua.settings import BUNDLED_PROCEDURES, PROJECT_ROOT

BUNDLED_IDS = sorted(p.name for p in BUNDLED_PROCEDURES.iterdir() if (p / "procedure.yaml").is_file())


SCRIPT = Path(sys.executable).with_name("motcua")
PROBLEM_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+): (?P<message>.+)$")


def motcua(*args: str, data_dir: Path, timeout: float = 180, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the console script (or ``python -m motcua.cli``) with a clean MOTCUA_* environment (plus ``env``)."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}, **(env or {})}
    env["MOTCUA_DATA_DIR"] = str(data_dir)
    command = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "motcua.cli"]
    return subprocess.run([*command, *args], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr


def _db(data_dir: Path) -> Path:
    return data_dir / "motcua.db"


def _app_config(data_dir: Path) -> dict:
    return {
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{_db(data_dir)}",
        "PROCEDURES": str(BUNDLED_PROCEDURES),
        "SECRET_KEY": None,  # read from the data dir, as the command line does
        "TESTING": True,
    }


@contextlib.contextmanager
def app_on(data_dir: Path, **overrides: object):
    app = create_app({**_app_config(data_dir), **overrides})
    try:
        yield app
    finally:
        app.extensions["motcua"].engine.dispose()


def _scalar(data_dir: Path, sql: str, *params: object) -> object:
    with contextlib.closing(sqlite3.connect(_db(data_dir))) as conn:
        return conn.execute(sql, params).fetchone()[0]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data dir initialised with demo data, shared by the tests that only read it."""
    data_dir = tmp_path_factory.mktemp("cli") / "instance"
    result = motcua("init", "--demo", "--people", "80", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    return data_dir


@pytest.fixture(scope="module")
def demo_json(demo_dir: Path) -> dict:
    return json.loads((demo_dir / "demo.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- procedures

SMALL = textwrap.dedent("""\
    id: small-permit
    code: "9.000002"
    version: 1
    effective_from: 2025-07-01
    title: {vi: "Cấp giấy phép nhỏ", en: "Small permit"}
    authority: commune
    online: full
    channels: [online, counter]
    time_limit: {value: 2, unit: working_days}
    form:
      fields:
        - id: holder_personal_id
          label: {vi: "Số định danh cá nhân", en: "Personal identification number"}
          type: personal_id
          required: true
        - id: full_name
          label: {vi: "Họ, chữ đệm, tên", en: "Full name"}
          type: text
          required: true
    lifecycle: one-stop
    steps:
      - id: appraise
        roles: [specialist]
    decided_by: [leader]
    results:
      small-permit:
        title: {vi: "Giấy phép nhỏ", en: "Small permit"}
        template: templates/small-permit.html.j2
        number: "{seq}/{year}/GP"
        data: {full_name: form.full_name}
        holder: form.holder_personal_id
        evidence: small-permit
""")


def _line(text: str, needle: str) -> int:
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


def _write(root: Path, text: str, *, folder: str = "small-permit", template: bool = True) -> Path:
    path = root / folder / "procedure.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    if template:
        (path.parent / "templates").mkdir()
        (path.parent / "templates" / "small-permit.html.j2").write_text("<p>{{ data.full_name }}</p>\n", encoding="utf-8")
    return path


def test_procedures_check_accepts_the_bundled_definitions(tmp_path):
    result = motcua("procedures", "check", str(BUNDLED_PROCEDURES), data_dir=tmp_path / "instance")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"ok: {len(BUNDLED_IDS)} procedure version(s)")
    assert result.stderr == ""
    # without arguments it checks the configured folders: the bundled ones
    result = motcua("procedures", "check", data_dir=tmp_path / "instance")
    assert result.returncode == 0, result.stderr
    assert str(BUNDLED_PROCEDURES) in result.stdout


def test_procedures_check_accepts_a_small_valid_folder(tmp_path):
    _write(tmp_path / "procs", SMALL)
    result = motcua("procedures", "check", str(tmp_path / "procs"), data_dir=tmp_path / "instance")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: 1 procedure version(s)")


def _syntax_error(root: Path) -> list[tuple[Path, int, str]]:
    text = SMALL.replace("authority: commune\n", "authority: commune: town\n")
    path = _write(root, text)
    return [(path, _line(text, "commune: town"), "YAML syntax error")]


def _unknown_key_and_type(root: Path) -> list[tuple[Path, int, str]]:
    text = SMALL.replace("online: full\n", "onlne: full\n").replace("type: text\n", "type: txt\n")
    path = _write(root, text)
    return [(path, _line(text, "onlne"), "unknown key 'onlne' in the procedure (did you mean 'online'?)"),
            (path, _line(text, "type: txt"), "unknown type 'txt'")]


def _missing_template_and_wrong_folder(root: Path) -> list[tuple[Path, int, str]]:
    good = _write(root, SMALL, template=False)
    other = SMALL.replace("id: small-permit\n", "id: big-permit\n")
    wrong = _write(root, other, folder="large-permit")
    return [(good, _line(SMALL, "  small-permit:"), "template 'templates/small-permit.html.j2' not found"),
            (wrong, _line(other, "id: big-permit"), "id 'big-permit' differs from its folder name 'large-permit'")]


@pytest.mark.parametrize("breaker", [_syntax_error, _unknown_key_and_type, _missing_template_and_wrong_folder],
                         ids=["yaml-syntax", "unknown-key-and-type", "missing-template-and-folder"])
def test_procedures_check_prints_path_line_message_for_each_problem(tmp_path, breaker):
    expected = breaker(tmp_path / "procs")
    result = motcua("procedures", "check", str(tmp_path / "procs"), data_dir=tmp_path / "instance")
    assert result.returncode == 1
    _no_traceback(result)
    assert "ok:" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert lines
    parsed = []
    for line in lines:
        m = PROBLEM_LINE.match(line)
        assert m, f"not a file:line: message line: {line!r}"
        parsed.append((Path(m["path"]), int(m["line"]), m["message"]))
    for path, line, words in expected:
        assert any(p == path and n == line and words in msg for p, n, msg in parsed), (path, line, words, lines)


def test_procedures_list_prints_id_code_version_and_title_without_an_initialised_database(tmp_path):
    result = motcua("procedures", "list", data_dir=tmp_path / "instance")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    rows = [line.split("\t") for line in lines[:-1]]
    assert [r[0] for r in rows] == BUNDLED_IDS
    assert ["birth-registration", "1.001193", "1", "Đăng ký khai sinh"] == rows[0][:4]
    assert ["marriage-registration", "1.000894", "1", "Đăng ký kết hôn"] in [r[:4] for r in rows]
    # each row says how many fields the definition prefills; the last line gives the catalogue average
    assert all(re.fullmatch(r"\d+/\d+ fields prefillable \(\d+%\); measured no dossier yet", r[4]) for r in rows)
    average = re.fullmatch(r"declared-field cut, catalogue average: (\d+)% of fields prefillable", lines[-1])
    assert average and int(average.group(1)) >= 40
    # beside the definition's claim, the measured cut: no demo world here, so n/a, and a note says why;
    # the column header is on standard error with the note, so the lines above stay one per procedure
    assert all(re.fullmatch(r"\d+%", r[5]) and r[5] in r[4] and r[6:] == ["n/a", "n/a"] for r in rows)
    header, *notes = result.stderr.strip().splitlines()
    assert header.split("\t")[:4] == ["id", "code", "version", "title"] and header.split("\t")[-1] == "measured cut"
    assert len(header.split("\t")) == len(rows[0])
    assert any(n.startswith("measured cut: n/a: no demo world here") and "production" in n for n in notes)
    as_json = json.loads(motcua("procedures", "list", "--json", data_dir=tmp_path / "instance").stdout)
    assert [p["id"] for p in as_json["procedures"]] == BUNDLED_IDS
    assert all(p["measured"] is None and 0 < p["claimed_cut"] <= 1 for p in as_json["procedures"])
    assert as_json["note"].startswith("measured cut: n/a")


def test_procedures_list_measures_the_cut_by_prefilling_each_procedure_for_demo_citizens(demo_dir):
    result = motcua("procedures", "list", data_dir=demo_dir)
    assert result.returncode == 0, result.stderr
    _no_traceback(result)
    lines = result.stdout.strip().splitlines()
    rows = {r[0]: r for r in (line.split("\t") for line in lines) if r[0] in BUNDLED_IDS}
    assert sorted(rows) == BUNDLED_IDS
    for pid, r in rows.items():
        typed = re.fullmatch(r"(\d+\.\d)/(\d+) over (\d+) citizen\(s\)", r[6])
        assert typed, (pid, r)
        declared = int(typed.group(2))
        assert f"/{declared} fields prefillable" in r[4] and int(typed.group(3)) >= 1
        assert r[7] == f"{1 - float(typed.group(1)) / declared:.0%}", (pid, r)
    # an unmarried woman marrying a man of another household types his data herself: the honest
    # figure is well below what the definition claims
    assert int(rows["marriage-registration"][7][:-1]) < int(rows["marriage-registration"][5][:-1])
    assert re.fullmatch(r"declared-field cut measured on demo citizens: \d+% \(the definitions claim \d+% "
                        r"for the same procedures\)", lines[-1])
    assert "n/a" not in result.stderr

    as_json = json.loads(motcua("procedures", "list", "--json", data_dir=demo_dir).stdout)
    by_id = {p["id"]: p for p in as_json["procedures"]}
    marriage = by_id["marriage-registration"]["measured"]
    assert marriage["declared"] == by_id["marriage-registration"]["fields"] and marriage["applicants"] >= 1
    assert marriage["cut"] == round(1 - marriage["typed"] / marriage["declared"], 4) or abs(
        marriage["cut"] - (1 - marriage["typed"] / marriage["declared"])) < 1e-3
    assert f"{marriage['cut']:.0%}" == rows["marriage-registration"][7]
    assert as_json["note"] is None


# --------------------------------------------------------------------------- init and demo data


def test_init_demo_writes_demo_json_with_scenarios_and_staff(demo_dir, demo_json):
    scenarios = demo_json["scenarios"]
    couple = scenarios["married_couple"]
    assert re.fullmatch(r"\d{12}", couple["wife"]) and re.fullmatch(r"\d{12}", couple["husband"])
    assert couple["wife"] != couple["husband"]
    # the marriage certificate is a result in the store, held by both spouses
    certificate = couple["marriage_certificate"]
    assert _scalar(demo_dir, "SELECT evidence_type FROM results WHERE id = ?", certificate) == "marriage-certificate"
    with contextlib.closing(sqlite3.connect(_db(demo_dir))) as conn:
        holders = {row[0] for row in conn.execute("SELECT personal_id FROM result_holders WHERE result_id = ?",
                                                  (certificate,))}
    assert holders == {couple["wife"], couple["husband"]}
    singles = scenarios["single_adults"]
    assert sum(p["sex"] == "female" for p in singles) >= 2
    assert sum(p["sex"] == "male" for p in singles) >= 2
    assert all(re.fullmatch(r"\d{12}", p["personal_id"]) for p in singles)
    assert set(demo_json["staff"]) >= {"clerk", "specialist", "leader", "records", "admin"}
    assert demo_json["agency_client"] == "agency"
    assert demo_json["people"] >= 80
    assert _scalar(demo_dir, "SELECT count(*) FROM people") == demo_json["people"]


def test_init_again_is_idempotent(demo_dir, demo_json):
    people = _scalar(demo_dir, "SELECT count(*) FROM people")
    accounts = _scalar(demo_dir, "SELECT count(*) FROM accounts")
    results = _scalar(demo_dir, "SELECT count(*) FROM results")
    again = motcua("init", "--demo", "--people", "80", data_dir=demo_dir)
    assert again.returncode == 0, again.stderr
    assert f"procedures: {len(BUNDLED_IDS)} loaded, 0 newly published" in again.stdout
    assert _scalar(demo_dir, "SELECT count(*) FROM people") == people
    assert _scalar(demo_dir, "SELECT count(*) FROM accounts") == accounts
    assert _scalar(demo_dir, "SELECT count(*) FROM results") == results
    assert _scalar(demo_dir, "SELECT count(*) FROM procedure_versions") == len(BUNDLED_IDS)
    rewritten = json.loads((demo_dir / "demo.json").read_text(encoding="utf-8"))
    assert rewritten["scenarios"]["married_couple"] == demo_json["scenarios"]["married_couple"]
    assert rewritten["staff"] == demo_json["staff"]


# --------------------------------------------------------------------------- tokens


def test_token_prints_a_bearer_token_that_the_api_accepts(demo_dir):
    result = motcua("token", "clerk", data_dir=demo_dir)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_\-]{20,}", token)
    with app_on(demo_dir) as app:
        client = app.test_client()
        r = client.get("/api/v1/dossiers", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.get_json()
        assert client.get("/api/v1/dossiers").status_code == 401
        assert client.get("/api/v1/dossiers", headers={"Authorization": "Bearer not-a-token"}).status_code == 401


def test_token_for_an_unknown_account_fails_with_a_message(demo_dir):
    result = motcua("token", "nobody", data_dir=demo_dir)
    assert result.returncode != 0
    _no_traceback(result)
    assert result.stdout == ""
    assert "nobody" in result.stderr


def test_token_list_shows_live_tokens_and_revoke_ends_one_at_once(demo_dir):
    issued = motcua("token", "records", data_dir=demo_dir)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    listed = motcua("token", "--list", "records", data_dir=demo_dir)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines and all(re.fullmatch(r"\d+\trecords\tcreated \S+\texpires \S+", line) for line in lines), lines
    assert token not in listed.stdout  # the list never shows a token itself
    token_id = lines[-1].split("\t")[0]
    with app_on(demo_dir) as app:
        assert app.test_client().get("/api/v1/dossiers", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    revoked = motcua("token", "--revoke", token_id, data_dir=demo_dir)
    assert revoked.returncode == 0, revoked.stderr
    assert f"revoked token {token_id} of records" in revoked.stdout
    with app_on(demo_dir) as app:
        r = app.test_client().get("/api/v1/dossiers", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and r.get_json()["error"] == "unauthenticated"
    assert token_id not in [line.split("\t")[0] for line in motcua("token", "--list", "records", data_dir=demo_dir).stdout.splitlines()]


@pytest.mark.parametrize(("args", "code", "words"), [
    (("--revoke", "999999"), 1, "motcua token: no live token 999999"),
    (("--revoke", "not-a-token"), 1, "motcua token: no live token with that value"),
    (("--revoke", " "), 2, "motcua token: --revoke needs a token id"),
    (("--list", "nobody"), 1, "motcua token: no account 'nobody'"),
    ((), 2, "motcua token: give USERNAME, --list USERNAME or --revoke TOKEN_ID"),
], ids=["unknown-id", "unknown-value", "empty", "unknown-account", "nothing"])
def test_token_list_and_revoke_fail_with_a_clear_message(demo_dir, args, code, words):
    result = motcua("token", *args, data_dir=demo_dir)
    assert result.returncode == code, (result.stdout, result.stderr)
    _no_traceback(result)
    assert words in result.stderr


def test_passwd_sets_a_new_password_and_ends_the_accounts_web_sessions(demo_dir):
    with app_on(demo_dir) as app:
        started = app.extensions["motcua"].sessions.sign_in_with_password("leader", "motcua-demo", "192.0.2.1")
    result = motcua("passwd", "leader", "--password", "leader-new-password", data_dir=demo_dir)
    assert result.returncode == 0, result.stderr
    assert "password changed for leader" in result.stdout
    with app_on(demo_dir) as app:
        svc = app.extensions["motcua"]
        assert svc.sessions.resume_session(started.session_id) is None
        assert svc.accounts.authenticate_password("leader", "leader-new-password").username == "leader"
        svc.accounts.set_password("leader", "motcua-demo")  # as the demo left it, for the tests after
    short = motcua("passwd", "leader", "--password", "short", data_dir=demo_dir)
    assert short.returncode == 1 and "motcua passwd: password: 8 to 256 characters" in short.stderr
    _no_traceback(short)


# --------------------------------------------------------------------------- calendar, sweep


def test_calendar_due_counts_working_days_across_the_lunar_new_year(tmp_path):
    result = motcua("calendar", "due", "2026-02-12T10:00", "3", "working_days", data_dir=tmp_path / "instance")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2026-02-24T17:00"


@pytest.mark.parametrize(("args", "due"), [
    (("--from", "2026-03-02 15:30", "--value", "0", "--unit", "immediate"), "2026-03-03T17:00"),
    (("2026-03-02T10:00", "0", "immediate"), "2026-03-02T17:00"),
    (("2026-03-06T15:30", "--procedure", "birth-registration"), "2026-03-09T17:00"),
    (("2026-03-05T15:30", "--procedure", "marriage-registration", "--case", "verification", "--counter"),
     "2026-03-12T17:00"),
    (("2026-03-05T15:30", "5", "working_days", "--counter"), "2026-03-12T17:00"),
], ids=["immediate-after-15", "immediate-morning", "procedure-limit", "procedure-case", "cutoff-counted-once"])
def test_calendar_due_answers_immediate_limits_procedures_and_their_cases(tmp_path, args, due):
    result = motcua("calendar", "due", *args, data_dir=tmp_path / "instance")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == due


@pytest.mark.parametrize(("args", "words"), [
    (("notadate", "3", "working_days"), "'notadate' is not an ISO date-time"),
    (("2026-02-12T10:00", "x", "working_days"), "'x' is not a number"),
    (("2026-02-12T10:00", "3", "weeks"), "unknown time-limit unit 'weeks'"),
    (("2026-02-12T10:00", "--case", "verification"), "--case needs --procedure"),
    (("2026-02-12T10:00", "--procedure", "marriage-registration", "--case", "urgent"),
     "marriage-registration has no time-limit case 'urgent' (its cases: verification)"),
    (("2026-02-12T10:00", "3"), "give the limit as VALUE and UNIT"),
    (("2026-02-12T10:00", "3", "days", "--from", "2026-02-12T10:00"), "give START or --from, not both"),
], ids=["bad-date", "bad-value", "bad-unit", "case-without-procedure", "unknown-case", "no-unit", "start-twice"])
def test_calendar_due_rejects_bad_input_with_a_clear_message(tmp_path, args, words):
    result = motcua("calendar", "due", *args, data_dir=tmp_path / "instance")
    assert result.returncode == 2
    _no_traceback(result)
    assert result.stdout == ""
    assert words in result.stderr
    assert result.stderr.startswith("motcua calendar due: ")


def test_sweep_exits_zero_and_prints_counts(demo_dir):
    result = motcua("sweep", data_dir=demo_dir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"overdue: \d+ newly flagged; due soon: \d+; results expired: \d+", lines[0])
    assert re.fullmatch(r"documents: \d+ signed, 0 failed, 0 still pending", lines[1])
    assert re.fullmatch(r"web sessions: \d+ ended more than 30 days ago removed", lines[2])


def _documents_line(result) -> str:
    return next(line for line in result.stdout.splitlines() if line.startswith("documents: "))


def test_sweep_and_issue_exit_one_when_a_document_cannot_be_signed(demo_dir, demo_json, tmp_path):
    data_dir = tmp_path / "instance"
    shutil.copytree(demo_dir, data_dir)
    wife, husband = _single_pair(demo_json)
    with app_on(data_dir, ISSUE_INLINE=False) as app:  # the receipt slip is left pending, as for a worker
        _file_marriage(app, wife, husband, receive=True)
    wrong_keys = {"MOTCUA_PKI_PASSPHRASE": "not-the-passphrase"}  # the signing key cannot be opened
    for command in ("sweep", "issue"):
        result = motcua(command, data_dir=data_dir, env=wrong_keys)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert "failed" in result.stderr  # the signing error is logged with its traceback, never swallowed
        assert _documents_line(result) == "documents: 0 signed, 1 failed, 1 still pending"
    result = motcua("sweep", data_dir=data_dir)  # the right key: the document left pending is signed now
    assert result.returncode == 0, result.stderr
    assert _documents_line(result) == "documents: 1 signed, 0 failed, 0 still pending"


def test_init_keeps_the_data_dir_the_database_the_blobs_and_the_keys_to_their_owner(tmp_path):
    data_dir = tmp_path / "instance"
    result = motcua("init", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    modes = {path: stat.S_IMODE(path.stat().st_mode) for path in (
        data_dir, data_dir / "blobs", data_dir / "pki", _db(data_dir), data_dir / "secret_key", data_dir / "pki-passphrase")}
    assert modes == {data_dir: 0o700, data_dir / "blobs": 0o700, data_dir / "pki": 0o700, _db(data_dir): 0o600,
                     data_dir / "secret_key": 0o600, data_dir / "pki-passphrase": 0o600}
    writers = _db(data_dir).with_name(_db(data_dir).name + "-writers")  # the writers' turns (sqlite_writers)
    assert stat.S_IMODE(writers.stat().st_mode) == 0o600
    for path in (data_dir / "pki").rglob("*"):  # no key readable by others; certificates may be
        assert not (path.stat().st_mode & 0o002), path
        if path.name.endswith(".key.pem") or path.is_dir():
            assert not (path.stat().st_mode & 0o077), path

    # a data dir an earlier version left open is narrowed by the next init
    data_dir.chmod(0o755)
    (data_dir / "blobs").chmod(0o755)
    _db(data_dir).chmod(0o644)
    result = motcua("init", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert [stat.S_IMODE(p.stat().st_mode) for p in (data_dir, data_dir / "blobs", _db(data_dir))] == [0o700, 0o700, 0o600]


# --------------------------------------------------------------------------- audit trail


def test_audit_verify_finds_an_intact_demo_database(demo_dir):
    result = motcua("audit", "verify", data_dir=demo_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("intact")


MARRIAGE = {  # filed by the wife: her own data come from the population register
    "wife_marriage_order": 1,
    "husband_full_name": "Lê Văn C", "husband_date_of_birth": "1993-11-20", "husband_ethnicity": "Tày",
    "husband_nationality": "Việt Nam", "husband_residence": "Số 8 phố Liễu Giai, phường Ba Đình, thành phố Hà Nội",
    "husband_marriage_order": 1, "husband_marital_status": "single",
}


def _single_pair(demo_json: dict, index: int = 0) -> tuple[str, str]:
    singles = demo_json["scenarios"]["single_adults"]
    women = [p["personal_id"] for p in singles if p["sex"] == "female"]
    men = [p["personal_id"] for p in singles if p["sex"] == "male"]
    return women[index], men[index]


def _file_marriage(app, wife: str, husband: str, *, receive: bool) -> str:
    """A marriage dossier filed and submitted by the wife, received by the clerk if ``receive``."""
    services, client = app.extensions["motcua"], app.test_client()
    citizen = {"Authorization": f"Bearer {services.accounts.issue_token(wife)}"}
    data = {**MARRIAGE, "wife_personal_id": wife, "husband_personal_id": husband}
    r = client.post("/api/v1/dossiers", json={"procedure": "marriage-registration", "data": data}, headers=citizen)
    assert r.status_code == 201, r.get_json()
    did = r.get_json()["id"]
    r = client.post(f"/api/v1/dossiers/{did}/actions/submit", json={}, headers=citizen)
    assert r.status_code == 200, r.get_json()
    if receive:
        clerk = {"Authorization": f"Bearer {services.accounts.issue_token('clerk')}"}
        r = client.post(f"/api/v1/dossiers/{did}/actions/receive", json={"comment": "Hồ sơ đầy đủ"}, headers=clerk)
        assert r.status_code == 200, r.get_json()
    return did


@pytest.fixture
def dossiers_dir(demo_dir, demo_json, tmp_path) -> tuple[Path, str, str]:
    """A copy of the demo data dir with two marriage dossiers: one received, one submitted."""
    data_dir = tmp_path / "instance"
    shutil.copytree(demo_dir, data_dir)
    with app_on(data_dir) as app:
        received = _file_marriage(app, *_single_pair(demo_json, 0), receive=True)
        submitted = _file_marriage(app, *_single_pair(demo_json, 1), receive=False)
    return data_dir, received, submitted


def test_audit_verify_detects_an_edited_event_and_a_deleted_last_event(dossiers_dir):
    data_dir, received, submitted = dossiers_dir
    result = motcua("audit", "verify", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    # the demo's own work queue (8 dossiers, 30 events) and this test's two dossiers (5 events)
    assert result.stdout.strip() == "10 dossier(s), 35 event(s): intact"

    # someone edits the receipt comment directly in the database
    with contextlib.closing(sqlite3.connect(_db(data_dir))) as conn:
        changed = conn.execute("UPDATE dossier_events SET comment = ? WHERE dossier_id = ? AND action = 'receive'",
                               ("Hồ sơ thiếu giấy tờ", received)).rowcount
        conn.commit()
    assert changed == 1
    result = motcua("audit", "verify", data_dir=data_dir)
    assert result.returncode == 1
    _no_traceback(result)
    assert "BROKEN" in result.stdout
    problems = result.stderr.strip().splitlines()
    assert problems and all(received in line for line in problems), problems
    assert any("edited" in line for line in problems)
    assert submitted not in result.stderr

    # someone deletes the last event of the other dossier
    with contextlib.closing(sqlite3.connect(_db(data_dir))) as conn:
        deleted = conn.execute(
            "DELETE FROM dossier_events WHERE dossier_id = ? AND seq = (SELECT max(seq) FROM dossier_events WHERE dossier_id = ?)",
            (submitted, submitted)).rowcount
        conn.commit()
    assert deleted == 1
    result = motcua("audit", "verify", submitted, data_dir=data_dir)
    assert result.returncode == 1
    _no_traceback(result)
    assert result.stderr.strip()
    assert all(line.startswith(f"dossier {submitted}: ") for line in result.stderr.strip().splitlines())
    assert "1 dossier(s), 1 event(s): BROKEN" in result.stdout
    everything = motcua("audit", "verify", data_dir=data_dir)
    assert everything.returncode == 1
    assert received in everything.stderr and submitted in everything.stderr


def test_audit_verify_of_an_unknown_dossier_fails_with_a_message(demo_dir):
    result = motcua("audit", "verify", "no-such-dossier", data_dir=demo_dir)
    assert result.returncode == 1
    _no_traceback(result)
    assert "dossier not found" in result.stderr
