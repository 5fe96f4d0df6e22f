"""A dossier's answer carries its latest events only, with a link to page through the older ones, so that
no answer grows with the dossier's history: the view's truncation, the events endpoint (its access rule,
its paging), and the "older events" link of the citizen's and the clerk's dossier pages."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.rules.paging import EVENTS_SHOWN, MAX_EVENTS_PAGE
from tests.web.test_citizen_pages import stranger  # noqa: F401 (fixture)
from tests.web.test_clerk_pages import couple, submitted_birth  # noqa: F401 (fixtures)

pytestmark = pytest.mark.database

ITEMS = ["Giấy chứng sinh bản rõ nét"]


@pytest.fixture
def long_dossier(submitted_birth, couple, services):  # noqa: F811
    """A birth registration with ``n`` audit events: create, submit, receive, assign, then supplement rounds."""

    def make(n: int) -> str:
        did = submitted_birth()["id"]
        act = services.actions.fire_action
        act(did, "receive", services.accounts.actor_for("clerk"))
        act(did, "assign", services.accounts.actor_for("leader"))
        specialist, wife = services.accounts.actor_for("specialist"), services.accounts.actor_for(couple["wife"])
        for i in range(n - 4):
            if i % 2 == 0:
                act(did, "request_supplement", specialist, items=ITEMS)
            else:
                act(did, "provide_supplement", wife)
        return did

    return make


def walk(api, did: str, limit: int | None = None) -> tuple[list[dict], int]:
    """Every event of the dossier, following ``events_next`` from the view and then ``next``; the pages read."""
    view = api.get(f"/api/v1/dossiers/{did}").get_json()
    events, url, pages = list(view["events"]), view["events_next"], 0
    if limit is not None:  # start from the endpoint instead, at this page size
        first = api.get(f"/api/v1/dossiers/{did}/events?limit={limit}")
        assert first.status_code == 200, first.get_json()
        body = first.get_json()
        events, url, pages = list(body["events"]), body["next"], 1
    while url:
        r = api.get(url)
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        assert body["events"], "a next link never leads to an empty page"
        events = body["events"] + events  # an older page goes before
        url, pages = body["next"], pages + 1
    return events, pages


def test_the_view_carries_the_latest_events_and_the_link_to_the_older_ones(long_dossier, couple, api_as, services):  # noqa: F811
    did = long_dossier(EVENTS_SHOWN + 8)  # ends in processing_appraise
    clerk = api_as("clerk")
    view = clerk.get(f"/api/v1/dossiers/{did}").get_json()
    seqs = [e["seq"] for e in view["events"]]
    assert seqs == list(range(9, EVENTS_SHOWN + 9))  # the latest, newest last, as before
    assert view["events_before"] == 9
    assert view["events_next"] == f"/api/v1/dossiers/{did}/events?before=9"

    # the answer to an action has the same shape: the latest events only, the new one last
    answer = api_as("specialist").act(did, "request_supplement", items=ITEMS)
    assert [e["seq"] for e in answer["events"]] == list(range(10, EVENTS_SHOWN + 10))
    assert answer["events"][-1]["action"] == "request_supplement" and answer["events_before"] == 10

    older = clerk.get(view["events_next"]).get_json()
    assert [e["seq"] for e in older["events"]] == list(range(1, 9))
    assert older["next"] is None and older["next_before"] is None
    assert [e["action"] for e in older["events"][:4]] == ["create", "submit", "receive", "assign"]

    events, pages = walk(api_as(couple["wife"]), did)
    assert [e["seq"] for e in events] == list(range(1, EVENTS_SHOWN + 10)) and pages == 1
    report = services.audit.verify_audit(did)
    assert report.problems == []


def test_a_short_history_has_no_link(submitted_birth, api_as):  # noqa: F811
    d = submitted_birth()
    assert [e["action"] for e in d["events"]] == ["create", "submit"]
    assert d["events_next"] is None and d["events_before"] is None
    body = api_as("clerk").get(f"/api/v1/dossiers/{d['id']}/events").get_json()
    assert [e["seq"] for e in body["events"]] == [1, 2] and body["next"] is None


def test_the_events_follow_the_dossiers_access_rule(submitted_birth, stranger, couple, api_as, services):  # noqa: F811
    did = submitted_birth()["id"]
    path = f"/api/v1/dossiers/{did}/events"
    assert api_as(stranger).get(path).status_code == 404  # another citizen: not found, as the dossier itself
    assert api_as(stranger).get(f"/api/v1/dossiers/{did}").status_code == 404
    assert api_as(None).get(path).status_code == 401
    assert api_as("clerk").get(path).status_code == 200  # staff of the agency
    assert api_as(couple["wife"]).get(path).status_code == 200  # the applicant
    assert api_as(couple["wife"]).get("/api/v1/dossiers/no-such-dossier/events").status_code == 404


def test_the_applicant_reads_the_events_as_in_the_view(submitted_birth, couple, api_as):  # noqa: F811
    did = submitted_birth()["id"]
    api_as("clerk").act(did, "receive", comment="Giao chuyên viên thụ lý")  # an internal comment
    mine = api_as(couple["wife"]).get(f"/api/v1/dossiers/{did}/events").get_json()["events"]
    assert mine == api_as(couple["wife"]).get(f"/api/v1/dossiers/{did}").get_json()["events"]
    assert "Giao chuyên viên thụ lý" not in str(mine)


@pytest.mark.parametrize("query", ["before=0", "before=x", "before=-3", "limit=0", f"limit={MAX_EVENTS_PAGE + 1}",
                                   "limit=abc", "before=99999999999"])
def test_bad_paging_arguments_are_refused(submitted_birth, api_as, query):  # noqa: F811
    did = submitted_birth()["id"]
    r = api_as("clerk").get(f"/api/v1/dossiers/{did}/events?{query}")
    assert r.status_code == 422 and set(r.get_json()["fields"]) <= {"before", "limit"}


_CACHE: dict[int, str] = {}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.integers(min_value=1, max_value=MAX_EVENTS_PAGE), before=st.integers(min_value=1, max_value=40))
def test_paging_shows_every_event_once_in_order(long_dossier, api_as, limit, before):  # noqa: F811
    key = id(long_dossier)
    if key not in _CACHE:  # one dossier for every example of this test (the fixtures are the test's)
        _CACHE.clear()
        _CACHE[key] = long_dossier(34)
    did = _CACHE[key]
    clerk = api_as("clerk")
    events, pages = walk(clerk, did, limit)
    assert [e["seq"] for e in events] == list(range(1, 35))
    assert pages == -(-34 // limit)
    body = clerk.get(f"/api/v1/dossiers/{did}/events?before={before}&limit={limit}").get_json()
    seqs = [e["seq"] for e in body["events"]]
    assert seqs == list(range(max(1, min(before, 35) - limit), min(before, 35)))
    assert body["next_before"] == (seqs[0] if seqs and seqs[0] > 1 else None)
    if body["next"]:
        assert f"before={seqs[0]}" in body["next"] and f"limit={limit}" in body["next"]


def test_the_dossier_pages_link_to_the_older_events(long_dossier, couple, web_as):  # noqa: F811
    did = long_dossier(EVENTS_SHOWN + 4)
    for user, path in ((web_as(couple["wife"]), f"/my/dossiers/{did}"), (web_as("clerk"), f"/desk/dossiers/{did}")):
        html = user.text(user.get(path))
        history = html[html.index('id="history"'):]
        assert history.count("<li>") >= EVENTS_SHOWN
        older = re.search(r'<a rel="prev" href="([^"]+)">([^<]+)</a>', history)
        assert older and older.group(1) == f"{path}?before=5#history" and older.group(2) == "Các bước trước đó"
        page = user.text(user.get(older.group(1).split("#")[0]))
        history = page[page.index('id="history"'):]
        assert 'rel="prev"' not in history  # the first events: nothing older
        assert f'href="{path}#history">Các bước mới nhất</a>' in history
        times = re.findall(r"<time datetime=", history[:history.index("</ol>")])
        assert len(times) == 4  # create, submit, receive, assign


def test_a_short_history_page_has_no_older_link(submitted_birth, couple, web_as):  # noqa: F811
    did = submitted_birth()["id"]
    user = web_as(couple["wife"])
    html = user.text(user.get(f"/my/dossiers/{did}"))
    assert 'rel="prev"' not in html and "Các bước mới nhất" not in html
