"""The benchmark entry point runs end to end on SQLite and prints a well-formed JSON line.

A smoke test only: a very short run with one process; no timing is asserted, only that
transitions were committed and that the benchmark's own correctness checks ran.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_transitions_benchmark_prints_one_json_line_with_checked_counts(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MOTCUA_DATABASE_URL"}
    env["TMPDIR"] = str(tmp_path)  # the benchmark's temporary database lands here, and must be gone after
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "transitions", "--json", "--seconds", "0.3", "--procs", "1",
         "--backend", "sqlite", "--dossiers", "10", "--rounds", "2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0])

    assert set(result) == {"name", "unit", "figures", "baseline", "ratio"}
    assert result["name"] == "transitions.sqlite"
    assert result["unit"] == "transitions/s"
    figures, baseline = result["figures"], result["baseline"]
    for key in ("services_1p", "raw_1p", "services_committed_1p", "raw_committed_1p", "ratio_1p"):
        assert figures[key] > 0, key
    assert baseline["raw_1p"] == figures["raw_1p"]
    assert result["ratio"] == figures["ratio_1p"]
    # two rounds: each ratio is the median (here the mean) of the two rounds' own ratios
    assert figures["rounds"] == 2
    for key in ("ratio", "ratio_lean"):
        each = figures[f"{key}_rounds_1p"]
        assert len(each) == 2 and all(v > 0 for v in each), key
        assert figures[f"{key}_1p"] == round(sum(each) / 2, 3), key
    # the correctness assertions ran: every committed transition's audit row was counted, chains verified
    assert figures["events_checked"] == figures["services_committed_1p"] + figures["raw_committed_1p"]
    assert figures["audit_chains_verified"] > 0
    # a dossier with 1,000 events answers with its latest 20 only: not ten times the size of one with 10
    assert (figures["view_events_40_events"], figures["view_events_1000_events"]) == (20, 20)
    assert figures["view_bytes_1000_events"] < 2 * figures["view_bytes_40_events"]
    assert figures["view_reads_40_events"] > 0 and figures["view_reads_1000_events"] > 0
    assert list(tmp_path.iterdir()) == []  # the temporary database was removed


def test_signing_benchmark_prints_one_json_line_and_every_signed_file_verified(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["TMPDIR"] = str(tmp_path)  # the benchmark's data dir (PKI, fonts) lands here, and must be gone after
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "signing", "--json", "--count", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0])

    assert set(result) == {"name", "unit", "figures", "baseline", "ratio"}
    assert result["name"] == "signing"
    assert result["unit"] == "ms"
    figures, baseline = result["figures"], result["baseline"]
    has_pdfsig = shutil.which("pdfsig") is not None and shutil.which("certutil") is not None
    steps = ["render", "render_sign_bb", "render_sign_bt", "verify_bt", "verify_full", "upgrade_lta"]
    for step in steps + (["pdfsig"] if has_pdfsig else []):
        assert figures[f"{step}_median_ms"] > 0, step
        assert figures[f"{step}_p90_ms"] >= figures[f"{step}_median_ms"], step
    assert baseline == {"step": "render", "median_ms": figures["render_median_ms"],
                        "p90_ms": figures["render_p90_ms"], "verify_peer": "pdfsig",
                        "pdfsig_median_ms": figures["pdfsig_median_ms"]}
    assert result["ratio"] == figures["ratio_bt"] > 0
    assert figures["ratio_bb"] > 0
    for key in ("goal_met", "goal_sign_met", "goal_verify_met"):
        assert isinstance(figures[key], bool), key
    assert figures["goal_met"] == (figures["goal_sign_met"] and figures["goal_verify_met"])
    assert figures["goal_ratio_bt"] == 1.25 and figures["goal_ratio_verify"] == 2.0
    if has_pdfsig:
        assert figures["ratio_verify_to_pdfsig"] > 0 and figures["ratio_verify_full_to_pdfsig"] > 0
        assert figures["pdfsig_checked"] == figures["count"] + figures["warmup_rounds"]
    # our result's QR page answered from the stored verdict in every round, checked against the full check
    assert figures["pages_checked"] == figures["count"] + figures["warmup_rounds"]
    assert figures["timestamps_per_file"] == 2
    # signatures and the DSS revision make the file larger; a timestamp token fits in the room
    # reserved for each signature, so B-T is about as large as B-B (a few bytes either way: the
    # length of DER integers in the signatures and of the date strings varies from run to run)
    assert 0 < figures["pdf_bytes"] < figures["signed_bb_bytes"] < figures["signed_lta_bytes"]
    assert abs(figures["signed_bt_bytes"] - figures["signed_bb_bytes"]) < 256
    assert figures["signed_bt_bytes"] < figures["signed_lta_bytes"]
    assert figures["count"] == 1
    # the correctness assertions ran: B-B, B-T and B-LTA of every round (warm-ups included) verified valid
    assert figures["files_verified"] == 3 * (figures["count"] + figures["warmup_rounds"])
    assert figures["signatures_per_file"] == 2
    for key in ("cold_import_ms", "cold_first_render_ms", "cold_process_ms"):
        assert figures[key] > 0, key
    assert not list(tmp_path.glob("motcua-bench-*"))  # the temporary data dir was removed


def test_queue_benchmark_prints_figures_per_size_with_the_smallest_as_baseline(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MOTCUA_DATABASE_URL"}
    env["TMPDIR"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "queue", "--json", "--backend", "sqlite", "--sizes", "300,600",
         "--seconds", "0.1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0])

    assert set(result) == {"name", "unit", "figures", "baseline", "ratio"}
    assert (result["name"], result["unit"]) == ("queue.sqlite", "ms")
    figures, baseline = result["figures"], result["baseline"]
    assert figures["sizes"] == [300, 600] and set(figures["by_size"]) == {"300", "600"}
    for size, row in figures["by_size"].items():
        for key in ("api_p50_ms", "desk_p50_ms"):
            assert 0 < row[key] <= row[key.replace("p50", "p95")], (size, key)
        assert row["api_n"] > 0 and row["desk_n"] > 0
        assert 0 < row["settled"] < int(size)  # the correctness checks ran on the loaded rows
    assert baseline["size"] == 300 and baseline["api_p95_ms"] == figures["by_size"]["300"]["api_p95_ms"]
    assert result["ratio"] == max(figures["ratio_api_p95"], figures["ratio_desk_p95"]) > 0
    assert isinstance(figures["goal_met"], bool)
    assert list(tmp_path.iterdir()) == []
