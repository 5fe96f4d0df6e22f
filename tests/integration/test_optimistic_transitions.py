"""A transition reads and decides without SQLite's write lock, then confirms under it that the dossier
did not move (``UnitOfWork(optimistic=True)``): someone else's commit in between makes it start again
holding the lock, so the outcome is the one of the two in turn. On PostgreSQL the versioned write
settles it as before: the later one is refused (409).

Another transition is made to commit in the middle of the first one's decision (in the same thread: on
SQLite it could not even begin if the first held the write lock while deciding)."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import event, func, select

from engine.adapters.models import DossierEvent, Slip
from engine.rules.errors import ActionNotAllowedError, ConcurrencyError
from engine.usecases import actions as actions_module
from tests.web.test_lifecycle_api import in_appraisal


def _in_processing(services, demo) -> str:
    return in_appraisal(services, demo)[0].id


@pytest.fixture
def meanwhile(monkeypatch) -> Callable[[Callable[[], object]], list[str]]:
    """``meanwhile(other)``: the next transition runs ``other`` (to its commit) while it decides; returns the
    actions decided, in order (a transition that starts again decides twice)."""

    def arm(other: Callable[[], object]) -> list[str]:
        decided: list[str] = []
        real = actions_module.fire

        def fire(proc, d, action, ctx):
            decided.append(action)
            if len(decided) == 1:
                other()
            return real(proc, d, action, ctx)

        monkeypatch.setattr(actions_module, "fire", fire)
        return decided

    return arm


def _events(services, dossier_id: str) -> list[str]:
    with services.engine.connect() as conn:
        return list(conn.execute(select(DossierEvent.action).where(DossierEvent.dossier_id == dossier_id)
                                 .order_by(DossierEvent.seq)).scalars())


def _supplement_slips(services, dossier_id: str) -> int:
    with services.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Slip).where(Slip.dossier_id == dossier_id,
                                                                           Slip.form == "02")).scalar_one()


def _sqlite(services) -> bool:
    return services.engine.dialect.name == "sqlite"


def test_a_commit_in_between_makes_the_transition_decide_again_and_refuse_what_no_longer_applies(
        services, demo, meanwhile):
    did = _in_processing(services, demo)
    specialist, clerk = services.accounts.actor_for("specialist"), services.accounts.actor_for("clerk")
    decided = meanwhile(lambda: services.actions.perform_action(did, "request_supplement", clerk, items=["Bản sao"]))
    expected = ActionNotAllowedError if _sqlite(services) else ConcurrencyError
    with pytest.raises(expected):
        services.actions.perform_action(did, "request_supplement", specialist, items=["Giấy chứng sinh"])
    # the clerk's request and its slip, once; nothing of the specialist's
    assert _events(services, did)[-1] == "request_supplement"
    assert _events(services, did).count("request_supplement") == 1
    assert _supplement_slips(services, did) == 1
    if _sqlite(services):  # decided, found the dossier moved under the lock, decided again on the new state
        assert decided == ["request_supplement", "request_supplement", "request_supplement"]
    assert services.audit.verify_audit(did).problems == []


def test_a_commit_in_between_that_leaves_the_action_possible_lets_it_through_after_it(services, demo, meanwhile):
    did = _in_processing(services, demo)
    wife = services.accounts.actor_for(demo["scenarios"]["married_couple"]["wife"])
    specialist = services.accounts.actor_for("specialist")
    meanwhile(lambda: services.actions.perform_action(did, "request_supplement", specialist, items=["Giấy chứng sinh"]))
    if _sqlite(services):
        view = services.actions.perform_action(did, "request_withdrawal", wife)
        assert view.state == "withdrawal_requested"
        assert _events(services, did)[-2:] == ["request_supplement", "request_withdrawal"]
        assert view.version_counter == services.dossiers.get_dossier(did, specialist).version_counter
        assert services.audit.verify_audit(did).problems == []
    else:
        with pytest.raises(ConcurrencyError):
            services.actions.perform_action(did, "request_withdrawal", wife)
        assert _events(services, did)[-1] == "request_supplement"


def test_a_commit_to_another_dossier_in_between_costs_nothing(services, demo, meanwhile):
    first, other = _in_processing(services, demo), _in_processing(services, demo)
    specialist = services.accounts.actor_for("specialist")
    decided = meanwhile(lambda: services.actions.perform_action(other, "request_supplement", specialist, items=["A"]))
    view = services.actions.perform_action(first, "request_supplement", specialist, items=["B"])
    assert view.state == "processing_supplement"
    assert decided == ["request_supplement", "request_supplement"]  # each decided once: no second try
    assert _events(services, first)[-1] == _events(services, other)[-1] == "request_supplement"
    assert _supplement_slips(services, first) == _supplement_slips(services, other) == 1


def test_a_transition_refused_before_it_writes_takes_no_write_lock(services, demo):
    """A refused action never wrote: on SQLite it never waited for the writers' turn either."""
    did = _in_processing(services, demo)
    wife = services.accounts.actor_for(demo["scenarios"]["married_couple"]["wife"])
    statements: list[str] = []
    from sqlalchemy import event

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(services.engine, "before_cursor_execute", record)
    try:
        with pytest.raises(ActionNotAllowedError):
            services.actions.perform_action(did, "return_result", wife)
    finally:
        event.remove(services.engine, "before_cursor_execute", record)
    assert set(statements) <= {"SELECT", "BEGIN"}
    if _sqlite(services):
        assert "BEGIN" in statements  # DEFERRED: a snapshot, not the write lock


def test_the_notification_and_the_slip_are_made_before_the_first_write_which_takes_the_slips_number(
        services, demo, monkeypatch):
    """On SQLite the writers' turn is held from a transition's first write to its commit: the texts of the
    applicant's notification and the slip's contents are made before it, and the first write is the
    slip's number (the same order on PostgreSQL)."""
    did = _in_processing(services, demo)
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement)

    def writes() -> list[str]:
        return [s for s in sent if s.split(None, 1)[0].upper() not in ("SELECT", "BEGIN", "SAVEPOINT", "RELEASE", "COMMIT")]

    writes_seen: dict[str, int] = {}
    for owner, name in ((services.notifications.texts, "render"), (services.issuance, "contacts")):
        def spy(*args, _real=getattr(owner, name), _name=name, **kwargs):
            writes_seen[_name] = len(writes())
            return _real(*args, **kwargs)
        monkeypatch.setattr(owner, name, spy)
    event.listen(services.engine, "before_cursor_execute", record)
    try:
        d = services.actions.perform_action(did, "request_supplement", services.accounts.actor_for("specialist"),
                                            items=["Giấy chứng sinh bản rõ nét"])
    finally:
        event.remove(services.engine, "before_cursor_execute", record)
    assert writes_seen == {"render": 0, "contacts": 0}
    assert "sequences" in writes()[0]
    assert d.state == "processing_supplement" and d.slips[-1].form == "02"
    assert services.audit.verify_audit(did).problems == []
