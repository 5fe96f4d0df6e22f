"""The public pages in a real browser: both languages, signing in, verifying a signed result by its
QR link and by upload, a form without its CSRF token, and the guard that keeps every page on-site."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import recent_birth_form
from tests.web.test_lifecycle_api import PDF

pytestmark = [pytest.mark.database, pytest.mark.slow]

OUTSIDE = "http://example.invalid/x.png"


def path(page) -> str:
    return urlsplit(page.url).path


def switch_language(page, code: str) -> None:
    """Through the layout's language link, as a person would."""
    with page.expect_navigation():
        page.locator(f'header .langs a[hreflang="{code}"]').click()
    assert page.locator("html").get_attribute("lang") == code


def signed_birth_certificate(live_server) -> tuple[str, bytes, str]:
    """A birth registration filed by the mother and carried to `returned` through the services:
    the result's id, its signed PDF and its verification URL (what the QR code holds)."""
    services, couple = live_server.services, live_server.demo["scenarios"]["married_couple"]
    mother, clerk, leader, specialist = (services.accounts.actor_for(u) for u in (couple["wife"], "clerk", "leader", "specialist"))
    d = services.filing.start_dossier("birth-registration", recent_birth_form(couple), mother)
    services.filing.add_document(d.id, "medical_birth_notice", "giay-chung-sinh.pdf", PDF, mother)
    for action, actor in (("submit", mother), ("receive", clerk), ("assign", leader), ("appraise", specialist),
                          ("approve", leader), ("return_result", clerk)):
        d = services.actions.perform_action(d.id, action, actor)
    assert d.state == "returned" and len(d.results) == 1
    result = d.results[0]
    assert result.status == "valid"
    pdf, _name = services.results.document_pdf("result", result.id, mother)
    return result.id, pdf, services.links.verify_url(result.id)


def tampered(pdf: bytes) -> bytes:
    """The same file with one byte changed inside the signed range."""
    i = pdf.index(b"/Type /Page")
    return pdf[:i] + bytes([pdf[i] ^ 0x01]) + pdf[i + 1:]


def upload(page, name: str, content: bytes) -> None:
    page.goto("/verify")
    page.set_input_files("#file", files=[{"name": name, "mimeType": "application/pdf", "buffer": content}])
    with page.expect_navigation() as navigation:
        page.locator('main form[action="/verify"] button[type="submit"]').click()
    assert navigation.value.status == 200


@pytest.mark.parametrize(("address", "heading_vi", "heading_en"), [
    ("/", None, None),  # the home page's wording belongs to its own task: only the layout is checked here
    ("/login", "Đăng nhập", "Sign in"),
    ("/verify", "Xác thực văn bản điện tử", "Verify an electronic document"),
], ids=["home", "login", "verify"])
def test_a_public_page_loads_in_vietnamese_and_switches_to_english(new_page, shoot, address, heading_vi, heading_en):
    page = new_page()
    response = page.goto(address)
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator('header nav a[href="/verify"]').inner_text() == "Xác thực văn bản"
    if heading_vi:
        assert page.locator("h1").inner_text() == heading_vi
    shoot(page, "vi")

    switch_language(page, "en")
    assert path(page) == address  # the switch brings the visitor back to the same page
    assert page.locator('header nav a[href="/verify"]').inner_text() == "Verify a document"
    if heading_en:
        assert page.locator("h1").inner_text() == heading_en
    shoot(page, "en")

    switch_language(page, "vi")  # and back: the choice is a cookie, not a one-off
    assert page.locator('header nav a[href="/verify"]').inner_text() == "Xác thực văn bản"


@pytest.mark.parametrize(("who", "home"), [("citizen", "/my/dossiers"), ("clerk", "/desk/")])
def test_a_demo_account_signs_in_through_the_form_and_lands_on_its_home(new_page, live_server, login, who, home):
    username = live_server.demo["scenarios"]["married_couple"]["wife"] if who == "citizen" else "clerk"
    page = new_page()
    login(page, username)
    assert path(page) == home
    header = page.locator("header.site")
    assert header.locator("form button[type=submit]").inner_text() == "Đăng xuất"
    assert header.locator(".who").inner_text().strip()
    if who == "clerk":
        assert header.locator(".who").inner_text() == live_server.demo["staff_names"]["clerk"]
    # another browser (fresh cookies) is not signed in
    stranger = new_page()
    stranger.goto(home)
    assert path(stranger) == "/login"


def test_a_wrong_password_keeps_the_person_on_the_login_form_with_a_message(new_page, login, shoot):
    page = new_page(width=360)
    with pytest.raises(AssertionError, match="refused"):
        login(page, "clerk", "not-the-password")
    new_page.guard(page).expect_console_error(r"status of 401")
    assert path(page) == "/login"
    assert page.locator("#login-error").inner_text() == "Tên đăng nhập hoặc mật khẩu không đúng."
    assert page.locator("#username").get_attribute("aria-describedby") == "login-error"
    assert page.locator("#password").input_value() == ""  # the password is never sent back
    shoot(page, "wrong-password")


def test_a_stranger_verifies_a_signed_result_by_its_qr_link_and_by_uploading_the_file(live_server, new_page, shoot):
    result_id, pdf, url = signed_birth_certificate(live_server)
    assert url.startswith(f"{live_server.url}/verify/{result_id}/")  # PUBLIC_URL is the live server

    # the QR code opens the verification page: no account needed
    page = new_page(width=360)
    response = page.goto(url)
    assert response.status == 200
    verdict = page.locator("section.verdict")
    assert verdict.get_attribute("data-verdict") == "valid"
    assert "Văn bản hợp lệ" in verdict.inner_text()
    assert "Còn hiệu lực" in page.locator("dl.facts").first.inner_text()
    assert "Trần Minh Khôi" in page.locator("dl.content").inner_text()
    assert page.locator("table.signatures tbody tr").count() == 2
    assert page.locator("header .who").count() == 0  # nobody is signed in
    shoot(page, "qr-page")
    switch_language(page, "en")
    assert "Genuine document" in page.locator("section.verdict").inner_text()
    shoot(page, "qr-page-en")

    # the same file uploaded on /verify is genuine
    page = new_page()
    upload(page, "giay-khai-sinh.pdf", pdf)
    verdict = page.locator("section.verdict")
    assert verdict.get_attribute("data-verdict") == "valid"
    assert verdict.locator("h2").inner_text() == "Hợp lệ"
    assert "Giấy khai sinh số" in verdict.inner_text()
    shoot(page, "upload-genuine")

    # one byte changed: refused, with the reason
    upload(page, "giay-khai-sinh-da-sua.pdf", tampered(pdf))
    verdict = page.locator("section.verdict")
    assert verdict.get_attribute("data-verdict") == "invalid"
    assert verdict.locator("h2").inner_text() == "Không hợp lệ"
    assert "Lý do: tệp đã bị sửa đổi sau khi ký số." in verdict.inner_text()
    assert "Trần Minh Khôi" not in page.content()
    shoot(page, "upload-tampered")

    # a wrong token in the link finds nothing
    token = urlsplit(url).path.rsplit("/", 1)[1]
    response = page.goto(url.replace(token, "A" * len(token)))
    new_page.guard(page).expect_console_error(r"status of 404")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Không tìm thấy văn bản"
    shoot(page, "qr-wrong-token")


def test_a_form_sent_without_its_csrf_token_is_refused_and_nobody_is_signed_in(new_page, shoot):
    page = new_page()
    page.goto("/login")
    form = page.locator('main form[action="/login"]')
    assert form.locator('input[name="csrf_token"]').count() == 1
    page.evaluate("""document.querySelector('main form[action="/login"] input[name="csrf_token"]').remove()""")
    form.locator("#username").fill("clerk")
    form.locator("#password").fill("motcua-demo")
    with page.expect_navigation() as navigation:
        form.locator('button[type="submit"]').click()
    new_page.guard(page).expect_console_error(r"status of 400")
    assert navigation.value.status == 400
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("h1").inner_text() == "Yêu cầu không được chấp nhận"
    assert "CSRF" in page.locator("main").inner_text()
    shoot(page, "csrf-refused")
    page.goto("/desk/")
    assert path(page) == "/login"  # not signed in
    assert page.locator("header .who").count() == 0


def test_the_request_guard_aborts_and_records_a_request_to_another_host(new_page, live_server):
    page = new_page()
    page.goto("/verify")
    guard = new_page.guard(page)
    assert guard.requests and all(urlsplit(u).netloc == live_server.netloc for u in guard.requests)

    # leaving the site: the navigation itself is aborted
    with pytest.raises(PlaywrightError, match="ERR_BLOCKED_BY_CLIENT"):
        page.goto(OUTSIDE)
    assert guard.violations == [OUTSIDE]
    page.close()  # Chromium's own error page may still log things: close before forgetting them
    guard.clear()  # provoked on purpose: the fixture's end-of-test check must pass

    # a script asking another host: the app's Content-Security-Policy stops it before the network
    page = new_page()
    page.goto("/verify")
    page.evaluate(f"fetch('{OUTSIDE}').catch(() => 0)")
    guard = new_page.guard(page)
    assert OUTSIDE not in guard.requests and not guard.violations
    assert any("Content Security Policy" in e for e in guard.console_errors), guard.console_errors
    page.close()
    guard.clear()

    # with that policy switched off, the guard is what stops it
    page = new_page(bypass_csp=True)
    page.goto("/verify")
    page.evaluate(f"fetch('{OUTSIDE}').catch(() => 0)")
    guard = new_page.guard(page)
    assert guard.violations == [OUTSIDE]
    page.close()
    guard.clear()


def test_signing_in_and_verifying_work_with_javascript_switched_off(new_page, login):
    page = new_page(java_script_enabled=False)
    login(page, "clerk")
    assert path(page) == "/desk/"
    page = new_page(width=360, java_script_enabled=False)
    upload(page, "khong-phai-pdf.pdf", b"hello, not a pdf")
    verdict = page.locator("section.verdict")
    assert verdict.get_attribute("data-verdict") == "invalid"
    assert "Lý do: tệp không phải là PDF." in verdict.inner_text()


def test_the_first_tab_reaches_the_skip_link_and_it_moves_focus_to_the_content(new_page):
    page = new_page()
    page.goto("/verify")
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.getAttribute('href'), document.activeElement.textContent]")
    assert focused == ["#main", "Chuyển đến nội dung chính"]
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the next stop is inside the content: the file field of the form
    assert page.evaluate("document.activeElement.id") == "file"
