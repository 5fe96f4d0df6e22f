"""``python -m bench.loadtest [--json]``: the scale-out proof. Several web processes and several task
workers against one PostgreSQL, driven by a burst of citizens filing and staff acting (approvals
signed by the workers); prints per-core throughput for transitions and signed results, latency per
kind of request, the queue lag, and the database and file bytes per dossier. See bench/README.md
and docs/capacity.md."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import sys
import time
import uuid
from zoneinfo import ZoneInfo

from bench.common import Backend, BackendUnavailable, CorrectnessError, note, select_backends, temporary_database
from bench.loadtest import capacity
from bench.loadtest.cluster import Cluster, CpuWindow, cpu_seconds, own_cpu
from bench.loadtest.driver import KINDS, TRANSITION_KINDS, Driver, percentile
from bench.loadtest.world import PROCEDURE, Probe, form, seed, settings_for

NAME = "loadtest"
TINY = {"web": 1, "workers": 1, "clients": 2, "seconds": 3.0, "warmup": 1.0, "baseline_seconds": 1.0,
        "people": 120, "citizens": 20, "drain_timeout": 120.0}


def _positive(kind: type):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError("must be positive")
        return value
    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.loadtest", description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true", help="one JSON object on stdout (notes go to stderr)")
    p.add_argument("--web", type=_positive(int), default=2, help="gunicorn web processes (default 2)")
    p.add_argument("--workers", type=_positive(int), default=2, help="task-worker processes (default 2)")
    p.add_argument("--clients", type=_positive(int), default=8, help="client threads of the load generator (default 8)")
    p.add_argument("--seconds", type=_positive(float), default=30.0, help="measured window (default 30)")
    p.add_argument("--warmup", type=_positive(float), default=5.0, help="load before the window, not measured (default 5)")
    p.add_argument("--baseline-seconds", type=_positive(float), default=5.0,
                   help="the bare endpoint (/healthz) measured first with the same clients (default 5)")
    p.add_argument("--rate", type=float, default=0.0,
                   help="dossiers filed per second at most (default 0: as fast as the clients go)")
    p.add_argument("--people", type=_positive(int), default=600, help="synthetic people of the demo world (default 600)")
    p.add_argument("--citizens", type=_positive(int), default=200, help="citizens who file, round robin (default 200)")
    p.add_argument("--drain-timeout", type=_positive(float), default=600.0,
                   help="seconds to wait after the window for the workers to sign what is pending (default 600)")
    p.add_argument("--tiny", action="store_true",
                   help="a few seconds with 1 web process, 1 worker, 2 clients (the smoke test); overrides the sizes")
    return p


def _ms(values: list[float], q: float) -> float | None:
    v = percentile(values, q)
    return None if v is None else round(v * 1000, 2)


def _s(values: list[float], q: float) -> float | None:
    v = percentile(values, q)
    return None if v is None else round(v, 2)


def _rate(n: float, per: float) -> float | None:
    return round(n / per, 3) if per > 0 else None


def run(args: argparse.Namespace, backend: Backend) -> dict:
    tag = f"motcua_loadtest_{uuid.uuid4().hex[:8]}"  # the application_name of the processes under test
    with temporary_database(backend) as (url, workdir):
        tagged = f"{url}{'&' if '?' in url else '?'}application_name={tag}"
        config = settings_for(tagged, workdir)
        note(f"{NAME}: seeding {args.people} people and the demo work queue ...")
        seeded = seed(config, people=args.people, citizens=args.citizens)
        probe = Probe(url)
        cluster = None
        try:
            sizes_before, counts_seeded = probe.table_sizes(), probe.counts()
            env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
            env.update({f"MOTCUA_{k}": v for k, v in config.items()}, PYTHONWARNINGS="ignore")
            cluster = Cluster(env, workdir / "logs", web=args.web, workers=args.workers)
            note(f"{NAME}: starting {args.web} web process(es) and {args.workers} worker(s) ...")
            cluster.start()
            driver = Driver(cluster.base, seeded.citizen_tokens, seeded.staff_tokens, procedure=PROCEDURE, form=form,
                            clients=args.clients, rate=args.rate, returnable=probe.returnable)

            # the baseline: the bare endpoint, same clients, same web processes
            note(f"{NAME}: baseline GET /healthz for {args.baseline_seconds:g} s ...")
            web_b = CpuWindow(cluster.web_cpu)
            web_b.start()
            t0 = time.monotonic()
            bare_n, bare_lat, bare_err = driver.hammer("/healthz", args.baseline_seconds)
            bare_wall = time.monotonic() - t0
            bare_cpu = web_b.stop()

            note(f"{NAME}: load for {args.warmup:g} s (warm-up) + {args.seconds:g} s (measured) ...")
            local = ZoneInfo("Asia/Ho_Chi_Minh")
            signed_since = dt.datetime.now(local).replace(tzinfo=None)
            driver.start()
            time.sleep(args.warmup)
            cluster.check_alive()
            windows = {"web": CpuWindow(cluster.web_cpu), "workers": CpuWindow(cluster.worker_cpu),
                       "postgres": CpuWindow(lambda: {p: c for p in probe.pg_backends(tag)
                                                      if (c := cpu_seconds(p)) is not None}),
                       "load_generator": CpuWindow(own_cpu)}
            before, since = probe.counts(), probe.now()
            for w in windows.values():
                w.start()
            driver.recording = True
            t0 = time.monotonic()
            time.sleep(args.seconds)
            driver.recording = False
            wall = time.monotonic() - t0
            # the workers are measured until the queue is empty: what they sign in the window was mostly
            # deferred before it (receipts come before approvals), what is deferred in it is signed after
            workers_window = windows.pop("workers")
            cpu = {name: round(w.stop(), 3) for name, w in windows.items()}
            after, until = probe.counts(), probe.now()
            cluster.check_alive()
            driver.stop()
            backlog = after["results_pending"] + after["slips_pending"]

            note(f"{NAME}: waiting for the workers to sign the {backlog} document(s) still pending ...")
            t_drain = time.monotonic()
            while True:
                left = probe.counts()
                if left["results_pending"] + left["slips_pending"] == 0:
                    break
                if time.monotonic() - t_drain > args.drain_timeout:
                    raise CorrectnessError(f"{left['results_pending']} result(s) and {left['slips_pending']} slip(s) "
                                           f"still pending {args.drain_timeout:g} s after the load stopped")
                cluster.check_alive()
                time.sleep(0.5)
            drain = time.monotonic() - t_drain
            cpu["workers"] = round(workers_window.stop(), 3)
            worker_wall = wall + drain
            lag = probe.queue_lag(since, until)
            sizes_after, final = probe.table_sizes(), probe.counts()
            files = probe.signed_files(signed_since)
        finally:
            if cluster is not None:
                note(f"{NAME}: stopping the web server and the workers ...")
                cluster.stop()
            probe.close()

        from engine.adapters.blobs import LocalBlobStore

        blobs = LocalBlobStore(workdir / "instance" / "blobs")
        file_bytes = {kind: [len(blobs.get(d)) for d in digests] for kind, digests in files.items()}

    # ---------------------------------------------------------------------------------- figures
    tally = driver.tally
    errors = sum(tally.errors.values())
    if errors:
        raise CorrectnessError(f"{errors} request(s) failed ({dict(tally.errors)}): {tally.error_samples}")
    transitions = after["events"] - before["events"]
    requests_ok = {k: len(v) for k, v in tally.latencies.items()}
    if transitions != sum(requests_ok[k] for k in TRANSITION_KINDS):
        # every answered transition wrote its audit event in the window, and nothing else did (a request in
        # flight at either edge can move one event across it: each client at most one at each edge)
        gap = transitions - sum(requests_ok[k] for k in TRANSITION_KINDS)
        if abs(gap) > 2 * args.clients:
            raise CorrectnessError(f"{transitions} audit events in the window for "
                                   f"{sum(requests_ok[k] for k in TRANSITION_KINDS)} answered transitions")
    results_signed = after["results_valid"] - before["results_valid"]
    slips_signed = after["slips_valid"] - before["slips_valid"]
    dossiers_new = final["dossiers"] - counts_seeded["dossiers"]
    if final["returned"] - counts_seeded["returned"] != driver.returned:
        raise CorrectnessError(f"{driver.returned} returns answered, "
                               f"{final['returned'] - counts_seeded['returned']} dossiers returned")
    grow = {t: sizes_after[t]["bytes"] - sizes_before.get(t, {"bytes": 0})["bytes"] for t in sizes_after}
    jobs = ("procrastinate_jobs", "procrastinate_events")
    db_bytes = sum(grow.values())
    db_bytes_nojobs = sum(v for t, v in grow.items() if t not in jobs)
    per_result_file = (sum(file_bytes["result"]) / len(file_bytes["result"])) if file_bytes["result"] else 0
    per_slip_file = (sum(file_bytes["slip"]) / len(file_bytes["slip"])) if file_bytes["slip"] else 0
    signed_docs = results_signed + slips_signed
    # the workers' share: from the window's start until the queue was empty
    w_results = final["results_valid"] - before["results_valid"]
    w_slips = final["slips_valid"] - before["slips_valid"]
    w_docs = w_results + w_slips
    cpu_per_doc = cpu["workers"] / w_docs if w_docs else None
    # a dossier of this lifecycle has its result signed and its receipt (01) signed
    cpu_per_dossier = 2 * cpu_per_doc if cpu_per_doc else None

    figures = {
        "web_processes": args.web, "worker_processes": args.workers, "clients": args.clients,
        "seconds": round(wall, 2), "rate_limit": args.rate or None, "procedure": PROCEDURE,
        "transitions": transitions, "transitions_per_s": _rate(transitions, wall),
        "requests_per_s": _rate(sum(requests_ok.values()), wall),
        "dossiers_returned": final["returned"] - counts_seeded["returned"],
        "results_signed": results_signed, "slips_signed": slips_signed,
        "signed_results_per_s": _rate(results_signed, wall), "signed_documents_per_s": _rate(signed_docs, wall),
        "backlog_at_end": backlog, "drain_s": round(drain, 2),
        "cpu_s": cpu,
        "web_cores_busy": _rate(cpu["web"], wall), "worker_cores_busy": _rate(cpu["workers"], worker_wall),
        "postgres_cores_busy": _rate(cpu["postgres"], wall),
        "load_generator_cores_busy": _rate(cpu["load_generator"], wall),
        "transitions_per_web_core_s": _rate(transitions, cpu["web"]),
        "transitions_per_db_core_s": _rate(transitions, cpu["postgres"]),
        "transitions_per_core_s": _rate(transitions, cpu["web"] + cpu["postgres"]),
        "worker_seconds": round(worker_wall, 2), "worker_results_signed": w_results, "worker_slips_signed": w_slips,
        "signed_documents_per_worker_core_s": _rate(w_docs, cpu["workers"]),
        "signed_results_per_worker_core_s": round(1 / cpu_per_dossier, 3) if cpu_per_dossier else None,
        "web_cpu_ms_per_transition": round(cpu["web"] / transitions * 1000, 3) if transitions else None,
        "db_cpu_ms_per_transition": round(cpu["postgres"] / transitions * 1000, 3) if transitions else None,
        "worker_cpu_s_per_document": round(cpu_per_doc, 3) if cpu_per_doc else None,
        "worker_cpu_s_per_result": round(cpu_per_dossier, 3) if cpu_per_dossier else None,
        "latency_ms": {k: {"n": len(v), "p50": _ms(v, 0.5), "p99": _ms(v, 0.99)} for k, v in tally.latencies.items()},
        "transition_latency_ms": {"p50": _ms(sum((tally.latencies[k] for k in TRANSITION_KINDS), []), 0.5),
                                  "p99": _ms(sum((tally.latencies[k] for k in TRANSITION_KINDS), []), 0.99)},
        "queue_lag_s": {kind: {"jobs": v["jobs"], "p50": _s(v["done"], 0.5), "p99": _s(v["done"], 0.99),
                               "wait_p50": _s(v["wait"], 0.5), "wait_p99": _s(v["wait"], 0.99)}
                        for kind, v in lag.items()},
        "dossiers_measured_for_size": dossiers_new,
        "db_bytes_per_dossier": round(db_bytes / dossiers_new) if dossiers_new else None,
        "db_bytes_per_dossier_without_jobs": round(db_bytes_nojobs / dossiers_new) if dossiers_new else None,
        "db_bytes_per_dossier_by_table": {t: round(v / dossiers_new) for t, v in grow.items()} if dossiers_new else {},
        "result_pdf_bytes": round(per_result_file), "slip_pdf_bytes": round(per_slip_file),
        "file_bytes_per_dossier": round(per_result_file + per_slip_file),
        "people": seeded.people, "citizens": len(seeded.citizen_tokens), "seed_s": round(seeded.seconds, 1),
        "cores_online": os.cpu_count(),
    }
    bare = {"path": "/healthz", "requests_per_s": _rate(bare_n, bare_wall), "p50_ms": _ms(bare_lat, 0.5),
            "p99_ms": _ms(bare_lat, 0.99), "requests_per_web_core_s": _rate(bare_n, bare_cpu), "errors": bare_err}
    figures["ratio_requests_to_bare"] = (round(figures["requests_per_s"] / bare["requests_per_s"], 3)
                                         if bare["requests_per_s"] and figures["requests_per_s"] else None)
    if all(figures[k] for k in ("web_cpu_ms_per_transition", "db_cpu_ms_per_transition", "worker_cpu_s_per_result")):
        figures["capacity"] = capacity.plan(figures)
    return {"name": f"{NAME}.{backend.name}", "unit": "transitions/s", "figures": figures, "baseline": bare,
            "ratio": figures["ratio_requests_to_bare"]}


def format_text(result: dict) -> str:
    f, b = result["figures"], result["baseline"]
    lines = [f"{result['name']}: {f['web_processes']} web process(es), {f['worker_processes']} worker(s), "
             f"{f['clients']} clients, {f['seconds']} s measured, procedure {f['procedure']}",
             f"  transitions        {f['transitions']:>7}   {f['transitions_per_s']:>9} /s   "
             f"{f['transitions_per_web_core_s']} per web core-s, {f['transitions_per_db_core_s']} per PostgreSQL core-s",
             f"  signed results     {f['results_signed']:>7}   {f['signed_results_per_s']:>9} /s   "
             f"{f['signed_results_per_worker_core_s']} per worker core-s (each with its dossier's receipt slip)",
             f"  signed documents   {f['results_signed'] + f['slips_signed']:>7}   {f['signed_documents_per_s']:>9} /s   "
             f"{f['signed_documents_per_worker_core_s']} per worker core-s ({f['worker_results_signed']} results and "
             f"{f['worker_slips_signed']} slips from the window's start to the empty queue, {f['worker_seconds']} s)",
             f"  CPU busy (cores)   web {f['web_cores_busy']}  workers {f['worker_cores_busy']}  "
             f"PostgreSQL {f['postgres_cores_busy']}  load generator {f['load_generator_cores_busy']}",
             f"  backlog at the end {f['backlog_at_end']} document(s), drained in {f['drain_s']} s",
             "  latency (ms)       kind              n      p50      p99"]
    for kind in KINDS:
        v = f["latency_ms"][kind]
        lines.append(f"                     {kind:<14} {v['n']:>6} {v['p50'] or '-':>8} {v['p99'] or '-':>8}")
    t = f["transition_latency_ms"]
    lines.append(f"                     {'transitions':<14} {'':>6} {t['p50'] or '-':>8} {t['p99'] or '-':>8}")
    for kind, v in f["queue_lag_s"].items():
        lines.append(f"  queue lag {kind:<7}  {v['jobs']} jobs: deferral to signed p50 {v['p50']} s, p99 {v['p99']} s "
                     f"(waiting p50 {v['wait_p50']} s, p99 {v['wait_p99']} s)")
    lines.append(f"  baseline GET {b['path']}: {b['requests_per_s']} req/s, p50 {b['p50_ms']} ms, p99 {b['p99_ms']} ms; "
                 f"requests under load / bare = {result['ratio']}")
    lines.append(f"  database {f['db_bytes_per_dossier']} bytes per dossier ({f['db_bytes_per_dossier_without_jobs']} "
                 f"without the finished jobs); files {f['file_bytes_per_dossier']} bytes per dossier "
                 f"(result {f['result_pdf_bytes']}, slip {f['slip_pdf_bytes']})")
    for s in f.get("capacity", {}).get("scopes", []):
        lines.append(f"  capacity {s['name']}: {s['transitions_per_s']:.0f} transitions/s, {s['results_per_s']:.1f} "
                     f"results/s -> web {s['web_cores']} cores, workers {s['worker_cores']} cores, PostgreSQL "
                     f"{s['db_cores']} cores, {s['app_nodes']} app nodes; database {s['db_gb_per_year']} GB/yr, "
                     f"files {s['files_gb_per_year']} GB/yr")
    return "\n".join(lines)


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through stopping the processes and dropping the schema


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.tiny:
        for key, value in TINY.items():
            setattr(args, key, value)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        backend = select_backends("postgresql")[0]
    except BackendUnavailable as exc:
        note(f"error: {exc} (the load test needs PostgreSQL: its queue, procrastinate, is the one that spans machines)")
        return 2
    try:
        result = run(args, backend)
    except CorrectnessError as exc:
        note(f"error: {NAME}: correctness check failed: {exc}")
        return 1
    except RuntimeError as exc:
        note(f"error: {NAME}: {exc}")
        return 1
    print(json.dumps(result, ensure_ascii=False) if args.json else format_text(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
