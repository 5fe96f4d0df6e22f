"""``motcua run``: the gunicorn shape it serves with (sync workers by default, one per core and at least
two; ``--threads`` > 1 selects the gthread worker), checked on the configuration it hands gunicorn
without starting a server."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from motcua import cli


@pytest.fixture()
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    from gunicorn.app.base import BaseApplication

    seen: dict[str, Any] = {}

    def run(self: BaseApplication) -> None:  # instead of serving: what gunicorn was told
        seen.update(workers=self.cfg.workers, threads=self.cfg.threads, worker_class=self.cfg.worker_class_str,
                    bind=self.cfg.bind)

    monkeypatch.setattr(BaseApplication, "run", run)
    for key in [k for k in os.environ if k.startswith("MOTCUA_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("MOTCUA_DATA_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("MOTCUA_DATABASE_URL", f"sqlite:///{tmp_path / 'run.db'}")
    return seen


def _invoke(*args: str) -> None:
    result = CliRunner().invoke(cli.main, ["run", "--no-worker", "--port", "8765", *args])
    assert result.exit_code == 0, result.output


def test_default_is_sync_workers_one_per_core_at_least_two(served: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2})
    _invoke()
    assert served == {"workers": 3, "threads": 1, "worker_class": "sync", "bind": ["127.0.0.1:8765"]}
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    _invoke()
    assert (served["workers"], served["worker_class"]) == (2, "sync")


def test_threads_select_the_gthread_worker(served: dict[str, Any]) -> None:
    _invoke("--workers", "3", "--threads", "4")
    assert (served["workers"], served["threads"], served["worker_class"]) == (3, 4, "gthread")


def test_zero_workers_or_threads_are_refused(served: dict[str, Any]) -> None:
    for args in (["--workers", "0"], ["--threads", "0"]):
        result = CliRunner().invoke(cli.main, ["run", "--no-worker", *args])
        assert result.exit_code == 2 and not served
