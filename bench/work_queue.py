"""Benchmark ``queue``: the work queue and the desk page as the table grows.

The same database is filled to each size in turn (10 k, 100 k, 1 M dossiers by default 10 k and 100 k;
``--sizes``), by bulk load (COPY on PostgreSQL, batched INSERTs on SQLite) of realistic rows: a few
agencies, the bundled procedures, a steady intake, so that a larger table is a longer history, most of
it settled, and the work in hand stays what an agency's intake and time limits make it. At each size
the clerk's queue API (``GET /api/v1/dossiers``: the first page, the overdue filter, one state, and the
next pages by cursor) and the desk page (``GET /desk/``: the clerk's work, the agency-wide view) are
timed through the real Flask app (its test client), and compared with the smallest size.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import Backend, CorrectnessError, note

NAME = "queue"
TAKES_SIZES = True
DEFAULT_SIZES = (10_000, 100_000)
NOW = dt.datetime(2026, 3, 2, 9, 0)
INTAKE_PER_DAY = 200  # dossiers a day over every agency
SETTLED_AFTER_DAYS = 25  # older dossiers have been returned, refused or stopped
EXTRA_AGENCIES = 3  # commune agencies besides the demo's
GOAL_P95_MS = 50.0
GOAL_RATIO = 2.0

COMMUNE_PROCEDURES = (("birth-registration", 40), ("marital-status-certification", 25), ("marriage-registration", 15),
                      ("death-registration", 10), ("household-business-registration", 10))
LIVE_STATES = (("received", 15), ("processing_appraise", 35), ("processing_supplement", 8), ("reception_supplement", 4),
               ("awaiting_decision", 12), ("awaiting_payment", 4), ("withdrawal_requested", 2), ("decided", 20))
SETTLED_STATES = (("returned", 92), ("refused", 3), ("stopped", 2), ("rejected", 3))
COLUMNS = ("id", "code", "procedure_id", "procedure_version", "agency_id", "applicant_account_id", "filed_by_account_id",
           "channel", "state", "status_code", "data", "provenance", "created_at", "updated_at", "submitted_at",
           "received_at", "clock_started_at", "due_at", "original_due_at", "extended", "supplement_rounds", "overdue",
           "fee_paid", "decided_at", "closed_at", "event_count", "version_counter")


def _services(url: str, workdir: Path) -> tuple[Any, Any]:
    from motcua.bootstrap import bootstrap
    from motcua.settings import BUNDLED_PROCEDURES, Settings

    config = {"DATABASE_URL": url, "DATA_DIR": str(workdir / "instance"), "PROCEDURES": str(BUNDLED_PROCEDURES),
              "SECRET_KEY": "bench", "ISSUE_INLINE": False, "TESTING": True}
    settings = Settings.from_environment(config)
    services = bootstrap(settings, clock=lambda: NOW)
    services.procedures.publish_procedures()
    services.deadlines.sync_calendars()
    return settings, services


class World:
    """What the generated rows refer to: agencies, applicants, procedures and their states' status codes."""

    def __init__(self, services: Any, *, intake: int = INTAKE_PER_DAY) -> None:
        from sqlalchemy import select

        self.intake = intake
        from engine.adapters.models import Account, Agency

        with services.uow() as uow:
            s = uow.session
            home = s.scalar(select(Agency).where(Agency.level == "commune").order_by(Agency.id))
            province = s.scalar(select(Agency).where(Agency.level == "province").order_by(Agency.id))
            communes = [home.id]
            for i in range(EXTRA_AGENCIES):
                code = f"BENCH.{i + 1:02d}"
                other = s.scalar(select(Agency).where(Agency.code == code))
                if other is None:
                    other = Agency(code=code, name_vi=f"UBND xã thử {i + 1}", name_en=f"Test commune {i + 1}",
                                   level="commune", calendar="vn")
                    s.add(other)
                    s.flush()
                communes.append(other.id)
            self.communes, self.province = communes, province.id
            self.applicants = list(s.scalars(select(Account.id).where(Account.kind == "citizen")))
            uow.commit()
        if not self.applicants:
            raise CorrectnessError("the demo seeded no citizen to file dossiers")
        self.status: dict[tuple[str, str], int | None] = {}
        self.version: dict[str, int] = {}
        for summary in services.procedures.list_procedures():
            proc = services.procedures.get_procedure(summary.id)
            self.version[proc.id] = proc.version
            for st in proc.states:
                self.status[(proc.id, st.id)] = st.status_code

    def row(self, i: int, rng: random.Random) -> tuple:
        """Dossier number ``i`` (0 = the newest): filed ``i / intake`` days before the benchmark's now."""
        age = (i + rng.random()) / self.intake
        created = NOW - dt.timedelta(days=age)
        slot = i % (len(self.communes) + 1)
        if slot == len(self.communes):
            agency, procedure = self.province, "criminal-record-certificate"
        else:
            agency, procedure = self.communes[slot], _pick(rng, COMMUNE_PROCEDURES)
        applicant = rng.choice(self.applicants)
        channel = "online" if rng.random() < 0.6 else "counter"
        received = due = decided = closed = code = None
        overdue = False
        if rng.random() < 0.03:
            state = "draft"
        elif age < 0.5:
            state = "submitted"
        else:
            received = created + dt.timedelta(hours=4)
            due = received + dt.timedelta(days=12 + rng.random() * 8)
            code = f"B{i:09d}"
            if age > SETTLED_AFTER_DAYS:
                state = _pick(rng, SETTLED_STATES)
                if state == "refused":
                    received = due = None
                    code = None
                decided = (due - dt.timedelta(days=rng.random() * 6)) if state == "returned" else None
                overdue = state == "returned" and rng.random() < 0.06
                closed = (decided or created + dt.timedelta(days=3)) + dt.timedelta(days=1)
            else:
                state = _pick(rng, LIVE_STATES)
                if state == "decided":
                    decided = min(NOW, due - dt.timedelta(days=1))
                overdue = due < NOW and rng.random() < 0.5  # the sweep has flagged some of the late ones
        data = {"note": f"hồ sơ thử số {i}", "place": "Hà Nội", "count": i % 7}
        updated = closed or decided or received or created
        return (str(uuid.UUID(int=rng.getrandbits(128), version=4)), code, procedure, self.version[procedure],
                agency, applicant, applicant, channel, state, self.status.get((procedure, state)), data, {}, created,
                updated, None if state == "draft" else created, received, received, due, due, False,
                0, overdue, True, decided, closed, 0, 1)


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in weighted], weights=[w for _, w in weighted])[0]


def load(services: Any, world: World, start: int, stop: int, *, seed: int = 2026) -> float:
    """Add dossiers number ``start`` to ``stop`` (older ones as the numbers grow), recount the settled
    ones and refresh the planner's statistics. Returns the seconds it took."""
    from engine.adapters.queries import rebuild_counts

    began = time.perf_counter()
    rng = random.Random(seed * 1_000_003 + start)
    engine = services.engine
    batch = 20_000
    with engine.begin() as conn:
        for first in range(start, stop, batch):
            rows = [world.row(i, rng) for i in range(first, min(stop, first + batch))]
            if engine.dialect.name == "postgresql":
                raw = conn.connection.driver_connection
                buf = io.StringIO()
                writer = csv.writer(buf)
                for r in rows:
                    writer.writerow(["\\N" if v is None else json.dumps(v, ensure_ascii=False) if isinstance(v, dict)
                                     else v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v for v in r])
                with raw.cursor().copy(f"COPY dossiers ({', '.join(COLUMNS)}) FROM STDIN "
                                       "WITH (FORMAT csv, NULL '\\N')") as copy:
                    copy.write(buf.getvalue())
            else:
                raw = conn.connection.driver_connection
                marks = ", ".join("?" for _ in COLUMNS)
                raw.executemany(f"INSERT INTO dossiers ({', '.join(COLUMNS)}) VALUES ({marks})",
                                [tuple(json.dumps(v, ensure_ascii=False) if isinstance(v, dict)
                                       else v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, dt.datetime) else v
                                       for v in r)
                                 for r in rows])
        rebuild_counts(conn)
    analyze(engine)
    return time.perf_counter() - began


def analyze(engine: Any) -> None:
    """Fresh planner statistics (and, on PostgreSQL, the visibility map that index-only scans read)."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("VACUUM ANALYZE dossiers")
            conn.exec_driver_sql("VACUUM ANALYZE dossier_counts")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


def _timed(get: Any, paths: list[str], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        for path in paths:
            started = time.perf_counter()
            response = get(path)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise CorrectnessError(f"GET {path} answered {response.status_code}")
            out.append(elapsed)
    return out


def _summary(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {"p50_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[max(0, -(-len(ordered) * 95 // 100) - 1)], 2), "n": len(ordered)}


def measure(app: Any, token: str, seconds: float) -> dict[str, Any]:
    """p50/p95 of the queue API and the desk page, each path a few times, interleaved."""
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def api_get(path: str) -> Any:
        return api.get(path, headers=headers)

    first = api_get("/api/v1/dossiers").get_json()
    api_paths = ["/api/v1/dossiers", "/api/v1/dossiers?overdue=true", "/api/v1/dossiers?state=processing_appraise"]
    cursor, seen = first.get("next_cursor"), {i["id"] for i in first["items"]}
    for _ in range(4):  # the next pages, by cursor
        if not cursor:
            break
        path = f"/api/v1/dossiers?cursor={cursor}"
        api_paths.append(path)
        page = api_get(path).get_json()
        ids = {i["id"] for i in page["items"]}
        if ids & seen:
            raise CorrectnessError("a dossier came back on two pages")
        seen |= ids
        cursor = page.get("next_cursor")
    desk = app.test_client()
    _login(desk, "clerk")
    desk_paths = ["/desk/", "/desk/?all=1", "/desk/?overdue=1"]
    for path in api_paths + desk_paths:  # warm-up
        (api_get if path.startswith("/api") else desk.get)(path)
    rounds = max(3, int(seconds * 10))
    api_ms = _timed(api_get, api_paths, rounds)
    desk_ms = _timed(desk.get, desk_paths, rounds)
    return {"api": _summary(api_ms), "desk": _summary(desk_ms), "queue_total": first["total"]}


def _login(client: Any, username: str) -> None:
    import re

    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    response = client.post("/login", data={"username": username, "password": "motcua-demo",
                                           "csrf_token": match.group(1) if match else ""})
    if response.status_code != 302:
        raise CorrectnessError(f"the clerk could not sign in ({response.status_code})")


def _check_counts(services: Any) -> int:
    """The counts the transitions keep agree with a count of the table (the bulk load rebuilt them), and
    the desk's counters add up to the queue's total."""
    from sqlalchemy import text

    with services.engine.connect() as conn:
        kept = conn.execute(text("SELECT coalesce(sum(n), 0) FROM dossier_counts")).scalar_one()
        real = conn.execute(text("SELECT count(*) FROM dossiers WHERE closed_at IS NOT NULL "
                                 "OR decided_at IS NOT NULL")).scalar_one()
    if kept != real:
        raise CorrectnessError(f"dossier_counts holds {kept} settled dossiers, the table {real}")
    clerk = services.accounts.actor_for("clerk")
    counts = services.desk.count_queue(clerk)
    total = services.desk.list_dossiers(clerk).total
    if sum(counts.values()) != total:
        raise CorrectnessError(f"the counters add up to {sum(counts.values())}, the queue holds {total}")
    return int(real)


def run(backend: Backend, url: str, workdir: Path, *, seconds: float, procs: list[int], dossiers: int,
        sizes: tuple[int, ...] = DEFAULT_SIZES) -> dict:
    from motcua.demo import seed_demo
    from web import create_app

    settings, services = _services(url, workdir)
    seed_demo(services, people=60)
    world = World(services)
    app = create_app(settings, services=services)
    token = services.accounts.issue_token("clerk")
    by_size: dict[str, dict[str, Any]] = {}
    loaded = 0
    for size in sorted(set(sizes)):
        note(f"{NAME}.{backend.name}: loading {size - loaded} dossiers (to {size}) ...")
        seed_s = load(services, world, loaded, size)
        loaded = size
        settled = _check_counts(services)
        m = measure(app, token, seconds)
        by_size[str(size)] = {"api_p50_ms": m["api"]["p50_ms"], "api_p95_ms": m["api"]["p95_ms"],
                              "desk_p50_ms": m["desk"]["p50_ms"], "desk_p95_ms": m["desk"]["p95_ms"],
                              "api_n": m["api"]["n"], "desk_n": m["desk"]["n"], "clerk_queue": m["queue_total"],
                              "settled": settled, "seed_s": round(seed_s, 1)}
        note(f"{NAME}.{backend.name}: {size}: {json.dumps(by_size[str(size)])}")
    services.engine.dispose()
    smallest, largest = by_size[str(min(sizes))], by_size[str(max(sizes))]

    def ratio(key: str) -> float | None:
        return round(largest[key] / smallest[key], 3) if smallest[key] else None

    ratios = {"ratio_api_p95": ratio("api_p95_ms"), "ratio_desk_p95": ratio("desk_p95_ms"),
              "ratio_api_p50": ratio("api_p50_ms"), "ratio_desk_p50": ratio("desk_p50_ms")}
    worst = max((r for r in (ratios["ratio_api_p95"], ratios["ratio_desk_p95"]) if r is not None), default=None)
    goal_met = (max(largest["api_p95_ms"], largest["desk_p95_ms"]) < GOAL_P95_MS
                and worst is not None and worst <= GOAL_RATIO)
    return {
        "name": f"{NAME}.{backend.name}", "unit": "ms",
        "figures": {"sizes": sorted(set(sizes)), "by_size": by_size, **ratios, "goal_p95_ms": GOAL_P95_MS,
                    "goal_ratio": GOAL_RATIO, "goal_met": goal_met, "intake_per_day": INTAKE_PER_DAY},
        "baseline": {"size": min(sizes), **{k: smallest[k] for k in ("api_p50_ms", "api_p95_ms", "desk_p50_ms",
                                                                       "desk_p95_ms")}},
        "ratio": worst,
    }


def format_text(result: dict) -> str:
    f = result["figures"]
    lines = [f"{result['name']}: size → queue API p50/p95, desk page p50/p95 (ms); baseline {result['baseline']['size']}"]
    for size in f["sizes"]:
        r = f["by_size"][str(size)]
        lines.append(f"  {size:>9}: API {r['api_p50_ms']:7.2f} / {r['api_p95_ms']:7.2f}   desk {r['desk_p50_ms']:7.2f} / "
                     f"{r['desk_p95_ms']:7.2f}   (clerk's queue {r['clerk_queue']}, settled {r['settled']}, "
                     f"loaded in {r['seed_s']} s)")
    lines.append(f"  p95 ratio largest/smallest: API {f['ratio_api_p95']}, desk {f['ratio_desk_p95']}; "
                 f"goal p95 < {f['goal_p95_ms']} ms and ratio ≤ {f['goal_ratio']}: {'met' if f['goal_met'] else 'not met'}")
    return "\n".join(lines)


def profile(backend: Backend, url: str, workdir: Path, *, seconds: float, dossiers: int, top: int = 20) -> str:
    import cProfile
    import io as _io
    import pstats

    from motcua.demo import seed_demo
    from web import create_app

    settings, services = _services(url, workdir)
    seed_demo(services, people=60)
    load(services, World(services), 0, DEFAULT_SIZES[0])
    app = create_app(settings, services=services)
    token = services.accounts.issue_token("clerk")
    prof = cProfile.Profile()
    prof.enable()
    measure(app, token, seconds)
    prof.disable()
    out = _io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    services.engine.dispose()
    return out.getvalue()
