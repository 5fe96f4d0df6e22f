"""The whole story in a real browser, as the people who use MotCua live it.

A mother signs in and files a birth registration: most of the form is already filled from the
population register, and the parents' marriage certificate is taken from her data store instead of
an upload. The reception clerk asks for a supplement; she answers it; the clerk receives the dossier
and prints the receipt; the leader assigns it, the specialist appraises it, the leader approves and
signs; the clerk returns the result. The mother downloads the signed birth certificate, and a
stranger who was never signed in opens the link in its QR code and sees that it is genuine.

Every browser runs with JavaScript off: the whole story works with forms and links alone. Every
page is checked (no sideways scrolling at 360 px, labels, one h1, lang) and photographed at phone
and desktop widths into build/artifacts/e2e/. No page asks any other host for anything.
"""
from __future__ import annotations

import datetime as dt
import re
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.web.test_lifecycle_api import PDF

pytestmark = [pytest.mark.database, pytest.mark.slow]


def path(page) -> str:
    return urlsplit(page.url).path


def act(page, action: str, **inputs: str) -> None:
    """Press an action's button on a dossier page, after filling its inputs; wait for the next page."""
    form = page.locator(f'main form[action$="/actions/{action}"]')
    assert form.count() == 1, f"the page offers no '{action}' action"
    for name, value in inputs.items():
        form.locator(f'[name="{name}"]').fill(value)
    with page.expect_navigation(wait_until="domcontentloaded"):
        form.locator('button[type="submit"]').click()


def offered_actions(page) -> set[str]:
    actions = page.locator('main form[action*="/actions/"]').evaluate_all(
        "forms => forms.map(f => f.getAttribute('action').split('/actions/')[1])")
    return set(actions)


def qr_url_of(pdf: bytes) -> str:
    """What a phone camera reads off the printed certificate: the PDF rendered, the QR code decoded."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "certificate.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(source), str(Path(tmp) / "page")],
                       check=True, capture_output=True)
        [image] = Path(tmp).glob("page*.png")
        decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(image)], check=True, capture_output=True, text=True)
    return decoded.stdout.strip()


def test_a_birth_registration_from_filing_to_a_verified_signed_certificate(live_server, new_page, shoot, login):
    couple = live_server.demo["scenarios"]["married_couple"]
    # JavaScript is off in every browser of the story: each core flow works with forms and links alone
    mother = new_page(java_script_enabled=False)
    login(mother, couple["wife"])
    assert path(mother) == "/my/dossiers"
    shoot(mother, "citizen-my-dossiers-empty")

    # --- she finds the procedure, reads what it takes, and opens the form
    mother.goto("/procedures?q=khai sinh")
    mother.locator("main").get_by_role("link", name="Đăng ký khai sinh").first.click()
    assert path(mother) == "/procedures/birth-registration"
    assert mother.locator("svg.workflow").count() == 1
    shoot(mother, "procedure-page")
    with mother.expect_navigation(wait_until="domcontentloaded"):
        mother.locator("main").get_by_role("link", name="Nộp hồ sơ trực tuyến").first.click()
    assert path(mother) == "/procedures/birth-registration/apply"

    # --- the form: most of it is already there, each value with its source
    marks = mother.locator("main .source")
    assert marks.count() >= 17
    assert mother.get_by_text("Từ Cơ sở dữ liệu quốc gia về dân cư").count() >= 10
    counts = mother.locator("main").inner_text()
    prefilled, total = map(int, re.search(r"(\d+) trên (\d+) trường", counts).groups())
    assert total == 28 and prefilled / total >= 0.6, (prefilled, total)
    assert "Giấy chứng nhận kết hôn" in counts and "Lấy từ Kho dữ liệu của tôi" in counts
    assert mother.locator('input[name="mother_full_name"]').count() == 0  # register values cannot be typed over
    form = mother.locator("main form.filing")
    form.locator('[name="requester_relationship"]').select_option("mother")
    form.locator('[name="child_full_name"]').fill("Trần Minh Khôi")
    form.locator('[name="child_date_of_birth"]').fill((dt.date.today() - dt.timedelta(days=30)).isoformat())
    form.locator('[name="child_sex"]').select_option("male")
    form.locator('[name="child_place_of_birth"]').fill("Bệnh viện Phụ sản Hà Nội")
    form.locator('[name="registration_type"]').select_option("on_time")
    shoot(mother, "citizen-filing-form")
    with mother.expect_navigation(wait_until="domcontentloaded"):
        form.locator('button[type="submit"]').click()
    match = re.fullmatch(r"/my/dossiers/([0-9a-f-]{36})", path(mother))
    assert match, mother.url
    dossier_id = match.group(1)
    page_text = mother.locator("main").inner_text()
    assert "Đang soạn" in page_text
    assert "Giấy chứng nhận kết hôn số" in page_text  # the marriage certificate came from her store: no upload

    # --- the birth notice from the hospital is the only paper; then submit
    upload = mother.locator('main form.upload:has(input[name="requirement"][value="medical_birth_notice"])')
    upload.locator('input[type="file"]').set_input_files(
        files=[{"name": "giay-chung-sinh.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    with mother.expect_navigation(wait_until="domcontentloaded"):
        upload.locator('button[type="submit"]').click()
    shoot(mother, "citizen-draft-ready")
    act(mother, "submit")
    assert "Đã nộp, chờ tiếp nhận" in mother.locator("main").inner_text()

    # --- the reception clerk finds it in the queue and asks for a supplement
    clerk = new_page(java_script_enabled=False)
    login(clerk, "clerk")
    assert path(clerk) == "/desk/"
    row = clerk.locator(f'main a[href="/desk/dossiers/{dossier_id}"]')
    assert row.count() == 1, "the submitted dossier is in the clerk's queue"
    shoot(clerk, "clerk-queue")
    with clerk.expect_navigation(wait_until="domcontentloaded"):
        row.click()
    assert {"receive", "request_supplement", "refuse"} <= offered_actions(clerk)
    assert "approve" not in offered_actions(clerk)
    assert clerk.locator("main .source").count() >= 17  # the clerk sees where each value came from
    shoot(clerk, "clerk-dossier-submitted")
    act(clerk, "request_supplement", items="Giấy chứng sinh bản rõ nét, đủ chữ ký\nGhi rõ khoa sinh trong nơi sinh")
    assert "Yêu cầu bổ sung khi tiếp nhận" in clerk.locator("main").inner_text()

    # --- the mother sees exactly what is asked, corrects the form, sends a clearer scan, answers
    mother.reload()
    text = mother.locator("main").inner_text()
    assert "Giấy chứng sinh bản rõ nét, đủ chữ ký" in text and "Ghi rõ khoa sinh trong nơi sinh" in text
    shoot(mother, "citizen-supplement-requested")
    edit = mother.locator('main form[action$="/form"]')
    edit.locator('[name="child_place_of_birth"]').fill("Khoa Sản, Bệnh viện Phụ sản Hà Nội")
    with mother.expect_navigation(wait_until="domcontentloaded"):
        edit.locator('button[type="submit"]').click()
    upload = mother.locator('main form.upload:has(input[name="requirement"][value="medical_birth_notice"])')
    upload.locator('input[type="file"]').set_input_files(
        files=[{"name": "giay-chung-sinh-ro-net.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    with mother.expect_navigation(wait_until="domcontentloaded"):
        upload.locator('button[type="submit"]').click()
    act(mother, "provide_supplement")
    assert "Đã nộp, chờ tiếp nhận" in mother.locator("main").inner_text()

    # --- the clerk receives it: a dossier code, a due date, the receipt slip to print
    clerk.reload()
    act(clerk, "receive")
    text = clerk.locator("main").inner_text()
    code = re.search(r"000\.00\.25\.H26-\d{6}-\d{4}", text)
    assert code, text[:500]
    receipt = clerk.get_by_role("link", name="In giấy tiếp nhận")
    assert receipt.count() >= 1
    slip = clerk.request.get(receipt.first.get_attribute("href"))
    assert slip.status == 200 and slip.headers["content-type"] == "application/pdf" and slip.body()[:4] == b"%PDF"
    shoot(clerk, "clerk-received-with-receipt")

    # --- the leader assigns, the specialist appraises, the leader approves and signs
    leader = new_page(java_script_enabled=False)
    login(leader, "leader")
    leader.goto(f"/desk/dossiers/{dossier_id}")
    act(leader, "assign")
    specialist = new_page(java_script_enabled=False)
    login(specialist, "specialist")
    specialist.goto(f"/desk/dossiers/{dossier_id}")
    assert "approve" not in offered_actions(specialist)
    shoot(specialist, "specialist-appraisal")
    act(specialist, "appraise", comment="Đủ điều kiện đăng ký khai sinh")
    leader.reload()
    assert "approve" in offered_actions(leader)
    shoot(leader, "leader-awaiting-decision")
    act(leader, "approve")
    assert "Đã có kết quả" in leader.locator("main").inner_text()

    # --- the clerk returns the result
    clerk.goto(f"/desk/dossiers/{dossier_id}")
    act(clerk, "return_result")
    assert "Đã trả kết quả" in clerk.locator("main").inner_text()
    shoot(clerk, "clerk-returned")

    # --- the mother downloads the signed certificate; the history shows every step
    mother.reload()
    text = mother.locator("main").inner_text()
    assert "Đã trả kết quả" in text and "Giấy khai sinh" in text
    shoot(mother, "citizen-result-ready")
    with mother.expect_download() as download:
        mother.locator('main a[href^="/my/results/"][href$=".pdf"]').first.click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf[:4] == b"%PDF"
    pdftext = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in pdftext and "Trần Minh Khôi" in pdftext.replace("\n", " ")
    mother.goto("/my/results")
    assert "Giấy khai sinh" in mother.locator("main").inner_text()
    shoot(mother, "citizen-data-store")

    # --- a stranger, never signed in, scans the QR code and opens what it says
    url = qr_url_of(pdf)
    assert url.startswith(f"{live_server.url}/verify/"), url
    stranger = new_page(width=360, java_script_enabled=False)
    stranger.goto(url)
    verdict = stranger.locator("main .verdict")
    assert "ok" in verdict.get_attribute("class")
    assert "Văn bản hợp lệ" in verdict.inner_text()
    assert "Trần Minh Khôi" in stranger.locator("main").inner_text()
    shoot(stranger, "stranger-verifies-qr")


def test_one_citizen_cannot_open_anothers_dossier_or_result_by_url(live_server, new_page, login):
    services, couple = live_server.services, live_server.demo["scenarios"]["married_couple"]
    wife = services.accounts.actor_for(couple["wife"])
    d = services.filing.start_dossier("birth-registration", {"child_full_name": "Trần Minh Khôi"}, wife)
    singles = live_server.demo["scenarios"]["single_adults"]
    stranger = new_page()
    new_page.guard(stranger).expect_console_error(r"status of 404")
    login(stranger, singles[0]["personal_id"])
    for address in (f"/my/dossiers/{d.id}", f"/my/results/{couple['marriage_certificate']}",
                    f"/my/results/{couple['marriage_certificate']}.pdf"):
        response = stranger.goto(address)
        assert response.status == 404, address
        assert "Trần Minh Khôi" not in stranger.content()
    assert stranger.request.post(f"/my/dossiers/{d.id}/actions/submit").status in (400, 404)


def test_a_clerk_files_for_a_walk_in_citizen_at_the_counter_on_a_small_screen(live_server, new_page, shoot, login):
    walk_in = next(p["personal_id"] for p in live_server.demo["scenarios"]["single_adults"] if p["sex"] == "male")
    clerk = new_page(width=360, java_script_enabled=False)
    login(clerk, "clerk")
    clerk.goto("/desk/counter")
    clerk.locator("#personal_id").fill(walk_in)
    with clerk.expect_navigation(wait_until="domcontentloaded"):
        clerk.locator('main form[action="/desk/counter"] button[type="submit"]').click()
    shoot(clerk, "counter-person-found")
    with clerk.expect_navigation(wait_until="domcontentloaded"):
        clerk.locator("main").get_by_role("link", name="Cấp Giấy xác nhận tình trạng hôn nhân").click()
    assert clerk.locator("main .source").count() >= 8  # the register fills the person's details
    form = clerk.locator('main form[action$="/desk/counter/marital-status-certification"]')
    form.locator('[name="requester_relationship"]').select_option("self")
    form.locator('[name="issuance_type"]').select_option("first")
    form.locator('[name="purpose"]').fill("Để bổ sung hồ sơ vay vốn ngân hàng")
    form.locator('[name="copies_count"]').fill("1")
    shoot(clerk, "counter-form")
    with clerk.expect_navigation(wait_until="domcontentloaded"):
        form.locator('button[type="submit"]:not([name="lookup"])').click()
    assert re.fullmatch(r"/desk/dossiers/[0-9a-f-]{36}", path(clerk)), clerk.url
    assert "Đã nộp, chờ tiếp nhận" in clerk.locator("main").inner_text()
    act(clerk, "receive")
    assert clerk.get_by_role("link", name="In giấy tiếp nhận").count() >= 1
    shoot(clerk, "counter-received")
