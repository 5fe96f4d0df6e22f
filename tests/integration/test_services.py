"""Use cases through engine.usecases.services on a real database: versions, clock policies, sweeps, audit."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, update

from engine.rules.errors import ActionNotAllowedError, ConcurrencyError, DefinitionError
from engine.adapters.models import DossierEvent, Result
from engine.adapters.uow import make_engine
from tests.web.test_lifecycle_api import PDF, birth_form
from motcua.bootstrap import bootstrap
from motcua.settings import BUNDLED_PROCEDURES, Settings

pytestmark = pytest.mark.database


def _copy_bundled_except(root: Path, changed: str) -> None:
    """Every bundled procedure but one (the caller copies that one with its changes)."""
    for folder in BUNDLED_PROCEDURES.iterdir():
        if (folder / "procedure.yaml").is_file() and folder.name != changed:
            shutil.copytree(folder, root / folder.name)
    shutil.copytree(BUNDLED_PROCEDURES / "slips", root / "slips")


def _copy_procedure(root: Path, source: str, new_id: str | None = None, **changes: str) -> Path:
    target = root / (new_id or source)
    shutil.copytree(BUNDLED_PROCEDURES / source, target)
    text = (target / "procedure.yaml").read_text(encoding="utf-8")
    if new_id:
        text = text.replace(f"id: {source}", f"id: {new_id}", 1)
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    (target / "procedure.yaml").write_text(text, encoding="utf-8")
    return target


@pytest.fixture
def services_on(config, clock):
    """Services over the same database with another procedures folder; engines closed afterwards."""
    engines = []

    def make(root: Path):
        engine = make_engine(config["DATABASE_URL"])
        engines.append(engine)
        return bootstrap(Settings.from_environment({**config, "PROCEDURES": str(root)}), engine=engine, clock=clock)

    yield make
    for engine in engines:
        engine.dispose()


def _received_birth(services, couple: dict):
    citizen = services.accounts.actor_for(couple["wife"])
    clerk = services.accounts.actor_for("clerk")
    d = services.filing.start_dossier("birth-registration", birth_form(couple), citizen)
    services.filing.add_document(d.id, "medical_birth_notice", "gcs.pdf", PDF, citizen)
    services.actions.perform_action(d.id, "submit", citizen)
    return services.actions.perform_action(d.id, "receive", clerk), citizen, clerk


def test_publishing_version_two_leaves_running_dossiers_on_version_one(services, demo, services_on, tmp_path):
    couple = demo["scenarios"]["married_couple"]
    d, citizen, clerk = _received_birth(services, couple)
    assert d.version == 1

    # version 2 replaces the file: 3 working days instead of immediately
    root = tmp_path / "procs-v2"
    root.mkdir()
    shutil.copytree(BUNDLED_PROCEDURES / "calendars", root / "calendars")
    shutil.copy(BUNDLED_PROCEDURES / "evidence-types.yaml", root / "evidence-types.yaml")
    _copy_bundled_except(root, "birth-registration")
    _copy_procedure(root, "birth-registration", **{"version: 1": "version: 2",
                                                   "time_limit: {value: 0, unit: immediate}": "time_limit: {value: 3, unit: working_days}"})
    v2 = services_on(root)
    report = v2.procedures.publish_procedures()
    assert ("birth-registration", 2) in report.published

    # the running dossier keeps version 1 (loaded from the stored text) and moves on under it
    leader = v2.accounts.actor_for("leader")
    moved = v2.actions.perform_action(d.id, "assign", leader)
    assert moved.version == 1 and moved.state == "processing_appraise"
    # a new dossier pins version 2 and gets its time limit
    new, _, _ = _received_birth(v2, couple)
    assert new.version == 2
    assert new.due_at == dt.datetime(2026, 3, 5, 17, 0)
    assert d.due_at == dt.datetime(2026, 3, 2, 17, 0)  # version 1: immediately, received Monday 09:00


def test_changing_a_published_version_in_place_is_refused(services, services_on, tmp_path):
    root = tmp_path / "procs-edit"
    root.mkdir()
    shutil.copytree(BUNDLED_PROCEDURES / "calendars", root / "calendars")
    shutil.copy(BUNDLED_PROCEDURES / "evidence-types.yaml", root / "evidence-types.yaml")
    _copy_bundled_except(root, "birth-registration")
    _copy_procedure(root, "birth-registration", **{"supplement_policy: restart": "supplement_policy: pause"})
    edited = services_on(root)
    with pytest.raises(DefinitionError) as err:
        edited.procedures.publish_procedures()
    assert "publish the change as a new version" in str(err.value)
    assert "birth-registration/procedure.yaml:1:" in str(err.value)


def test_pause_policy_pushes_the_due_date_by_the_working_days_paused(services, demo, services_on, clock, tmp_path):
    root = tmp_path / "procs-pause"
    root.mkdir()
    shutil.copytree(BUNDLED_PROCEDURES / "calendars", root / "calendars")
    shutil.copy(BUNDLED_PROCEDURES / "evidence-types.yaml", root / "evidence-types.yaml")
    _copy_bundled_except(root, "birth-registration")
    _copy_procedure(root, "birth-registration", **{
        "supplement_policy: restart": "supplement_policy: pause",
        "time_limit: {value: 0, unit: immediate}": "time_limit: {value: 5, unit: working_days}",
        "version: 1": "version: 3"})
    paused = services_on(root)
    paused.procedures.publish_procedures()
    couple = demo["scenarios"]["married_couple"]
    d, citizen, _ = _received_birth(paused, couple)
    assert d.due_at == dt.datetime(2026, 3, 9, 17, 0)  # Mon 2 March + 5 working days
    paused.actions.perform_action(d.id, "assign", paused.accounts.actor_for("leader"))
    clock.set(dt.datetime(2026, 3, 3, 9, 0))
    paused.actions.perform_action(d.id, "request_supplement", paused.accounts.actor_for("specialist"), items=["Bổ sung giấy chứng sinh"])
    clock.set(dt.datetime(2026, 3, 5, 14, 0))  # two working days later (Wed, Thu)
    d = paused.actions.perform_action(d.id, "provide_supplement", citizen)
    assert d.due_at == dt.datetime(2026, 3, 11, 17, 0)
    assert d.events[-1].details["due_at"] == "2026-03-11T17:00:00"


def test_supplement_during_processing_is_refused_after_three_working_days(services, demo, clock):
    d, _, _ = _received_birth(services, demo["scenarios"]["married_couple"])
    services.actions.perform_action(d.id, "assign", services.accounts.actor_for("leader"))
    clock.set(dt.datetime(2026, 3, 6, 9, 0))  # Friday: receipt Monday + 4 working days
    with pytest.raises(ActionNotAllowedError, match="03 ngày làm việc"):
        services.actions.perform_action(d.id, "request_supplement", services.accounts.actor_for("specialist"), items=["x"])
    view = services.dossiers.get_dossier(d.id, services.accounts.actor_for("specialist"))
    assert "request_supplement" not in [a.id for a in view.available_actions]


def test_extension_must_come_at_least_one_working_day_before_the_due_date(services, demo, clock):
    d, _, _ = _received_birth(services, demo["scenarios"]["married_couple"])  # due Tue 3 March 17:00
    clock.set(dt.datetime(2026, 3, 3, 8, 0))
    with pytest.raises(ActionNotAllowedError, match="01 ngày làm việc"):
        services.actions.perform_action(d.id, "extend_due", services.accounts.actor_for("leader"), reason="Cần xác minh",
                                new_due_at="2026-03-10")


def test_sweep_flags_overdue_dossiers_and_expires_results(services, demo, clock):
    d, _, _ = _received_birth(services, demo["scenarios"]["married_couple"])
    with services.uow() as uow:
        uow.session.execute(update(Result).where(Result.id == demo["scenarios"]["married_couple"]["marriage_certificate"])
                            .values(valid_until=dt.datetime(2026, 3, 1)))
        uow.commit()
    # received Monday 2 March 09:00, due immediately: at the end of that day
    clock.set(dt.datetime(2026, 3, 2, 16, 0))
    report = services.deadlines.sweep_deadlines()
    assert (report.newly_overdue, report.due_soon, report.expired_results) == (0, 1, 1)
    clock.set(dt.datetime(2026, 3, 3, 8, 0))
    assert services.deadlines.sweep_deadlines().newly_overdue == 1
    assert services.deadlines.sweep_deadlines().newly_overdue == 0  # idempotent
    clerk = services.accounts.actor_for("clerk")
    assert services.dossiers.get_dossier(d.id, clerk).overdue is True
    queue = services.desk.list_dossiers(clerk, overdue=True)
    assert [i.id for i in queue.items] == [d.id] and queue.items[0].timeliness == "overdue"


def test_audit_verify_detects_an_edited_and_a_deleted_event(services, demo):
    d, _, _ = _received_birth(services, demo["scenarios"]["married_couple"])
    assert services.audit.verify_audit(d.id).problems == []
    with services.uow() as uow:
        uow.session.execute(update(DossierEvent).where(DossierEvent.dossier_id == d.id, DossierEvent.seq == 2)
                            .values(actor_name="Người khác"))
        uow.commit()
    problems = services.audit.verify_audit(d.id).problems
    assert [(p.seq, "edited" in p.message) for p in problems] == [(2, True)]
    with services.uow() as uow:
        uow.session.execute(update(DossierEvent).where(DossierEvent.dossier_id == d.id, DossierEvent.seq == 2)
                            .values(actor_name=d.events[1].actor))
        last = uow.session.scalars(select(DossierEvent).where(DossierEvent.dossier_id == d.id)
                                   .order_by(DossierEvent.seq.desc())).first()
        uow.session.delete(last)
        uow.commit()
    messages = [p.message for p in services.audit.verify_audit(d.id).problems]
    assert any("records 3 events but 2" in m for m in messages)


def test_stale_expected_version_is_a_conflict_and_changes_nothing(services, demo):
    d, _, clerk = _received_birth(services, demo["scenarios"]["married_couple"])
    with pytest.raises(ConcurrencyError):
        services.actions.perform_action(d.id, "assign", services.accounts.actor_for("leader"), expected_version=d.version_counter - 1)
    after = services.dossiers.get_dossier(d.id, clerk)
    assert after.state == "received" and len(after.events) == len(d.events)
