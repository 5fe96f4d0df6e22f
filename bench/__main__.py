"""``python -m bench [NAME...] [--json]``: run the benchmarks against a temporary database.

SQLite (a file in a temporary folder) by default; PostgreSQL when MOTCUA_DATABASE_URL names one, in
a fresh schema ``motcua_bench_<random>`` dropped at the end. See bench/README.md.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys

from bench import prefill, signing, transitions, web, work_queue
from bench.common import BackendUnavailable, CorrectnessError, note, select_backends, temporary_database

BENCHMARKS = {transitions.NAME: transitions, signing.NAME: signing, prefill.NAME: prefill,
              work_queue.NAME: work_queue, web.NAME: web}


def _procs(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of process counts, e.g. 1,4") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError("process counts must be positive integers")
    return list(dict.fromkeys(values))


def _sizes(text: str) -> tuple[int, ...]:
    try:
        values = tuple(sorted({int(v.replace("_", "")) for v in text.split(",") if v.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of table sizes, e.g. 10000,100000") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError("table sizes must be positive integers")
    return values


def _models(text: str) -> list[web.Model]:
    try:
        return list(dict.fromkeys(web.Model.parse(v) for v in text.split(",") if v.strip()))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(kind: type) -> object:
    def parse(text: str) -> object:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError("must be positive")
        return value

    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run (default all: {', '.join(BENCHMARKS)})")
    p.add_argument("--json", action="store_true", help="one JSON object per benchmark per line")
    p.add_argument("--seconds", type=_positive(float), default=3.0, help="time per measurement (default 3)")
    p.add_argument("--procs", type=_procs, default=[1, 4], help="process counts (default 1,4)")
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default=None,
                   help="default: the configured database (MOTCUA_DATABASE_URL), else SQLite")
    p.add_argument("--rounds", type=_positive(int), default=1,
                   help="transitions, web: measure each figure and its baseline this many times, next to each "
                        "other, and report the medians (default 1)")
    p.add_argument("--dossiers", type=_positive(int), default=200, help="dossiers per worker process (default 200)")
    p.add_argument("--count", type=_positive(int), default=20,
                   help="signing: timed iterations of each step, after 2 warm-ups (default 20)")
    p.add_argument("--sizes", type=_sizes, default=None,
                   help="queue: table sizes to measure, comma-separated, e.g. 10000,100000,1000000 "
                        "(default 10000,100000); the smallest is the baseline")
    p.add_argument("--models", type=_models, default=None,
                   help="web: gunicorn worker models to measure in turn, e.g. sync:2,gthread:2x4,sync:4 "
                        "(default: motcua run's own); the first one's figures are the result")
    p.add_argument("--clients", type=_positive(int), default=web.DEFAULT_CLIENTS,
                   help=f"web: client threads of the load generator (default {web.DEFAULT_CLIENTS})")
    p.add_argument("--requests", type=_positive(int), default=10_000,
                   help="web: requests of the mix between the two memory readings (default 10000)")
    p.add_argument("--profile", action="store_true",
                   help="instead of measuring, profile the services path in one process for --seconds "
                        "(signing: the sign step, --count times)")
    return p


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the clean-up of the temporary database


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser().error(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})")
    names = list(dict.fromkeys(args.names)) or list(BENCHMARKS)
    backends = []
    if any(getattr(BENCHMARKS[n], "NEEDS_DATABASE", True) for n in names):
        try:
            backends = select_backends(args.backend)
        except BackendUnavailable as exc:
            note(f"error: {exc}")
            return 2
    for name in names:
        module = BENCHMARKS[name]
        if not getattr(module, "NEEDS_DATABASE", True):  # makes and removes its own temporary folder
            note(f"{name}: running in a temporary folder ...")
            try:
                if args.profile:
                    print(module.profile(count=args.count), flush=True)
                    continue
                result = module.run(count=args.count)
            except CorrectnessError as exc:
                note(f"error: {name}: correctness check failed: {exc}")
                return 1
            except RuntimeError as exc:  # e.g. the cold-start process failed
                note(f"error: {name}: {exc}")
                return 1
            print(json.dumps(result, ensure_ascii=False) if args.json else module.format_text(result), flush=True)
            continue
        for backend in backends:
            note(f"{name}.{backend.name}: preparing a temporary database ...")
            try:
                with temporary_database(backend) as (url, workdir):
                    if args.profile:
                        print(module.profile(backend, url, workdir, seconds=args.seconds, dossiers=args.dossiers),
                              flush=True)
                        continue
                    extra = {"sizes": args.sizes} if getattr(module, "TAKES_SIZES", False) and args.sizes else {}
                    if getattr(module, "TAKES_WEB", False):
                        extra = {"models": args.models, "clients": args.clients, "requests": args.requests}
                    if getattr(module, "TAKES_ROUNDS", False):
                        extra["rounds"] = args.rounds
                    result = module.run(backend, url, workdir, seconds=args.seconds, procs=args.procs,
                                        dossiers=args.dossiers, **extra)
            except CorrectnessError as exc:
                note(f"error: {name}.{backend.name}: correctness check failed: {exc}")
                return 1
            except RuntimeError as exc:  # a worker process failed; its traceback is in the message
                note(f"error: {name}.{backend.name}: {exc}")
                return 1
            if args.json:
                print(json.dumps(result, ensure_ascii=False), flush=True)
            else:
                print(module.format_text(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
