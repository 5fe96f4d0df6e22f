"""On PostgreSQL, every query the work queue sends (the API's and the desk's lists, their counters and
totals, the next pages by cursor) reads dossiers through an index, never by a sequential scan.

The statements are not written out here: they are captured as the desk use case sends them, for every
filter the API and the desk page offer, over 40,000 bulk-loaded dossiers with fresh statistics, and each
is EXPLAINed with its own parameters. Skipped on SQLite (its planner is another matter; the same
indexes exist there).
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text

from bench.work_queue import World, analyze, load
from engine.adapters.uow import make_engine
from engine.rules import paging
from motcua.bootstrap import bootstrap, upgrade_database
from motcua.demo import seed_demo
from motcua.settings import BUNDLED_PROCEDURES, Settings
from tests.conftest import FakeClock, postgres_url

SIZE = 40_000


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    base = postgres_url()
    if base is None:
        pytest.skip("no PostgreSQL answers at MOTCUA_DATABASE_URL or 127.0.0.1:5432 (the plans are PostgreSQL's)")
    schema = f"motcua_plans_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    engine = None
    try:
        upgrade_database(url)
        folder: Path = tmp_path_factory.mktemp("plans")
        settings = Settings.from_environment({"DATABASE_URL": url, "DATA_DIR": str(folder / "instance"),
                                              "PROCEDURES": str(BUNDLED_PROCEDURES), "SECRET_KEY": "test",
                                              "TESTING": True})
        engine = make_engine(url)
        services = bootstrap(settings, engine=engine, clock=FakeClock(dt.datetime(2026, 3, 2, 9, 0)))
        services.procedures.publish_procedures()
        services.deadlines.sync_calendars()
        seed_demo(services, people=60)
        load(services, World(services), 0, SIZE)
        analyze(engine)
        yield services
    finally:
        if engine is not None:
            engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _captured(services, calls) -> list[tuple[str, object]]:
    """The SELECTs on dossiers (and their counts) that ``calls`` send, with their parameters."""
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "dossier" in statement:
            seen.append((statement, parameters))

    event.listen(services.engine, "before_cursor_execute", record)
    try:
        calls()
    finally:
        event.remove(services.engine, "before_cursor_execute", record)
    return seen


def _nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _plan(services, statement: str, parameters: object) -> dict:
    with services.engine.connect() as conn:
        cur = conn.connection.driver_connection.cursor()
        cur.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
        return cur.fetchone()[0][0]["Plan"]


def _queue_calls(services):
    desk, who = services.desk, services.accounts.actor_for
    clerk, records = who("clerk"), who("records")
    mine = desk.queue_states(clerk)

    def calls():
        first = desk.list_dossiers(clerk, states=mine)  # the desk's default view, with its counters
        assert first.next_cursor and first.total > 500
        desk.list_dossiers(clerk, states=mine, cursor=first.next_cursor)
        everything = desk.list_dossiers(clerk)  # the agency-wide view and the API without filters
        desk.list_dossiers(clerk, cursor=everything.next_cursor)
        undated = paging.encode(paging.Cursor("due", None, ""))  # past the last due date: the undated ones
        desk.list_dossiers(clerk, cursor=undated)
        desk.list_dossiers(clerk, states=mine, cursor=undated)
        desk.list_dossiers(clerk, overdue=True)
        desk.list_dossiers(clerk, overdue=False)
        desk.list_dossiers(clerk, states=mine, overdue=True)
        desk.list_dossiers(clerk, state="processing_appraise")
        desk.list_dossiers(clerk, state="returned")
        desk.list_dossiers(clerk, procedure="birth-registration")
        desk.list_dossiers(clerk, procedure="birth-registration", state="awaiting_decision")
        desk.list_dossiers(records, states=desk.queue_states(records))
        desk.list_dossiers(clerk, page=3)  # page numbers, by offset
        desk.count_queue(clerk)
        desk.count_queue(clerk, states=mine, procedure="marriage-registration")

    return calls


def test_no_queue_query_reads_the_dossiers_table_sequentially(big):
    services = big
    statements = _captured(services, _queue_calls(services))
    assert len(statements) >= 30
    checked = 0
    for statement, parameters in statements:
        plan = _plan(services, statement, parameters)
        scans = [(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in _nodes(plan)
                 if "Scan" in n["Node Type"]]
        on_dossiers = [s for s in scans if s[1] == "dossiers" or (s[2] or "").startswith(("ix_dossiers", "pk_dossiers"))]
        if "FROM dossiers" not in statement and "dossiers." not in statement:
            continue
        assert on_dossiers, (statement, scans)
        assert not any(kind == "Seq Scan" and rel == "dossiers" for kind, rel, _ in scans), (statement, scans)
        assert any(kind in ("Index Scan", "Index Only Scan", "Bitmap Index Scan") for kind, _, _ in on_dossiers), (
            statement, scans)
        checked += 1
    assert checked >= 30


def test_the_queue_and_its_counters_use_the_indexes_made_for_them(big):
    services = big
    statements = _captured(services, _queue_calls(services))
    used: set[str] = set()
    for statement, parameters in statements:
        used |= {n["Index Name"] for n in _nodes(_plan(services, statement, parameters)) if n.get("Index Name")}
    # the per-state ranges, the agency-wide range, the live dossiers' counters, the rows by id
    assert {"ix_dossiers_queue", "ix_dossiers_agency_due", "ix_dossiers_live", "pk_dossiers"} <= used, used


def test_the_counters_do_not_read_settled_dossiers(big):
    """The counters read the live dossiers only (their partial index): the settled ones, most of the table,
    come from dossier_counts. The estimate of rows the plan reads stays far below the agency's total."""
    services = big
    clerk = services.accounts.actor_for("clerk")
    statements = _captured(services, lambda: services.desk.count_queue(clerk))
    on_dossiers = [(s, p) for s, p in statements if "FROM dossiers" in s]
    assert len(on_dossiers) == 1
    plan = _plan(services, *on_dossiers[0])
    scans = [n for n in _nodes(plan) if n.get("Index Name")]
    assert [n["Index Name"] for n in scans] == ["ix_dossiers_live"]
    assert scans[0]["Node Type"] in ("Index Only Scan", "Bitmap Index Scan", "Index Scan")
    total = services.desk.list_dossiers(clerk).total
    assert scans[0]["Plan Rows"] < total / 4, (scans[0]["Plan Rows"], total)
