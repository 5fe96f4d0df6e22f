"""The public verification pages and the error page, in Vietnamese (the default) and in English."""
from __future__ import annotations

import io
import re

import pytest
from flask import render_template

from tests.web.test_signed_results import PDF_A, approved_birth

pytestmark = pytest.mark.database

DAMAGED_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"  # no xref, no pages


def english(client) -> None:
    """Switch the visitor to English through the layout's language link."""
    assert client.get("/lang/en?next=/verify").status_code == 302


def qr_path(services, result_id: str) -> str:
    return re.sub(r"^https?://[^/]+", "", services.links.verify_url(result_id))


def tampered(pdf: bytes) -> bytes:
    """One byte changed inside the signed range."""
    i = pdf.index(b"/Type /Page") if b"/Type /Page" in pdf else len(pdf) // 3
    return pdf[:i] + bytes([pdf[i] ^ 0x01]) + pdf[i + 1:]


def upload(client, data: bytes, name: str = "ket-qua.pdf"):
    page = client.get("/verify").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/verify", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


@pytest.fixture
def signed(demo, api_as, services):
    """A birth certificate approved and signed through the HTTP flow: (result, its PDF, its QR path)."""
    result = approved_birth(demo, api_as)["results"][0]
    pdf = api_as("leader").get(f"/api/v1/results/{result['id']}/pdf").data
    return result, pdf, qr_path(services, result["id"])


def test_the_qr_page_of_a_signed_result_says_genuine_in_vietnamese_with_every_fact(signed, client):
    result, _pdf, path = signed
    r = client.get(path)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and '<html lang="vi">' in html
    assert 'data-verdict="valid"' in html and 'class="verdict ok"' in html
    assert "Văn bản hợp lệ: chữ ký số đúng, tệp khớp với bản lưu trữ và văn bản còn hiệu lực." in html
    assert f"Giấy khai sinh số {result['number']}" in html
    assert "Ủy ban nhân dân phường Ba Đình" in html  # the issuer
    assert re.search(r"<dt>Ngày cấp</dt><dd>\d\d/\d\d/\d{4} \d\d:\d\d</dd>", html)
    assert '<span class="badge valid">Còn hiệu lực</span>' in html
    assert f"<code>{result['sha256']}</code>" in html
    # the content is labelled with the form's words, choices shown as words, dates as dd/mm/yyyy
    assert "<dt>Họ, chữ đệm, tên người được khai sinh</dt><dd>Trần Minh Khôi</dd>" in html
    assert "<dt>Giới tính</dt><dd>Nam</dd>" in html and "<dd>male</dd>" not in html
    assert "<dt>Ngày, tháng, năm sinh</dt><dd>20/02/2026</dd>" in html
    assert f"<dt>Mã hồ sơ</dt><dd>{result['data']['dossier_code']}</dd>" in html
    # two signatures: the leader and the agency seal, both intact and trusted
    assert html.count("Toàn vẹn") == 2 and html.count("Chứng thư số tin cậy") == 2
    assert "Chữ ký số" in html and "Người ký" in html
    assert "<span class=\"en\">" not in html and "Genuine" not in html  # one language per page


def test_the_qr_page_speaks_english_after_the_language_switch(signed, client):
    _result, _pdf, path = signed
    english(client)
    html = client.get(path).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Genuine document: the digital signatures are valid, the file matches the stored copy, and it is valid." in html
    assert "<dt>Issued by</dt>" in html and "<dt>SHA-256 fingerprint</dt>" in html
    assert '<span class="badge valid">Valid</span>' in html
    assert "<dt>Sex</dt><dd>Male</dd>" in html and "Digital signatures" in html and "Trusted certificate" in html
    assert "Văn bản hợp lệ" not in html and "Còn hiệu lực" not in html


def test_a_revoked_result_is_shown_not_valid_with_its_reason_in_both_languages(signed, client, services):
    result, pdf, path = signed
    services.results.revoke_result(result["id"], "Cấp sai thông tin nơi sinh", services.accounts.actor_for("leader"))
    html = client.get(path).get_data(as_text=True)
    assert 'data-verdict="invalid"' in html and 'class="verdict bad"' in html
    assert "Văn bản không còn giá trị sử dụng hoặc không xác thực được: đã thu hồi." in html
    assert "Lý do: văn bản đã thu hồi." in html
    assert '<span class="badge revoked">Đã thu hồi</span>: Cấp sai thông tin nơi sinh' in html
    english(client)
    html = client.get(path).get_data(as_text=True)
    assert "This document is no longer valid or cannot be verified: revoked." in html
    assert "Reason: the document is revoked." in html
    # the upload form agrees
    body = upload(client, pdf).get_data(as_text=True)
    assert "Not genuine" in body and '<span class="badge revoked">Revoked</span>' in body


def test_a_wrong_token_finds_nothing_and_shows_no_data(signed, client):
    result, _pdf, _path = signed
    r = client.get(f"/verify/{result['id']}/AAAAAAAAAAAAAAAA")
    html = r.get_data(as_text=True)
    assert r.status_code == 404 and "<h1>Không tìm thấy văn bản</h1>" in html
    assert "Trần Minh Khôi" not in html and result["number"] not in html
    english(client)
    r = client.get(f"/verify/{result['id']}/AAAAAAAAAAAAAAAA")
    assert r.status_code == 404 and "<h1>Document not found</h1>" in r.get_data(as_text=True)
    assert client.get("/verify/not-an-id/x").status_code == 404


def test_a_digitised_register_record_is_shown_as_on_record_not_as_a_forgery(demo, services, client):
    rid = demo["scenarios"]["married_couple"]["marriage_certificate"]
    html = client.get(qr_path(services, rid)).get_data(as_text=True)
    assert 'data-verdict="recorded"' in html and 'class="verdict ok"' in html
    assert "số hóa từ sổ hộ tịch giấy" in html
    assert "Chữ ký số" not in html  # no signed file: no signatures table


def test_the_upload_form_is_labelled_and_says_genuine_for_the_issued_file(signed, client):
    result, pdf, _path = signed
    form = client.get("/verify").get_data(as_text=True)
    assert '<label for="file">Tệp PDF</label>' in form and 'id="file" name="file" type="file"' in form
    r = upload(client, pdf)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'data-verdict="valid"' in html
    assert "<h2>Hợp lệ</h2>" in html and f"Giấy khai sinh số {result['number']}" in html
    assert html.count("Chứng thư số tin cậy") == 2
    english(client)
    html = upload(client, pdf).get_data(as_text=True)
    assert "<h2>Genuine</h2>" in html and f"Giấy khai sinh no. {result['number']}" in html


@pytest.mark.parametrize(("case", "vi", "en"), [
    ("tampered", "tệp đã bị sửa đổi sau khi ký số", "the file was modified after it was signed"),
    ("unsigned", "tệp không có chữ ký số", "the file carries no digital signature"),
    ("damaged", "tệp bị cắt cụt hoặc hư hỏng", "the file is truncated or damaged"),
    ("garbage", "tệp không phải là PDF", "the file is not a PDF"),
])
def test_a_bad_file_is_refused_with_the_reason_in_words(signed, client, services, case, vi, en):
    _result, pdf, _path = signed
    data = {"tampered": lambda: tampered(pdf), "unsigned": lambda: PDF_A(services), "damaged": lambda: DAMAGED_PDF,
            "garbage": lambda: b"hello, not a pdf"}[case]()
    r = upload(client, data)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'data-verdict="invalid"' in html
    assert "<h2>Không hợp lệ</h2>" in html and f"Lý do: {vi}." in html
    assert "Trần Minh Khôi" not in html
    english(client)
    html = upload(client, data).get_data(as_text=True)
    assert "<h2>Not genuine</h2>" in html and f"Reason: {en}." in html


def test_an_empty_upload_is_refused_with_a_message_tied_to_the_field(client):
    page = client.get("/verify").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post("/verify", data={"csrf_token": token}, content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert '<p class="error-box" role="alert" id="file-error">Hãy chọn một tệp PDF.</p>' in html
    assert 'aria-describedby="file-hint file-error" aria-invalid="true"' in html
    english(client)
    r = client.post("/verify", data={"csrf_token": token}, content_type="multipart/form-data")
    assert r.status_code == 422 and "Choose a PDF file." in r.get_data(as_text=True)


def test_a_form_without_its_csrf_token_gets_a_clear_error_page_in_the_visitors_language(signed, client):
    _result, pdf, _path = signed
    r = client.post("/verify", data={"file": (io.BytesIO(pdf), "kq.pdf")}, content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and '<html lang="vi">' in html
    assert "<h1>Yêu cầu không được chấp nhận</h1>" in html
    assert "Mã bảo mật của biểu mẫu (CSRF token) bị thiếu hoặc không còn hiệu lực" in html
    assert "Mã lỗi 400" in html and "Hợp lệ" not in html
    english(client)
    r = client.post("/verify", data={"file": (io.BytesIO(pdf), "kq.pdf")}, content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "<h1>The request could not be accepted</h1>" in html
    assert "security code (CSRF token) is missing" in html and "Error code 400" in html


def test_an_unknown_address_gets_the_not_found_page_with_the_layout(client):
    r = client.get("/no/such/page")
    html = r.get_data(as_text=True)
    assert r.status_code == 404 and '<html lang="vi">' in html
    assert "<h1>Không tìm thấy trang</h1>" in html and "Mã lỗi 404" in html
    assert 'class="site"' in html and "Về trang chủ" in html  # the site's header and a way home
    assert html.count("<h1") == 1
    english(client)
    html = client.get("/no/such/page").get_data(as_text=True)
    assert "<h1>Page not found</h1>" in html and "Go to the home page" in html


@pytest.mark.parametrize(("lang", "shown", "hidden"), [
    ("vi", "Không tìm thấy kết quả", "result not found"),
    ("en", "result not found", "Không tìm thấy kết quả"),
])
def test_the_error_page_shows_a_bilingual_engine_message_in_the_page_language(app, lang, shown, hidden):
    with app.test_request_context("/x", headers={"Cookie": f"motcua_lang={lang}"}):
        html = render_template("error.html", status=404, title="not found",
                               message="Không tìm thấy kết quả / result not found")
    assert f'<p class="error-box" role="alert">{shown}</p>' in html
    assert hidden not in html


def test_the_error_page_escapes_the_message(app):
    with app.test_request_context("/x"):
        html = render_template("error.html", status=422, title="validation error", message="<script>x</script> sai")
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt; sai" in html


# --------------------------------------------------------------------------- finding 7: what the public sees


def disclosure(html: str) -> str:
    """The technical details behind the page's one disclosure (<details>)."""
    match = re.search(r"<details[^>]*>.*?</details>", html, re.S)
    assert match, "no <details> disclosure on the page"
    return match.group(0)


def outside_disclosure(html: str) -> str:
    return re.sub(r"<details[^>]*>.*?</details>", "", html, flags=re.S)


def masked(pid: str) -> str:
    return pid[:4] + "*" * (len(pid) - 6) + pid[-2:]


def test_the_qr_page_shows_what_the_birth_certificate_prints_with_ids_masked_and_no_address(signed, client):
    result, _pdf, path = signed
    data = result["data"]
    html = client.get(path).get_data(as_text=True)
    # the verdict comes first, in words
    assert '<p class="outcome">Văn bản thật</p>' in html
    assert html.index('class="outcome"') < html.index("<dl")
    # the parents' ids (the father's is not even printed) and their residences are not shown
    for key in ("mother_personal_id", "father_personal_id", "requester_personal_id"):
        assert data[key] and data[key] not in html, key
    for key in ("mother_residence", "father_residence"):
        assert data[key] and data[key] not in html, key
    # nor what the paper does not print (how the mother is related, when the dossier was received)
    assert "Quan hệ với người được khai sinh" not in html and "requester_relationship" not in html
    assert "Ngày tiếp nhận" not in html and "registry" not in html
    # the paper prints the requester's id: it is shown masked; the names the paper prints are shown
    assert f"<dd>{masked(data['requester_personal_id'])}</dd>" in html
    assert f"<dd>{data['mother_full_name']}</dd>" in html and f"<dd>{data['father_full_name']}</dd>" in html
    assert "<dt>Họ, chữ đệm, tên người được khai sinh</dt><dd>Trần Minh Khôi</dd>" in html


def test_the_raw_validator_text_is_only_inside_the_disclosure(signed, client):
    result, pdf, path = signed
    html = client.get(path).get_data(as_text=True)
    details = disclosure(html)
    assert "INTACT:TRUSTED" in details and "INTACT" not in outside_disclosure(html)  # the validator's own words
    assert "<summary>" in details and "Chi tiết kỹ thuật" in details
    assert result["sha256"] in details and result["sha256"] not in outside_disclosure(html)
    # the upload's result: the same, for a tampered file the verdict says so in words
    page = upload(client, tampered(pdf)).get_data(as_text=True)
    assert '<p class="outcome">Văn bản đã bị sửa đổi</p>' in page
    assert "modified after signing" in disclosure(page)
    assert "modified after signing" not in outside_disclosure(page)


@pytest.mark.parametrize("status, vi, en", [
    ("revoked", "Văn bản đã bị thu hồi", "Revoked document"),
    ("superseded", "Văn bản đã được thay thế", "Superseded document"),
    ("expired", "Văn bản đã hết hiệu lực", "Expired document"),
])
def test_the_verdict_names_a_document_that_no_longer_stands_in_both_languages(signed, client, services, status, vi, en):
    result, _pdf, path = signed
    from engine.adapters.models import Result
    with services.uow() as uow:
        uow.session.get(Result, result["id"]).status = status
        uow.commit()
    html = client.get(path).get_data(as_text=True)
    assert f'<p class="outcome">{vi}</p>' in html and f'data-outcome="{status}"' in html
    english(client)
    assert f'<p class="outcome">{en}</p>' in client.get(path).get_data(as_text=True)


def test_an_unsigned_pdf_is_called_not_issued_by_us(client, services):
    html = upload(client, PDF_A(services)).get_data(as_text=True)
    assert '<p class="outcome">Văn bản không do hệ thống này cấp</p>' in html and 'data-outcome="unknown"' in html
    english(client)
    html = upload(client, PDF_A(services)).get_data(as_text=True)
    assert '<p class="outcome">Not issued by this system</p>' in html


def test_the_holder_and_the_agencys_staff_reach_the_full_record_from_the_public_page(signed, client, demo, web_as):
    result, _pdf, path = signed
    html = client.get(path).get_data(as_text=True)
    assert f'href="{path}/full"' in html
    assert client.get(f"{path}/full").status_code == 302  # to the login page
    wife = web_as(demo["scenarios"]["married_couple"]["wife"])
    r = wife.get(f"{path}/full")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/my/results/{result['id']}")
    clerk = web_as("clerk")
    r = clerk.get(f"{path}/full")
    assert r.status_code == 302 and "/desk/dossiers/" in r.headers["Location"]
    stranger = web_as(demo["scenarios"]["single_adults"][0]["personal_id"])
    assert stranger.get(f"{path}/full").status_code == 404
    assert wife.get(f"/verify/{result['id']}/wrong-token/full").status_code == 404
