"""The load test's database: seeding (the demo world, its work queue, tokens for the citizens and the
staff), and what is read back from it: counters, the queue lag of every signing job, and the size of
each table per dossier."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, or_, select, text

from motcua.demo import DEMO_PURPOSES, seed_demo, seed_demo_queue

PROCEDURE = "marital-status-certification"
STAFF = ("clerk", "leader", "specialist")
# the tables a dossier writes to (the seeded world, accounts and sessions excluded)
DOSSIER_TABLES = ("dossiers", "dossier_events", "documents", "results", "result_holders", "slips", "outbox",
                  "register_reads", "eligibility_checks", "idempotency_keys", "sequences",
                  "procrastinate_jobs", "procrastinate_events")


def form(i: int) -> dict:
    """What a demo citizen types to ask a certificate of marital status about themself."""
    return {"requester_relationship": "self", "issuance_type": "first",
            "purpose": DEMO_PURPOSES[i % len(DEMO_PURPOSES)], "copies_count": 1 + i % 2}


def settings_for(url: str, workdir: Path) -> dict[str, str]:
    return {"DATABASE_URL": url, "DATA_DIR": str(workdir / "instance"), "FONT_CACHE_DIR": str(workdir / "fonts"),
            "SECRET_KEY": "loadtest-secret", "ISSUE_INLINE": "false"}


@dataclass
class Seeded:
    citizen_tokens: list[str]
    staff_tokens: dict[str, str]
    people: int
    seconds: float


def seed(config: dict[str, str], *, people: int, citizens: int) -> Seeded:
    """``motcua init --demo``: the demo world and its work queue (which signs its slips and results here,
    so the font cache is built before any worker starts), then bearer tokens."""
    import time

    from engine.adapters.models import Account, Agency, Person
    from motcua.bootstrap import bootstrap
    from motcua.settings import Settings

    t0 = time.monotonic()
    services = bootstrap(Settings.from_environment(config))
    try:
        services.procedures.publish_procedures()
        services.deadlines.sync_calendars()
        summary = seed_demo(services, people=people)
        services.issuance.ensure_signing_parties()
        seed_demo_queue(services, summary)
        with services.uow(write=False) as uow:
            unit = uow.session.scalar(select(Agency.unit_code).where(Agency.code == summary["agency"]["code"]))
            residents = list(uow.session.scalars(
                select(Account.username).join(Person, Person.personal_id == Account.personal_id)
                .where(Account.kind == "citizen", Person.date_of_death.is_(None),
                       or_(Person.permanent_unit == unit, Person.current_unit == unit))
                .order_by(Account.id)))
        if not residents:
            raise RuntimeError("the demo world has no citizen living in the agency's area")
        chosen = residents[:citizens]
        return Seeded([services.accounts.issue_token(u) for u in chosen],
                      {role: services.accounts.issue_token(role) for role in STAFF},
                      summary["people"], time.monotonic() - t0)
    finally:
        services.engine.dispose()


class Probe:
    """Read-only questions to the load test's database, on its own small pool."""

    def __init__(self, url: str):
        self.engine = create_engine(url, pool_size=2, max_overflow=0)

    def close(self) -> None:
        self.engine.dispose()

    def now(self) -> dt.datetime:
        with self.engine.connect() as c:
            return c.execute(text("SELECT clock_timestamp()")).scalar_one()

    def counts(self) -> dict[str, int]:
        q = text("""SELECT (SELECT count(*) FROM dossier_events) AS events, (SELECT count(*) FROM dossiers) AS dossiers,
                           (SELECT count(*) FROM results WHERE status = 'valid') AS results_valid,
                           (SELECT count(*) FROM slips WHERE status = 'valid') AS slips_valid,
                           (SELECT count(*) FROM results WHERE status = 'pending') AS results_pending,
                           (SELECT count(*) FROM slips WHERE status = 'pending') AS slips_pending,
                           (SELECT count(*) FROM dossiers WHERE state = 'returned') AS returned""")
        with self.engine.connect() as c:
            return dict(c.execute(q).mappings().one())

    def returnable(self, ids: list[str]) -> list[str]:
        """Of ``ids``, the dossiers decided whose every result is signed."""
        q = text("""SELECT d.id FROM dossiers d WHERE d.id = ANY(:ids) AND d.state = 'decided'
                    AND NOT EXISTS (SELECT 1 FROM results r WHERE r.dossier_id = d.id AND r.status <> 'valid')""")
        with self.engine.connect() as c:
            return list(c.execute(q, {"ids": ids}).scalars())

    def pg_backends(self, application_name: str) -> list[int]:
        with self.engine.connect() as c:
            return list(c.execute(text("SELECT pid FROM pg_stat_activity WHERE application_name = :a"),
                                  {"a": application_name}).scalars())

    def queue_lag(self, since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
        """Per signing job deferred in [since, until): seconds from its deferral (in the transition's
        transaction) to its start and to its success, split into results and slips."""
        q = text("""
            SELECT CASE WHEN r.id IS NOT NULL THEN 'result' ELSE 'slip' END AS kind,
                   EXTRACT(EPOCH FROM min(e.at) FILTER (WHERE e.type = 'started') - min(e.at) FILTER (WHERE e.type = 'deferred')) AS wait,
                   EXTRACT(EPOCH FROM max(e.at) FILTER (WHERE e.type = 'succeeded') - min(e.at) FILTER (WHERE e.type = 'deferred')) AS lag
            FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id
            LEFT JOIN results r ON r.id = j.args->>'document_id'
            WHERE j.task_name = 'issue_document'
            GROUP BY j.id, r.id
            HAVING min(e.at) FILTER (WHERE e.type = 'deferred') >= :since
               AND min(e.at) FILTER (WHERE e.type = 'deferred') < :until""")
        with self.engine.connect() as c:
            rows = c.execute(q, {"since": since, "until": until}).all()
        out: dict[str, Any] = {}
        for kind in ("result", "slip"):
            mine = [r for r in rows if r.kind == kind]
            out[kind] = {"jobs": len(mine), "done": [float(r.lag) for r in mine if r.lag is not None],
                         "wait": [float(r.wait) for r in mine if r.wait is not None]}
        return out

    def table_sizes(self) -> dict[str, dict[str, int]]:
        """Bytes (table, indexes and TOAST) and rows of every dossier table."""
        sizes = {}
        with self.engine.connect() as c:
            for table in DOSSIER_TABLES:
                size = c.execute(text("SELECT pg_total_relation_size(to_regclass(:t))"), {"t": table}).scalar()
                if size is None:
                    continue
                rows = c.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
                sizes[table] = {"bytes": int(size), "rows": int(rows)}
        return sizes

    def signed_files(self, since: dt.datetime) -> dict[str, list[str]]:
        """The files (sha256) of the results and slips signed since ``since`` (the worker's local clock)."""
        with self.engine.connect() as c:
            res = list(c.execute(text("SELECT pdf_sha256 FROM results WHERE status = 'valid' AND signed_at >= :s"),
                                 {"s": since}).scalars())
            slips = list(c.execute(text("SELECT pdf_sha256 FROM slips WHERE status = 'valid' AND signed_at >= :s"),
                                   {"s": since}).scalars())
        return {"result": [d for d in res if d], "slip": [d for d in slips if d]}
