"""The web benchmark runs end to end on SQLite (one worker model, 2 clients, 1 s windows, a few hundred
requests for the memory reading) and prints one well-formed JSON line whose figures hang together. A
smoke test only: no timing is asserted. The worker-model strings parse as documented."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.web import KINDS, Model

ROOT = Path(__file__).resolve().parent.parent


def test_worker_models_parse() -> None:
    assert Model.parse("sync:2") == Model(2, 1)
    assert Model.parse("gthread:2x4") == Model(2, 4)
    assert Model.parse("3x8").label == "gthread:3x8"
    assert Model.parse("sync:4").label == "sync:4"
    for bad in ("sync:2x4", "gthread:0x4", "eventlet:2", "two"):
        with pytest.raises(ValueError):
            Model.parse(bad)


@pytest.mark.slow  # seeding, starting two gunicorn servers twice, two rounds: about a minute
def test_web_benchmark_prints_one_json_line_with_every_kind_against_the_minimal_endpoint(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env["TMPDIR"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "web", "--json", "--backend", "sqlite", "--seconds", "1", "--clients", "2",
         "--requests", "200", "--models", "sync:1,gthread:1x2", "--rounds", "2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0])

    assert set(result) == {"name", "unit", "figures", "baseline", "ratio"}
    assert (result["name"], result["unit"]) == ("web.sqlite", "requests/s")
    f = result["figures"]
    assert (f["model"], f["clients"], f["rounds"]) == ("sync:1", 2, 2)
    for kind in KINDS:
        k = f[kind]
        assert k["requests"] > 0 and k["requests_per_s"] > 0 and 0 < k["p50_ms"] <= k["p99_ms"]
        assert k["minimal"]["requests"] > 0 and 0 < k["minimal"]["p50_ms"] <= k["minimal"]["p99_ms"]
        assert k["ratio"] == round(k["requests_per_s"] / k["minimal"]["requests_per_s"], 3)
        assert k["p99_ratio"] == round(k["p99_ms"] / k["minimal"]["p99_ms"], 3)
        assert k["goal_throughput_met"] == (k["ratio"] >= 0.7) and k["goal_p99_met"] == (k["p99_ratio"] <= 2.0)
        assert result["baseline"]["requests_per_s"][kind] == k["minimal"]["requests_per_s"]
        # two rounds of each kind next to its minimal window: the figures are the lower one's, whole
        assert len(k["ratio_rounds"]) == 2 and k["ratio"] == min(k["ratio_rounds"])
    # an action also beside the least write, measured next to it
    w = f["action"]["to_minimal_write"]
    assert w["minimal_write"]["requests"] > 0 and 0 < w["minimal_write"]["p50_ms"] <= w["minimal_write"]["p99_ms"]
    assert w["ratio"] == round(f["action"]["requests_per_s"] / w["minimal_write"]["requests_per_s"], 3)
    assert all("to_minimal_write" not in f[kind] for kind in KINDS if kind != "action")
    assert result["ratio"] == min(f[kind]["ratio"] for kind in KINDS)
    assert set(f["models"]) == {"sync:1", "gthread:1x2"}
    assert all(set(kinds) == set(KINDS) for kinds in f["models"].values())
    # one gunicorn worker, read before and after the requests of the mix
    m = f["memory"]
    assert m["requests"] == 200 and len(m["workers"]) == 1
    w = m["workers"][0]
    assert w["rss_kb_warm"] > 0 and w["rss_kb_after"] > 0
    assert w["growth_pct"] == round(100 * (w["rss_kb_after"] - w["rss_kb_warm"]) / w["rss_kb_warm"], 2)
    assert m["max_growth_pct"] == w["growth_pct"] and m["goal_met"] == (w["growth_pct"] <= 10)
    assert f["goals_met"]["memory"] == m["goal_met"]
