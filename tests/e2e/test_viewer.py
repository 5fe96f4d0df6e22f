"""The desk's document viewer in Debian's Chromium: the uploaded PDF's pages appear as images drawn on
the server (Chromium shows no PDF in a sandboxed frame; an image needs no plugin and runs nothing)."""
from __future__ import annotations

import pytest

from tests import pdf_samples
from tests.e2e.conftest import recent_birth_form

pytestmark = [pytest.mark.database, pytest.mark.slow]


def test_the_clerk_sees_the_pdf_pages_as_images_on_the_dossier_page(live_server, new_page, login, shoot):
    services, couple = live_server.services, live_server.demo["scenarios"]["married_couple"]
    wife = services.accounts.actor_for(couple["wife"])
    d = services.filing.start_dossier("birth-registration", recent_birth_form(couple), wife)
    services.filing.add_document(d.id, "medical_birth_notice", "giay-chung-sinh.pdf", pdf_samples.many_pages(3), wife)
    services.actions.perform_action(d.id, "submit", wife)

    clerk = new_page()
    login(clerk, "clerk")
    clerk.goto(f"/desk/dossiers/{d.id}")
    assert clerk.locator("iframe, object, embed").count() == 0
    viewer = clerk.locator("div.viewer.pages")
    assert viewer.count() == 1 and viewer.get_attribute("aria-label") == "Giấy tờ: giay-chung-sinh.pdf"
    images = viewer.locator("img")
    assert [images.nth(i).get_attribute("alt") for i in range(images.count())] == ["Trang 1", "Trang 2", "Trang 3"]
    for i in range(3):
        image = images.nth(i)
        image.scroll_into_view_if_needed()  # lazy: each page is asked for when it comes into view
        image.evaluate("img => img.complete ? null : new Promise(done => { img.onload = img.onerror = done; })")
        assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [794, 1123], i
    assert clerk.locator("main").get_by_role("link", name="Tải về").count() >= 1
    viewer.scroll_into_view_if_needed()
    shoot(clerk, "desk-document-viewer")
