"""``web``: the real app under gunicorn against a minimal Flask + SQLAlchemy endpoint reading one row,
same gunicorn settings, same load generator, same run; and the memory of the app's workers.

The app (``motcua run --no-worker``) and the minimal app (``bench/minimal_app.py``) run side by side
with the same worker class and the same process and thread counts. For each kind of request (GET a
dossier as JSON, GET the work queue, GET the desk page, POST an action), the minimal endpoint is
measured for ``--seconds`` and then the kind for ``--seconds``, so that each kind has a baseline
taken next to it. Then ``--requests`` requests of the four kinds mixed are sent, and the resident
memory (VmRSS) of each app worker is read before and after.

Correctness (not timings): every answer is a 200; the audit events added in each window equal the
actions answered in it; the memory run's workers are the ones read before it (none was replaced).
"""
from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import minimal_app
from bench.common import Backend, CorrectnessError, note
from bench.loadtest.cluster import Cluster
from bench.loadtest.driver import percentile
from bench.transitions import APPRAISE, ITEMS, SUPPLEMENT, appraised_dossier, birth_form

NAME = "web"
UNIT = "requests/s"
KINDS = ("dossier", "queue", "desk", "action")
WRITES = ("action",)  # the kinds also measured against the minimal write
GOAL_THROUGHPUT = 0.7  # of the minimal endpoint's requests/s, at least
GOAL_P99 = 2.0  # times the minimal endpoint's p99, at most
GOAL_GROWTH = 10.0  # per cent of a worker's resident memory, at most
DEFAULT_CLIENTS = 16
WARMUP_SECONDS = 1.0
TAKES_WEB = True
TAKES_ROUNDS = True  # --rounds: each kind and its minimal window measured that many times, next to each other


@dataclass(frozen=True)
class Model:
    """A gunicorn shape: ``workers`` processes of ``threads`` threads (1: the sync worker)."""

    workers: int
    threads: int

    @property
    def label(self) -> str:
        return f"sync:{self.workers}" if self.threads == 1 else f"gthread:{self.workers}x{self.threads}"

    @classmethod
    def parse(cls, text: str) -> Model:
        """``sync:2``, ``gthread:2x4`` (or ``2x4``)."""
        kind, _, shape = text.strip().rpartition(":")
        workers, _, threads = shape.partition("x")
        try:
            model = cls(int(workers), int(threads or 1))
        except ValueError:
            raise ValueError(f"not a worker model (sync:2, gthread:2x4): {text!r}") from None
        if model.workers < 1 or model.threads < 1 or kind not in ("", "sync", "gthread"):
            raise ValueError(f"not a worker model (sync:2, gthread:2x4): {text!r}")
        if kind == "sync" and model.threads != 1:
            raise ValueError(f"the sync worker has one thread: {text!r}")
        return model


def default_model() -> Model:
    from motcua.cli import WEB_THREADS, default_web_workers

    return Model(default_web_workers(), WEB_THREADS)


# --------------------------------------------------------------------------------------- the world


@dataclass
class World:
    config: dict[str, str]
    read_id: str  # the dossier every "dossier" request reads (no action touches it)
    action_ids: list[str]  # the dossiers the actions walk, in processing_appraise at the start
    tokens: dict[str, str]  # citizen (the applicant), clerk, specialist
    desk_cookie: str  # the clerk's session cookie


def build_world(url: str, workdir: Path, *, action_dossiers: int) -> World:
    """The demo world, ``action_dossiers`` + 1 birth-registration dossiers in ``processing_appraise`` (the
    clerk's queue), bearer tokens and a desk session. On the real clock: the server under test runs on it,
    and tokens, sessions and the supplement window (3 working days after receipt) are judged by it."""
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface

    from motcua.bootstrap import bootstrap
    from motcua.demo import seed_demo
    from motcua.settings import Settings
    from web.auth import SESSION_KEY

    config = {"DATABASE_URL": url, "DATA_DIR": str(workdir / "instance"), "FONT_CACHE_DIR": str(workdir / "fonts"),
              "SECRET_KEY": "bench-web-secret", "ISSUE_INLINE": "false"}
    services = bootstrap(Settings.from_environment(config))
    try:
        services.procedures.publish_procedures()
        services.deadlines.sync_calendars()
        couple = seed_demo(services, people=60)["scenarios"]["married_couple"]
        clerk = services.accounts.actor_for("clerk")
        # born ten days ago: registered on time (within 60 days of the birth) by today's clock
        form = {**birth_form(couple), "child_date_of_birth": (dt.date.today() - dt.timedelta(days=10)).isoformat()}
        ids = [appraised_dossier(services, couple["wife"], form) for _ in range(action_dossiers + 1)]
        tokens = {"citizen": services.accounts.issue_token(couple["wife"]),
                  "clerk": services.accounts.issue_token("clerk"),
                  "specialist": services.accounts.issue_token("specialist")}
        session_id = services.sessions.start_session(clerk, "127.0.0.1").session_id
    finally:
        services.engine.dispose()
    signer = Flask(__name__)
    signer.config["SECRET_KEY"] = config["SECRET_KEY"]
    # the cookie a clerk's browser holds after its first page: the session and the CSRF secret the pages'
    # forms are signed with (without it, every page would store a new one and send the cookie again)
    cookie = SecureCookieSessionInterface().get_signing_serializer(signer).dumps(  # type: ignore[union-attr]
        {SESSION_KEY: session_id, "_permanent": True, "csrf_token": secrets.token_hex(20)})
    return World(config, ids[0], ids[1:], tokens, f"motcua_session={cookie}")


def _count(url: str, table: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------- the requests


Request = tuple[str, str, dict[str, str], bytes | None]


class Actions:
    """Each client walks its own dossiers, alternating request_supplement (the specialist, with items) and
    provide_supplement (the applicant): processing_appraise <-> processing_supplement, repeatable."""

    def __init__(self, ids: list[str], clients: int, tokens: dict[str, str]):
        self.mine = [ids[c::clients] for c in range(clients)]
        self.turn = [0] * clients
        self.state = {d: APPRAISE for d in ids}
        self.tokens = tokens
        self.answered = 0
        self.lock = threading.Lock()

    def request(self, client: int) -> tuple[Request, Callable[[], None]]:
        ids = self.mine[client]
        did = ids[self.turn[client] % len(ids)]
        self.turn[client] += 1
        if self.state[did] == APPRAISE:
            action, token, body = "request_supplement", self.tokens["specialist"], {"items": ITEMS}
            after = SUPPLEMENT
        else:
            action, token, body = "provide_supplement", self.tokens["citizen"], {}
            after = APPRAISE

        def done() -> None:
            self.state[did] = after
            with self.lock:
                self.answered += 1

        return ("POST", f"/api/v1/dossiers/{did}/actions/{action}",
                {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                json.dumps(body).encode()), done


def _nothing() -> None:
    return None


class Mix:
    """The requests of each kind, and the minimal endpoint's."""

    def __init__(self, world: World, clients: int):
        self.world = world
        self.actions = Actions(world.action_ids, clients, world.tokens)

    def request(self, kind: str, client: int) -> tuple[Request, Callable[[], None]]:
        w = self.world
        if kind == "minimal":
            return ("GET", f"/row/{w.read_id}", {}, None), _nothing
        if kind == "minimal_write":
            return ("POST", f"/write/{client}", {}, b""), _nothing
        if kind == "dossier":
            return ("GET", f"/api/v1/dossiers/{w.read_id}", {"Authorization": f"Bearer {w.tokens['clerk']}"},
                    None), _nothing
        if kind == "queue":
            return ("GET", "/api/v1/dossiers", {"Authorization": f"Bearer {w.tokens['clerk']}"}, None), _nothing
        if kind == "desk":
            return ("GET", "/desk/", {"Cookie": w.desk_cookie, "Accept": "text/html"}, None), _nothing
        if kind == "action":
            return self.actions.request(client)
        raise ValueError(kind)


# --------------------------------------------------------------------------------------- the load generator


@dataclass
class Window:
    n: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0

    def figures(self) -> dict[str, Any]:
        return {"requests": self.n, "requests_per_s": round(self.n / self.wall, 2) if self.wall else None,
                "p50_ms": _ms(self.latencies, 0.5), "p99_ms": _ms(self.latencies, 0.99)}


def _ms(values: list[float], q: float) -> float | None:
    v = percentile(values, q)
    return None if v is None else round(v * 1000, 2)


def drive(port: int, make: Callable[[int, int], tuple[Request, Callable[[], None]]], *, clients: int,
          seconds: float | None = None, total: int | None = None) -> Window:
    """``clients`` threads, each with one keep-alive ``http.client`` connection, sending ``make(client, i)``
    until ``seconds`` have passed or ``total`` requests were sent; every request in flight at the end is
    finished and counted (so that what the server wrote matches what was answered)."""
    out = Window()
    lock = threading.Lock()
    sent = [0]
    deadline = time.monotonic() + seconds if seconds is not None else None

    def more() -> bool:
        if deadline is not None:
            return time.monotonic() < deadline
        with lock:
            if sent[0] >= total:  # type: ignore[operator]
                return False
            sent[0] += 1
            return True

    def client(c: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        lat: list[float] = []
        errors: list[str] = []
        i = 0
        while more():
            (method, path, headers, body), done = make(c, i)
            i += 1
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"{method} {path}: {type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                continue
            elapsed = time.perf_counter() - t0
            if response.status != 200:
                errors.append(f"{method} {path}: HTTP {response.status} {payload[:200]!r}")
                continue
            done()
            lat.append(elapsed)
        conn.close()
        with lock:
            out.latencies.extend(lat)
            out.errors.extend(errors)

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.wall = time.monotonic() - t0
    out.n = len(out.latencies)
    return out


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


# --------------------------------------------------------------------------------------- the run


def _check(window: Window, what: str) -> None:
    if window.errors:
        raise CorrectnessError(f"{what}: {len(window.errors)} request(s) failed, e.g. {window.errors[:3]}")
    if window.n == 0:
        raise CorrectnessError(f"{what}: no request answered")


def _env(config: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update({f"MOTCUA_{k}": v for k, v in config.items()}, PYTHONWARNINGS="ignore")
    return env


def measure_model(world: World, mix: Mix, url: str, workdir: Path, model: Model, *, seconds: float, clients: int,
                  requests: int | None, rounds: int = 1) -> dict[str, Any]:
    """Both servers with ``model``; each kind beside its own minimal window, ``rounds`` times (the round
    with the median ratio is the kind's figures); then the memory run."""
    env = _env(world.config)
    logs = workdir / "logs"
    app = Cluster(env, logs, web=model.workers, workers=0, web_args=("--threads", str(model.threads)))
    minimal = Cluster(env, logs, web=model.workers, workers=0, name="minimal")
    minimal.command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{minimal.port}",
                       "--workers", str(model.workers), "--threads", str(model.threads),
                       "--worker-class", "gthread" if model.threads > 1 else "sync",
                       "--access-logfile", "-", "bench.minimal_app:app"]
    try:
        note(f"{NAME}: {model.label}: starting the app and the minimal app ...")
        minimal_app.prepare(url)
        app.start()
        minimal.start()
        for cluster, kinds in ((minimal, ("minimal",)), (app, KINDS)):  # warm-up: every worker, every kind
            drive(cluster.port, lambda c, i, ks=kinds: mix.request(ks[(c + i) % len(ks)], c), clients=clients,
                  seconds=WARMUP_SECONDS)
        kinds: dict[str, Any] = {}
        for kind in KINDS:
            measured = []  # one round: the minimal window, the kind's window next to it (and the least write)
            for r in range(rounds):
                round_note = f", round {r + 1} of {rounds}" if rounds > 1 else ""
                note(f"{NAME}: {model.label}: minimal, then {kind}, {seconds:g} s each{round_note} ...")
                base = drive(minimal.port, lambda c, i: mix.request("minimal", c), clients=clients, seconds=seconds)
                _check(base, f"{model.label} minimal")
                events0, answered0 = _count(url, "dossier_events"), mix.actions.answered
                got = drive(app.port, lambda c, i, k=kind: mix.request(k, c), clients=clients, seconds=seconds)
                _check(got, f"{model.label} {kind}")
                events = _count(url, "dossier_events") - events0
                if events != mix.actions.answered - answered0:
                    raise CorrectnessError(f"{model.label} {kind}: {events} audit events for "
                                           f"{mix.actions.answered - answered0} actions answered")
                figures = _ratios(got.figures(), base.figures())
                if kind in WRITES:  # beside the read baseline of the goal, the least write, measured next to it
                    write = drive(minimal.port, lambda c, i: mix.request("minimal_write", c), clients=clients,
                                  seconds=seconds)
                    _check(write, f"{model.label} minimal write")
                    figures["to_minimal_write"] = _to_write(got.figures(), write.figures())
                measured.append(figures)
            kinds[kind] = _median_round(measured)
            app.check_alive()
        memory = None
        if requests:
            memory = _memory(app, mix, clients=clients, requests=requests, label=model.label)
    finally:
        for cluster in (app, minimal):
            cluster.stop()
    return {"model": model.label, "workers": model.workers, "threads": model.threads, "kinds": kinds,
            "memory": memory}


def _median_round(measured: list[dict[str, Any]]) -> dict[str, Any]:
    """Of a kind's rounds, the one whose throughput ratio is the median (the lower middle one of an even
    number), whole, so that its figures stay those of one round; with the ratios of all rounds when
    there were several."""
    ordered = sorted(measured, key=lambda k: -1.0 if k["ratio"] is None else k["ratio"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    if len(measured) > 1:
        chosen["ratio_rounds"] = [k["ratio"] for k in measured]
    return chosen


def _ratios(app: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    throughput = round(app["requests_per_s"] / base["requests_per_s"], 3) if base["requests_per_s"] else None
    p99 = round(app["p99_ms"] / base["p99_ms"], 3) if base["p99_ms"] else None
    return {**app, "minimal": base, "ratio": throughput, "p99_ratio": p99,
            "goal_throughput_met": throughput is not None and throughput >= GOAL_THROUGHPUT,
            "goal_p99_met": p99 is not None and p99 <= GOAL_P99}


def _to_write(app: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """An action against the least write (``POST /write/<n>``: one statement committed): what the action
    costs beyond committing something, which no read baseline can tell."""
    return {"minimal_write": base,
            "ratio": round(app["requests_per_s"] / base["requests_per_s"], 3) if base["requests_per_s"] else None,
            "p99_ratio": round(app["p99_ms"] / base["p99_ms"], 3) if base["p99_ms"] else None}


def _memory(app: Cluster, mix: Mix, *, clients: int, requests: int, label: str) -> dict[str, Any]:
    pids = app.web_processes()
    # warm-up: a tenth of the run (at least 100 requests) of the mix, then the first reading
    make = lambda c, i: mix.request(KINDS[(c + i) % len(KINDS)], c)  # noqa: E731
    _check(drive(app.port, make, clients=clients, total=max(100, requests // 10)), f"{label} memory warm-up")
    before = {pid: rss_kb(pid) for pid in pids}
    note(f"{NAME}: {label}: {requests} requests of the mix for the memory reading ...")
    run = drive(app.port, make, clients=clients, total=requests)
    _check(run, f"{label} memory run")
    after = {pid: rss_kb(pid) for pid in pids}
    if app.web_processes() != pids or None in before.values() or None in after.values():
        raise CorrectnessError(f"{label}: a web worker was replaced during the memory run")
    workers = [{"pid": pid, "rss_kb_warm": before[pid], "rss_kb_after": after[pid],
                "growth_pct": round(100 * (after[pid] - before[pid]) / before[pid], 2)} for pid in pids]
    growth = max(w["growth_pct"] for w in workers)
    return {"requests": run.n, "seconds": round(run.wall, 2), "workers": workers, "max_growth_pct": growth,
            "goal_met": growth <= GOAL_GROWTH}


def run(backend: Backend, url: str, workdir: Path, *, seconds: float, procs: list[int], dossiers: int,
        models: list[Model] | None = None, clients: int = DEFAULT_CLIENTS, requests: int = 10_000,
        rounds: int = 1, **_: Any) -> dict[str, Any]:
    models = models or [default_model()]
    note(f"{NAME}.{backend.name}: setting up the demo world and {clients * 2} dossiers ...")
    world = build_world(url, workdir, action_dossiers=clients * 2)
    mix = Mix(world, clients)  # one for every model: the actions know where each dossier stands
    results = [measure_model(world, mix, url, workdir, m, seconds=seconds, clients=clients,
                             requests=requests if i == 0 else None, rounds=rounds) for i, m in enumerate(models)]
    first = results[0]
    figures: dict[str, Any] = {"model": first["model"], "clients": clients, "seconds": seconds, "rounds": rounds}
    for kind, k in first["kinds"].items():
        figures[kind] = k
    figures["memory"] = first["memory"]
    if len(results) > 1:
        figures["models"] = {r["model"]: {kind: {"requests_per_s": k["requests_per_s"], "p99_ms": k["p99_ms"],
                                                 "ratio": k["ratio"], "p99_ratio": k["p99_ratio"],
                                                 "minimal_requests_per_s": k["minimal"]["requests_per_s"]}
                                          for kind, k in r["kinds"].items()} for r in results}
    ratios = [k["ratio"] for k in first["kinds"].values() if k["ratio"] is not None]
    goals = {"throughput": all(k["goal_throughput_met"] for k in first["kinds"].values()),
             "p99": all(k["goal_p99_met"] for k in first["kinds"].values()),
             "memory": None if first["memory"] is None else first["memory"]["goal_met"]}
    figures["goals_met"] = goals
    baseline = {"endpoint": "GET /row/<id> (bench/minimal_app.py, Flask + SQLAlchemy, one row by primary key)",
                "requests_per_s": {kind: k["minimal"]["requests_per_s"] for kind, k in first["kinds"].items()},
                "p99_ms": {kind: k["minimal"]["p99_ms"] for kind, k in first["kinds"].items()}}
    return {"name": f"{NAME}.{backend.name}", "unit": UNIT, "figures": figures, "baseline": baseline,
            "ratio": min(ratios) if ratios else None}


def format_text(result: dict[str, Any]) -> str:
    f = result["figures"]
    rounds = f.get("rounds", 1)
    lines = [f"{result['name']}: {f['model']}, {f['clients']} clients, {f['seconds']:g} s per window"
             f"{', the median of %d rounds' % rounds if rounds > 1 else ''} "
             f"(goal: >= {GOAL_THROUGHPUT}x the minimal endpoint's requests/s, p99 <= {GOAL_P99}x)",
             f"  {'kind':<8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} | {'minimal':>8} {'p99 ms':>8} | "
             f"{'ratio':>6} {'p99 x':>6}  goals"]
    for kind in KINDS:
        k = f[kind]
        lines.append(f"  {kind:<8} {k['requests_per_s']:>8} {k['p50_ms']:>8} {k['p99_ms']:>8} | "
                     f"{k['minimal']['requests_per_s']:>8} {k['minimal']['p99_ms']:>8} | {k['ratio']:>6} "
                     f"{k['p99_ratio']:>6}  {'ok' if k['goal_throughput_met'] else 'LOW'}/"
                     f"{'ok' if k['goal_p99_met'] else 'SLOW'}")
        w = k.get("to_minimal_write")
        if w:
            lines.append(f"  {'':<8} {'':>8} {'':>8} {'':>8} | {w['minimal_write']['requests_per_s']:>8} "
                         f"{w['minimal_write']['p99_ms']:>8} | {w['ratio']:>6} {w['p99_ratio']:>6}  "
                         f"against the minimal write (one statement committed; no goal)")
        if k.get("ratio_rounds"):
            lines.append(f"  {'':<8} the ratio of each round: {', '.join(map(str, k['ratio_rounds']))}")
    for label, kinds in f.get("models", {}).items():
        lines.append(f"  {label:<14} " + "  ".join(f"{kind} {v['requests_per_s']}/s p99 {v['p99_ms']} ms "
                                                     f"(x{v['ratio']})" for kind, v in kinds.items()))
    m = f["memory"]
    if m:
        lines.append(f"  memory: {m['requests']} requests in {m['seconds']} s; " + ", ".join(
            f"pid {w['pid']} {w['rss_kb_warm']} -> {w['rss_kb_after']} kB ({w['growth_pct']:+}%)" for w in m["workers"])
            + f"; goal <= {GOAL_GROWTH}%: {'met' if m['goal_met'] else 'NOT met'}")
    return "\n".join(lines)
