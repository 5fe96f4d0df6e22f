"""``motcua run`` on a live server: an approval answers before any PDF is rendered, the worker that
``motcua run`` starts signs the result within seconds, and SIGTERM stops the server and its worker.
On the configured database (SQLite, or PostgreSQL with MOTCUA_DATABASE_URL)."""
from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from motcua.demo import seed_demo
from tests.web.test_lifecycle_api import PDF, birth_form

pytestmark = [pytest.mark.database, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo(services, clock):
    clock.set(dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(tzinfo=None))  # the server keeps real time
    return seed_demo(services, people=60)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_motcua_run_answers_an_approval_at_once_and_its_worker_signs_the_result_within_seconds(
        demo, services, config, clock):
    couple = demo["scenarios"]["married_couple"]
    actor = services.accounts.actor_for
    wife = actor(couple["wife"])
    form = {**birth_form(couple), "child_date_of_birth": (clock() - dt.timedelta(days=5)).date().isoformat()}
    d = services.filing.start_dossier("birth-registration", form, wife)
    services.filing.add_document(d.id, "medical_birth_notice", "gcs.pdf", PDF, wife)
    services.actions.perform_action(d.id, "submit", wife)
    services.actions.perform_action(d.id, "receive", actor("clerk"))  # signed here: the fonts are subset once
    did = d.id
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update({f"MOTCUA_{k}": str(v) for k, v in config.items() if k not in ("TESTING", "ISSUE_INLINE")})
    env.update(PYTHONWARNINGS="ignore", MOTCUA_PUBLIC_URL=f"http://127.0.0.1:{port}")
    server = subprocess.Popen([sys.executable, "-m", "motcua", "run", "--port", str(port), "--workers", "1"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or the app still loading
                time.sleep(0.2)

        def session(username: str) -> requests.Session:
            s = requests.Session()
            s.headers["Authorization"] = f"Bearer {services.accounts.issue_token(username)}"
            return s

        citizen, clerk, leader, specialist = (session(couple["wife"]), session("clerk"), session("leader"),
                                              session("specialist"))
        for who, action in [(leader, "assign"), (specialist, "appraise")]:
            r = who.post(f"{base}/api/v1/dossiers/{did}/actions/{action}", json={}, timeout=30)
            assert r.status_code == 200, (action, r.text)
        r = leader.post(f"{base}/api/v1/dossiers/{did}/actions/approve", json={}, timeout=30)
        assert r.status_code == 200, r.text
        assert [x["status"] for x in r.json()["results"]] == ["pending"]  # answered before any rendering
        rid = r.json()["results"][0]["id"]
        deadline = time.monotonic() + 90  # seconds at most; the machine is shared
        while time.monotonic() < deadline:
            view = citizen.get(f"{base}/api/v1/dossiers/{did}", timeout=30).json()
            if [x["status"] for x in view["results"]] == ["valid"]:
                break
            time.sleep(0.25)
        if [x["status"] for x in view["results"]] != ["valid"]:
            server.send_signal(signal.SIGTERM)
            pytest.fail("the worker did not sign the result: " + server.communicate(timeout=90)[1].decode()[-3000:])
        pdf = citizen.get(f"{base}/api/v1/results/{rid}/pdf", timeout=30)
        assert pdf.status_code == 200 and services.verification.verify_document(pdf.content).valid
        workers = [pid for pid in _children(server.pid) if b"\0worker\0" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(workers) == 1  # the task worker beside gunicorn
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=90)
    assert server.returncode == 0, err.decode()[-2000:]
    assert not any(_alive(pid) for pid in workers)  # the worker stopped with the server
