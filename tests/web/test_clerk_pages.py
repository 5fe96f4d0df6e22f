"""The clerk desk through the HTML pages: the work queue, the dossier page with its documents, history
and actions, the files it serves, and counter filing for a walk-in citizen."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from engine.adapters.models import Account, Agency
from tests.web.test_lifecycle_api import PDF, birth_form

pytestmark = pytest.mark.database

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
FILE_CSP = "default-src 'none'; frame-ancestors 'self'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
SOMEONE_ELSE = "Hồ sơ vừa được người khác xử lý"


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def couple(demo) -> dict:
    return demo["scenarios"]["married_couple"]


@pytest.fixture
def submitted_birth(couple, api_as):
    """A birth registration the mother filed online and submitted (her medical birth notice uploaded,
    the parents' marriage certificate taken from the results store)."""

    def make() -> dict:
        citizen = api_as(couple["wife"])
        r = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": birth_form(couple)})
        assert r.status_code == 201, r.get_json()
        did = r.get_json()["id"]
        r = citizen.post(f"/api/v1/dossiers/{did}/documents",
                         data={"requirement": "medical_birth_notice", "file": (io.BytesIO(PDF), "giay-chung-sinh.pdf")},
                         content_type="multipart/form-data")
        assert r.status_code == 201, r.get_json()
        return citizen.act(did, "submit")

    return make


def version_of(services, dossier_id: str) -> int:
    return services.dossiers.get_dossier(dossier_id, services.accounts.actor_for("clerk")).version_counter


def action_urls(html: str, dossier_id: str) -> set[str]:
    return set(re.findall(rf'action="/desk/dossiers/{dossier_id}/actions/(\w+)"', html))


def add_staff(services, clock, username: str, roles: list[str], agency_code: str | None = None, *,
              level: str = "commune") -> str:
    """A staff account that can sign in (password 'motcua-demo'): of the demo agency, or of a new one
    (with ``agency_code``) of that ``level``."""
    with services.uow() as uow:
        s = uow.session
        if agency_code is None:
            agency_id = services.accounts.actor_for("clerk").agency_id
        else:
            agency = Agency(code=agency_code, name_vi="UBND xã Thử Nghiệm", name_en="Test Commune People's Committee",
                            level=level, address=None, calendar="vn")
            s.add(agency)
            s.flush()
            agency_id = agency.id
        s.add(Account(username=username, kind="staff", display_name=f"Cán bộ {username}", password_hash=None,
                      roles=roles, agency_id=agency_id, personal_id=None, allowed_evidence=[], active=True,
                      created_at=clock()))
        uow.commit()
    services.accounts.set_password(username, "motcua-demo")
    return username


# --------------------------------------------------------------------------- the work queue


def test_the_clerk_queue_lists_dossiers_by_due_date_with_their_timeliness(submitted_birth, api_as, web_as, clock):
    clerk_api = api_as("clerk")
    first = clerk_api.act(submitted_birth()["id"], "receive")  # immediate: due Monday 17:00, due soon
    clock.advance(hours=7)
    second = clerk_api.act(submitted_birth()["id"], "receive")  # received 16:00, after 15:00: due Tuesday 17:00
    waiting = submitted_birth()  # no code, no due date yet

    page = web_as("clerk").get("/desk/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # nearest due date first, dossiers awaiting reception (no due date) last
    positions = [html.index(first["code"]), html.index(second["code"]), html.index(f'/desk/dossiers/{waiting["id"]}"')]
    assert positions == sorted(positions)
    row = html[positions[2]:html.index("</tr>", positions[2])]
    assert "Chưa có mã" in row and 'class="badge submitted"' in row and 'class="badge none"' in row
    row = html[positions[0]:html.index("</tr>", positions[0])]
    assert 'class="badge due_soon"' in row and "02/03/2026 17:00" in row and 'data-label="Ngày hẹn trả"' in row
    # the counts at the top cover the whole queue
    counts = {k: n for n, k in re.findall(r'<strong>(\d+)</strong> <span class="badge (\w+)">', html)}
    assert counts == {"overdue": "0", "due_soon": "2", "on_time": "0", "none": "1"}


def test_queue_filters_by_state_procedure_and_overdue(submitted_birth, api_as, web_as, clock):
    received = api_as("clerk").act(submitted_birth()["id"], "receive")
    waiting = submitted_birth()
    clerk = web_as("clerk")

    html = clerk.text(clerk.get("/desk/?state=received"))
    assert received["id"] in html and waiting["id"] not in html
    html = clerk.text(clerk.get("/desk/?procedure=marriage-registration"))
    assert received["id"] not in html and waiting["id"] not in html
    assert "Hiện không có hồ sơ nào cần bạn xử lý." in html
    html = clerk.text(clerk.get("/desk/?procedure=birth-registration"))
    assert received["id"] in html and waiting["id"] in html

    assert received["id"] not in clerk.text(clerk.get("/desk/?overdue=1"))
    clock.set(dt.datetime(2026, 3, 4, 9, 0))  # the day after the due date
    clerk = web_as("clerk")  # two days on, yesterday's session has expired: a new day, a new sign-in
    html = clerk.text(clerk.get("/desk/?overdue=1"))
    assert received["id"] in html and waiting["id"] not in html
    assert 'class="badge overdue"' in html


def test_a_bad_filter_value_gives_a_message_not_an_error(submitted_birth, web_as):
    waiting = submitted_birth()
    clerk = web_as("clerk")
    r = clerk.get("/desk/?state=nonsense&procedure=no-such-procedure&overdue=maybe&page=abc")
    html = clerk.text(r)
    assert r.status_code == 422
    assert "Không có trạng thái này" in html and "Không có thủ tục này" in html
    assert "Số trang phải là số nguyên" in html and 'aria-invalid="true"' in html
    assert waiting["id"] in html  # the queue is still shown, without the unusable filters
    for query in ("page=0", "page=99999999999999999999", "all=yes", "procedure=" + "x" * 5000):
        r = clerk.get(f"/desk/?{query}")
        assert r.status_code == 422, query
    # a NUL cannot even be looked up: refused at the door, in a query, a path or a form
    assert clerk.get("/desk/?state=%00").status_code == 400
    assert clerk.get(f"/desk/dossiers/{waiting['id']}%00").status_code == 400
    r = clerk.post(f"/desk/dossiers/{waiting['id']}/actions/receive",
                   {"expected_version": str(waiting["version_counter"]), "comment": "a\x00b"})
    assert r.status_code == 400


def test_the_specialist_default_queue_leaves_out_dossiers_awaiting_reception_but_the_agency_view_shows_them(
    submitted_birth, web_as
):
    waiting = submitted_birth()
    specialist = web_as("specialist")
    assert waiting["id"] not in specialist.text(specialist.get("/desk/"))
    html = specialist.text(specialist.get("/desk/?all=1"))
    assert waiting["id"] in html and 'aria-current="page">Tất cả hồ sơ của cơ quan' in html
    assert waiting["id"] in web_as("clerk").text(web_as("clerk").get("/desk/"))


def test_a_citizen_may_not_open_the_desk(couple, web_as):
    citizen = web_as(couple["wife"])
    assert citizen.get("/desk/").status_code == 403
    assert citizen.get("/desk/counter").status_code == 403
    assert web_as(None).get("/desk/").status_code == 302  # a visitor is sent to sign in


# --------------------------------------------------------------------------- the dossier page


def test_the_dossier_page_shows_provenance_documents_and_history(submitted_birth, web_as, couple):
    d = submitted_birth()
    clerk = web_as("clerk")
    html = clerk.text(clerk.get(f"/desk/dossiers/{d['id']}"))
    # where each value came from: the register's data marked with its source, what the mother typed as declared
    assert '<span class="source">Nguồn: Cơ sở dữ liệu quốc gia về dân cư</span>' in html
    child = html.index("Trần Minh Khôi")
    assert '<span class="source declared">Tự khai</span>' in html[child:child + 200]
    assert "20/02/2026" in html  # a date as dd/mm/yyyy
    # the uploaded notice in the viewer (its pages as images), with a plain link; the marriage certificate
    # from the store, verifiable
    doc = next(x for x in d["documents"] if x["requirement"] == "medical_birth_notice")
    url = f"/desk/dossiers/{d['id']}/documents/{doc['id']}"
    assert re.search(rf'<img src="{url}/pages/1.png" alt="Trang 1"', html)
    assert f'<a href="{url}">' in html
    reused = next(x for x in d["documents"] if x["requirement"] == "parents_marriage_certificate")
    assert reused["verify_url"] and f'href="{reused["verify_url"]}"' in html
    assert re.search(r"Số \d+/\d{4}/TP-KH", html)
    # the history
    timeline = html[html.index('<ol class="timeline">'):]
    assert "Tạo hồ sơ" in timeline and "Nộp hồ sơ" in timeline and "Đã nộp, chờ tiếp nhận" in timeline


def test_the_clerk_sees_the_reception_actions_and_not_approval(submitted_birth, web_as):
    d = submitted_birth()
    clerk = web_as("clerk")
    html = clerk.text(clerk.get(f"/desk/dossiers/{d['id']}"))
    assert action_urls(html, d["id"]) == {"receive", "request_supplement", "refuse"}
    refuse = html[html.index('id="act-refuse"'):]
    refuse = refuse[:refuse.index("</form>")]
    assert 'class="danger"' in refuse and 'name="confirm"' in refuse and 'name="reason"' in refuse
    assert '<label for="refuse-reason">' in refuse
    assert f'name="expected_version" value="{d["version_counter"]}"' in html
    # the specialist has nothing to do at reception, and sees no upload form either
    specialist = web_as("specialist")
    html = specialist.text(specialist.get(f"/desk/dossiers/{d['id']}"))
    assert action_urls(html, d["id"]) == set() and 'id="upload"' not in html


def test_the_leader_sees_approve_on_a_dossier_awaiting_decision(submitted_birth, api_as, web_as):
    did = submitted_birth()["id"]
    api_as("clerk").act(did, "receive")
    api_as("leader").act(did, "assign")
    api_as("specialist").act(did, "appraise")
    html = web_as("leader").text(web_as("leader").get(f"/desk/dossiers/{did}"))
    assert {"approve", "reject"} <= action_urls(html, did)
    assert "approve" not in action_urls(web_as("clerk").text(web_as("clerk").get(f"/desk/dossiers/{did}")), did)


def test_receiving_through_the_page_sets_the_code_and_due_date_and_offers_the_receipt_slip(
    submitted_birth, web_as, services
):
    did = submitted_birth()["id"]
    clerk = web_as("clerk")
    r = clerk.post(f"/desk/dossiers/{did}/actions/receive",
                   {"expected_version": str(version_of(services, did)), "comment": "Hồ sơ đầy đủ"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/desk/dossiers/{did}")
    d = services.dossiers.get_dossier(did, services.accounts.actor_for("clerk"))
    assert d.state == "received" and re.fullmatch(r"000\.00\.25\.H26-260302-0001", d.code)
    assert d.due_at == dt.datetime(2026, 3, 2, 17, 0)  # immediate, received Monday 09:00
    assert d.events[-1].comment == "Hồ sơ đầy đủ"

    html = clerk.text(clerk.get(f"/desk/dossiers/{did}"))
    slip = next(s for s in d.slips if s.form == "01")
    assert f"Đã tiếp nhận. Mã hồ sơ {d.code}, hẹn trả kết quả 02/03/2026 17:00." in html  # the flash
    assert html.count(f'href="/desk/slips/{slip.id}.pdf"') >= 2  # in the flash and in the print box
    assert "In giấy tiếp nhận" in html
    pdf = clerk.get(f"/desk/slips/{slip.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"].startswith("inline")
    assert clerk.get("/desk/slips/not-a-slip.pdf").status_code == 404


def test_a_supplement_request_without_items_comes_back_with_the_message_next_to_the_field(
    submitted_birth, web_as, services
):
    did = submitted_birth()["id"]
    clerk = web_as("clerk")
    r = clerk.post(f"/desk/dossiers/{did}/actions/request_supplement",
                   {"expected_version": str(version_of(services, did)), "items": " \n  \n", "comment": "thiếu"})
    html = clerk.text(r)
    assert r.status_code == 422
    form = html[html.index('id="act-request_supplement"'):]
    form = form[:form.index("</form>")]
    assert 'aria-invalid="true" aria-describedby="request_supplement-items-error"' in form
    assert re.search(r'<p class="field-error" id="request_supplement-items-error">[^<]*bắt buộc', form)
    assert 'value="thiếu"' in form  # what was typed is kept
    assert services.dossiers.get_dossier(did, services.accounts.actor_for("clerk")).state == "submitted"

    r = clerk.post(f"/desk/dossiers/{did}/actions/request_supplement",
                   {"expected_version": str(version_of(services, did)),
                    "items": "Bản chụp giấy chứng sinh rõ nét\r\nGhi rõ nơi sinh\r\n"})
    assert r.status_code == 303
    d = services.dossiers.get_dossier(did, services.accounts.actor_for("clerk"))
    assert d.state == "reception_supplement"
    assert d.events[-1].items == ["Bản chụp giấy chứng sinh rõ nét", "Ghi rõ nơi sinh"]


def test_refusing_needs_the_confirmation_box_and_a_reason(submitted_birth, web_as, services):
    did = submitted_birth()["id"]
    clerk = web_as("clerk")
    version = str(version_of(services, did))
    r = clerk.post(f"/desk/dossiers/{did}/actions/refuse", {"expected_version": version, "reason": "Sai thẩm quyền"})
    assert r.status_code == 422 and 'id="refuse-confirm-error"' in clerk.text(r)
    assert services.dossiers.get_dossier(did, services.accounts.actor_for("clerk")).state == "submitted"
    r = clerk.post(f"/desk/dossiers/{did}/actions/refuse", {"expected_version": version, "reason": "", "confirm": "yes"})
    assert r.status_code == 422 and 'id="refuse-reason-error"' in clerk.text(r)
    r = clerk.post(f"/desk/dossiers/{did}/actions/refuse",
                   {"expected_version": version, "reason": "Không thuộc thẩm quyền của phường", "confirm": "yes"})
    assert r.status_code == 303
    assert services.dossiers.get_dossier(did, services.accounts.actor_for("clerk")).state == "refused"


def test_two_clerks_acting_at_once_one_wins_and_the_other_is_told(submitted_birth, web_as, services, clock):
    did = submitted_birth()["id"]
    add_staff(services, clock, "clerk2", ["clerk"])
    first, second = web_as("clerk"), web_as("clerk2")
    version = str(version_of(services, did))
    assert first.post(f"/desk/dossiers/{did}/actions/receive", {"expected_version": version}).status_code == 303
    r = second.post(f"/desk/dossiers/{did}/actions/receive", {"expected_version": version})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/desk/dossiers/{did}")
    html = second.text(second.get(f"/desk/dossiers/{did}"))
    assert SOMEONE_ELSE in html
    assert "receive" not in action_urls(html, did)
    d = services.dossiers.get_dossier(did, services.accounts.actor_for("clerk"))
    assert [e.action for e in d.events].count("receive") == 1
    assert [s.form for s in d.slips].count("01") == 1


def test_an_action_not_possible_in_the_state_is_refused_with_a_message(submitted_birth, web_as, services):
    did = submitted_birth()["id"]
    clerk = web_as("clerk")
    r = clerk.post(f"/desk/dossiers/{did}/actions/return_result", {"expected_version": str(version_of(services, did))})
    assert r.status_code == 303
    assert "Chưa thể thực hiện thao tác này" in clerk.text(clerk.get(f"/desk/dossiers/{did}"))
    assert clerk.post(f"/desk/dossiers/{did}/actions/receive", {}).status_code == 400  # no version: a broken form
    assert services.dossiers.get_dossier(did, services.accounts.actor_for("clerk")).state == "submitted"


def test_a_post_without_the_csrf_token_is_refused_and_nothing_changes(submitted_birth, web_as, services):
    did = submitted_birth()["id"]
    clerk = web_as("clerk")
    r = clerk.post(f"/desk/dossiers/{did}/actions/receive", {"expected_version": str(version_of(services, did))},
                   csrf=False)
    assert r.status_code == 400
    r = clerk.post(f"/desk/dossiers/{did}/documents", {"requirement": "medical_birth_notice",
                                                         "file": (io.BytesIO(PNG), "scan.png")},
                   csrf=False, content_type="multipart/form-data")
    assert r.status_code == 400
    d = services.dossiers.get_dossier(did, services.accounts.actor_for("clerk"))
    assert d.state == "submitted" and [e.action for e in d.events] == ["create", "submit"]
    assert next(x for x in d.documents if x.requirement == "medical_birth_notice").content_type == "application/pdf"


# --------------------------------------------------------------------------- files and uploads


def test_the_document_endpoint_serves_the_upload_inline_under_a_strict_policy(submitted_birth, web_as):
    d = submitted_birth()
    doc = next(x for x in d["documents"] if x["requirement"] == "medical_birth_notice")
    clerk = web_as("clerk")
    r = clerk.get(f"/desk/dossiers/{d['id']}/documents/{doc['id']}")
    assert r.status_code == 200 and r.data == PDF and r.mimetype == "application/pdf"
    assert r.headers["Content-Disposition"] == 'inline; filename="giay-chung-sinh.pdf"'
    assert r.headers["Content-Security-Policy"] == FILE_CSP
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    r = clerk.get(f"/desk/dossiers/{d['id']}/documents/{doc['id']}?download=1")
    assert r.headers["Content-Disposition"].startswith("attachment;") and r.data == PDF
    assert clerk.get(f"/desk/dossiers/{d['id']}/documents/no-such-document").status_code == 404
    # the page itself keeps the site's stricter defaults
    page = clerk.get(f"/desk/dossiers/{d['id']}")
    assert page.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    # the viewer shows the PDF as images drawn on the server, which run nothing: no frame, no plugin
    assert not re.search(r"<(iframe|object|embed)\b", clerk.text(page))
    image = clerk.get(f"/desk/dossiers/{d['id']}/documents/{doc['id']}/pages/1.png")
    assert image.mimetype == "image/png" and image.headers["Content-Security-Policy"] == FILE_CSP


def test_the_clerk_adds_a_scan_on_the_dossier_page_and_a_wrong_file_is_refused(submitted_birth, web_as, services):
    did = submitted_birth()["id"]
    clerk = web_as("clerk")
    r = clerk.post(f"/desk/dossiers/{did}/documents", {"requirement": "medical_birth_notice",
                                                         "file": (io.BytesIO(b"just some text"), "scan.pdf")},
                   content_type="multipart/form-data")
    assert r.status_code == 415 and 'id="up-file-error"' in clerk.text(r)
    r = clerk.post(f"/desk/dossiers/{did}/documents", {"requirement": "medical_birth_notice"},
                   content_type="multipart/form-data")
    assert r.status_code == 422 and 'id="up-file-error"' in clerk.text(r)
    r = clerk.post(f"/desk/dossiers/{did}/documents", {"requirement": "medical_birth_notice",
                                                         "file": (io.BytesIO(PNG), "ban-quet.png")},
                   content_type="multipart/form-data")
    assert r.status_code == 303
    d = services.dossiers.get_dossier(did, services.accounts.actor_for("clerk"))
    doc = next(x for x in d.documents if x.requirement == "medical_birth_notice")
    assert doc.content_type == "image/png" and doc.filename == "ban-quet.png"
    html = clerk.text(clerk.get(f"/desk/dossiers/{did}"))
    assert re.search(rf'<img class="viewer" src="/desk/dossiers/{did}/documents/{doc.id}" alt="[^"]+"', html)
    assert clerk.get(f"/desk/dossiers/{did}/documents/{doc.id}").data == PNG


def test_staff_of_another_agency_get_not_found(submitted_birth, web_as, services, clock):
    d = submitted_birth()
    add_staff(services, clock, "clerk-other", ["clerk"], agency_code="000.00.99.H99")
    other = web_as("clerk-other")
    doc = d["documents"][0]
    assert other.get(f"/desk/dossiers/{d['id']}").status_code == 404
    assert other.get(f"/desk/dossiers/{d['id']}/documents/{doc['id']}").status_code == 404
    assert other.post(f"/desk/dossiers/{d['id']}/actions/receive", {"expected_version": str(d["version_counter"])}).status_code == 404
    assert d["id"] not in other.text(other.get("/desk/?all=1"))
    assert services.dossiers.get_dossier(d["id"], services.accounts.actor_for("clerk")).state == "submitted"


# --------------------------------------------------------------------------- counter filing


def _single(demo) -> str:
    return demo["scenarios"]["single_adults"][0]["personal_id"]


def test_counter_lookup_shows_the_citizen_or_says_why_not(demo, web_as, services):
    pid = _single(demo)
    clerk = web_as("clerk")
    r = clerk.get(f"/desk/counter?personal_id={pid}")
    html = clerk.text(r)
    card = services.counter.find_person(pid, services.accounts.actor_for("clerk"))
    assert r.status_code == 200
    assert card.full_name in html and card.date_of_birth.strftime("%d/%m/%Y") in html and card.permanent_address in html
    assert f'/desk/counter/marital-status-certification?applicant={pid}' in html
    assert "criminal-record-certificate" not in html  # a province procedure: not taken at a commune's counter
    r = clerk.get("/desk/counter?personal_id=12345")
    assert r.status_code == 422 and "gồm 12 chữ số" in clerk.text(r) and 'aria-invalid="true"' in clerk.text(r)
    r = clerk.get("/desk/counter?personal_id=000000000000")
    assert r.status_code == 404 and "Không có công dân nào mang số này" in clerk.text(r)
    r = clerk.get("/desk/counter/marital-status-certification?applicant=000000000000")
    assert r.status_code == 303 and "personal_id=000000000000" in r.headers["Location"]
    assert web_as("specialist").get("/desk/counter").status_code == 403


def test_counter_filing_for_a_single_adult_files_a_prefilled_dossier(demo, web_as, services):
    pid = _single(demo)
    clerk = web_as("clerk")
    person = services.counter.find_person(pid, services.accounts.actor_for("clerk"))
    r = clerk.get(f"/desk/counter/marital-status-certification?applicant={pid}")
    html = clerk.text(r)
    assert r.status_code == 200
    assert re.search(rf'name="requester_full_name" value="{person.full_name}" readonly', html)
    assert '<span class="source">Nguồn: Cơ sở dữ liệu quốc gia về dân cư</span>' in html
    assert '<label for="f-purpose">' in html
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    typed = {"applicant": pid, "idempotency_key": key, "requester_full_name": person.full_name,
             "requester_relationship": "self", "issuance_type": "first", "copies_count": "1",
             "purpose": "Để đăng ký kết hôn tại phường Ba Đình"}

    # a required field left empty: the form again, the message beside the field, nothing filed
    r = clerk.post("/desk/counter/marital-status-certification", {**typed, "purpose": ""})
    html = clerk.text(r)
    assert r.status_code == 422
    assert re.search(r'<p class="field-error" id="f-purpose-error">[^<]*bắt buộc', html)
    assert 'id="f-purpose" aria-describedby="f-purpose-hint f-purpose-error" aria-invalid="true"' in html
    assert 'value="self" selected' in html  # what was typed is kept
    assert services.desk.list_dossiers(services.accounts.actor_for(pid)).total == 0  # not even a draft

    r = clerk.post("/desk/counter/marital-status-certification", typed)
    assert r.status_code == 303
    did = r.headers["Location"].rsplit("/", 1)[1]
    d = services.dossiers.get_dossier(did, services.accounts.actor_for("clerk"))
    assert (d.state, d.channel, d.applicant["personal_id"]) == ("submitted", "counter", pid)
    assert [e.action for e in d.events] == ["create", "file_at_counter"]
    assert d.data["requester_full_name"] == person.full_name and d.data["purpose"] == typed["purpose"]
    assert d.provenance["requester_full_name"]["source"] == "population"
    assert d.provenance["marital_status"]["source"] == "population" and "purpose" not in d.provenance
    # the same form sent again (a double click) files nothing more
    again = clerk.post("/desk/counter/marital-status-certification", typed)
    assert again.status_code == 303 and again.headers["Location"] == r.headers["Location"]
    assert services.desk.list_dossiers(services.accounts.actor_for("clerk")).total == 1

    html = clerk.text(clerk.get(f"/desk/dossiers/{did}"))
    assert "Đã nộp hồ sơ trực tiếp cho" in html
    assert "receive" in action_urls(html, did) and 'id="upload"' in html
    assert "Trực tiếp" in html


def test_a_register_value_cannot_be_changed_at_the_counter(demo, web_as, services):
    pid = _single(demo)
    clerk = web_as("clerk")
    html = clerk.text(clerk.get(f"/desk/counter/marital-status-certification?applicant={pid}"))
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
    r = clerk.post("/desk/counter/marital-status-certification", {
        "applicant": pid, "idempotency_key": key, "requester_full_name": "Tên Khác Hẳn",
        "requester_relationship": "self", "issuance_type": "first", "copies_count": "1", "purpose": "Vay vốn"})
    assert r.status_code == 422 and 'id="f-requester_full_name-error"' in clerk.text(r)
    assert services.desk.list_dossiers(services.accounts.actor_for(pid)).total == 0


def test_receiving_without_a_required_scan_names_the_missing_document(couple, web_as, services):
    clerk_actor = services.accounts.actor_for("clerk")
    d = services.counter.file_for_walk_in("birth-registration", birth_form(couple), clerk_actor, applicant=couple["wife"])
    assert d.state == "submitted"
    clerk = web_as("clerk")
    r = clerk.post(f"/desk/dossiers/{d.id}/actions/receive", {"expected_version": str(d.version_counter)})
    html = clerk.text(r)
    assert r.status_code == 422
    box = html[html.index('id="act-receive-error"'):]
    assert "Giấy chứng sinh:" in box[:box.index("</div>")]
    assert services.dossiers.get_dossier(d.id, clerk_actor).state == "submitted"


def test_the_leader_extends_the_due_date_with_a_reason_and_a_date(submitted_birth, api_as, web_as, services, clock):
    did = submitted_birth()["id"]
    clock.set(dt.datetime(2026, 3, 2, 15, 30))
    api_as("clerk").act(did, "receive")  # immediate, after 15:00: due Tuesday 3 March, 17:00
    leader = web_as("leader")
    version = str(version_of(services, did))
    r = leader.post(f"/desk/dossiers/{did}/actions/extend_due", {"expected_version": version, "reason": "",
                                                                  "new_due_at": "2026-03-06"})
    assert r.status_code == 422 and 'id="extend_due-reason-error"' in leader.text(r)
    assert 'value="2026-03-06"' in leader.text(r)
    r = leader.post(f"/desk/dossiers/{did}/actions/extend_due", {
        "expected_version": version, "reason": "Cần xác minh nơi sinh với bệnh viện", "new_due_at": "2026-03-06"})
    assert r.status_code == 303
    d = services.dossiers.get_dossier(did, services.accounts.actor_for("leader"))
    assert d.extended and d.due_at == dt.datetime(2026, 3, 6, 17, 0) and d.original_due_at == dt.datetime(2026, 3, 3, 17, 0)
    html = leader.text(leader.get(f"/desk/dossiers/{did}"))
    assert "Đã gia hạn" in html and "hạn ban đầu 03/03/2026 17:00" in html
    assert "Văn bản xin lỗi và đề nghị gia hạn (mẫu 04)" in html


def test_the_desk_speaks_english_when_asked(submitted_birth, web_as):
    waiting = submitted_birth()
    clerk = web_as("clerk")
    clerk.client.set_cookie("motcua_lang", "en")
    html = clerk.text(clerk.get("/desk/"))
    assert '<html lang="en">' in html and "All dossiers of the agency" in html and "No code yet" in html
    html = clerk.text(clerk.get(f"/desk/dossiers/{waiting['id']}"))
    assert "Source: the national population database" in html and "Declared" in html


def test_queue_rows_are_rendered_once_and_never_shown_stale(submitted_birth, api_as, web_as, app, clock):
    """The desk keeps each row it rendered (web/fragments.py) under everything the row shows: the same
    page again is the same markup from kept rows; a dossier that moved, time that changed its timeliness,
    or another language renders the row anew."""
    from web.fragments import EXTENSION

    kept = app.extensions[EXTENSION]
    did = submitted_birth()["id"]
    clerk = web_as("clerk")
    first = clerk.text(clerk.get("/desk/"))
    rows = len(kept)
    assert rows >= 1 and f'/desk/dossiers/{did}"' in first
    assert clerk.text(clerk.get("/desk/")) == first and len(kept) == rows  # nothing rendered again

    received = api_as("clerk").act(did, "receive")  # a code, a state, a due date: a new row
    html = clerk.text(clerk.get("/desk/"))
    row = html[html.index(f'/desk/dossiers/{did}"'):]
    row = row[:row.index("</tr>")]
    assert received["code"] in row and 'class="badge received"' not in first and "Chưa có mã" not in row
    assert 'class="badge due_soon"' in row

    clock.advance(days=10)  # past its due date: the same dossier, now overdue
    clerk = web_as("clerk")  # the session of ten days ago has ended
    html = clerk.text(clerk.get("/desk/"))
    row = html[html.index(f'/desk/dossiers/{did}"'):]
    assert 'class="badge overdue"' in row[:row.index("</tr>")]

    clerk.client.set_cookie("motcua_lang", "en")
    html = clerk.text(clerk.get("/desk/"))
    row = html[html.index(f'/desk/dossiers/{did}"'):]
    row = row[:row.index("</tr>")]
    assert 'data-label="Due date"' in row and "Ngày hẹn trả" not in row


def test_kept_fragments_are_bounded():
    from markupsafe import Markup

    from web.fragments import Fragments

    kept = Fragments(limit=3)
    for i in range(3):
        assert kept.keep(i, Markup(f"<tr>{i}</tr>")) == Markup(f"<tr>{i}</tr>")
    assert len(kept) == 3 and kept.get(1) == Markup("<tr>1</tr>")
    kept.keep(3, Markup("<tr>3</tr>"))  # full: dropped, then kept anew
    assert len(kept) == 1 and kept.get(0) is None and kept.get(3) == Markup("<tr>3</tr>")
