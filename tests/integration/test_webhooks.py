"""The event feed and webhooks: a receiver started by the test gets every event of a story in order,
with valid signatures, after its own outage of a minute (the clock is moved, the queue run again); a
webhook to a loopback or private address is refused unless allowed; a replay from a cursor delivers
again; the GET feed pages with its cursor and shows a client only its scope."""
from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from engine.adapters.models import Account, Agency, OutboxMessage, WebhookSubscription
from engine.rules.events import SIGNATURE_HEADER, body_signature, signature_valid
from tests.conftest import free_port
from tests.web.test_signed_results import approved_birth

pytestmark = pytest.mark.database

STORY = ["submit", "receive", "assign", "appraise", "approve"]


class Receiver:
    """A webhook receiver on a local port: checks every body's signature, records the events in the
    order they arrive; ``stop()`` and ``start()`` make an outage (the port refuses connections)."""

    def __init__(self, *, status: int = 200):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.secret: str | None = None
        self.status = status
        self.received: list[dict] = []
        self.bad_signatures = 0
        self._server = None

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        if not signature_valid(self.secret or "", body, request.headers.get(SIGNATURE_HEADER)):
            self.bad_signatures += 1
            return Response("bad signature", 401)(environ, start_response)
        if self.status < 300:
            self.received.append(json.loads(body))
        return Response("", self.status)(environ, start_response)

    def start(self) -> None:
        self._server = make_server("127.0.0.1", self.port, self, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def ids(self) -> list[int]:
        return [e["id"] for e in self.received]


@pytest.fixture
def config(config: dict) -> dict:
    return {**config, "WEBHOOK_ALLOW_PRIVATE": True}  # the receiver listens on 127.0.0.1


@pytest.fixture
def desk_client(services, demo) -> str:
    """An agency client of the demo's own agency (its case-management system)."""
    with services.uow() as uow:
        s = uow.session
        agency_id = s.scalars(select(Account.agency_id).where(Account.username == "clerk")).one()
        s.add(Account(username="desk-system", kind="agency_client", display_name="Desk system",
                      roles=["agency_client"], agency_id=agency_id, allowed_evidence=[], active=True,
                      created_at=services.clock()))
        uow.commit()
    return "desk-system"


@pytest.fixture
def receiver():
    r = Receiver()
    r.start()
    yield r
    try:
        r.stop()
    except Exception:  # noqa: BLE001 - already stopped by the test
        pass


def subscribe(api_as, client: str, receiver: Receiver, **body) -> dict:
    r = api_as(client).post("/api/v1/webhooks", json={"url": receiver.url, **body})
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert created["secret"].startswith("whsec_") and created["active"] is True
    receiver.secret = created["secret"]
    return created


def feed(api_as, client: str, after: int = 0, limit: int = 500) -> list[dict]:
    return api_as(client).get(f"/api/v1/events?after={after}&limit={limit}").get_json()["events"]


def drain(services, clock, *, seconds: float = 0, step: float = 5) -> None:
    """Run the queue, moving the clock ``seconds`` forward in steps (back-offs come due)."""
    services.tasks.run_pending()
    moved = 0.0
    while moved < seconds:
        clock.advance(seconds=step)
        moved += step
        services.tasks.run_pending()


def test_a_receiver_gets_every_event_of_a_story_in_order_with_valid_signatures(services, demo, api_as, desk_client,
                                                                                receiver, clock):
    subscribe(api_as, desk_client, receiver)
    d = approved_birth(demo, api_as)
    drain(services, clock)
    events = feed(api_as, desk_client)
    assert [e["data"]["action"] for e in events if e["type"] == "dossier.transition"] == STORY
    assert [e["type"] for e in events][-1] == "result.issued"
    assert receiver.bad_signatures == 0
    assert receiver.ids() == [e["id"] for e in events]  # all, once, in the feed's order
    assert all(e["dossier"]["id"] == d["id"] for e in receiver.received)
    assert receiver.received[1]["status_code"] == 2 and receiver.received[1]["dossier"]["code"] == d["code"]
    assert receiver.received[-1]["data"]["result"]["number"] == d["results"][0]["number"]
    text = json.dumps(receiver.received, ensure_ascii=False)
    couple = demo["scenarios"]["married_couple"]
    assert couple["wife"] not in text and couple["husband"] not in text  # no personal ids in the events
    log = api_as(desk_client).get(f"/api/v1/webhooks/{1}/deliveries").get_json()["attempts"]
    assert len(log) == len(events) and all(a["ok"] and a["status_code"] == 200 for a in log)


def test_after_an_outage_of_a_minute_everything_arrives_in_order_without_a_gap(services, demo, api_as, desk_client,
                                                                               receiver, clock):
    if services.tasks.queue.name != "outbox":
        pytest.skip("procrastinate's back-off runs on the real clock; the outbox queue's on the test's")
    sub = subscribe(api_as, desk_client, receiver)
    receiver.stop()  # down: connections are refused
    approved_birth(demo, api_as)
    outage_started = clock()
    drain(services, clock, seconds=60, step=2)
    assert receiver.received == []
    assert clock() - outage_started >= dt.timedelta(minutes=1)
    log = api_as(desk_client).get(f"/api/v1/webhooks/{sub['id']}/deliveries").get_json()["attempts"]
    assert len(log) >= 4 and not any(a["ok"] for a in log) and all(a["error"] for a in log)
    receiver.start()  # back up
    drain(services, clock, seconds=300, step=30)
    events = feed(api_as, desk_client)
    assert receiver.bad_signatures == 0
    assert receiver.ids() == [e["id"] for e in events]  # at least once, in order, no gap
    view = api_as(desk_client).get("/api/v1/webhooks").get_json()["webhooks"][0]
    assert view["active"] is True and view["pending"] == 0 and view["consecutive_failures"] == 0


def test_a_replay_from_a_cursor_delivers_the_later_events_again(services, demo, api_as, desk_client, receiver, clock):
    sub = subscribe(api_as, desk_client, receiver)
    approved_birth(demo, api_as)
    drain(services, clock)
    first = receiver.ids()
    cursor = first[2]
    r = api_as(desk_client).post(f"/api/v1/webhooks/{sub['id']}/replay", json={"after": cursor})
    assert r.status_code == 202 and r.get_json()["queued"] == len(first) - 3
    drain(services, clock)
    again = receiver.received[len(first):]
    assert [e["id"] for e in again] == first[3:] and all(e["replay"] for e in again)
    bad = api_as(desk_client).post(f"/api/v1/webhooks/{sub['id']}/replay", json={"after": "x"})
    assert bad.status_code == 422
    other = api_as("agency").post(f"/api/v1/webhooks/{sub['id']}/replay", json={"after": 0})
    assert other.status_code == 404  # another client's subscription does not exist for it


def test_a_subscription_made_from_a_cursor_gets_the_earlier_events_too(services, demo, api_as, desk_client, receiver,
                                                                       clock):
    approved_birth(demo, api_as)
    events = feed(api_as, desk_client)
    subscribe(api_as, desk_client, receiver, after=events[1]["id"])
    drain(services, clock)
    assert receiver.ids() == [e["id"] for e in events[2:]]


def test_the_feed_pages_with_its_cursor_signs_its_body_and_shows_a_client_only_its_scope(services, demo, api_as,
                                                                                        desk_client, token_for):
    d = approved_birth(demo, api_as)
    api_as("leader").post(f"/api/v1/results/{d['results'][0]['id']}/revoke", json={"reason": "Cấp nhầm"})
    everything = feed(api_as, desk_client)
    assert [e["type"] for e in everything][-2:] == ["result.issued", "result.revoked"]
    ids = [e["id"] for e in everything]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    walked, cursor = [], 0
    while True:
        r = api_as(desk_client).get(f"/api/v1/events?after={cursor}&limit=2")
        assert r.status_code == 200
        assert r.headers["X-Signature"] == body_signature(token_for(desk_client), r.get_data())
        page = r.get_json()
        walked += page["events"]
        cursor = page["next"]
        if not page["more"]:
            break
    assert walked == everything
    assert api_as(desk_client).get(f"/api/v1/events?after={cursor}").get_json() == {"events": [], "next": cursor,
                                                                                    "more": False}
    # the police's client reads birth certificates by law: their result events only, nothing of the dossiers
    police = feed(api_as, "agency")
    assert police and {e["type"] for e in police} <= {"result.issued", "result.revoked"}
    assert all(e["data"]["result"]["evidence"] == "birth-certificate" for e in police)
    # a client of another agency with no evidence to read sees nothing of ours
    with services.uow() as uow:
        s = uow.session
        other = Agency(code="000.00.99.H99", name_vi="Sở khác", name_en="Another department", level="province")
        s.add(other)
        s.flush()
        s.add(Account(username="elsewhere", kind="agency_client", display_name="Elsewhere", roles=["agency_client"],
                      agency_id=other.id, allowed_evidence=[], active=True, created_at=services.clock()))
        uow.commit()
    assert feed(api_as, "elsewhere") == []
    for who, status in ((demo["scenarios"]["married_couple"]["wife"], 403), ("clerk", 403), (None, 401)):
        assert api_as(who).get("/api/v1/events").status_code == status
    for bad in ("after=-1", "after=abc", "limit=0", "limit=501"):
        r = api_as(desk_client).get(f"/api/v1/events?{bad}")
        assert r.status_code == 422 and " / " in r.get_json()["message"] + str(r.get_json()["fields"])


def test_repeated_failure_disables_the_subscription_with_a_notice_to_the_agency_admins(services, demo, api_as,
                                                                                       desk_client, clock):
    if services.tasks.queue.name != "outbox":
        pytest.skip("procrastinate's back-off runs on the real clock")
    failing = Receiver(status=500)
    failing.start()
    try:
        sub = subscribe(api_as, desk_client, failing)
        hooks = services.webhooks  # a short threshold for the test: 3 failures over at least 5 seconds
        hooks.disable_failures, hooks.disable_after = 3, dt.timedelta(seconds=5)
        approved_birth(demo, api_as)
        drain(services, clock, seconds=60, step=2)
        view = api_as(desk_client).get("/api/v1/webhooks").get_json()["webhooks"][0]
        assert view["active"] is False and "consecutive failures" in view["disabled_reason"]
        with services.uow(write=False) as uow:
            notices = uow.session.scalars(select(OutboxMessage).where(
                OutboxMessage.topic == "notice.webhook_disabled")).all()
            assert [n.payload["account"] for n in notices] == ["admin"]
            assert notices[0].payload["subscription"] == sub["id"]
        tried = len(api_as(desk_client).get(f"/api/v1/webhooks/{sub['id']}/deliveries").get_json()["attempts"])
        drain(services, clock, seconds=60, step=10)  # disabled: nothing more is tried
        assert len(api_as(desk_client).get(f"/api/v1/webhooks/{sub['id']}/deliveries").get_json()["attempts"]) == tried
        failing.status = 200
        r = api_as(desk_client).post(f"/api/v1/webhooks/{sub['id']}/enable")
        assert r.status_code == 200 and r.get_json()["active"] is True
        drain(services, clock, seconds=120, step=10)
        assert failing.ids() == [e["id"] for e in feed(api_as, desk_client)]
    finally:
        failing.stop()


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "http://localhost/hook", "http://10.1.2.3/hook",
                                 "http://192.168.0.10/", "http://169.254.169.254/latest/meta-data",
                                 "http://[::1]/hook", "http://0.0.0.0/", "http://224.0.0.1/", "http://[fe80::1]/"])
def test_a_webhook_to_a_loopback_or_private_address_is_refused_unless_allowed(services, demo, api_as, desk_client,
                                                                            url):
    hooks = services.webhooks
    hooks.allow_private = False  # the setting off, as by default
    r = api_as(desk_client).post("/api/v1/webhooks", json={"url": url})
    assert r.status_code == 422, r.get_json()
    message = " ".join(r.get_json()["fields"]["url"])
    assert "Không gửi tới địa chỉ này" in message and "this address is refused" in message
    with services.uow(write=False) as uow:
        assert uow.session.scalars(select(WebhookSubscription)).all() == []
    # an administrator may allow it for one subscription (the CLI); a client may not allow it itself
    created = hooks.add_subscription(None, url, client=desk_client, allow_private=True)
    assert created.subscription.allow_private is True
    from engine.rules.errors import PermissionDeniedError
    with pytest.raises(PermissionDeniedError):
        hooks.add_subscription(services.accounts.actor_for(desk_client), url, allow_private=True)


@pytest.mark.parametrize("url", ["ftp://example.org/", "http://user:pw@example.org/", "not a url", "", "http:///x",
                                 "http://example.invalid/"])
def test_a_webhook_url_that_is_not_a_reachable_http_address_is_refused(api_as, desk_client, url):
    r = api_as(desk_client).post("/api/v1/webhooks", json={"url": url})
    assert r.status_code == 422 and "url" in r.get_json()["fields"]


def test_only_agency_clients_manage_webhooks_and_only_their_own(services, demo, api_as, desk_client, receiver):
    sub = subscribe(api_as, desk_client, receiver)
    assert api_as("clerk").post("/api/v1/webhooks", json={"url": receiver.url}).status_code == 403
    assert api_as("agency").get("/api/v1/webhooks").get_json()["webhooks"] == []
    assert api_as("agency").delete(f"/api/v1/webhooks/{sub['id']}").status_code == 404
    assert api_as(desk_client).delete(f"/api/v1/webhooks/{sub['id']}").status_code == 200
    assert api_as(desk_client).get("/api/v1/webhooks").get_json()["webhooks"] == []
    assert api_as(desk_client).get(f"/api/v1/webhooks/{sub['id']}/deliveries").status_code == 404
