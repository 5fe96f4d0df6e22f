"""The load test runs end to end on PostgreSQL (1 web process, 1 worker, a few seconds) and prints one
well-formed JSON line whose figures hang together. A smoke test only: no timing is asserted."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.common import POSTGRES_DEFAULT, configured_postgres, postgres_reachable

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def postgres_url() -> str:
    url = configured_postgres() or POSTGRES_DEFAULT
    if not postgres_reachable(url):
        pytest.skip("the load test needs PostgreSQL (set MOTCUA_DATABASE_URL)")
    return url


@pytest.mark.slow  # seeding, starting gunicorn and a worker, draining the queue: about half a minute
def test_loadtest_tiny_run_prints_one_json_line_with_consistent_figures(tmp_path: Path, postgres_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update(MOTCUA_DATABASE_URL=postgres_url, TMPDIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "bench.loadtest", "--tiny", "--json"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0])

    assert set(result) == {"name", "unit", "figures", "baseline", "ratio"}
    assert result["name"] == "loadtest.postgresql"
    f, bare = result["figures"], result["baseline"]
    assert (f["web_processes"], f["worker_processes"], f["clients"]) == (1, 1, 2)
    # every answered request in the window is one audit event (the run checks it, up to the requests in flight at
    # its edges: each client at most one at the start and one at the end)
    answered = sum(v["n"] for v in f["latency_ms"].values())
    assert f["transitions"] > 0 and abs(f["transitions"] - answered) <= 2 * f["clients"]
    for kind in ("create", "submit", "receive"):
        assert f["latency_ms"][kind]["n"] > 0
        assert 0 < f["latency_ms"][kind]["p50"] <= f["latency_ms"][kind]["p99"]
    # the processes under test and PostgreSQL were busy, each measured on its own
    assert all(f["cpu_s"][k] > 0 for k in ("web", "workers", "postgres", "load_generator"))
    assert f["transitions_per_web_core_s"] > 0 and f["transitions_per_db_core_s"] > 0
    # the queue drained: every signing job deferred in the window has a lag, waiting no longer than the whole
    for kind in ("result", "slip"):
        lag = f["queue_lag_s"][kind]
        if lag["jobs"]:
            assert 0 <= lag["wait_p50"] <= lag["p50"] <= lag["p99"]
    assert f["queue_lag_s"]["slip"]["jobs"] > 0  # every receipt defers its slip
    # the jobs add whole 8 KB pages, or none when their rows fit in pages the tables already had
    assert f["db_bytes_per_dossier"] >= f["db_bytes_per_dossier_without_jobs"] > 0
    assert f["slip_pdf_bytes"] > 0
    assert bare["path"] == "/healthz" and bare["requests_per_s"] > 0 and bare["errors"] == 0
    assert result["ratio"] == f["ratio_requests_to_bare"] > 0
    if "capacity" in f:
        national = f["capacity"]["scopes"][-1]
        assert national["transitions_per_s"] == 1000 and national["app_nodes"] >= 2
    assert list(tmp_path.iterdir()) == []  # the scratch folder (data dir, logs) was removed


def test_loadtest_refuses_a_bad_size_with_a_clear_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "bench.loadtest", "--web", "0"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "--web" in proc.stderr and "must be positive" in proc.stderr
