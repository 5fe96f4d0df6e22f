"""Notifications of the moments the rules name: e-mail to a real SMTP server the test starts (aiosmtpd),
SMS to the project's sandbox gateway served in a thread, the in-app list on the portal and in the API;
delivery by the task queue, retried and logged, never blocking the action."""
from __future__ import annotations

import email
import email.policy
import io
import threading
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update
from werkzeug.serving import make_server

from engine.adapters.models import Notification, Person
from engine.usecases.notifications import MAX_ATTEMPTS, DeliveryError
from motcua.sandbox.sms import create_sms_sandbox
from tests import pdf_samples
from tests.conftest import free_port

pytestmark = pytest.mark.database

SMS_TOKEN = "sandbox-token"
ITEMS = ["Bản sao giấy chứng sinh có chứng thực", "Giấy xác nhận nơi cư trú của người mẹ"]
WIFE_EMAIL = "me.cua.be@example.vn"
WIFE_PHONE = "0912345678"


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content or envelope.content,
                                                       policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


class _Sandbox:
    def __init__(self) -> None:
        self.app = create_sms_sandbox(SMS_TOKEN)
        self.box = self.app.extensions["sms_box"]
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/messages"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def sms():
    sandbox = _Sandbox()
    sandbox.thread.start()
    yield sandbox
    sandbox.server.shutdown()
    sandbox.thread.join()


@pytest.fixture
def config(config, smtp, sms):
    return {**config, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port, "SMTP_FROM": "motcua@example.vn",
            "SMS_URL": sms.url, "SMS_TOKEN": SMS_TOKEN, "SMTP_TIMEOUT": 5}


def _body(msg: Message) -> str:
    return msg.get_content()


def _register_contacts(services, personal_id: str) -> str:
    with services.uow() as uow:
        uow.session.execute(update(Person).where(Person.personal_id == personal_id)
                            .values(email=WIFE_EMAIL, phone=WIFE_PHONE))
        uow.commit()
        return uow.session.execute(select(Person.full_name).where(Person.personal_id == personal_id)).scalar_one()


def _submitted_birth_dossier(demo, api_as) -> tuple[str, dict]:
    couple = demo["scenarios"]["married_couple"]
    citizen = api_as(couple["wife"])
    r = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": {
        "requester_relationship": "mother", "child_full_name": "Trần Minh Khôi", "child_date_of_birth": "2026-02-20",
        "child_sex": "male", "child_place_of_birth": "Bệnh viện Phụ sản Hà Nội", "registration_type": "on_time"}})
    assert r.status_code == 201, r.get_json()
    did = r.get_json()["id"]
    r = citizen.post(f"/api/v1/dossiers/{did}/documents",
                     data={"requirement": "medical_birth_notice", "file": (io.BytesIO(pdf_samples.plain()), "gcs.pdf")},
                     content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    r = citizen.post(f"/api/v1/dossiers/{did}/documents",
                     json={"requirement": "parents_marriage_certificate", "result_id": couple["marriage_certificate"]})
    assert r.status_code == 201, r.get_json()
    assert citizen.act(did, "submit")["state"] == "submitted"
    return did, couple


def _rows(services, dossier_id: str) -> list:
    n = Notification
    with services.uow(write=False) as uow:
        return list(uow.session.execute(select(n.id, n.kind, n.channel, n.status, n.attempts, n.last_error)
                                        .where(n.dossier_id == dossier_id).order_by(n.id)).all())


def test_a_supplement_request_reaches_the_smtp_server_the_sms_sandbox_and_the_in_app_list(
        demo, api_as, services, smtp, sms, web_as):
    did, couple = _submitted_birth_dossier(demo, api_as)
    full_name = _register_contacts(services, couple["wife"])
    clerk = api_as("clerk")

    d = clerk.act(did, "receive")
    code = d["code"]
    assert not smtp.messages and not sms.box.messages()  # nothing is sent in the request
    services.tasks.run_pending()
    assert [m["Subject"] for m in smtp.messages] == [f"Hồ sơ {code} đã được tiếp nhận"]
    assert "Ngày hẹn trả kết quả" in _body(smtp.messages[0])

    clerk.act(did, "request_supplement", items=ITEMS, comment="Thiếu giấy tờ")
    services.tasks.run_pending()

    # the e-mail: to the address the register holds, from the configured sender, with every item
    assert len(smtp.messages) == 2
    mail = smtp.messages[1]
    assert smtp.envelopes[1] == ("motcua@example.vn", [WIFE_EMAIL])
    assert mail["Subject"] == f"Hồ sơ {code} cần bổ sung giấy tờ"
    body = _body(mail)
    for item in ITEMS:
        assert f"- {item}" in body
    assert code in body and "tính lại từ đầu" in body

    # the SMS: to the register's phone, the code and what to do, no name, no personal id, no items
    texts = sms.box.messages()
    assert [m["to"] for m in texts] == [WIFE_PHONE, WIFE_PHONE]
    supplement_sms = texts[1]["text"]
    assert code in supplement_sms and "can bo sung giay to" in supplement_sms
    for secret in (full_name, *full_name.split(), couple["wife"], ITEMS[0], did):
        assert secret not in supplement_sms
    assert all(m["text"].isascii() for m in texts)

    # the delivery log: every e-mail and SMS sent once
    rows = _rows(services, did)
    assert sorted((r.kind, r.channel, r.status, r.attempts) for r in rows) == sorted(
        [(k, c, "sent", 0 if c == "in-app" else 1)
         for k in ("received", "supplement_requested") for c in ("in-app", "email", "sms")])

    # the in-app list, in the API: both moments, newest first, with their deliveries
    citizen = api_as(couple["wife"])
    listing = citizen.get("/api/v1/me/notifications").get_json()
    assert listing["unread"] == 2
    assert [n["kind"] for n in listing["notifications"]] == ["supplement_requested", "received"]
    first = listing["notifications"][0]
    assert all(item in first["body"] for item in ITEMS)
    assert {(x["channel"], x["status"]) for x in first["deliveries"]} == {("email", "sent"), ("sms", "sent")}

    # ... and on the portal page, with the unread count in the menu
    web = web_as(couple["wife"])
    page = web.text(web.get("/my/notifications"))
    assert f"Hồ sơ {code} cần bổ sung giấy tờ" in page and f"Hồ sơ {code} đã được tiếp nhận" in page
    assert ITEMS[1] in page
    r = web.post("/my/notifications/read", {"id": str(first["id"])})
    assert r.status_code == 303
    assert citizen.get("/api/v1/me/notifications").get_json()["unread"] == 1
    assert web.post("/my/notifications/read", {}).status_code == 303  # all
    assert citizen.get("/api/v1/me/notifications").get_json()["unread"] == 0

    # a second run of a delivery job sends nothing again
    for row in rows:
        services.notifications.deliver(row.id)
    assert len(smtp.messages) == 2 and len(sms.box.messages()) == 2


def test_a_failing_gateway_is_retried_and_logged_and_never_blocks_the_action(
        demo, api_as, services, smtp, sms, clock):
    did, couple = _submitted_birth_dossier(demo, api_as)
    _register_contacts(services, couple["wife"])
    sms.box.failing = True
    d = api_as("clerk").act(did, "receive")  # 200 although the gateway is down
    assert d["state"] == "received"

    services.tasks.run_pending()  # the e-mail goes; the SMS fails once and backs off
    assert len(smtp.messages) == 1 and sms.box.refused == 1
    row = next(r for r in _rows(services, did) if r.channel == "sms")
    assert (row.status, row.attempts) == ("pending", 1)
    assert "500" in row.last_error

    services.tasks.run_pending()  # not due yet: nothing runs
    assert sms.box.refused == 1

    def retry() -> None:
        """The queue's next attempt: on SQLite once the injected clock passed the back-off; procrastinate
        schedules by the database's own clock, so there the test runs the task as the worker would."""
        if services.tasks.queue.name == "outbox":
            clock.advance(minutes=1)
            services.tasks.run_pending()
        else:
            try:
                services.notifications.deliver(row.id)
            except DeliveryError:
                pass

    retry()
    assert sms.box.refused == 2
    row = next(r for r in _rows(services, did) if r.channel == "sms")
    assert (row.status, row.attempts) == ("pending", 2)

    sms.box.failing = False
    retry()
    row = next(r for r in _rows(services, did) if r.channel == "sms")
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert [m["text"] for m in sms.box.messages()] and d["code"] in sms.box.messages()[0]["text"]

    # the citizen sees the delivery log of that moment
    deliveries = api_as(couple["wife"]).get("/api/v1/me/notifications").get_json()["notifications"][0]["deliveries"]
    assert {(x["channel"], x["status"], x["attempts"]) for x in deliveries} == {("email", "sent", 1), ("sms", "sent", 3)}


def test_the_last_failed_attempt_marks_the_delivery_failed(demo, api_as, services, sms):
    did, couple = _submitted_birth_dossier(demo, api_as)
    _register_contacts(services, couple["wife"])
    sms.box.failing = True
    api_as("clerk").act(did, "receive")
    row = next(r for r in _rows(services, did) if r.channel == "sms")
    for attempt in range(1, MAX_ATTEMPTS):
        with pytest.raises(DeliveryError):
            services.notifications.deliver(row.id)
    services.notifications.deliver(row.id)  # the last: recorded, not raised
    row = next(r for r in _rows(services, did) if r.channel == "sms")
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    refused = sms.box.refused
    services.notifications.deliver(row.id)  # a failed row is left alone
    assert sms.box.refused == refused == MAX_ATTEMPTS


def test_preferences_off_send_no_email_and_english_is_used_when_chosen(demo, api_as, services, smtp, sms):
    did, couple = _submitted_birth_dossier(demo, api_as)
    _register_contacts(services, couple["wife"])
    citizen = api_as(couple["wife"])
    r = citizen.client.put("/api/v1/me/notification-preferences", headers=citizen.headers,
                           json={"email": False, "sms": True, "language": "en"})
    assert r.status_code == 200 and r.get_json() == {"email": False, "sms": True, "language": "en"}
    clerk = api_as("clerk")
    code = clerk.act(did, "receive")["code"]
    clerk.act(did, "request_supplement", items=ITEMS)
    services.tasks.run_pending()
    assert smtp.messages == []
    assert [m["text"].startswith(f"MotCua: dossier {code} ") for m in sms.box.messages()] == [True, True]
    assert {r.channel for r in _rows(services, did)} == {"in-app", "sms"}
    listing = citizen.get("/api/v1/me/notifications").get_json()["notifications"]
    assert listing[0]["subject"] == f"Dossier {code} needs more documents"

    # e-mail back on: the English e-mail carries the items
    citizen.client.put("/api/v1/me/notification-preferences", headers=citizen.headers,
                       json={"email": True, "sms": False, "language": "en"})
    clerk.act(did, "refuse", reason="Không thuộc thẩm quyền", expect=409)  # refusal is for submitted dossiers
    citizen.act(did, "provide_supplement")
    clerk.act(did, "request_supplement", items=ITEMS[:1])
    services.tasks.run_pending()
    assert [m["Subject"] for m in smtp.messages] == [f"Dossier {code} needs more documents"]
    assert f"- {ITEMS[0]}" in _body(smtp.messages[0])
    assert len(sms.box.messages()) == 2


def test_bad_preferences_are_refused_in_both_languages(demo, api_as, token_for):
    couple = demo["scenarios"]["married_couple"]
    citizen = api_as(couple["wife"])
    for body in ({"email": "yes", "sms": True, "language": "vi"}, {"email": True, "sms": True, "language": "fr"},
                 {"email": True}):
        r = citizen.client.put("/api/v1/me/notification-preferences", headers=citizen.headers, json=body)
        assert r.status_code == 422, body
        assert " / " in r.get_json()["message"]
    assert citizen.get("/api/v1/me/notification-preferences").get_json() == {"email": True, "sms": True,
                                                                             "language": "vi"}
    assert api_as("clerk").get("/api/v1/me/notifications").status_code == 403
    assert api_as(None).get("/api/v1/me/notifications").status_code == 401


def test_a_citizen_never_sees_or_marks_another_citizens_notifications(demo, api_as, services):
    did, couple = _submitted_birth_dossier(demo, api_as)
    api_as("clerk").act(did, "receive")
    own = api_as(couple["wife"]).get("/api/v1/me/notifications").get_json()["notifications"]
    assert len(own) == 1
    other = api_as(couple["husband"])
    assert other.get("/api/v1/me/notifications").get_json() == {"unread": 0, "notifications": []}
    r = other.post(f"/api/v1/me/notifications/{own[0]['id']}/read")
    assert r.status_code == 404
    assert other.post("/api/v1/me/notifications/99999999999/read").status_code == 404
    assert api_as(couple["wife"]).get("/api/v1/me/notifications").get_json()["unread"] == 1


def test_a_notification_that_cannot_be_written_never_undoes_the_action(demo, api_as, services, smtp, monkeypatch):
    did, _couple = _submitted_birth_dossier(demo, api_as)

    def broken(*_args, **_kwargs):
        raise RuntimeError("template broke")

    monkeypatch.setattr(services.notifications.texts, "render", broken)
    d = api_as("clerk").act(did, "receive")
    assert d["state"] == "received" and d["code"]
    assert _rows(services, did) == []
    services.tasks.run_pending()
    assert smtp.messages == []


def test_an_unconfigured_channel_is_skipped_without_a_job(demo, api_as, services, smtp, sms, monkeypatch):
    did, couple = _submitted_birth_dossier(demo, api_as)
    _register_contacts(services, couple["wife"])
    monkeypatch.setitem(services.notifications.senders, "sms", None)  # as if MOTCUA_SMS_URL were unset
    api_as("clerk").act(did, "receive")
    assert {(r.channel, r.status) for r in _rows(services, did)} == {("in-app", "sent"), ("email", "pending"),
                                                                     ("sms", "skipped")}
    assert services.tasks.run_pending() == 1  # the e-mail's job only
    assert len(smtp.messages) == 1 and sms.box.messages() == []
