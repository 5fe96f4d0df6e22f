"""Sessions and sign-in counters live in the database: a second process (or a restart) on the same
database sees them, and checking a session costs one read."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from engine.adapters.uow import make_engine
from engine.rules.errors import AuthenticationError, ThrottledError
from motcua.bootstrap import bootstrap

pytestmark = pytest.mark.database


@pytest.fixture
def restarted(settings, clock, services):
    """The same database through a second engine and a second set of services: another worker, or
    the app after a restart."""
    engine = make_engine(settings.database_url)
    yield bootstrap(settings, engine=engine, clock=clock)
    engine.dispose()


def fail(services, times: int, address: str = "203.0.113.8", username: str = "clerk") -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationError):
            services.sessions.sign_in_with_password(username, "wrong-one", address)


def test_the_failure_counters_survive_a_restart(services, restarted, demo):
    fail(services, 5)
    with pytest.raises(ThrottledError) as held:
        restarted.sessions.sign_in_with_password("clerk", "motcua-demo", "203.0.113.8")
    assert held.value.retry_after == 2
    # the owner elsewhere is not held back, in either process
    assert restarted.sessions.sign_in_with_password("clerk", "motcua-demo", "198.51.100.1").actor.username == "clerk"


def test_the_delay_grows_across_processes(services, restarted, demo, clock):
    fail(services, 5)
    waits = []
    for n in range(4):
        current = (services, restarted)[n % 2]
        with pytest.raises(ThrottledError) as held:
            current.throttle.check_login("clerk", "203.0.113.8")
        waits.append(held.value.retry_after)
        clock.advance(seconds=held.value.retry_after)
        fail(current, 1)
    assert waits == [2, 4, 8, 16]


def test_many_names_from_one_address_slow_that_address_only(services, demo, clock):
    for n in range(20):
        fail(services, 1, username=f"guess{n}")
    with pytest.raises(ThrottledError):
        services.throttle.check_login("someone-else", "203.0.113.8")
    services.throttle.check_login("someone-else", "198.51.100.1")  # no wait elsewhere


def test_a_session_started_in_one_process_is_seen_and_ended_in_the_other(services, restarted, demo):
    started = services.sessions.sign_in_with_password("clerk", "motcua-demo", "198.51.100.1")
    assert restarted.sessions.resume_session(started.session_id).username == "clerk"
    restarted.sessions.end_session(started.session_id)
    assert services.sessions.resume_session(started.session_id) is None


def test_a_disabled_account_loses_its_sessions_at_once(services, demo):
    from sqlalchemy import update

    from engine.adapters.models import Account

    started = services.sessions.sign_in_with_password("clerk", "motcua-demo", "198.51.100.1")
    with services.uow() as uow:
        uow.session.execute(update(Account).where(Account.username == "clerk").values(active=False))
        uow.commit()
    assert services.sessions.resume_session(started.session_id) is None


def test_checking_a_session_is_one_read_and_the_last_seen_time_is_written_at_most_once_a_minute(services, demo, clock):
    started = services.sessions.sign_in_with_password("clerk", "motcua-demo", "198.51.100.1")
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("SELECT", "UPDATE", "INSERT", "DELETE"):
            statements.append(verb)

    event.listen(services.engine, "before_cursor_execute", record)
    try:
        clock.advance(seconds=30)
        assert services.sessions.resume_session(started.session_id) is not None
        assert statements == ["SELECT"]
        statements.clear()
        clock.advance(minutes=2)
        assert services.sessions.resume_session(started.session_id) is not None
        assert statements == ["SELECT", "UPDATE"]
    finally:
        event.remove(services.engine, "before_cursor_execute", record)


def test_unknown_or_malformed_session_ids_are_nobody(services, demo):
    for value in (None, "", 42, "x" * 500, "not-a-session"):
        assert services.sessions.resume_session(value) is None


def test_the_sweep_removes_sessions_that_ended_long_ago_and_keeps_the_rest(services, demo, clock):
    old = services.sessions.sign_in_with_password("clerk", "motcua-demo", "198.51.100.1")
    services.sessions.end_session(old.session_id)
    clock.advance(days=31)
    live = services.sessions.sign_in_with_password("clerk", "motcua-demo", "198.51.100.1")
    assert services.sessions.purge_sessions() == 1
    assert services.sessions.resume_session(live.session_id) is not None
