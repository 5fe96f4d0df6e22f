"""The ``motcua`` command line (CONTRACT.md)."""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import click

from engine.rules.errors import DefinitionError, EngineError
from motcua.demo import seed_demo, seed_demo_queue
from motcua.datadir import PRIVATE_FOLDERS, make_private, owner_only, private_dir
from motcua.settings import PKI_PASSPHRASE_FILE, SECRET_KEY_FILE, Settings, SettingsError


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def _settings() -> Settings:
    """The settings, parsed once per command; a bad value is one line on stderr and exit 2."""
    try:
        return Settings.from_environment()
    except SettingsError as exc:
        _fail(f"motcua: {exc}", 2)


def _services(settings: Settings | None = None):
    from motcua.bootstrap import bootstrap

    try:
        return bootstrap(settings or _settings())
    except DefinitionError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(1)


@click.group()
def main() -> None:
    """MotCua: one-stop public-service workflow engine."""


@main.command()
@click.option("--demo", is_flag=True, help="Also seed synthetic people, staff and an agency client.")
@click.option("--people", default=1200, show_default=True, help="How many synthetic people (--demo).")
def init(demo: bool, people: int) -> None:
    """Create or upgrade the database, check and publish procedures, load calendars. The data dir,
    its blobs and keys folders are its owner's only (0700), the database and secrets 0600."""
    with owner_only():
        _init(demo, people)


def _init(demo: bool, people: int) -> None:
    from motcua.bootstrap import upgrade_database

    settings = _settings()
    for folder in (settings.data_dir, *(settings.data_dir / name for name in PRIVATE_FOLDERS)):
        private_dir(folder)
    make_private(settings.data_dir, settings.database_url, (SECRET_KEY_FILE, PKI_PASSPHRASE_FILE))
    services = _services(settings)  # fails fast on a broken definition, before touching the database
    upgrade_database(settings.database_url)
    try:
        report = services.procedures.publish_procedures()
    except DefinitionError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    days = services.deadlines.sync_calendars()
    click.echo(f"database ready: {_redact(settings.database_url)}")
    if not demo:
        parties = services.issuance.ensure_signing_parties()
        click.echo(f"signing keys: {parties} certificate(s) under {settings.data_dir / 'pki'}")
    click.echo(f"procedures: {len(services.catalogue.procedures)} loaded, {len(report.published)} newly published")
    click.echo(f"calendars: {', '.join(sorted(services.deadlines.calendars))} ({days} days written)")
    if demo:
        summary = seed_demo(services, people=people)
        path = settings.data_dir / "demo.json"
        path.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        click.echo(f"demo data: {summary['people']} people, agency {summary['agency']['code']}; written to {path}")
        key_path = settings.data_dir / "demo-hospital-key.pem"
        if not key_path.exists():
            from motcua.demo import hospital_key

            key_path.touch(mode=0o600)
            key_path.write_text(hospital_key(), encoding="ascii")
        click.echo(f"demo hospital client '{summary['hospital_client']}' signs its deposits with {key_path}")
        parties = services.issuance.ensure_signing_parties()
        click.echo(f"signing keys: {parties} certificate(s) under {settings.data_dir / 'pki'}")
        filed = seed_demo_queue(services, summary)
        if filed:
            click.echo(f"demo work queue: {filed} dossiers at every stage from submitted to returned")
        click.echo("log in (password for every demo account: %s):" % summary["password"])
        for role, username in summary["staff"].items():
            click.echo(f"  staff {role:<11} {username}")
        click.echo(f"  agency client {summary['agency_client']}")
        couple = summary["scenarios"]["married_couple"]
        click.echo(f"  citizen (wife of a married couple) {couple['wife']}")
        click.echo("in the browser: http://127.0.0.1:8000/login (the page lists these accounts)")
        click.echo("a bearer token for the API: motcua token USERNAME")


# The web server's default shape, chosen by measurement (`python -m bench web --models ...`, docs/capacity.md
# "The web tier"): sync workers (one request at a time each), one process per core and at least two. Threads
# (gthread) and more processes than cores both measured slower at the 99th percentile on the same cores.
WEB_THREADS = 1


def default_web_workers() -> int:
    """One gunicorn process per core this process may run on, at least 2."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    return max(2, cores)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=default_web_workers, show_default="one per core, at least 2",
              type=click.IntRange(min=1), help="gunicorn worker processes.")
@click.option("--threads", default=WEB_THREADS, show_default=True, type=click.IntRange(min=1),
              help="Threads per worker process (gunicorn's gthread worker); 1: the sync worker, one request "
                   "at a time per process. See docs/capacity.md, \"The web tier\".")
@click.option("--no-worker", is_flag=True,
              help="Start no task worker beside the web server (run `motcua worker` elsewhere instead).")
def run(host: str, port: int, workers: int, threads: int, no_worker: bool) -> None:
    """Serve the web app with gunicorn, and a task worker in its own process (rendering and signing off
    the request); both stop on SIGTERM."""
    from gunicorn.app.base import BaseApplication

    from motcua.bootstrap import create_app

    settings = _settings()
    services = _services(settings)  # check definitions before forking workers
    services.engine.dispose()  # no connection shared with the forked processes

    class _App(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", "-")
            self.cfg.set("access_log_format", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss')  # no query strings: they may hold ids

        def load(self):
            return create_app(settings)  # in each worker: its own services and database engine

    click.echo(f"MotCua on http://{host}:{port}/")
    task_worker = None if no_worker else _start_worker_process(1)
    try:
        _App().run()
    finally:
        if task_worker is not None:
            _stop_processes([task_worker])


def _start_worker_process(concurrency: int) -> subprocess.Popen:
    """``motcua worker`` in a child process, with this process's environment (the same settings)."""
    return subprocess.Popen([sys.executable, "-m", "motcua", "worker", "--concurrency", str(concurrency)])


def _stop_processes(children: list[subprocess.Popen], timeout: float = 60.0) -> None:
    """SIGTERM to each child (a running task finishes first), then wait; SIGKILL after ``timeout``."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@main.command()
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 64),
              help="How many worker processes (rendering and signing is CPU work: about one per core).")
@click.option("--queues", default=None, metavar="TASK[,TASK...]",
              help="Run only these tasks (issue_document, upgrade_result); default: all.")
def worker(concurrency: int, queues: str | None) -> None:
    """Run background workers (rendering and signing of results and slips, B-LTA upgrades) against the
    configured database: procrastinate on PostgreSQL, the outbox rows on SQLite. Start any number, on
    any machine; SIGTERM or Ctrl-C stops them after the task at hand."""
    import logging
    import threading

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("engine", "motcua"):
        logging.getLogger(name).setLevel(logging.INFO)
    services = _services()
    names = [n.strip() for n in queues.split(",") if n.strip()] if queues else None
    unknown = sorted(set(names or ()) - set(services.tasks.handlers))
    if unknown:
        _fail(f"motcua worker: no task {', '.join(unknown)} (known: {', '.join(sorted(services.tasks.handlers))})", 2)
    stop = threading.Event()
    extra = [subprocess.Popen([sys.executable, "-m", "motcua", "worker", *(["--queues", queues] if queues else [])])
             for _ in range(concurrency - 1)]

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    click.echo(f"motcua worker: {services.tasks.queue.name} queue, {concurrency} process(es)")
    try:
        services.tasks.run_worker(stop, tasks=names)
    finally:
        _stop_processes(extra)


@main.group()
def procedures() -> None:
    """Procedure definitions."""


@procedures.command("check")
@click.argument("dirs", nargs=-1, type=click.Path(path_type=Path))
def procedures_check(dirs: tuple[Path, ...]) -> None:
    """Validate definitions; one file:line: message per problem."""
    from engine.rules.calendars import load_calendars
    from engine.rules.definitions import load_catalogue

    settings = _settings()
    folders = list(dirs) or settings.procedure_folders
    try:
        calendars = load_calendars(settings.calendar_folders + [d / "calendars" for d in dirs if (d / "calendars").is_dir()])
        catalogue = load_catalogue(folders, calendars=calendars.keys())
    except DefinitionError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    click.echo(f"ok: {len(catalogue.procedures)} procedure version(s) in {', '.join(str(f) for f in folders)}")


LIST_HEADER = ("id", "code", "version", "title", "definition; filed dossiers", "claimed cut", "typed online (demo)",
               "measured cut")


@procedures.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: every procedure with its figures.")
def procedures_list(as_json: bool) -> None:
    """id, code, version, title; then the fields the definition prefills and the cut measured on filed
    dossiers (when the database has any); then the declared-field cut the definition claims (the share
    of fields it can prefill) beside the one measured by prefilling the procedure for demo citizens
    for whom it makes sense (motcua.demo.samples): the fields a typical online applicant still types
    (left empty or in conflict) over the form's declared fields, and 1 - typed/declared.

    Standard output keeps one procedure per line beginning with id, code, version and title (tab
    separated), then the summary lines; the column header and the notes go to standard error, so a
    script reading the lines is not disturbed. Without the demo world (a production installation)
    the measured columns are "n/a" and a note says why."""
    settings = _settings()
    services = _services(settings)
    cuts = {c.id: c for c in _cuts(services)}
    measured, note = _sample_cuts(services, settings)
    listed = services.procedures.list_procedures()
    if as_json:
        click.echo(json.dumps(_list_json(listed, cuts, measured, note), ensure_ascii=False, indent=2))
        return
    click.echo("\t".join(LIST_HEADER), err=True)
    for p in listed:
        c = cuts.get(p.id)
        extra = ""
        if c is not None:
            filed = f"{c.measured_cut:.0%} over {c.dossiers} dossier(s)" if c.measured_cut is not None else "no dossier yet"
            m = measured.get(p.id)
            sample = (f"\t{m.typed:.1f}/{m.declared} over {m.applicants} citizen(s)\t{m.cut:.0%}" if m is not None
                      else "\tn/a\tn/a")
            extra = (f"\t{c.prefillable}/{c.fields} fields prefillable ({c.definition_cut:.0%}); measured {filed}"
                     f"\t{c.definition_cut:.0%}{sample}")
        click.echo(f"{p.id}\t{p.code}\t{p.version}\t{p.title['vi']}{extra}")
    if cuts:
        avg = sum(c.definition_cut for c in cuts.values()) / len(cuts)
        filed = [c.measured_cut for c in cuts.values() if c.measured_cut is not None]
        line = f"declared-field cut, catalogue average: {avg:.0%} of fields prefillable"
        if filed:
            line += f"; {sum(filed) / len(filed):.0%} measured on filed dossiers"
        click.echo(line)
        if measured:
            sampled = [measured[c.id] for c in cuts.values() if c.id in measured]
            claimed = sum(cuts[m_id].definition_cut for m_id in measured if m_id in cuts) / len(sampled)
            click.echo(f"declared-field cut measured on demo citizens: {sum(m.cut for m in sampled) / len(sampled):.0%} "
                       f"(the definitions claim {claimed:.0%} for the same procedures)")
    if note:
        click.echo(note, err=True)


def _list_json(listed, cuts, measured, note) -> dict:
    procedures = []
    for p in listed:
        c, m = cuts.get(p.id), measured.get(p.id)
        procedures.append({
            "id": p.id, "code": p.code, "version": p.version, "title": p.title,
            "fields": c.fields if c else None, "prefillable": c.prefillable if c else None,
            "claimed_cut": round(c.definition_cut, 4) if c else None,
            "filed": {"cut": None if c is None or c.measured_cut is None else round(c.measured_cut, 4),
                      "dossiers": c.dossiers if c else 0},
            "measured": None if m is None else {
                "applicants": m.applicants, "declared": m.declared, "typed": round(m.typed, 2),
                "conflicts": round(m.conflicts, 2), "typed_share": round(m.typed_share, 4), "cut": round(m.cut, 4)},
        })
    return {"procedures": procedures, "note": note}


def _sample_cuts(services, settings) -> tuple[dict, str | None]:
    """Per procedure, the cut measured on demo citizens (motcua.demo.samples), and a note when some or all
    could not be measured. Needs the demo world: demo.json in the data dir and its people in the register."""
    from sqlalchemy import inspect

    from engine.rules.metrics import sample_cut
    from motcua.demo.samples import samples

    missing = ("measured cut: n/a: no demo world here (motcua init --demo writes demo.json into the data dir "
               "and its citizens into the register); a production installation shows the definitions' figures only")
    path = settings.data_dir / "demo.json"
    engine = getattr(services, "engine", None)
    if not path.is_file() or engine is None or not inspect(engine).has_table("people"):
        return {}, missing
    try:
        scenarios = json.loads(path.read_text(encoding="utf-8")).get("scenarios") or {}
    except (OSError, ValueError, AttributeError):
        return {}, f"measured cut: n/a: {path.name} in the data dir cannot be read"
    out, skipped = {}, []
    for proc in services.catalogue.current():
        if "online" not in proc.channels:
            skipped.append(f"{proc.id} (not filed online)")
            continue
        taken = [t for pid, hints in samples(proc.id, scenarios)
                 if (t := services.prefill.typing_left(proc.id, pid, hints)) is not None]
        cut = sample_cut(len(proc.fields), [len(t.typed) for t in taken], [len(t.conflicts) for t in taken])
        if cut is None:
            skipped.append(f"{proc.id} (no demo citizen for it in the register)")
        else:
            out[proc.id] = cut
    if not out:
        return {}, missing
    return out, f"measured cut: n/a for {', '.join(skipped)}" if skipped else None


def _cuts(services):
    from sqlalchemy import inspect

    engine = getattr(services, "engine", None)
    if engine is None or not inspect(engine).has_table("dossiers"):
        from engine.rules.prefill import definition_share

        from engine.usecases.indicators import ProcedureCut
        return [ProcedureCut(p.id, p.code, p.version, p.title.vi, len(p.fields), sum(1 for f in p.fields if f.prefill),
                             definition_share(p), None, 0) for p in services.catalogue.current()]
    return services.indicators.procedure_cuts()


@main.command()
@click.argument("username", required=False)
@click.option("--list", "list_for", metavar="USERNAME", help="List the account's live tokens: id, created, expires.")
@click.option("--revoke", "revoke", metavar="TOKEN_ID", help="Revoke a token at once (its id from --list, or the token).")
def token(username: str | None, list_for: str | None, revoke: str | None) -> None:
    """Print a new bearer token for an account; or list or revoke tokens."""
    if sum(x is not None for x in (username, list_for, revoke)) != 1:
        _fail("motcua token: give USERNAME, --list USERNAME or --revoke TOKEN_ID (one of them)", 2)
    services = _services()
    try:
        if list_for is not None:
            for card in services.accounts.list_tokens(list_for):
                click.echo(f"{card.id}\t{card.username}\tcreated {card.created_at.isoformat(timespec='minutes')}"
                           f"\texpires {card.expires_at.isoformat(timespec='minutes')}")
        elif revoke is not None:
            value = revoke.strip()
            if not value:
                _fail("motcua token: --revoke needs a token id (see motcua token --list USERNAME)", 2)
            card = (services.accounts.revoke_token(int(value)) if value.isdigit()
                    else services.accounts.revoke_token_value(value))
            click.echo(f"revoked token {card.id} of {card.username}")
        else:
            click.echo(services.accounts.issue_token(username))
    except EngineError as exc:
        _fail(f"motcua token: {exc.message}")


@main.command()
@click.argument("username")
@click.password_option("--password", prompt="New password", help="Asked for when not given (hidden, twice).")
def passwd(username: str, password: str) -> None:
    """Set an account's password; its web sessions end at once."""
    services = _services()
    try:
        services.accounts.set_password(username, password)
    except EngineError as exc:
        _fail(f"motcua passwd: {exc.message}")
    click.echo(f"password changed for {username}; its web sessions have ended")


@main.command()
def sweep() -> None:
    """Deadline sweep: overdue flags, due-soon alerts, expired results; finishes documents left pending;
    posts register changes a remote population register has not acknowledged yet; removes web
    sessions that ended long ago. Exit 1 when a document could not be signed (it stays
    pending for the next run)."""
    services = _services()
    report = services.deadlines.sweep_deadlines()
    click.echo(f"overdue: {report.newly_overdue} newly flagged; due soon: {report.due_soon}; results expired: {report.expired_results}")
    issued = services.issuance.issue_pending()
    click.echo(f"documents: {issued.issued} signed, {issued.failed} failed, {issued.pending} still pending")
    if services.writeback.remote:
        posted = services.writeback.deliver_pending()
        click.echo(f"register changes: {posted.sent} posted, {posted.failed} failed, {posted.pending} still pending")
    else:
        posted = None
    click.echo(f"web sessions: {services.sessions.purge_sessions()} ended more than 30 days ago removed")
    # a document that could not be signed, or a register change not acknowledged, is work left undone
    sys.exit(1 if issued.failed or (posted and posted.failed) else 0)


@main.command()
@click.option("--limit", default=100, show_default=True)
def issue(limit: int) -> None:
    """Render, sign and store documents left pending (after a crash, or with MOTCUA_ISSUE_INLINE=false);
    exit 1 when one could not be signed."""
    report = _services().issuance.issue_pending(limit=limit)
    click.echo(f"documents: {report.issued} signed, {report.failed} failed, {report.pending} still pending")
    sys.exit(1 if report.failed else 0)


@main.command()
@click.option("--agency", "agency", required=True, help="The agency's code.")
@click.option("--from", "start", default=None, help="First day (YYYY-MM-DD); default today.")
@click.option("--to", "end", default=None, help="Last day (YYYY-MM-DD); default the first day.")
@click.option("--format", "fmt", type=click.Choice(["csv", "pdf"]), default="csv", show_default=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write.")
def logbook(agency: str, start: str | None, end: str | None, fmt: str, out: Path) -> None:
    """Write the agency's log book (form 07, Sổ theo dõi hồ sơ) of the days FROM..TO as CSV or PDF. The
    read is logged for every applicant listed, as the command line's."""
    from engine.rules.access import Actor

    services = _services()
    reader = Actor(account_id=None, username="motcua-logbook", display_name="motcua logbook (dòng lệnh / command line)",
                   kind="system", roles=frozenset({"system"}))
    write = services.log_book.log_book_csv if fmt == "csv" else services.log_book.log_book_pdf
    try:
        content, _ = write(reader, start=start, end=end, agency=agency)
    except EngineError as exc:
        _fail(f"motcua logbook: {exc}")
    try:
        out.write_bytes(content)
    except OSError as exc:
        _fail(f"motcua logbook: {out}: {exc.strerror}")
    click.echo(f"{out}: {fmt}, {len(content)} bytes")


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
def verify(file: Path, as_json: bool) -> None:
    """Verify a signed result or slip: signatures, chain, hash against the store, store status."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        _fail(f"{file}: cannot read: {exc.strerror}", 2)
    report = _services().verification.verify_document(data)
    if as_json:
        import dataclasses

        click.echo(json.dumps(dataclasses.asdict(report), ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(f"{file}: {'VALID' if report.valid else 'INVALID'}" + (f" ({report.problem})" if report.problem else ""))
        for sig in report.signatures:
            state = "intact" if sig.intact else "MODIFIED"
            trust = "trusted" if sig.trusted else "NOT TRUSTED"
            click.echo(f"  {sig.kind}: {sig.signer_name or '?'} ({sig.signer_organization or '?'}), signed {sig.signing_time or '?'}, "
                       f"timestamp {sig.timestamp_time or 'none'}: {state}, {trust}")
        if report.document:
            d = report.document
            click.echo(f"  store: {d.kind} {d.number} ({d.title}), {d.status}" + (f": {d.status_reason}" if d.status_reason else ""))
        else:
            click.echo("  store: not found (sha256 " + report.sha256 + ")")
    sys.exit(0 if report.valid else 1)


@main.group()
def keys() -> None:
    """Signing keys and certificates."""


@keys.command("import")
@click.argument("kind", type=click.Choice(["agency", "officer"]))
@click.argument("key")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--password-env", default=None, help="Name of an environment variable holding the PKCS#12 password.")
def keys_import(kind: str, key: str, file: Path, password_env: str | None) -> None:
    """Import a PKCS#12 file as the certificate of an agency (by code) or an officer (by username)."""
    import os

    from motcua.bootstrap import make_issuer

    password = os.environ.get(password_env, "").encode() if password_env else None
    try:
        make_issuer(_settings()).import_pkcs12(kind, key, file.read_bytes(), password)
    except ValueError as exc:
        _fail(f"{file}: {exc}")
    click.echo(f"imported {kind} certificate for {key}")


@main.group()
def clients() -> None:
    """Agency API clients: what they may issue and the key their deposits are signed with."""


def _client_lines(view) -> None:
    click.echo(f"client: {view.username} (agency {view.agency or '-'})")
    click.echo(f"  reads:  {', '.join(view.allowed_evidence) or '-'}")
    click.echo(f"  issues: {', '.join(view.issues_evidence) or '-'}")
    click.echo(f"  key:    {view.key_algorithm or '-'} {view.key_fingerprint or ''}".rstrip())


@clients.command("show")
@click.argument("username")
def clients_show(username: str) -> None:
    """What the client may read and issue, and its signing key's fingerprint."""
    try:
        _client_lines(_services().deposits.client(username))
    except EngineError as exc:
        _fail(f"motcua clients show: {exc.message}")


@clients.command("key")
@click.argument("username")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
def clients_key(username: str, file: Path) -> None:
    """Register the public key (PEM, Ed25519 or ECDSA P-256) the client signs its deposits with."""
    try:
        view = _services().deposits.set_signing_key(username, file.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        _fail(f"{file}:1: not a PEM file")
    except EngineError as exc:
        _fail(f"{file}:1: {exc.message}")
    _client_lines(view)


@clients.command("issues")
@click.argument("username")
@click.argument("evidence", nargs=-1)
def clients_issues(username: str, evidence: tuple[str, ...]) -> None:
    """Set the evidence types the client may deposit (none given: it may deposit nothing)."""
    try:
        _client_lines(_services().deposits.set_issues(username, list(evidence)))
    except EngineError as exc:
        _fail(f"motcua clients issues: {exc.message}")


@main.group()
def results() -> None:
    """The results store."""


@results.command("archive")
def results_archive() -> None:
    """Upgrade valid results to B-LTA (revocation data and a document timestamp)."""
    n = _services().issuance.archive_results()
    click.echo(f"{n} result(s) upgraded to B-LTA")


@main.group()
def calendar() -> None:
    """Working-day calendars."""


@calendar.command("due")
@click.argument("start", required=False)
@click.argument("value", required=False)
@click.argument("unit", required=False)
@click.option("--from", "start_option", default=None, metavar="START",
              help="The receipt date-time (instead of the START argument).")
@click.option("--value", "value_option", default=None, help="The limit's value (instead of VALUE; 0 for immediate).")
@click.option("--unit", "unit_option", default=None,
              help="working_days, days, hours or immediate (instead of UNIT).")
@click.option("--procedure", "procedure_id", default=None,
              help="Use this procedure's calendar, and its time limit when no VALUE and UNIT are given.")
@click.option("--case", "case_id", default=None, help="Use this time-limit case of the procedure (needs --procedure).")
@click.option("--counter", is_flag=True, help="A counter filing: the 15:00 cut-off applies.")
def calendar_due(start: str | None, value: str | None, unit: str | None, start_option: str | None,
                 value_option: str | None, unit_option: str | None, procedure_id: str | None, case_id: str | None,
                 counter: bool) -> None:
    """Print the due date-time of a time limit starting at START (ISO date-time).

    The limit is VALUE UNIT, or the procedure's (--procedure), or one of its cases (--case). An
    immediate limit is due at the end of the receipt day, or of the next working day when received
    after 15:00 or outside office hours."""
    where = "motcua calendar due"
    start = _one_of(where, "START", start, "--from", start_option)
    value = _one_of(where, "VALUE", value, "--value", value_option)
    unit = _one_of(where, "UNIT", unit, "--unit", unit_option)
    if start is None:
        _fail(f"{where}: give the start, as START or --from (e.g. 2026-02-12T10:00)", 2)
    try:
        begin = dt.datetime.fromisoformat(start)
    except ValueError:
        _fail(f"{where}: '{start}' is not an ISO date-time (e.g. 2026-02-12T10:00)", 2)
    if case_id is not None and procedure_id is None:
        _fail(f"{where}: --case needs --procedure (the cases are the procedure's)", 2)
    if case_id is not None and (value is not None or unit is not None):
        _fail(f"{where}: give either --case or VALUE and UNIT, not both", 2)
    services = _services()
    if value is None and unit is None and procedure_id is not None:
        try:
            procedure = services.procedures.get_procedure(procedure_id)
        except EngineError as exc:
            _fail(f"{where}: {exc.message}", 2)
        if case_id is not None and procedure.time_limit_case(case_id) is None:
            known = ", ".join(c.id for c in procedure.time_limit_cases) or "none"
            _fail(f"{where}: {procedure_id} has no time-limit case '{case_id}' (its cases: {known})", 2)
        amount, unit = procedure.time_limit(case_id)
    elif value is None or unit is None:
        _fail(f"{where}: give the limit as VALUE and UNIT (or --value and --unit), or name a --procedure", 2)
    else:
        try:
            amount = float(value)
        except ValueError:
            _fail(f"{where}: '{value}' is not a number", 2)
    try:
        due = services.deadlines.compute_due(begin.replace(tzinfo=None), amount, unit, procedure_id, cutoff_applies=counter)
    except EngineError as exc:
        _fail(f"{where}: {exc.message}", 2)
    click.echo(due.isoformat(timespec="minutes"))


def _one_of(where: str, argument: str, given: str | None, option: str, option_value: str | None) -> str | None:
    if given is not None and option_value is not None:
        _fail(f"{where}: give {argument} or {option}, not both", 2)
    return given if given is not None else option_value


@main.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def backup(directory: Path) -> None:
    """Copy the database (a consistent snapshot), the blobs, the signing keys and the data dir's secrets
    into DIRECTORY (new or empty), with a manifest of SHA-256 hashes."""
    from motcua.backup import BackupError, make_backup

    try:
        summary = make_backup(_settings(), directory)
    except BackupError as exc:
        _fail(f"motcua: {exc}")
    click.echo(f"backup written to {directory}: {summary.kind} database, {summary.files} file(s), {summary.size:,} bytes")
    if len(summary.secrets) < 2:
        click.echo("note: the secret key or the PKI passphrase comes from the environment: keep it with the backup",
                   err=True)


@main.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False, exists=True))
def restore(directory: Path) -> None:
    """Restore a backup made by ``motcua backup`` into an empty data dir (and an empty database):
    the manifest's hashes are checked first, then the database, blobs, keys and secrets are put back."""
    from motcua.backup import BackupError, restore_backup

    try:
        # the secrets come from the backup: none may be generated into the data dir first
        settings = Settings.from_environment({"SECRET_KEY": "unused by restore", "PKI_PASSPHRASE": "unused by restore"})
    except SettingsError as exc:
        _fail(f"motcua: {exc}", 2)
    try:
        summary = restore_backup(settings, directory)
    except BackupError as exc:
        _fail(f"motcua: {exc}")
    click.echo(f"restored {directory} into {settings.data_dir}: {summary.kind} database, {summary.files} file(s)")


@main.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@click.argument("dossier", required=False)
def audit_verify(dossier: str | None) -> None:
    """Check every dossier's event hash chain (or one dossier's); exit 1 on any break."""
    try:
        report = _services().audit.verify_audit(dossier)
    except EngineError as exc:
        _fail(f"motcua audit verify: {exc.message}")
    for p in report.problems:
        where = f"event {p.seq}" if p.seq is not None else "chain"
        click.echo(f"dossier {p.dossier_id}: {where}: {p.message}", err=True)
    click.echo(f"{report.dossiers} dossier(s), {report.events} event(s): {'BROKEN' if report.problems else 'intact'}")
    sys.exit(1 if report.problems else 0)


@main.group()
def sandbox() -> None:
    """Stand-ins of outside services, for tests and demonstrations."""


@sandbox.command("sms")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True, type=click.IntRange(1, 65535))
@click.option("--token", default=None, help="Require this bearer token (as MOTCUA_SMS_TOKEN sends it).")
def sandbox_sms(host: str, port: int, token: str | None) -> None:
    """A sandbox SMS gateway: keeps the SMS it receives (POST /messages) and lists them (GET /messages).
    Point MOTCUA_SMS_URL at http://HOST:PORT/messages."""
    from werkzeug.serving import run_simple

    from motcua.sandbox.sms import create_sms_sandbox

    click.echo(f"SMS sandbox on http://{host}:{port}/messages")
    run_simple(host, port, create_sms_sandbox(token), threaded=True)


if __name__ == "__main__":
    main()


# ------------------------------------------------------------------------------ webhooks, portal sync


@main.group()
def webhooks() -> None:
    """Agency clients' webhook subscriptions (as the administrator)."""


def _webhook_line(view) -> None:
    state = "active" if view.active else f"disabled ({view.disabled_reason or 'removed'})"
    flags = " allow-private" if view.allow_private else ""
    click.echo(f"{view.id}\t{view.client}\t{view.url}\t{state}{flags}\tposition {view.position}\t"
               f"pending {view.pending}")


@webhooks.command("add")
@click.argument("client")
@click.argument("url")
@click.option("--allow-private", is_flag=True, help="Allow a loopback or private target address (administrator).")
@click.option("--after", default=None, help="Also deliver the events after this cursor (default: new events only).")
def webhooks_add(client: str, url: str, allow_private: bool, after: str | None) -> None:
    """Subscribe URL to the events CLIENT may see; prints the subscription and its signing secret."""
    try:
        created = _services().webhooks.add_subscription(None, url, client=client, after=after,
                                                        allow_private=allow_private)
    except EngineError as exc:
        _fail(f"motcua webhooks add: {exc.message}")
    _webhook_line(created.subscription)
    click.echo(f"secret: {created.secret}")


@webhooks.command("list")
@click.argument("client", required=False)
def webhooks_list(client: str | None) -> None:
    """Every subscription (or CLIENT's): id, client, url, state, position, deliveries waiting."""
    for view in _services().webhooks.list_subscriptions(None, client=client):
        _webhook_line(view)


@webhooks.command("remove")
@click.argument("subscription_id")
def webhooks_remove(subscription_id: str) -> None:
    try:
        _webhook_line(_services().webhooks.remove_subscription(None, subscription_id))
    except EngineError as exc:
        _fail(f"motcua webhooks remove: {exc.message}")


@webhooks.command("enable")
@click.argument("subscription_id")
def webhooks_enable(subscription_id: str) -> None:
    """Enable a subscription disabled after repeated failure."""
    try:
        _webhook_line(_services().webhooks.enable_subscription(None, subscription_id))
    except EngineError as exc:
        _fail(f"motcua webhooks enable: {exc.message}")


@webhooks.command("replay")
@click.argument("subscription_id")
@click.option("--after", required=True, help="The cursor: every event after it is delivered again.")
def webhooks_replay(subscription_id: str, after: str) -> None:
    try:
        n = _services().webhooks.replay(None, subscription_id, after)
    except EngineError as exc:
        _fail(f"motcua webhooks replay: {exc.message}")
    click.echo(f"{n} event(s) queued again")


@webhooks.command("log")
@click.argument("subscription_id")
@click.option("--limit", default=50, show_default=True)
def webhooks_log(subscription_id: str, limit: int) -> None:
    """The delivery log, newest first: time, event, attempt, HTTP status or error."""
    try:
        rows = _services().webhooks.delivery_log(None, subscription_id, limit=limit)
    except EngineError as exc:
        _fail(f"motcua webhooks log: {exc.message}")
    for a in rows:
        click.echo(f"{a.at}\tevent {a.event_id}\tattempt {a.attempt}\t{a.status_code or '-'}\t"
                   f"{'ok' if a.ok else a.error}")


@main.group(invoke_without_command=True)
@click.pass_context
def sync(ctx: click.Context) -> None:
    """Push dossier statuses to the national portal (MOTCUA_PORTAL_URL), following the event feed from
    the stored cursor; ``motcua sync report`` compares both sides."""
    if ctx.invoked_subcommand is not None:
        return
    services = _services()
    if not services.portal.configured:
        _fail("motcua sync: MOTCUA_PORTAL_URL is not set")
    outcome = services.portal.sync()
    click.echo(f"{outcome.pushed} status(es) pushed, {outcome.skipped} event(s) skipped, cursor {outcome.position}")
    if outcome.error:
        _fail(f"motcua sync: stopped at cursor {outcome.position}: {outcome.error}")


@sync.command("report")
@click.option("--json", "as_json", is_flag=True)
def sync_report(as_json: bool) -> None:
    """Compare the portal's holdings with our dossiers: missing, different status, extra; exit 1 on any."""
    services = _services()
    if not services.portal.configured:
        _fail("motcua sync report: MOTCUA_PORTAL_URL is not set")
    try:
        report = services.portal.report()
    except Exception as exc:  # noqa: BLE001 - the portal's failure, said in one line
        _fail(f"motcua sync report: the portal did not answer: {exc}", 2)
    if as_json:
        click.echo(json.dumps({"compared": report.compared, "missing": report.missing,
                               "different": report.different, "extra": report.extra}, ensure_ascii=False))
    else:
        click.echo(f"{report.compared} dossier(s) compared")
        for code in report.missing:
            click.echo(f"missing on the portal: {code}")
        for diff in report.different:
            click.echo(f"different status: {diff['code']}: ours {diff['ours']}, portal {diff['portal']}")
        for code in report.extra:
            click.echo(f"on the portal only: {code}")
        if report.clean:
            click.echo("no differences")
    sys.exit(0 if report.clean else 1)


@sandbox.command("portal")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8900, show_default=True, type=int)
@click.option("--token", default=None, help="Require this bearer token.")
def sandbox_portal(host: str, port: int, token: str | None) -> None:
    """Serve the national portal's sandbox (statuses kept in memory)."""
    from werkzeug.serving import run_simple

    from motcua.sandbox.portal import create_portal_sandbox

    click.echo(f"portal sandbox on http://{host}:{port}/dossiers")
    run_simple(host, port, create_portal_sandbox(token), threaded=True)
