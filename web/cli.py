"""The ``motcua`` command line (CONTRACT.md)."""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from engine.errors import DefinitionError, EngineError
from web import config as cfg


def _fail(message: str, code: int = 1) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def _services(config: dict | None = None):
    from web.bootstrap import bootstrap

    config = config or cfg.from_environment()
    try:
        return bootstrap(config)
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
    """Create or upgrade the database, check and publish procedures, load calendars."""
    from web.bootstrap import upgrade_database

    config = cfg.from_environment()
    Path(config["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    services = _services(config)  # fails fast on a broken definition, before touching the database
    upgrade_database(str(config["DATABASE_URL"]))
    try:
        report = services.publish_procedures()
    except DefinitionError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    days = services.sync_calendars()
    click.echo(f"database ready: {_redact(str(config['DATABASE_URL']))}")
    click.echo(f"procedures: {len(services.catalogue.procedures)} loaded, {len(report.published)} newly published")
    click.echo(f"calendars: {', '.join(sorted(services.calendars))} ({days} days written)")
    if demo:
        summary = services.seed_demo(people=people)
        path = Path(config["DATA_DIR"]) / "demo.json"
        path.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        click.echo(f"demo data: {summary['people']} people, agency {summary['agency']['code']}; written to {path}")
        click.echo("log in (password for every demo account: %s):" % summary["password"])
        for role, username in summary["staff"].items():
            click.echo(f"  staff {role:<11} {username}")
        click.echo(f"  agency client {summary['agency_client']}")
        couple = summary["scenarios"]["married_couple"]
        click.echo(f"  citizen (wife of a married couple) {couple['wife']}")
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

    from web import create_app

    config = cfg.from_environment()
    _services(config)  # check definitions before forking workers

    class _App(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("access_log_format", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss')  # no query strings: they may hold ids

        def load(self):
            return create_app()

    click.echo(f"MotCua on http://{host}:{port}/")
    _App().run()


@main.group()
def procedures() -> None:
    """Procedure definitions."""


@procedures.command("check")
@click.argument("dirs", nargs=-1, type=click.Path(path_type=Path))
def procedures_check(dirs: tuple[Path, ...]) -> None:
    """Validate definitions; one file:line: message per problem."""
    from engine import deadlines
    from engine.definitions import load_catalogue

    config = cfg.from_environment()
    folders = list(dirs) or cfg.procedure_folders(config)
    try:
        calendars = deadlines.load_calendars(cfg.calendar_folders(config) + [d / "calendars" for d in dirs if (d / "calendars").is_dir()])
        catalogue = load_catalogue(folders, calendars=calendars.keys())
    except DefinitionError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    click.echo(f"ok: {len(catalogue.procedures)} procedure version(s) in {', '.join(str(f) for f in folders)}")


@procedures.command("list")
def procedures_list() -> None:
    """id, code, version, title."""
    services = _services()
    for p in services.list_procedures():
        click.echo(f"{p.id}\t{p.code}\t{p.version}\t{p.title['vi']}")


@main.command()
@click.argument("username")
def token(username: str) -> None:
    """Print a bearer token for an account."""
    services = _services()
    try:
        click.echo(services.issue_token(username))
    except EngineError as exc:
        _fail(f"motcua token: {exc.message}")


@main.command()
def sweep() -> None:
    """Deadline sweep: overdue flags, due-soon alerts, expired results."""
    report = _services().sweep_deadlines()
    click.echo(f"overdue: {report.newly_overdue} newly flagged; due soon: {report.due_soon}; results expired: {report.expired_results}")


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
        due = services.compute_due(begin.replace(tzinfo=None), amount, unit, procedure_id, cutoff_applies=counter)
    except EngineError as exc:
        _fail(f"motcua calendar due: {exc.message}", 2)
    click.echo(due.isoformat(timespec="minutes"))


@main.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@click.argument("dossier", required=False)
def audit_verify(dossier: str | None) -> None:
    """Check every dossier's event hash chain (or one dossier's); exit 1 on any break."""
    try:
        report = _services().verify_audit(dossier)
    except EngineError as exc:
        _fail(f"motcua audit verify: {exc.message}")
    for p in report.problems:
        where = f"event {p.seq}" if p.seq is not None else "chain"
        click.echo(f"dossier {p.dossier_id}: {where}: {p.message}", err=True)
    click.echo(f"{report.dossiers} dossier(s), {report.events} event(s): {'BROKEN' if report.problems else 'intact'}")
    sys.exit(1 if report.problems else 0)


if __name__ == "__main__":
    main()
