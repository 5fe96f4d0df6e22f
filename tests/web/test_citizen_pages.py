"""The citizen portal through its HTML pages: the catalogue, a procedure's page, filing with prefill,
my dossiers (form, documents, actions, slips, results) and my data store. Staff act through the
JSON API; every check is on what the page shows and on what the services then hold."""
from __future__ import annotations

import html
import io
import re

import pytest

from tests.web.test_lifecycle_api import PDF, birth_form

pytestmark = pytest.mark.database

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
KEY = re.compile(r'name="idempotency_key" value="([0-9a-f]{32})"')
DOSSIER_URL = re.compile(r"/my/dossiers/([0-9a-f-]{36})$")


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def couple(demo) -> dict:
    return demo["scenarios"]["married_couple"]


@pytest.fixture
def stranger(demo) -> str:
    """A citizen outside the married couple's family."""
    return next(p["personal_id"] for p in demo["scenarios"]["single_adults"] if p["sex"] == "male")


def page(user, path: str, status: int = 200) -> str:
    response = user.get(path)
    assert response.status_code == status, (path, response.status_code, user.text(response)[:800])
    return html.unescape(user.text(response))


def form_key(user, procedure: str = "birth-registration") -> str:
    match = KEY.search(page(user, f"/procedures/{procedure}/apply"))
    assert match, "the filing form carries an idempotency key"
    return match.group(1)


def file_birth(user, couple: dict, key: str | None = None, **changes) -> str:
    """File a birth registration through the form; the id of the draft it created."""
    data = {**birth_form(couple), **changes, "idempotency_key": key or form_key(user)}
    response = user.post("/procedures/birth-registration/apply", data)
    assert response.status_code == 303, (response.status_code, user.text(response)[:1500])
    match = DOSSIER_URL.search(response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def upload(user, dossier_id: str, requirement: str, content: bytes = PDF, name: str = "giay-chung-sinh.pdf"):
    return user.post(f"/my/dossiers/{dossier_id}/documents", {"requirement": requirement,
                                                              "file": (io.BytesIO(content), name)},
                     content_type="multipart/form-data")


def version_of(services, dossier_id: str, actor) -> int:
    return services.dossiers.get_dossier(dossier_id, actor).version_counter


def act(user, services, actor, dossier_id: str, action: str, **inputs):
    data = {"expected_version": str(version_of(services, dossier_id, actor)), **inputs}
    return user.post(f"/my/dossiers/{dossier_id}/actions/{action}", data)


def flashes(text: str) -> str:
    return " ".join(re.findall(r'<p class="flash [a-z]+">(.*?)</p>', text, re.S))


# --------------------------------------------------------------------------- the catalogue


def test_the_catalogue_search_ignores_diacritics_and_case_and_finds_codes(web_as, demo, services):
    visitor = web_as(None)
    for query in ("khai sinh", "Khai Sinh", "ĐĂNG KÝ KHAI SINH", "dang ky khai sinh", "1.001193", "birth",
                  "birth-registration"):
        text = page(visitor, f"/procedures?q={query}")
        assert "Đăng ký khai sinh" in text, query
        assert "Đăng ký kết hôn" not in text, query
    both = page(visitor, "/procedures?q=dang ky")
    assert "Đăng ký khai sinh" in both and "Đăng ký kết hôn" in both and "Đăng ký khai tử" in both
    assert "Cấp Phiếu lý lịch tư pháp" in page(visitor, "/procedures?q=ly lich")
    none = page(visitor, "/procedures?q=hộ chiếu ngoại giao")
    assert "Không tìm thấy thủ tục" in none and "Đăng ký khai sinh" not in none
    assert 'href="/procedures"' in none  # a way back to the whole list
    everything = page(visitor, "/procedures")
    assert everything.count('class="card proc-card"') == len(services.procedures.list_procedures())


def test_the_home_page_has_a_search_the_procedures_a_verify_link_and_a_sign_in_prompt(web_as, couple):
    text = page(web_as(None), "/")
    assert 'action="/procedures"' in text and 'name="q"' in text
    assert "Đăng ký khai sinh" in text and "1.001193" in text and "Nộp trực tuyến" in text
    assert 'href="/procedures/birth-registration/apply"' in text
    assert 'href="/verify"' in text
    assert "Đăng nhập để nộp hồ sơ trực tuyến" in text
    signed_in = page(web_as(couple["wife"]), "/")
    assert "Đăng nhập để nộp hồ sơ trực tuyến" not in signed_in and 'href="/my/dossiers"' in signed_in


def test_the_procedure_page_shows_fee_time_limit_documents_and_the_workflow(web_as, demo):
    visitor = web_as(None)
    text = page(visitor, "/procedures/birth-registration")
    assert "1.001193" in text and "Cấp xã" in text
    assert "Giải quyết ngay" in text and "Miễn phí" in text  # Law on Civil Status Art. 16: immediately and "Luật Hộ tịch 2014, Điều 16" in text
    assert "Thông tư 281/2016/TT-BTC" in text  # the fee note
    assert "Giấy chứng sinh" in text and "Giấy chứng nhận kết hôn của cha, mẹ" in text
    assert "Có thể lấy từ Kho dữ liệu của tôi: Giấy chứng nhận kết hôn" in text
    assert "Tờ khai có 28 trường; 23 trường có thể được điền sẵn" in text  # the registration type derived, 3 from the birth notice
    assert '<svg class="workflow"' in text
    steps = re.search(r'<ol class="wf-steps">(.*?)</ol>\s*</section>', text, re.S).group(1)
    assert "Nộp hồ sơ" in steps and "Tiếp nhận" in steps and "Trả kết quả" in steps
    assert 'href="/procedures/birth-registration/apply"' in text and "Nộp hồ sơ trực tuyến" in text
    paid = page(visitor, "/procedures/criminal-record-certificate")
    assert "200.000 đ" in paid and "10 ngày" in paid and "Cấp tỉnh" in paid
    missing = visitor.get("/procedures/no-such-procedure")
    assert missing.status_code == 404 and "<h1>" in visitor.text(missing)


def test_a_visitor_is_sent_to_sign_in_and_staff_cannot_file_as_a_citizen(web_as, demo):
    visitor = web_as(None)
    for path in ("/procedures/birth-registration/apply", "/my/dossiers", "/my/results", "/my/dossiers/x",
                 "/my/results/x.pdf", "/my/slips/x.pdf"):
        response = visitor.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next="), path
    assert visitor.get("/procedures/birth-registration/apply").headers["Location"] == (
        "/login?next=/procedures/birth-registration/apply")
    assert visitor.post("/procedures/birth-registration/apply", {}).status_code == 302
    assert web_as("clerk").get("/procedures/birth-registration/apply").status_code == 403


# --------------------------------------------------------------------------- filing


def test_the_married_couples_filing_page_is_mostly_prefilled_with_sources_and_the_marriage_certificate(
        web_as, couple, services):
    wife = web_as(couple["wife"])
    text = page(wife, "/procedures/birth-registration/apply")
    assert "18 trên 28 trường đã được điền sẵn — bạn chỉ cần nhập 10 trường." in text
    marks = re.findall(r'<span class="source" id="f-(\w+)-src">([^<]+)</span>', text)
    assert len(marks) / 28 >= 0.6, marks
    assert ("mother_full_name", "Từ Cơ sở dữ liệu quốc gia về dân cư") in marks
    assert ("requester_full_name", "Từ tài khoản định danh của bạn") in marks
    # register values are read only and not even sent back by the browser
    actor = services.accounts.actor_for(couple["wife"])
    locked = re.search(r'<input id="f-mother_full_name" ([^>]*)>', text).group(1)
    assert "readonly" in locked and "name=" not in locked and f'value="{actor.display_name}"' in locked
    # editable prefilled values are ordinary inputs with their value
    assert re.search(r'<textarea id="f-mother_residence" name="mother_residence"', text)
    # the rest to type
    assert re.search(r'<input id="f-child_full_name" name="child_full_name" value=""', text)
    certificate = services.results.get_result(couple["marriage_certificate"], actor)
    assert f"Lấy từ Kho dữ liệu của tôi: Giấy chứng nhận kết hôn số {certificate.number}" in text
    assert "Bạn tải tệp này lên sau khi lưu tờ khai" in text  # the birth notice is still a file


def test_the_same_form_posted_twice_creates_one_draft_and_register_values_come_from_the_register(
        web_as, couple, services):
    wife = web_as(couple["wife"])
    actor = services.accounts.actor_for(couple["wife"])
    key = form_key(wife)
    first = file_birth(wife, couple, key, mother_full_name="Tên Khác Hẳn")  # a tampered read-only value
    again = file_birth(wife, couple, key, mother_full_name="Tên Khác Hẳn")
    assert first == again
    assert services.desk.list_dossiers(actor).total == 1
    text = page(wife, f"/my/dossiers/{first}")
    assert "Hồ sơ đã được lưu ở dạng bản nháp" in text
    assert "chưa có mã" in text
    # the same key with other values (the form sent back after a change): refused, a fresh key offered
    changed = {**birth_form(couple), "child_full_name": "Trần Minh An", "idempotency_key": key}
    response = wife.post("/procedures/birth-registration/apply", changed)
    assert response.status_code == 409 and "đã được gửi một lần với nội dung khác" in html.unescape(wife.text(response))
    assert f'value="{key}"' not in wife.text(response) and 'value="Trần Minh An"' in html.unescape(wife.text(response))
    assert services.desk.list_dossiers(actor).total == 1
    d = services.dossiers.get_dossier(first, actor)
    assert d.state == "draft" and d.code is None
    assert d.data["mother_full_name"] == actor.display_name  # the register's, not the browser's
    assert d.data["child_full_name"] == "Trần Minh Khôi"
    assert d.provenance["mother_full_name"]["source"] == "population"
    reqs = {r.id: r for r in d.requirements}
    assert reqs["parents_marriage_certificate"].by == "result"
    # a new form (a new key) is a new dossier
    file_birth(wife, couple)
    assert services.desk.list_dossiers(actor).total == 2


def test_a_missing_or_invalid_field_is_shown_next_to_it_with_422_and_the_typed_values_kept(web_as, couple, services):
    wife = web_as(couple["wife"])
    key = form_key(wife)
    data = {**birth_form(couple), "child_full_name": "", "idempotency_key": key}
    response = wife.post("/procedures/birth-registration/apply", data)
    text = html.unescape(wife.text(response))
    assert response.status_code == 422
    assert re.search(r'<p class="field-error" id="f-child_full_name-err">Trường này bắt buộc phải nhập.</p>', text)
    field = re.search(r'<input id="f-child_full_name" ([^>]*)>', text).group(1)
    assert 'aria-invalid="true"' in field and "f-child_full_name-err" in field
    assert 'href="#f-child_full_name"' in text and 'id="error-summary"' in text
    assert 'value="Bệnh viện Phụ sản Hà Nội"' in text  # what was typed stays
    assert f'name="idempotency_key" value="{key}"' in text
    # a value the service refuses: its message next to the field
    data = {**birth_form(couple), "child_date_of_birth": "20/02/2026", "idempotency_key": key}
    response = wife.post("/procedures/birth-registration/apply", data)
    text = html.unescape(wife.text(response))
    assert response.status_code == 422
    assert re.search(r'id="f-child_date_of_birth-err">ngày theo dạng YYYY-MM-DD</p>', text)
    assert services.desk.list_dossiers(services.accounts.actor_for(couple["wife"])).total == 0


def test_the_other_party_is_looked_up_by_personal_id_and_withheld_when_not_family(web_as, demo, services):
    singles = demo["scenarios"]["single_adults"]
    bride = next(p["personal_id"] for p in singles if p["sex"] == "female")
    groom = next(p["personal_id"] for p in singles if p["sex"] == "male")
    user = web_as(bride)
    text = page(user, "/procedures/marriage-registration/apply")
    assert 'method="get"' in text and 'name="wife_personal_id"' in text and "Tra cứu" in text
    text = page(user, f"/procedures/marriage-registration/apply?wife_personal_id={bride}&husband_personal_id={groom}")
    me = services.accounts.actor_for(bride)
    assert re.search(rf'<input id="f-wife_full_name" value="{re.escape(me.display_name)}" readonly', text)
    assert "Không tra cứu được: người này không có quan hệ với bạn" in text
    assert re.search(r'<input id="f-husband_full_name" name="husband_full_name" value=""', text)
    bad = user.get("/procedures/marriage-registration/apply?husband_personal_id=12345")
    assert bad.status_code == 422 and "Số định danh cá nhân gồm 12 chữ số." in html.unescape(user.text(bad))


# --------------------------------------------------------------------------- my dossiers


def test_a_dossier_is_completed_submitted_and_listed(web_as, couple, services):
    wife = web_as(couple["wife"])
    actor = services.accounts.actor_for(couple["wife"])
    assert "Bạn chưa có hồ sơ nào" in page(wife, "/my/dossiers")
    did = file_birth(wife, couple)
    # submitting without the birth notice: the page names what is missing; nothing changes
    response = act(wife, services, actor, did, "submit")
    assert response.status_code == 303
    assert "Giấy chứng sinh" in flashes(html.unescape(wife.text(wife.get(response.headers["Location"]))))
    assert services.dossiers.get_dossier(did, actor).state == "draft"
    # a file of the wrong type, one too large, and none at all: messages, never a crash
    response = upload(wife, did, "medical_birth_notice", b"just some text, not a scan", "gcs.pdf")
    assert response.status_code == 415 and "Chỉ nhận" in html.unescape(wife.text(response))
    services.filing.max_upload_mb = 0.1  # a small limit keeps the test's upload small
    response = upload(wife, did, "medical_birth_notice", b"%PDF-1.4\n" + b"0" * 110_000)
    assert response.status_code == 413 and "Tệp lớn hơn 0.1 MB" in html.unescape(wife.text(response))
    services.filing.max_upload_mb = 20
    response = upload(wife, did, "medical_birth_notice", b"", "empty.pdf")
    assert response.status_code == 422 and "Hãy chọn tệp để tải lên." in html.unescape(wife.text(response))
    response = upload(wife, did, "medical_birth_notice", PNG, "giấy chứng sinh.png")
    assert response.status_code == 303
    d = services.dossiers.get_dossier(did, actor)
    [doc] = [x for x in d.documents if x.requirement == "medical_birth_notice"]
    download = wife.get(f"/my/dossiers/{did}/documents/{doc.id}")
    assert download.status_code == 200 and download.data == PNG and download.mimetype == "image/png"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    # the form can be changed while a draft; register values stay read only
    text = page(wife, f"/my/dossiers/{did}")
    assert 'action="/my/dossiers/' + did + '/form"' in text and "Từ Cơ sở dữ liệu quốc gia về dân cư" in text
    response = wife.post(f"/my/dossiers/{did}/form", {"expected_version": str(d.version_counter),
                                                      "child_home_town": "Thái Bình", "mother_full_name": "Tên khác"})
    assert response.status_code == 303
    d = services.dossiers.get_dossier(did, actor)
    assert d.data["child_home_town"] == "Thái Bình" and d.provenance["child_home_town"]["declared"] is True
    assert d.data["mother_full_name"] == actor.display_name
    assert "Bạn đã sửa" in page(wife, f"/my/dossiers/{did}")
    bad = wife.post(f"/my/dossiers/{did}/form", {"expected_version": str(services.dossiers.get_dossier(did, actor).version_counter),
                                                 "child_date_of_birth": "hôm qua", "child_full_name": "Trần Minh Khang"})
    text = html.unescape(wife.text(bad))
    assert bad.status_code == 422 and 'id="f-child_date_of_birth-err">ngày theo dạng YYYY-MM-DD</p>' in text
    assert 'value="Trần Minh Khang"' in text and services.dossiers.get_dossier(did, actor).data["child_full_name"] == "Trần Minh Khôi"
    stale = wife.post(f"/my/dossiers/{did}/form", {"expected_version": "0", "child_home_town": "Nam Định"})
    assert stale.status_code == 303 and services.dossiers.get_dossier(did, actor).data["child_home_town"] == "Thái Bình"
    # submit
    response = act(wife, services, actor, did, "submit")
    assert response.status_code == 303
    d = services.dossiers.get_dossier(did, actor)
    assert (d.state, d.status_code) == ("submitted", 1)
    text = page(wife, "/my/dossiers")
    assert f'href="/my/dossiers/{did}"' in text and "Đăng ký khai sinh" in text
    assert '<span class="badge submitted">' in text and "chưa có mã" in text
    text = page(wife, f"/my/dossiers/{did}")
    assert 'action="/my/dossiers/' + did + '/form"' not in text  # no longer editable
    assert "Nộp hồ sơ" in text and "Người nộp hồ sơ" in text  # the history: the action and who


def test_a_supplement_request_is_answered_with_a_new_file_then_the_dossier_is_withdrawn(
        web_as, api_as, couple, services):
    wife = web_as(couple["wife"])
    actor = services.accounts.actor_for(couple["wife"])
    did = file_birth(wife, couple)
    upload(wife, did, "medical_birth_notice")
    act(wife, services, actor, did, "submit")
    api_as("clerk").act(did, "request_supplement", items=["Giấy chứng sinh bản rõ nét", "Ghi rõ nơi sinh"],
                        comment="Bản chụp bị mờ", comment_public=True)
    text = page(wife, f"/my/dossiers/{did}")
    assert "Bộ phận Một cửa yêu cầu bổ sung, hoàn thiện hồ sơ" in text
    assert "Giấy chứng sinh bản rõ nét" in text and "Ghi rõ nơi sinh" in text and "Bản chụp bị mờ" in text
    assert 'action="/my/dossiers/' + did + '/actions/provide_supplement"' in text
    assert "Gửi hồ sơ bổ sung" in text
    assert upload(wife, did, "medical_birth_notice", PNG, "gcs-ro-net.png").status_code == 303
    response = act(wife, services, actor, did, "provide_supplement")
    assert response.status_code == 303
    d = services.dossiers.get_dossier(did, actor)
    assert (d.state, d.supplement_rounds) == ("submitted", 1)
    assert [x.content_type for x in d.documents if x.requirement == "medical_birth_notice"] == ["image/png"]
    # withdrawal: a reason and the confirmation box are both needed
    assert 'action="/my/dossiers/' + did + '/actions/request_withdrawal"' in page(wife, f"/my/dossiers/{did}")
    response = act(wife, services, actor, did, "request_withdrawal", reason="Nộp nhầm thủ tục")
    assert "đánh dấu vào ô xác nhận" in flashes(html.unescape(wife.text(wife.get(response.headers["Location"]))))
    response = act(wife, services, actor, did, "request_withdrawal", confirm="yes")
    assert "Hãy nêu lý do rút hồ sơ." in flashes(html.unescape(wife.text(wife.get(response.headers["Location"]))))
    assert services.dossiers.get_dossier(did, actor).state == "submitted"
    response = act(wife, services, actor, did, "request_withdrawal", reason="Nộp nhầm thủ tục", confirm="yes")
    assert response.status_code == 303
    assert services.dossiers.get_dossier(did, actor).state == "withdrawal_requested"
    # a stale form: a clear message, no second transition
    response = wife.post(f"/my/dossiers/{did}/actions/request_withdrawal",
                         {"expected_version": "1", "reason": "lần nữa", "confirm": "yes"})
    assert response.status_code == 303 and services.dossiers.get_dossier(did, actor).state == "withdrawal_requested"


def test_a_requirement_can_be_taken_again_from_my_data_store_after_an_upload(web_as, couple, services):
    wife = web_as(couple["wife"])
    actor = services.accounts.actor_for(couple["wife"])
    did = file_birth(wife, couple)
    assert upload(wife, did, "parents_marriage_certificate", PDF, "ket-hon.pdf").status_code == 303
    assert {r.id: r.by for r in services.dossiers.get_dossier(did, actor).requirements}["parents_marriage_certificate"] == "upload"
    text = page(wife, f"/my/dossiers/{did}")
    assert "Lấy từ Kho dữ liệu của tôi" in text
    assert f'name="result_id" value="{couple["marriage_certificate"]}"' in text
    response = wife.post(f"/my/dossiers/{did}/documents/link", {"requirement": "parents_marriage_certificate",
                                                                "result_id": couple["marriage_certificate"]})
    assert response.status_code == 303
    d = services.dossiers.get_dossier(did, actor)
    assert {r.id: r.by for r in d.requirements}["parents_marriage_certificate"] == "result"
    text = page(wife, f"/my/dossiers/{did}")
    number = services.results.get_result(couple["marriage_certificate"], actor).number
    assert f"Lấy từ Kho dữ liệu của tôi: Giấy chứng nhận kết hôn số {number}" in text
    assert f'href="/verify/{couple["marriage_certificate"]}/' in text


def test_the_whole_flow_ends_with_slip_and_result_downloads_and_another_citizen_sees_none_of_it(
        web_as, api_as, couple, stranger, services):
    wife = web_as(couple["wife"])
    actor = services.accounts.actor_for(couple["wife"])
    did = file_birth(wife, couple)
    upload(wife, did, "medical_birth_notice")
    act(wife, services, actor, did, "submit")
    clerk, leader, specialist = api_as("clerk"), api_as("leader"), api_as("specialist")
    clerk.act(did, "receive")
    leader.act(did, "assign")
    specialist.act(did, "appraise")
    leader.act(did, "approve")
    clerk.act(did, "return_result")
    d = services.dossiers.get_dossier(did, actor)
    assert d.state == "returned" and len(d.results) == 1 and d.slips
    [result] = d.results
    slip = d.slips[0]
    doc = next(x for x in d.documents if x.requirement == "medical_birth_notice")

    text = page(wife, f"/my/dossiers/{did}")
    assert d.code in text and "Đã trả kết quả" in text
    assert f'href="/my/results/{result.id}.pdf"' in text and f'href="/my/slips/{slip.id}.pdf"' in text
    assert 'class="timeline"' in text and "Phê duyệt" in text
    response = wife.get(f"/my/results/{result.id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.mimetype == "application/pdf"
    assert re.fullmatch(r'attachment; filename="[\w.-]+\.pdf"', response.headers["Content-Disposition"])
    response = wife.get(f"/my/slips/{slip.id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    # a record digitised from the register has no signed file: a clear page, not a crash
    response = wife.get(f"/my/results/{couple['marriage_certificate']}.pdf")
    assert response.status_code == 404 and "không có tệp ký số" in html.unescape(wife.text(response))

    # the data store: the new result, and who read the results
    purpose = "Xác minh hồ sơ đăng ký thường trú số 42"
    assert api_as("agency").get(f"/api/v1/results/{result.id}", headers={"X-Purpose": purpose}).status_code == 200
    text = page(wife, "/my/results")
    assert result.number in text and "Giấy khai sinh" in text and f'href="/my/results/{result.id}.pdf"' in text
    assert "Ai đã xem dữ liệu của tôi" in text and purpose in text and "Công an thành phố Hà Nội" in text
    assert "Theo quy định pháp luật" in text
    assert result.number in page(wife, f"/my/results/{result.id}")

    # another citizen: not found everywhere, and nothing changes
    other = web_as(stranger)
    for path in (f"/my/dossiers/{did}", f"/my/dossiers/{did}/documents/{doc.id}", f"/my/slips/{slip.id}.pdf",
                 f"/my/results/{result.id}.pdf", f"/my/results/{result.id}"):
        assert other.get(path).status_code == 404, path
    for action, inputs in (("request_withdrawal", {"reason": "x", "confirm": "yes"}), ("submit", {})):
        response = other.post(f"/my/dossiers/{did}/actions/{action}", {"expected_version": "99", **inputs})
        assert response.status_code == 404, action
    assert other.post(f"/my/dossiers/{did}/form", {"child_full_name": "X"}).status_code == 404
    assert upload(other, did, "medical_birth_notice").status_code == 404
    assert services.dossiers.get_dossier(did, actor).version_counter == d.version_counter


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(web_as, couple, services):
    wife = web_as(couple["wife"])
    actor = services.accounts.actor_for(couple["wife"])
    data = {**birth_form(couple), "idempotency_key": form_key(wife)}
    assert wife.post("/procedures/birth-registration/apply", data, csrf=False).status_code == 400
    assert services.desk.list_dossiers(actor).total == 0
    did = file_birth(wife, couple)
    upload(wife, did, "medical_birth_notice")
    version = version_of(services, did, actor)
    response = wife.post(f"/my/dossiers/{did}/actions/submit", {"expected_version": str(version)}, csrf=False)
    assert response.status_code == 400
    response = wife.post(f"/my/dossiers/{did}/form", {"child_full_name": "Khác"}, csrf=False)
    assert response.status_code == 400
    d = services.dossiers.get_dossier(did, actor)
    assert (d.state, d.version_counter, d.data["child_full_name"]) == ("draft", version, "Trần Minh Khôi")
    assert wife.post("/my/consents", {"agency": "000.00.31.H26", "evidence": "marital-status-certificate"},
                     csrf=False).status_code == 400
    assert services.access.list_consents(actor) == []


# --------------------------------------------------------------------------- my data store


def test_consents_are_granted_and_withdrawn_from_my_data_store(web_as, couple, stranger, services):
    wife = web_as(couple["wife"])
    actor = services.accounts.actor_for(couple["wife"])
    text = page(wife, "/my/results")
    certificate = services.results.get_result(couple["marriage_certificate"], actor)
    assert certificate.number in text and "Dữ liệu số hóa từ sổ hộ tịch" in text
    assert "Ủy ban nhân dân phường Ba Đình" in text  # the issuer by name
    assert "Chưa có cơ quan nào khai thác kết quả của bạn." in text
    assert '<option value="000.00.31.H26">Công an thành phố Hà Nội (000.00.31.H26)</option>' in text
    response = wife.post("/my/consents", {"agency": "000.00.31.H26", "evidence": "marital-status-certificate"})
    assert response.status_code == 303
    [consent] = services.access.list_consents(actor)
    assert (consent.agency, consent.evidence_type, consent.withdrawn_at) == ("000.00.31.H26", "marital-status-certificate", None)
    text = page(wife, "/my/results")
    assert "Đang hiệu lực" in text and f'action="/my/consents/{consent.id}/withdraw"' in text
    bad = wife.post("/my/consents", {"agency": "no-such-agency", "evidence": "marital-status-certificate"})
    assert "Chưa lưu được sự đồng ý" in flashes(html.unescape(wife.text(wife.get(bad.headers["Location"]))))
    assert web_as(stranger).post(f"/my/consents/{consent.id}/withdraw").status_code == 404
    assert wife.post(f"/my/consents/{consent.id}/withdraw").status_code == 303
    [consent] = services.access.list_consents(actor)
    assert consent.withdrawn_at is not None
    assert "Đã rút lại" in page(wife, "/my/results")


def test_the_agency_list_behind_the_consent_form_names_every_agency(services, demo):
    cards = services.accounts.list_agencies()
    assert [c.code for c in cards] == sorted(c.code for c in cards)
    assert {c.code: c.name["vi"] for c in cards}["000.00.31.H26"] == "Công an thành phố Hà Nội"


# --------------------------------------------------------------------------- English


def test_the_pages_speak_english_after_the_switch(web_as, couple):
    wife = web_as(couple["wife"])
    assert wife.get("/lang/en?next=/procedures").status_code == 302
    text = page(wife, "/procedures?q=khai sinh")
    assert '<html lang="en">' in text and "Birth registration" in text and "Administrative procedures" in text
    text = page(wife, "/procedures/birth-registration")
    assert "Immediately" in text and "Free of charge" in text and "Commune level" in text
    text = page(wife, "/procedures/household-business-registration")
    assert "3 working days" in text
    text = page(wife, "/procedures/marriage-registration")
    assert "When the conditions for marriage need verification: 5 working days" in text
    text = page(wife, "/procedures/birth-registration/apply")
    assert "18 of 28 fields are already filled in — you type only 10." in text
    assert "From the national population database" in text
    assert "Taken from My data store: Marriage certificate no." in text
    did = file_birth(wife, couple)
    text = page(wife, f"/my/dossiers/{did}")
    assert "Your dossier was saved as a draft." in text and "no code yet" in text and "Declaration form" in text
    assert "Who has looked at my data" in page(wife, "/my/results")
    response = wife.post("/procedures/birth-registration/apply",
                         {**birth_form(couple), "child_date_of_birth": "x", "idempotency_key": form_key(wife)})
    assert response.status_code == 422 and "a date as YYYY-MM-DD" in wife.text(response)
