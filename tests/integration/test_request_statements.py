"""The statements every request runs (token and session look-ups, the staff queue and its counts) are
built once per shape and reused with new values: a reused statement must answer for the values of
this call, never those of the call that built it."""
from __future__ import annotations

import datetime as dt

import pytest

from engine.rules.errors import AuthenticationError
from engine.usecases import desk
from tests.integration.test_desk import _submitted_birth


@pytest.fixture
def couple(demo) -> dict:
    return demo["scenarios"]["married_couple"]


def test_a_token_is_judged_by_this_calls_clock_and_its_own_row(services, demo, clock):
    clerk_token, leader_token = services.accounts.issue_token("clerk"), services.accounts.issue_token("leader")
    assert services.accounts.authenticate_token(clerk_token).username == "clerk"
    assert services.accounts.authenticate_token(leader_token).username == "leader"  # same statement, other row
    actor = services.accounts.authenticate_token(clerk_token)
    assert actor == services.accounts.actor_for("clerk")
    services.accounts.revoke_token_value(clerk_token)
    with pytest.raises(AuthenticationError):
        services.accounts.authenticate_token(clerk_token)
    clock.advance(days=91)  # past the 90-day life
    with pytest.raises(AuthenticationError):
        services.accounts.authenticate_token(leader_token)


def test_a_session_is_judged_by_this_calls_clock(services, demo, clock):
    clerk = services.accounts.actor_for("clerk")
    started = services.sessions.start_session(clerk, "127.0.0.1")
    assert services.sessions.resume_session(started.session_id) == clerk
    other = services.sessions.start_session(services.accounts.actor_for("leader"), "127.0.0.1")
    assert services.sessions.resume_session(other.session_id).username == "leader"
    clock.advance(hours=2)  # idle longer than the 60 minutes allowed
    assert services.sessions.resume_session(started.session_id) is None
    assert services.sessions.resume_session("no such session") is None


def test_the_queue_reuses_its_statements_with_this_calls_values(services, couple, clock):
    clerk = services.accounts.actor_for("clerk")
    first = _submitted_birth(services, couple)
    services.actions.perform_action(first, "receive", clerk)  # due Tuesday 17:00
    second = _submitted_birth(services, couple)
    states = services.desk.queue_states(clerk)
    before = desk._queue_query.cache_info().hits, desk._live_counts_query.cache_info().hits
    one = services.desk.list_dossiers(clerk, states=states)
    again = services.desk.list_dossiers(clerk, states=states)
    assert (desk._queue_query.cache_info().hits, desk._live_counts_query.cache_info().hits) > before
    assert [i.id for i in one.items] == [i.id for i in again.items] == [first, second]  # dated first, then undated
    assert one.counts == {"overdue": 0, "due_soon": 1, "on_time": 0, "none": 1}
    clock.set(dt.datetime(2026, 3, 4, 8, 0))  # the same statements, a later "now": the first is late
    late = services.desk.list_dossiers(clerk, states=states)
    assert late.counts == {"overdue": 1, "due_soon": 0, "on_time": 0, "none": 1}
    assert [i.id for i in services.desk.list_dossiers(clerk, states=states, overdue=True).items] == [first]
    assert [i.id for i in services.desk.list_dossiers(clerk, states=states, overdue=False).items] == [second]
    assert services.desk.list_dossiers(clerk, states=states, procedure="marriage-registration").items == []
    # one state: the single-range shape
    page = services.desk.list_dossiers(clerk, state="received")
    assert [i.id for i in page.items] == [first]
