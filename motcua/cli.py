"""The ``motcua`` command line (CONTRACT.md)."""
from __future__ import annotations

import datetime as dt
import json
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
@click.option("--workers", default=2, show_default=True, type=int)
def run(host: str, port: int, workers: int) -> None:
    """Serve the web app with gunicorn."""
    from gunicorn.app.base import BaseApplication

    from motcua.bootstrap import create_app

    settings = _settings()
    _services(settings)  # check definitions before forking workers

    class _App(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("access_log_format", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss')  # no query strings: they may hold ids

        def load(self):
            return create_app(settings)  # in each worker: its own services and database engine

    click.echo(f"MotCua on http://{host}:{port}/")
    _App().run()


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


@procedures.command("list")
def procedures_list() -> None:
    """id, code, version, title; then fields, how many the definition prefills, and the declared-field
    cut measured on filed dossiers (when the database has any)."""
    services = _services()
    cuts = {c.id: c for c in _cuts(services)}
    for p in services.procedures.list_procedures():
        c = cuts.get(p.id)
        extra = ""
        if c is not None:
            measured = f"{c.measured_cut:.0%} over {c.dossiers} dossier(s)" if c.measured_cut is not None else "no dossier yet"
            extra = f"\t{c.prefillable}/{c.fields} fields prefillable ({c.definition_cut:.0%}); measured {measured}"
        click.echo(f"{p.id}\t{p.code}\t{p.version}\t{p.title['vi']}{extra}")
    if cuts:
        avg = sum(c.definition_cut for c in cuts.values()) / len(cuts)
        measured = [c.measured_cut for c in cuts.values() if c.measured_cut is not None]
        line = f"declared-field cut, catalogue average: {avg:.0%} of fields prefillable"
        if measured:
            line += f"; {sum(measured) / len(measured):.0%} measured on filed dossiers"
        click.echo(line)


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
    removes web sessions that ended long ago. Exit 1 when a document could not be signed (it stays
    pending for the next run)."""
    services = _services()
    report = services.deadlines.sweep_deadlines()
    click.echo(f"overdue: {report.newly_overdue} newly flagged; due soon: {report.due_soon}; results expired: {report.expired_results}")
    issued = services.issuance.issue_pending()
    click.echo(f"documents: {issued.issued} signed, {issued.failed} failed, {issued.pending} still pending")
    click.echo(f"web sessions: {services.sessions.purge_sessions()} ended more than 30 days ago removed")
    sys.exit(1 if issued.failed else 0)  # a document that could not be signed is work left undone


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
@click.argument("start")
@click.argument("value")
@click.argument("unit")
@click.option("--procedure", "procedure_id", default=None, help="Use this procedure's calendar.")
@click.option("--counter", is_flag=True, help="A counter filing: the 15:00 cut-off applies.")
def calendar_due(start: str, value: str, unit: str, procedure_id: str | None, counter: bool) -> None:
    """Print the due date-time of a time limit starting at START (ISO date-time)."""
    try:
        begin = dt.datetime.fromisoformat(start)
    except ValueError:
        _fail(f"motcua calendar due: '{start}' is not an ISO date-time (e.g. 2026-02-12T10:00)", 2)
    try:
        amount = float(value)
    except ValueError:
        _fail(f"motcua calendar due: '{value}' is not a number", 2)
    services = _services()
    try:
        due = services.deadlines.compute_due(begin.replace(tzinfo=None), amount, unit, procedure_id, cutoff_applies=counter)
    except EngineError as exc:
        _fail(f"motcua calendar due: {exc.message}", 2)
    click.echo(due.isoformat(timespec="minutes"))


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


if __name__ == "__main__":
    main()
