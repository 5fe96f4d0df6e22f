"""National-portal sync: after ``motcua sync`` the portal sandbox holds every demo dossier's current
status in the portal's terms; ``motcua sync report`` finds no difference, then names one injected on
the portal's side; a second sync pushes nothing (resumable from its cursor, idempotent)."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from types import SimpleNamespace

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from engine.adapters.models import Dossier
from engine.rules.portal import portal_status
from motcua.demo import seed_demo_queue
from motcua.sandbox.portal import create_portal_sandbox
from tests.conftest import free_port

pytestmark = pytest.mark.database


@pytest.fixture
def portal():
    port = free_port()
    app = create_portal_sandbox(token="portal-token")
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}", app.extensions["portal_sandbox"]
    server.shutdown()
    server.server_close()


class CliRunner:
    """Runs ``motcua`` as its own process, as an operator would (each run opens and closes its own
    database connections)."""

    def invoke(self, _main, args: list[str], env: dict[str, str]):
        done = subprocess.run([sys.executable, "-m", "motcua", *args], env={**os.environ, **env},
                              capture_output=True, text=True, timeout=300)
        return SimpleNamespace(exit_code=done.returncode, output=done.stdout + done.stderr)


main = None


@pytest.fixture
def cli_env(settings, portal) -> dict[str, str]:
    return {"MOTCUA_DATABASE_URL": settings.database_url, "MOTCUA_DATA_DIR": str(settings.data_dir),
            "MOTCUA_FONT_CACHE_DIR": str(settings.font_cache_dir), "MOTCUA_SECRET_KEY": "test-secret",
            "MOTCUA_PROCEDURES": ":".join(str(p) for p in settings.procedures),
            "MOTCUA_PORTAL_URL": portal[0], "MOTCUA_PORTAL_TOKEN": "portal-token"}


def test_after_motcua_sync_the_sandbox_holds_every_demo_dossiers_current_status(services, demo, portal, cli_env):
    assert seed_demo_queue(services, demo) > 0
    url, held = portal
    runner = CliRunner()
    result = runner.invoke(main, ["sync"], env=cli_env)
    assert result.exit_code == 0, result.output
    with services.uow(write=False) as uow:
        ours = {d.code: d for d in uow.session.execute(
            select(Dossier.code, Dossier.status_code, Dossier.channel, Dossier.received_at, Dossier.due_at)
            .where(Dossier.code.is_not(None)))}
    assert ours and set(held) == set(ours)
    for code, d in ours.items():
        record = held[code]
        assert record["status_code"] == d.status_code
        assert record["channel"] == {"online": 2, "counter": 1, "postal": 3}[d.channel]
        assert record["received_at"] == (d.received_at.isoformat() if d.received_at else None)
        assert record["due_at"] == (d.due_at.isoformat() if d.due_at else None)

    report = runner.invoke(main, ["sync", "report"], env=cli_env)
    assert report.exit_code == 0 and "no differences" in report.output, report.output
    again = runner.invoke(main, ["sync"], env=cli_env)
    assert again.exit_code == 0 and again.output.startswith("0 status(es) pushed"), again.output

    # a difference on the portal's side (a later status for one of ours, and a dossier we do not have)
    code = sorted(ours)[0]
    wrong = 10 if ours[code].status_code != 10 else 4
    headers = {"Authorization": "Bearer portal-token"}
    assert requests.post(f"{url}/dossiers", headers=headers, timeout=5, json={
        "dossier_code": code, "status_code": wrong, "event_id": 10**9}).status_code == 201
    assert requests.post(f"{url}/dossiers", headers=headers, timeout=5, json={
        "dossier_code": "X-000", "status_code": 2, "event_id": 1}).status_code == 201
    report = runner.invoke(main, ["sync", "report"], env=cli_env)
    assert report.exit_code == 1
    assert f"different status: {code}: ours {ours[code].status_code}, portal {wrong}" in report.output
    assert "on the portal only: X-000" in report.output
    del held[sorted(ours)[-1]]
    report = runner.invoke(main, ["sync", "report"], env=cli_env)
    assert report.exit_code == 1 and f"missing on the portal: {sorted(ours)[-1]}" in report.output


def test_a_sync_stopped_by_the_portal_resumes_from_its_cursor(services, demo, portal, cli_env, api_as):
    from tests.web.test_signed_results import approved_birth

    approved_birth(demo, api_as)
    url, held = portal
    bad_env = {**cli_env, "MOTCUA_PORTAL_TOKEN": "wrong"}
    runner = CliRunner()
    failed = runner.invoke(main, ["sync"], env=bad_env)
    assert failed.exit_code == 1 and "stopped at cursor" in failed.output and held == {}
    done = runner.invoke(main, ["sync"], env=cli_env)
    assert done.exit_code == 0 and len(held) == 1
    (record,) = held.values()
    assert record["status_code"] == 9 and record["finished_at"] is not None


def test_the_portal_terms_of_an_event():
    event = {"id": 7, "type": "dossier.transition", "dossier": {"id": "x", "code": "A-1"}, "status_code": 2,
             "data": {"channel": "counter", "received_at": "2026-03-02T09:00:00", "due_at": "2026-03-05T17:00:00"}}
    assert portal_status(event) == {"dossier_code": "A-1", "status_code": 2, "received_at": "2026-03-02T09:00:00",
                                    "due_at": "2026-03-05T17:00:00", "finished_at": None, "channel": 1,
                                    "result": None, "event_id": 7}
    assert portal_status({**event, "dossier": {"id": "x", "code": None}}) is None  # no code yet
    assert portal_status({**event, "status_code": None}) is None


def test_sync_without_a_portal_says_so(cli_env):
    env = {**cli_env, "MOTCUA_PORTAL_URL": ""}
    result = CliRunner().invoke(main, ["sync"], env=env)
    assert result.exit_code == 1 and "MOTCUA_PORTAL_URL is not set" in result.output
