"""``transitions``: persisted workflow transitions per second through the engine's services, against
the same statements issued through the raw database driver, measured in the same run.

Each worker process walks its own dossiers round-robin, alternating ``request_supplement``
(specialist) and ``provide_supplement`` (the applicant): the loop processing_appraise <->
processing_supplement of the birth-registration procedure. Every call is one committed transition
with its audit event. The raw-driver peer does, per transition, on its own set of dossiers:
BEGIN (IMMEDIATE on SQLite) / SELECT the dossier (FOR UPDATE on PostgreSQL) / decide the next state
in a dict / UPDATE the dossier (state, status, version, head of the hash chain) / INSERT the audit
event with its SHA-256 computed by ``engine.rules.audit.event_hash`` / COMMIT.

After every measurement the benchmark checks (not a timing): the audit rows added equal the
transitions counted, the dossiers' event counters moved by the same amount, and the hash chain of a
sample of the dossiers walked verifies.
"""
from __future__ import annotations

import cProfile
import datetime as dt
import io
import multiprocessing
import pstats
import queue as queue_mod
import sqlite3
import statistics
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Backend, CorrectnessError, note
from motcua.demo import seed_demo

NAME = "transitions"
UNIT = "transitions/s"
TAKES_ROUNDS = True  # --rounds: each process count measured that many times, the three paths in turn
PROCEDURE = "birth-registration"
APPRAISE = "processing_appraise"
SUPPLEMENT = "processing_supplement"
ITEMS = ["Giấy chứng sinh bản rõ nét", "Ghi rõ nơi sinh"]
START = dt.datetime(2026, 3, 2, 9, 0)  # Monday morning, a working day: every deadline guard holds
WARMUP = 10  # transitions per worker before the timed window (committed and checked, not timed)
AUDIT_SAMPLE_PER_WORKER = 5
WORKER_START_TIMEOUT = 300.0

# a real one-page PDF (uploads are parsed and screened, a fake one is refused)
PDF = (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n2 0 obj\n"
       b"<</Type/Pages/Kids[3 0 R]/Count 1>>\nendobj\n3 0 obj\n<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]"
       b"/Contents 4 0 R>>\nendobj\n4 0 obj\n<</Length 46>>stream\nBT /F1 12 Tf 72 770 Td (Giay chung sinh) Tj ET\n"
       b"endstream\nendobj\nxref\n0 5\n0000000000 65535 f \n0000000015 00000 n \n0000000060 00000 n \n"
       b"0000000111 00000 n \n0000000191 00000 n \ntrailer\n<</Size 5/Root 1 0 R>>\nstartxref\n284\n%%EOF\n")


class FixedClock:
    """The clock never moves, so the supplement window (3 working days after receipt) stays open."""

    def __init__(self, when: dt.datetime = START):
        self.when = when

    def __call__(self) -> dt.datetime:
        return self.when


def birth_form(couple: dict) -> dict:
    """What the mother declares for the demo's married couple: the child (placeholder name). Her own and her
    husband's data are prefilled from the registers when the dossier is started."""
    return {
        "requester_relationship": "mother",
        "child_full_name": "Trần Văn C",
        "child_date_of_birth": "2026-02-20",
        "child_sex": "male",
        "child_place_of_birth": "Bệnh viện Phụ sản Hà Nội",
        "registration_type": "on_time",
    }


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    url: str
    config: dict
    services: Any
    applicant: str  # username of the citizen who files every dossier
    next_state: dict[str, dict[str, Any]]  # raw peer: state -> what the transition writes
    services_ids: list[str]
    raw_ids: list[str]


def _config(url: str, workdir: Path) -> dict:
    from motcua.settings import BUNDLED_PROCEDURES

    return {
        "DATABASE_URL": url,
        "DATA_DIR": str(workdir / "instance"),
        "PROCEDURES": str(BUNDLED_PROCEDURES),
        "SECRET_KEY": "bench-secret",
        # Slips (receive: 01, request_supplement: 02) are recorded pending in the transition and left to
        # the issuing worker (`motcua issue`, the task queue of the design), not rendered and signed inline
        # after the commit: signing costs ~0.2-0.3 s a document and has its own benchmark (`signing`).
        "ISSUE_INLINE": False,
    }


def _build_world(url: str, workdir: Path, *, services_n: int, raw_n: int) -> World:
    from motcua.bootstrap import bootstrap
    from motcua.settings import Settings

    config = _config(url, workdir)
    services = bootstrap(Settings.from_environment(config), clock=FixedClock())
    services.procedures.publish_procedures()
    services.deadlines.sync_calendars()
    demo = seed_demo(services, people=60)
    couple = demo["scenarios"]["married_couple"]
    citizen = services.accounts.actor_for(couple["wife"])
    specialist = services.accounts.actor_for("specialist")

    total = services_n + raw_n
    note(f"  setting up {total} dossiers in state {APPRAISE} through the services ...")
    ids: list[str] = []
    for _ in range(total):
        ids.append(appraised_dossier(services, couple["wife"]))

    proc = services.procedures.get_procedure(PROCEDURE)

    def actor_fields(actor: Any, role: str) -> dict[str, Any]:
        return {"account_id": actor.account_id, "name": actor.display_name, "role": role, "agency_id": actor.agency_id}

    next_state = {
        APPRAISE: {"action": "request_supplement", "to": SUPPLEMENT, "status": proc.state(SUPPLEMENT).status_code,
                   "actor": actor_fields(specialist, "specialist"), "items": list(ITEMS),
                   "applicant_account_id": citizen.account_id},
        SUPPLEMENT: {"action": "provide_supplement", "to": APPRAISE, "status": proc.state(APPRAISE).status_code,
                     "actor": actor_fields(citizen, "applicant"), "items": None,
                     "applicant_account_id": citizen.account_id},
    }
    return World(url, config, services, couple["wife"], next_state, ids[:services_n], ids[services_n:])


def appraised_dossier(services: Any, applicant: str, form: dict | None = None) -> str:
    """A new birth-registration dossier driven through the services to processing_appraise (4 events);
    ``form``: what the mother declares (default ``birth_form``)."""
    citizen = services.accounts.actor_for(applicant)
    d = services.filing.start_dossier(PROCEDURE, birth_form({}) if form is None else form, citizen)
    services.filing.add_document(d.id, "medical_birth_notice", "giay-chung-sinh.pdf", PDF, citizen)
    services.actions.perform_action(d.id, "submit", citizen)
    services.actions.perform_action(d.id, "receive", services.accounts.actor_for("clerk"))
    d = services.actions.perform_action(d.id, "assign", services.accounts.actor_for("leader"))
    if d.state != APPRAISE:
        raise CorrectnessError(f"set-up left a dossier in {d.state!r}, not {APPRAISE!r}")
    return d.id


# --------------------------------------------------------------------------- the two paths


class ServicesPath:
    """One transition = one ``Services.actions.perform_action`` call, as the HTTP API makes it (the dossier's full
    view comes back); with ``lean=True`` one ``Services.actions.fire_action`` call (the same transition, no view)."""

    def __init__(self, config: dict, ids: list[str], applicant: str, services: Any = None, lean: bool = False):
        from sqlalchemy import select

        from engine.adapters.models import Dossier
        from motcua.bootstrap import bootstrap
        from motcua.settings import Settings

        self.own = services is None
        self.services = (services if services is not None
                         else bootstrap(Settings.from_environment(config), clock=FixedClock()))
        self.specialist = self.services.accounts.actor_for("specialist")
        self.applicant = self.services.accounts.actor_for(applicant)
        self.ids = ids
        self.i = 0
        self.act = self.services.actions.fire_action if lean else self.services.actions.perform_action
        with self.services.uow(write=False) as uow:
            self.states = dict(uow.session.execute(select(Dossier.id, Dossier.state).where(Dossier.id.in_(ids))).all())

    def step(self) -> None:
        did = self.ids[self.i % len(self.ids)]
        self.i += 1
        if self.states[did] == APPRAISE:
            answer = self.act(did, "request_supplement", self.specialist, items=ITEMS)
        else:
            answer = self.act(did, "provide_supplement", self.applicant)
        self.states[did] = answer.state

    def close(self) -> None:
        if self.own:
            self.services.engine.dispose()


class RawPath:
    """The same transition through sqlite3 / psycopg directly (the ceiling the services are compared to)."""

    SELECT = "SELECT state, version_counter, event_count, last_event_hash FROM dossiers WHERE id = {p}"
    UPDATE = ("UPDATE dossiers SET state = {p}, status_code = {p}, version_counter = {p}, updated_at = {p}, "
              "event_count = {p}, last_event_hash = {p} WHERE id = {p} AND version_counter = {p}")
    INSERT = ("INSERT INTO dossier_events (dossier_id, seq, action, actor_account_id, actor_name, role, agency_id, "
              "from_state, to_state, at, comment, reason, items, details, prev_hash, hash) VALUES ({values})")

    def __init__(self, url: str, ids: list[str], next_state: dict[str, dict[str, Any]]):
        from sqlalchemy.engine import make_url

        self.ids = ids
        self.i = 0
        self.next_state = next_state
        self.now = START
        parsed = make_url(url)
        self.pg = parsed.get_backend_name() == "postgresql"
        if self.pg:
            import psycopg
            from psycopg.types.json import Jsonb

            self.jsonb = Jsonb
            self.conn: Any = psycopg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False))
            p = "%s"
            self.select = self.SELECT.format(p=p) + " FOR UPDATE"
            self.at_param = self.now
        else:
            # the engine's own settings (engine/adapters/uow.py make_engine): WAL, synchronous=FULL, foreign
            # keys, its page cache
            from engine.adapters.uow import SQLITE_PRAGMAS

            self.conn = sqlite3.connect(parsed.database, timeout=30, isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode=WAL", *SQLITE_PRAGMAS):
                self.conn.execute(f"PRAGMA {pragma}")
            p = "?"
            self.select = self.SELECT.format(p=p)
            # the text SQLAlchemy's SQLite DateTime stores, so the engine reads back the same value
            self.at_param = self.now.isoformat(sep=" ", timespec="microseconds")
        self.update = self.UPDATE.format(p=p)
        self.insert = self.INSERT.format(values=", ".join([p] * 16))
        self.p = p
        self._templates()

    # the rows a services transition writes besides the dossier and its event (bench/README.md, "the peer"):
    # the outbox row, the feed's counter and event; on request_supplement the slip's number, the slip, its
    # signing job and the applicant's notification rows. Their contents are copied from rows the set-up's
    # own transitions wrote (a receipt slip, the notifications of a receipt, a feed event), so each row is
    # as large as the engine's.
    OUTBOX = "INSERT INTO outbox (topic, dossier_id, payload, created_at, sent_at, attempts) VALUES ({v})"
    JOB = ("INSERT INTO outbox (topic, dossier_id, payload, created_at, attempts, task, lock_key) VALUES ({v})")
    TAKE_FEED = "UPDATE feed_counter SET value = value + 1 WHERE id = 1 RETURNING value"
    FEED = ("INSERT INTO feed_events (id, type, dossier_id, dossier_code, agency_id, evidence_type, status_code, at, "
            "data) VALUES ({v})")
    TAKE_NUMBER = "UPDATE sequences SET value = value + 1 WHERE scope = {p} AND period = {p} RETURNING value"
    SLIP = ("INSERT INTO slips (id, dossier_id, event_seq, form, number, issuer_agency_id, issued_at, status, "
            "context, issue_attempts) VALUES ({v})")
    NOTIFY = ("INSERT INTO notifications (account_id, dossier_id, kind, channel, language, subject, body, status, "
              "attempts, last_error, created_at, sent_at, read_at) VALUES {rows}")

    def _templates(self) -> None:
        conn, p = self.conn, self.p
        self.slip_context = conn.execute("SELECT context FROM slips ORDER BY issued_at DESC LIMIT 1").fetchone()[0]
        self.notes = conn.execute("SELECT kind, channel, language, subject, body, status, last_error FROM notifications "
                                  "ORDER BY id DESC LIMIT 3").fetchall()
        self.feed_row = conn.execute("SELECT type, dossier_code, agency_id, status_code, data FROM feed_events "
                                     "ORDER BY id DESC LIMIT 1").fetchone()
        if self.slip_context is None or not self.notes or self.feed_row is None:
            raise CorrectnessError("the set-up wrote no slip, notification or feed event to copy")
        conn.execute(f"INSERT INTO sequences (scope, period, value) VALUES ({p}, {p}, 0) "
                     "ON CONFLICT DO NOTHING", ("slip:bench:02", "2026"))
        if self.pg:
            conn.commit()

        def values(n: int) -> str:
            return ", ".join([p] * n)

        self.outbox, self.job = self.OUTBOX.format(v=values(6)), self.JOB.format(v=values(7))
        self.feed = self.FEED.format(v=values(9))
        self.take_number = self.TAKE_NUMBER.format(p=p)
        self.slip = self.SLIP.format(v=values(10))
        self.notify = self.NOTIFY.format(rows=", ".join(f"({values(13)})" for _ in self.notes))

    def _same_rows(self, did: str, seq: int, nxt: dict[str, Any], state: str) -> None:
        """Write the rows a services transition writes besides the dossier's update and its event."""
        import uuid

        conn, at, actor = self.conn, self.at_param, nxt["actor"]
        payload = {"action": nxt["action"], "from": state, "to": nxt["to"], "status_code": nxt["status"]}
        conn.execute(self.outbox, ("dossier.transition", did, self._json(payload), at, None, 0))
        if nxt["action"] == "request_supplement":
            number = conn.execute(self.take_number, ("slip:bench:02", "2026")).fetchone()[0]
            slip_id = str(uuid.uuid4())
            conn.execute(self.slip, (slip_id, did, seq, "02", f"{number:04d}/TB", actor["agency_id"], at, "pending",
                                     self._copy(self.slip_context), 0))
            conn.execute(self.job, ("task", did, self._json({"ids": [slip_id]}), at, 0, "issue_document",
                                    f"document:{slip_id}"))
            params: list[Any] = []
            for kind, channel, language, subject, body, status, error in self.notes:
                params += [nxt["applicant_account_id"], did, kind, channel, language, subject, body, status, 0, error,
                           at, at if channel == "in-app" else None, None]
            conn.execute(self.notify, params)
        feed_id = conn.execute(self.TAKE_FEED).fetchone()[0]
        kind, code, agency_id, status_code, data = self.feed_row
        conn.execute(self.feed, (feed_id, kind, did, code, agency_id, None, nxt["status"], at, self._copy(data)))

    def _copy(self, value: Any) -> Any:
        """A JSON value read from a row, as a parameter for another row."""
        return self.jsonb(value) if self.pg else value

    def _json(self, value: Any) -> Any:
        if value is None:
            return None
        if self.pg:
            return self.jsonb(value)
        import json

        return json.dumps(value)

    def step(self) -> None:
        from engine.rules.audit import event_hash

        did = self.ids[self.i % len(self.ids)]
        self.i += 1
        conn = self.conn
        try:
            if not self.pg:
                conn.execute("BEGIN IMMEDIATE")
            state, version, count, head = conn.execute(self.select, (did,)).fetchone()
            nxt = self.next_state[state]
            actor = nxt["actor"]
            fields = {
                "dossier_id": did, "seq": (count or 0) + 1, "action": nxt["action"], "actor_account_id": actor["account_id"],
                "actor_name": actor["name"], "role": actor["role"], "agency_id": actor["agency_id"], "from_state": state,
                "to_state": nxt["to"], "at": self.now, "comment": None, "reason": None, "items": nxt["items"],
                "details": None, "prev_hash": head,
            }
            digest = event_hash(fields)
            cur = conn.execute(self.update, (nxt["to"], nxt["status"], version + 1, self.at_param, fields["seq"], digest,
                                             did, version))
            if cur.rowcount != 1:
                raise CorrectnessError(f"raw UPDATE of dossier {did} matched {cur.rowcount} rows")
            conn.execute(self.insert, (
                did, fields["seq"], fields["action"], actor["account_id"], actor["name"], actor["role"], actor["agency_id"],
                state, nxt["to"], self.at_param, None, None, self._json(nxt["items"]), None, head, digest,
            ))
            self._same_rows(did, fields["seq"], nxt, state)
            if self.pg:
                conn.commit()
            else:
                conn.execute("COMMIT")
        except BaseException:
            if self.pg:
                conn.rollback()
            elif conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.conn.close()


# --------------------------------------------------------------------------- worker processes


def _worker(kind: str, args: dict, seconds: float, warmup: int, barrier: Any, results: Any) -> None:
    path: Any = None
    try:
        if kind in ("services", "lean"):
            path = ServicesPath(args["config"], args["ids"], args["applicant"], lean=kind == "lean")
        else:
            path = RawPath(args["config"]["DATABASE_URL"], args["ids"], args["next_state"])
        for _ in range(warmup):
            path.step()
        barrier.wait(timeout=WORKER_START_TIMEOUT)
        started = time.monotonic()
        end = started + seconds
        n = 0
        while time.monotonic() < end:
            path.step()
            n += 1
        results.put({"warmup": warmup, "count": n, "elapsed": time.monotonic() - started, "error": None})
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the benchmark
        try:
            barrier.abort()
        finally:
            results.put({"warmup": 0, "count": 0, "elapsed": 0.0, "error": traceback.format_exc()})
    finally:
        if path is not None:
            try:
                path.close()
            except Exception:  # noqa: BLE001
                pass


@dataclass
class Measurement:
    kind: str
    procs: int
    committed: int  # warm-up plus timed transitions: what the database must show
    timed: int
    elapsed: float

    @property
    def rate(self) -> float:
        return self.timed / self.elapsed if self.elapsed > 0 else 0.0


def _measure(kind: str, world: World, ids: list[str], procs: int, per_worker: int, seconds: float) -> Measurement:
    ctx = multiprocessing.get_context("spawn")  # each worker builds its own engine and connections
    barrier = ctx.Barrier(procs + 1)
    results = ctx.Queue()
    chunks = [ids[w * per_worker:(w + 1) * per_worker] for w in range(procs)]
    workers = [
        ctx.Process(
            target=_worker, daemon=True, name=f"bench-{kind}-{w}",
            args=(kind, {"config": world.config, "ids": chunk, "applicant": world.applicant,
                         "next_state": world.next_state}, seconds, WARMUP, barrier, results),
        )
        for w, chunk in enumerate(chunks)
    ]
    try:
        for w in workers:
            w.start()
        try:
            barrier.wait(timeout=WORKER_START_TIMEOUT)
        except threading.BrokenBarrierError:
            pass  # a worker failed while starting: its report says why
        reports = []
        for _ in workers:
            try:
                reports.append(results.get(timeout=seconds + WORKER_START_TIMEOUT))
            except queue_mod.Empty:
                raise RuntimeError(f"a {kind} worker stopped without reporting") from None
        errors = [r["error"] for r in reports if r["error"]]
        if errors:
            raise RuntimeError(f"{kind} worker failed:\n{errors[0]}")
        for w in workers:
            w.join(timeout=60)
    finally:
        for w in workers:
            if w.is_alive():
                w.terminate()
                w.join(timeout=10)
        results.close()
    return Measurement(kind, procs, sum(r["warmup"] + r["count"] for r in reports), sum(r["count"] for r in reports),
                       max(r["elapsed"] for r in reports))


def _totals(services: Any) -> tuple[int, int]:
    from sqlalchemy import func, select

    from engine.adapters.models import Dossier, DossierEvent

    with services.uow(write=False) as uow:
        events = uow.session.execute(select(func.count()).select_from(DossierEvent)).scalar_one()
        counters = uow.session.execute(select(func.coalesce(func.sum(Dossier.event_count), 0))).scalar_one()
    return int(events), int(counters)


def _check(world: World, before: tuple[int, int], m: Measurement, ids: list[str], per_worker: int) -> int:
    """The correctness assertions of one measurement; returns the number of audit chains verified."""
    events, counters = _totals(world.services)
    if events - before[0] != m.committed:
        raise CorrectnessError(f"{m.kind} x{m.procs}: {events - before[0]} audit rows added for {m.committed} "
                               "transitions counted")
    if counters - before[1] != m.committed:
        raise CorrectnessError(f"{m.kind} x{m.procs}: the dossiers' event counters moved by {counters - before[1]}, "
                               f"not {m.committed}")
    sample = [did for w in range(m.procs) for did in ids[w * per_worker:w * per_worker + AUDIT_SAMPLE_PER_WORKER]]
    for did in sample:
        report = world.services.audit.verify_audit(did)
        if report.problems:
            raise CorrectnessError(f"{m.kind} x{m.procs}: audit chain of {did} broken: {report.problems[:3]}")
    return len(sample)


# --------------------------------------------------------------------------- a long history costs a read nothing

HISTORY_SIZES = (40, 1000)  # audit events of the two dossiers whose GET is compared (both views are full:
# 20 events and about 20 slips, so the figures compare the cost of a long history, not of a fuller page)


def _history_figures(world: World, seconds: float) -> dict[str, Any]:
    """A dossier with 1,000 audit events answers a GET with the same size and at about the same speed as one
    with 40: the view carries the latest events only (older ones are paged). Two dossiers of the world's
    new dossiers are driven to 40 and 1,000 events with the raw peer's transitions (hash chain included; it
    is verified), then both are read through ``Dossiers.get_dossier`` (what GET /api/v1/dossiers/{id}
    answers with), 20 reads of one then 20 of the other, for ``seconds`` in all, in this process."""
    import dataclasses
    import json

    services = world.services
    clerk = services.accounts.actor_for("clerk")
    figures: dict[str, Any] = {}
    dossiers = {}
    for size in HISTORY_SIZES:  # both histories first, so that both reads see the same database
        did = appraised_dossier(services, world.applicant)
        raw = RawPath(world.url, [did], world.next_state)
        try:
            for _ in range(size - 4):  # create, submit, receive, assign, then supplement rounds
                raw.step()
        finally:
            raw.close()
        report = services.audit.verify_audit(did)
        if report.problems or report.events != size:
            raise CorrectnessError(f"history of {did}: {report.events} events, problems {report.problems[:3]}")
        dossiers[size] = did
    reads = dict.fromkeys(HISTORY_SIZES, 0)
    spent = dict.fromkeys(HISTORY_SIZES, 0.0)
    for size, did in dossiers.items():
        view = services.dossiers.get_dossier(did, clerk)
        body = json.dumps(dataclasses.asdict(view), default=str, ensure_ascii=False).encode()
        figures[f"view_bytes_{size}_events"] = len(body)
        figures[f"view_events_{size}_events"] = len(view.events)
    end = time.monotonic() + seconds
    while time.monotonic() < end:  # interleaved, 20 reads of each in turn
        for size, did in dossiers.items():
            started = time.monotonic()
            for _ in range(20):
                services.dossiers.get_dossier(did, clerk)
            spent[size] += time.monotonic() - started
            reads[size] += 20
    for size in HISTORY_SIZES:
        figures[f"view_reads_{size}_events"] = round(reads[size] / spent[size], 1)
    small, large = HISTORY_SIZES
    figures["view_read_ratio_large_vs_small"] = round(
        figures[f"view_reads_{large}_events"] / figures[f"view_reads_{small}_events"], 3)
    return figures


# --------------------------------------------------------------------------- entry points


def run(backend: Backend, url: str, workdir: Path, *, seconds: float, procs: list[int], dossiers: int,
        rounds: int = 1) -> dict:
    """Measure services vs raw driver at each process count, ``rounds`` times (the raw peer, the view path
    and the lean path in turn each round); return the JSON-line object. With several rounds each rate is
    the median of its rounds, and each ratio the median of the rounds' own ratios (a round's paths run
    next to each other, so the machine's drift between rounds cancels out of its ratio)."""
    max_procs = max(procs)
    world = _build_world(url, workdir, services_n=dossiers * max_procs, raw_n=dossiers * max_procs)
    figures: dict[str, Any] = {}
    baseline: dict[str, Any] = {"driver": "psycopg" if backend.name == "postgresql" else "sqlite3"}
    committed_checked = 0
    lean_checked = 0
    chains = 0
    # "services" is the path the HTTP API takes (perform_action, full view back): the ratio's numerator.
    # "lean" (fire_action, no view) is reported beside it; it walks the same dossiers after the view path.
    paths = (("raw", "raw", world.raw_ids), ("services", "services", world.services_ids),
             ("lean", "services_lean", world.services_ids))
    try:
        for n in procs:
            rates: dict[str, list[float]] = {label: [] for _, label, _ in paths}
            committed: Counter[str] = Counter()
            for r in range(rounds):
                for kind, label, ids in paths:
                    before = _totals(world.services)
                    m = _measure(kind, world, ids, n, dossiers, seconds)
                    chains += _check(world, before, m, ids, dossiers)
                    if kind == "lean":
                        lean_checked += m.committed
                    else:
                        committed_checked += m.committed
                    rates[label].append(m.rate)
                    committed[label] += m.committed
                    round_note = f", round {r + 1} of {rounds}" if rounds > 1 else ""
                    note(f"  {label:13s} x{n}: {m.rate:,.0f} {UNIT} ({m.timed} timed + {m.committed - m.timed} "
                         f"warm-up, checked{round_note})")
            for label, values in rates.items():
                figures[f"{label}_{n}p"] = round(statistics.median(values), 1)
                figures[f"{label}_committed_{n}p"] = committed[label]
            figures[f"services_view_{n}p"] = figures[f"services_{n}p"]  # the same figure, explicitly named
            for key, label in (("ratio", "services"), ("ratio_lean", "services_lean")):
                each = [round(a / b, 3) if b else None for a, b in zip(rates[label], rates["raw"])]
                known = [v for v in each if v is not None]
                figures[f"{key}_{n}p"] = round(statistics.median(known), 3) if known else None
                if rounds > 1:
                    figures[f"{key}_rounds_{n}p"] = each
            baseline[f"raw_{n}p"] = figures[f"raw_{n}p"]
        figures.update(_history_figures(world, seconds))
    finally:
        world.services.engine.dispose()
    figures["events_checked"] = committed_checked  # audit rows asserted equal to transitions committed (raw, view)
    figures["lean_events_checked"] = lean_checked  # the same assertion for the lean path
    figures["audit_chains_verified"] = chains
    figures["seconds"] = seconds
    figures["rounds"] = rounds
    figures["dossiers_per_process"] = dossiers
    return {
        "name": f"{NAME}.{backend.name}",
        "unit": UNIT,
        "figures": figures,
        "baseline": baseline,
        "ratio": figures[f"ratio_{min(procs)}p"],  # 1 process unless --procs leaves it out
    }


def format_text(result: dict) -> str:
    f = result["figures"]
    procs = sorted(int(k[len("services_"):-1]) for k in f if k.startswith("services_") and k.endswith("p")
                   and k[len("services_"):-1].isdigit())
    lines = [
        f"{result['name']}  ({result['unit']}, {f['seconds']:g} s per measurement"
        f"{', median of %d rounds' % f['rounds'] if f.get('rounds', 1) > 1 else ''}, "
        f"{f['dossiers_per_process']} dossiers per process; raw driver: {result['baseline']['driver']})",
        f"  {'procs':>5}  {'view (API)':>10}  {'lean':>10}  {'raw driver':>10}  {'view/raw':>9}  {'lean/raw':>9}",
    ]

    def fmt(value: Any) -> str:
        return "-" if value is None else format(value, ".3f")

    for n in procs:
        lines.append(f"  {n:>5}  {f[f'services_{n}p']:>10,.0f}  {f.get(f'services_lean_{n}p', 0):>10,.0f}  "
                     f"{f[f'raw_{n}p']:>10,.0f}  {fmt(f.get(f'ratio_{n}p')):>9}  {fmt(f.get(f'ratio_lean_{n}p')):>9}")
    for n in procs:
        if f.get(f"ratio_rounds_{n}p"):
            lines.append(f"  {n} process(es), the ratios of each round (the figures above are their medians): "
                         f"view {', '.join(map(fmt, f[f'ratio_rounds_{n}p']))}; "
                         f"lean {', '.join(map(fmt, f[f'ratio_lean_rounds_{n}p']))}")
    lines.append(f"  checked: {f['events_checked'] + f.get('lean_events_checked', 0)} audit rows == transitions "
                 f"committed; {f['audit_chains_verified']} hash chains verified")
    if "view_bytes_1000_events" in f:
        lines.append(f"  GET of a dossier with 40 / 1,000 events: {f['view_bytes_40_events']:,} / "
                     f"{f['view_bytes_1000_events']:,} bytes, {f['view_reads_40_events']:,.0f} / "
                     f"{f['view_reads_1000_events']:,.0f} reads/s (ratio {f['view_read_ratio_large_vs_small']})")
    lines.append(f"  ratio (view path, the HTTP API's) at {min(procs)} process(es), goal >= 0.5: {result['ratio']}")
    return "\n".join(lines)


def _statement_label(statement: str) -> str:
    """``VERB table`` of a statement, the table being the first one named outside parentheses (a subquery
    does not name a SELECT); ``WITH`` statements list the verbs and tables of their parts."""
    words = statement.replace("(", " ( ").replace(")", " ) ").split()
    if not words:
        return "?"
    if words[0].upper() == "WITH":
        parts = [f"{w.upper()} {words[i + 2 if w.upper() == 'INSERT' else i + 1].strip(chr(34))}"
                 for i, w in enumerate(words[:-2]) if w.upper() in ("INSERT", "UPDATE", "DELETE")]
        return "WITH " + " + ".join(parts) if parts else " ".join(words[:3])
    verb = words[0].upper()
    if verb not in ("SELECT", "INSERT", "UPDATE", "DELETE"):
        return " ".join(words[:3])
    depth = 0
    for i, w in enumerate(words):
        depth += (w == "(") - (w == ")")
        if depth == 0 and i > 0 and words[i - 1].upper() in ("FROM", "INTO", "UPDATE"):
            return f"{verb} {w.strip(chr(34))}"
    return f"{verb} ?"


def profile(backend: Backend, url: str, workdir: Path, *, seconds: float, dossiers: int, top: int = 15) -> str:
    """Profile the services path in this process for ``seconds``: where a transition spends its time."""
    from sqlalchemy import event

    world = _build_world(url, workdir, services_n=dossiers, raw_n=0)
    engine = world.services.engine
    statements: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements[_statement_label(statement)] += 1

    try:
        path = ServicesPath(world.config, world.services_ids, world.applicant, services=world.services)
        for _ in range(WARMUP):
            path.step()
        event.listen(engine, "before_cursor_execute", count)
        prof = cProfile.Profile()
        n = 0
        end = time.monotonic() + seconds
        prof.enable()
        while time.monotonic() < end:
            path.step()
            n += 1
        prof.disable()
        event.remove(engine, "before_cursor_execute", count)
    finally:
        engine.dispose()
    out = io.StringIO()
    out.write(f"{NAME}.{backend.name} profile: {n} transitions through Services.actions.perform_action in one process, "
              f"{seconds:g} s under cProfile (rates under a profiler are not benchmark figures)\n\n")
    out.write("SQL statements per transition (driver cursor executions):\n")
    for stmt, c in statements.most_common():
        out.write(f"  {c / max(n, 1):6.2f}  {stmt}\n")
    out.write(f"  {sum(statements.values()) / max(n, 1):6.2f}  total (statements the driver sends by itself are not seen\n"
              "          here: psycopg's BEGIN / COMMIT / ROLLBACK, the pool's pre-ping; sqlite3's COMMIT)\n\n")
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative")
    out.write(f"Top {top} cumulative entries inside engine/ and sqlalchemy:\n")
    stats.print_stats(r"(/engine/|/sqlalchemy/)", top)
    out.write(f"Top {top} entries by own time (anywhere):\n")
    stats.sort_stats("tottime")
    stats.print_stats(top)
    return out.getvalue()
