"""Slow work off the request: an action answers with its documents pending and no PDF rendered; a
worker then signs them; a job exists if and only if the transition committed; duplicates issue once;
a worker killed with SIGKILL mid-signing loses nothing and issues nothing twice. On the configured
database (SQLite: the outbox worker; PostgreSQL: procrastinate)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.adapters.models import Result, Slip
from tests.web.test_signed_results import approved_birth

pytestmark = pytest.mark.database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(config: dict) -> dict:
    return {**config, "ISSUE_INLINE": False}  # the default: documents are signed by a worker


@pytest.fixture
def renders(services, monkeypatch) -> list[str]:
    """Every document the signing adapter renders (a spy around the real one)."""
    calls: list[str] = []
    real = services.issuance.issuer.issue

    def spy(template, context, **kw):
        calls.append(kw["title"])
        return real(template, context, **kw)

    monkeypatch.setattr(services.issuance.issuer, "issue", spy)
    return calls


def blob_count(services) -> int:
    return sum(1 for p in services.blobs.root.rglob("*") if p.is_file())


def statuses(services, dossier_id: str) -> tuple[list[str], list[str]]:
    with services.uow(write=False) as uow:
        s = uow.session
        results = list(s.scalars(select(Result.status).where(Result.dossier_id == dossier_id)))
        slips = list(s.scalars(select(Slip.status).where(Slip.dossier_id == dossier_id)))
    return results, slips


def test_an_approval_answers_with_the_result_pending_and_nothing_rendered_then_a_worker_signs_it(
        demo, api_as, services, renders, web_as):
    d = approved_birth(demo, api_as)
    assert d["state"] == "decided" and [r["status"] for r in d["results"]] == ["pending"]
    assert renders == []  # no PDF rendered in any request
    blobs_before = blob_count(services)  # the uploaded birth notice only
    assert services.tasks.counts()["waiting"] == 2  # the receipt (receive) and the certificate (approve)
    wife = demo["scenarios"]["married_couple"]["wife"]
    page = web_as(wife).get(f"/my/dossiers/{d['id']}").get_data(as_text=True)
    assert "Đang ký số; tệp sẽ sẵn sàng sau ít phút." in page  # "being signed" on the citizen's page
    assert api_as(wife).get(f"/api/v1/results/{d['results'][0]['id']}/pdf").status_code == 409

    assert services.tasks.run_pending() == 2
    assert len(renders) == 2 and blob_count(services) == blobs_before + 2
    view = api_as(wife).get(f"/api/v1/dossiers/{d['id']}").get_json()
    assert [r["status"] for r in view["results"]] == ["valid"] and len(view["results"][0]["sha256"]) == 64
    pdf = api_as(wife).get(f"/api/v1/results/{d['results'][0]['id']}/pdf")
    assert pdf.status_code == 200 and services.verification.verify_document(pdf.data).valid
    page = web_as(wife).get(f"/my/dossiers/{d['id']}").get_data(as_text=True)
    assert "Đang ký số; tệp sẽ sẵn sàng sau ít phút." not in page
    assert services.tasks.counts() == {"waiting": 0, "running": 0, "failed": 0}
    assert services.tasks.run_pending() == 0


def test_a_failing_transition_leaves_no_job_and_no_pending_document(demo, api_as, services, monkeypatch, renders):
    couple = demo["scenarios"]["married_couple"]
    actor = services.accounts.actor_for
    d = approved_birth(demo, api_as)  # a committed approval: its jobs exist
    services.tasks.run_pending()
    before = services.tasks.counts()
    # a second dossier up to the approval, whose transaction then fails after the job was deferred
    from tests.web.test_lifecycle_api import PDF, birth_form
    citizen = actor(couple["wife"])
    other = services.filing.start_dossier("birth-registration", birth_form(couple), citizen)
    services.filing.add_document(other.id, "medical_birth_notice", "gcs.pdf", PDF, citizen)
    services.actions.perform_action(other.id, "submit", citizen)
    for action, who in [("receive", "clerk"), ("assign", "leader"), ("appraise", "specialist")]:
        services.actions.perform_action(other.id, action, actor(who))
    services.tasks.run_pending()
    calls = len(renders)

    def broken(*a, **kw):
        raise RuntimeError("the view could not be read")

    monkeypatch.setattr(services.dossiers, "view", broken)  # read after the defer, before the commit
    with pytest.raises(RuntimeError):
        services.actions.perform_action(other.id, "approve", actor("leader"))
    assert services.tasks.counts() == before
    assert statuses(services, other.id) == ([], ["valid"])  # no result, pending or not; the receipt signed
    assert services.tasks.run_pending() == 0 and len(renders) == calls
    assert d["id"] != other.id


def test_a_duplicate_job_for_one_document_issues_it_once(demo, api_as, services, renders):
    d = approved_birth(demo, api_as)
    rid = d["results"][0]["id"]
    queue = services.tasks.queue
    with services.uow() as uow:  # a second job while the first waits: refused by the lock
        assert queue.defer_if_absent(uow.session.connection(), "issue_document", {"document_id": rid},
                                     lock=f"document:{rid}") is False
        uow.commit()
    assert services.tasks.requeue_pending() == 0  # every pending document has its job
    services.tasks.run_pending()
    blobs = blob_count(services)
    titles = list(renders)
    with services.uow() as uow:  # a job for a document already issued: runs, does nothing
        services.tasks.defer_issue(uow.session.connection(), [rid])
        uow.commit()
    assert services.tasks.run_pending() == 1
    assert renders == titles and blob_count(services) == blobs
    with services.uow(write=False) as uow:
        s = uow.session
        assert s.execute(select(func.count()).select_from(Result).where(Result.dossier_id == d["id"])).scalar_one() == 1
        assert s.get(Result, rid).status == "valid"


def test_a_failing_signature_is_retried_with_back_off_and_left_pending_meanwhile(demo, api_as, services, clock,
                                                                                  monkeypatch):
    d = approved_birth(demo, api_as)
    rid = d["results"][0]["id"]

    def down(*a, **kw):
        raise ConnectionError("signing service unavailable")

    real = services.issuance.issuer.issue
    monkeypatch.setattr(services.issuance.issuer, "issue", down)
    assert services.tasks.run_pending() == 2  # both ran and failed
    assert statuses(services, d["id"]) == (["pending"], ["pending"])
    assert services.tasks.run_pending() == 0  # backing off: not due yet
    assert services.tasks.counts()["waiting"] == 2
    with services.uow(write=False) as uow:
        r = uow.session.get(Result, rid)
        assert r.issue_attempts == 1 and r.issue_error == "ConnectionError"
    monkeypatch.setattr(services.issuance.issuer, "issue", real)
    if services.tasks.queue.name == "outbox":
        clock.advance(seconds=5)  # the embedded queue keeps time with the application's clock
        assert services.tasks.run_pending() == 2
        assert statuses(services, d["id"]) == (["valid"], ["valid"])


def test_the_requeue_gives_a_job_to_a_document_left_pending_without_one(demo, api_as, services, monkeypatch):
    monkeypatch.setattr(services.actions, "issue_inline", True)
    monkeypatch.setattr(services.issuance, "issuer", None)  # inline signing impossible: documents stay pending
    d = approved_birth(demo, api_as)
    monkeypatch.undo()
    assert services.tasks.counts()["waiting"] == 0 and statuses(services, d["id"]) == (["pending"], ["pending"])
    assert services.tasks.requeue_pending() == 2
    assert services.tasks.requeue_pending() == 0
    assert services.tasks.run_pending() == 2
    assert statuses(services, d["id"]) == (["valid"], ["valid"])


# ------------------------------------------------------------------------------- SIGKILL mid-signing

BLOCKING_WORKER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    import signing.issuer
    real = signing.issuer.DocumentIssuer.issue
    def issue(self, *args, **kwargs):
        pdf = real(self, *args, **kwargs)
        Path(os.environ["TEST_SIGNED_MARKER"]).write_text("signed")
        time.sleep(600)  # the test kills this worker here: signed, not stored
        return pdf
    signing.issuer.DocumentIssuer.issue = issue
    from motcua.cli import main
    main(["worker"])
""")

LEASE = 2


def _worker_env(config: dict, tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update({f"MOTCUA_{k}": str(v) for k, v in config.items() if k not in ("TESTING",)})
    env.update(MOTCUA_TASK_LEASE_SECONDS=str(LEASE), TEST_SIGNED_MARKER=str(tmp_path / "signed"),
               PYTHONWARNINGS="ignore")
    return env


@pytest.mark.slow
def test_a_worker_killed_mid_signing_then_restarted_issues_exactly_one_valid_result(
        demo, api_as, services, config, tmp_path):
    couple = demo["scenarios"]["married_couple"]
    d = approved_birth(demo, api_as)
    rid = d["results"][0]["id"]
    with services.uow(write=False) as uow:
        slip_ids = list(uow.session.scalars(select(Slip.id).where(Slip.dossier_id == d["id"])))
    for slip_id in slip_ids:  # the receipt first: the worker below meets only the certificate
        services.issuance.issue_document(slip_id)
    blobs = blob_count(services)
    env = _worker_env(config, tmp_path)
    first = subprocess.Popen([sys.executable, "-c", BLOCKING_WORKER], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "signed").exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (tmp_path / "signed").exists(), "the worker never reached the signing step"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert statuses(services, d["id"])[0] == ["pending"] and blob_count(services) == blobs
    time.sleep(LEASE + 1)  # the dead worker's lease (heartbeat) runs out
    second = subprocess.Popen([sys.executable, "-m", "motcua", "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while statuses(services, d["id"])[0] != ["valid"] and second.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(LEASE)  # give a second (wrong) run the time to show itself
    finally:
        second.send_signal(signal.SIGTERM)
        _, err = second.communicate(timeout=60)
    assert second.returncode == 0, err.decode()[-2000:]
    assert statuses(services, d["id"]) == (["valid"], ["valid"])
    assert blob_count(services) == blobs + 1  # one signed file: nothing issued twice
    with services.uow(write=False) as uow:
        s = uow.session
        assert s.execute(select(func.count()).select_from(Result).where(Result.dossier_id == d["id"])).scalar_one() == 1
    pdf = api_as(couple["wife"]).get(f"/api/v1/results/{rid}/pdf")
    assert pdf.status_code == 200 and services.verification.verify_document(pdf.data).valid
    assert services.tasks.counts() == {"waiting": 0, "running": 0, "failed": 0}
