"""The desk's document viewer: an uploaded PDF's pages drawn as PNG images on the server and shown as
plain images on the dossier page (Chromium-based browsers show no PDF in a sandbox), each under the
inline files' sandbox policy and the dossier's access rule, drawn once and then served from the blob
store."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from pypdf import PdfWriter

from engine.adapters.pdf_pages import PdftoppmRenderer
from engine.adapters.uow import make_engine
from engine.rules.errors import NotFoundError, PageRenderError
from motcua.bootstrap import bootstrap
from tests import pdf_samples
from tests.web.test_clerk_pages import FILE_CSP, add_staff, couple, submitted_birth  # noqa: F401 - fixtures

pytestmark = pytest.mark.database

THREE_PAGES = pdf_samples.many_pages(3)


def blank_pages(count: int) -> bytes:
    """A PDF of ``count`` distinct blank A4 pages (poppler refuses a page tree repeating one page many times)."""
    writer = PdfWriter()
    for _ in range(count):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


class CountingRenderer:
    """pdftoppm, counting the pages it draws; ``broken`` makes every drawing fail as pdftoppm's would."""

    def __init__(self):
        self.real = PdftoppmRenderer()
        self.drawn: list[int] = []
        self.counted = 0
        self.broken = False

    def count_pages(self, content: bytes) -> int:
        self.counted += 1
        if self.broken:
            raise PageRenderError("cannot read this file; download it")
        return self.real.count_pages(content)

    def render_page(self, content: bytes, page: int, resolution: int) -> bytes:
        if self.broken:
            raise PageRenderError("cannot show this page; download the file")
        self.drawn.append(page)
        return self.real.render_page(content, page, resolution)


@pytest.fixture
def renderer() -> CountingRenderer:
    return CountingRenderer()


@pytest.fixture
def services(settings, clock, renderer):
    """The shared fixture's services, with the counting renderer in place of pdftoppm."""
    engine = make_engine(settings.database_url)
    svc = bootstrap(settings, engine=engine, clock=clock, page_renderer=renderer)
    svc.procedures.publish_procedures()
    svc.deadlines.sync_calendars()
    yield svc
    engine.dispose()


@pytest.fixture
def three_pages(submitted_birth, web_as, services):  # noqa: F811
    """A submitted dossier whose birth notice the clerk replaced with a three-page scan: (dossier id, document id)."""
    did = submitted_birth()["id"]
    clerk = web_as("clerk")
    r = clerk.post(f"/desk/dossiers/{did}/documents", {"requirement": "medical_birth_notice",
                                                         "file": (io.BytesIO(THREE_PAGES), "giay-chung-sinh.pdf")},
                   content_type="multipart/form-data")
    assert r.status_code == 303
    d = services.dossiers.get_dossier(did, services.accounts.actor_for("clerk"))
    return did, next(x for x in d.documents if x.requirement == "medical_birth_notice").id


def pages_of(html: str) -> list[tuple[str, str]]:
    """(src, alt) of each image in the dossier page's viewers of PDF pages."""
    return [(src, alt) for block in re.findall(r'<div class="viewer pages".*?</div>', html, re.S)
            for src, alt in re.findall(r'<img src="([^"]+)" alt="([^"]+)"', block)]


def test_the_dossier_page_shows_each_pdf_page_as_an_image_beside_the_links_to_the_file(three_pages, web_as):
    did, doc = three_pages
    clerk = web_as("clerk")
    r = clerk.get(f"/desk/dossiers/{did}")
    html = clerk.text(r)
    assert pages_of(html) == [(f"/desk/dossiers/{did}/documents/{doc}/pages/{n}.png", f"Trang {n}") for n in (1, 2, 3)]
    assert "<iframe" not in html and "<object" not in html and "<embed" not in html  # no plugin, no frame
    assert f'href="/desk/dossiers/{did}/documents/{doc}"' in html  # open the document
    assert f'href="/desk/dossiers/{did}/documents/{doc}?download=1"' in html  # download it
    # the page itself keeps the site's policy: no frames of it, scripts only from the site
    assert r.headers["X-Frame-Options"] == "DENY" and "script-src 'self'" in r.headers["Content-Security-Policy"]


def test_a_page_is_a_png_of_the_whole_page_under_a_strict_policy(three_pages, web_as):
    did, doc = three_pages
    clerk = web_as("clerk")
    r = clerk.get(f"/desk/dossiers/{did}/documents/{doc}/pages/2.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Security-Policy"] == FILE_CSP and "sandbox" in FILE_CSP.split("; ")
    assert r.headers["Cache-Control"].startswith("private")
    assert len(r.data) > 1000
    image = Image.open(io.BytesIO(r.data))
    assert image.format == "PNG" and image.size == (794, 1123)  # A4 at 96 dpi
    image.load()  # decodes in full


@pytest.mark.parametrize("page", ["0", "4", "51", "abc", "-1", "1.5"])
def test_a_page_the_document_does_not_have_is_not_found(three_pages, web_as, page):
    did, doc = three_pages
    assert web_as("clerk").get(f"/desk/dossiers/{did}/documents/{doc}/pages/{page}.png").status_code == 404


def test_an_image_upload_has_no_pages_to_draw(submitted_birth, web_as, services):  # noqa: F811
    did = submitted_birth()["id"]
    clerk = web_as("clerk")
    png = io.BytesIO()
    Image.new("RGB", (20, 30), "white").save(png, "PNG")
    r = clerk.post(f"/desk/dossiers/{did}/documents", {"requirement": "medical_birth_notice",
                                                         "file": (io.BytesIO(png.getvalue()), "scan.png")},
                   content_type="multipart/form-data")
    assert r.status_code == 303
    d = services.dossiers.get_dossier(did, services.accounts.actor_for("clerk"))
    doc = next(x for x in d.documents if x.requirement == "medical_birth_notice").id
    assert re.search(rf'<img class="viewer" src="/desk/dossiers/{did}/documents/{doc}"', clerk.text(clerk.get(f"/desk/dossiers/{did}")))
    assert clerk.get(f"/desk/dossiers/{did}/documents/{doc}/pages/1.png").status_code == 404


def test_staff_of_another_agency_and_citizens_other_than_the_applicant_find_no_pages(
        three_pages, web_as, services, clock, couple, demo):  # noqa: F811
    did, doc = three_pages
    add_staff(services, clock, "clerk-other", ["clerk"], agency_code="000.00.99.H99")
    other = web_as("clerk-other")
    assert other.get(f"/desk/dossiers/{did}/documents/{doc}/pages/1.png").status_code == 404
    stranger = next(p["personal_id"] for p in demo["scenarios"]["single_adults"])
    for who in (stranger, couple["husband"], "clerk-other"):
        actor = services.accounts.actor_for(who)
        with pytest.raises(NotFoundError):
            services.pages.list_pages(did, doc, actor)
        with pytest.raises(NotFoundError):
            services.pages.render_page(did, doc, 1, actor)
    assert web_as(couple["wife"]).get(f"/desk/dossiers/{did}/documents/{doc}/pages/1.png").status_code == 403  # the desk is staff's
    mother = services.accounts.actor_for(couple["wife"])  # the applicant may see her own dossier's pages
    assert services.pages.render_page(did, doc, 1, mother).startswith(b"\x89PNG")


def test_a_page_is_drawn_once_and_then_served_from_the_blob_store(three_pages, web_as, renderer, services):
    did, doc = three_pages
    clerk = web_as("clerk")
    renderer.drawn.clear()
    first = clerk.get(f"/desk/dossiers/{did}/documents/{doc}/pages/3.png").data
    second = clerk.get(f"/desk/dossiers/{did}/documents/{doc}/pages/3.png").data
    assert first == second and renderer.drawn == [3]
    cached = list((services.blobs.root / "derived").rglob("*-p3-r96.png"))
    assert len(cached) == 1 and cached[0].read_bytes() == first
    # showing the dossier page again draws nothing: its page count is kept too
    clerk.get(f"/desk/dossiers/{did}")
    assert renderer.drawn == [3] and renderer.counted == 1


def test_a_document_that_cannot_be_drawn_says_so_instead_of_failing(three_pages, web_as, renderer, services):
    did, doc = three_pages
    for derived in (services.blobs.root / "derived").rglob("*"):  # nothing counted or drawn yet
        if derived.is_file():
            derived.unlink()
    renderer.broken = True
    clerk = web_as("clerk")
    r = clerk.get(f"/desk/dossiers/{did}")
    assert r.status_code == 200
    html = clerk.text(r)
    assert "Không hiển thị được giấy tờ này ở đây: hãy mở hoặc tải tệp về." in html and not pages_of(html)
    assert f'href="/desk/dossiers/{did}/documents/{doc}?download=1"' in html
    r = clerk.get(f"/desk/dossiers/{did}/documents/{doc}/pages/2.png")
    assert r.status_code == 422 and "Không hiển thị được giấy tờ này ở đây" in clerk.text(r)
    assert clerk.get(f"/desk/dossiers/{did}/documents/{doc}?download=1").data == THREE_PAGES


def test_at_most_fifty_pages_are_shown_with_a_note_about_the_others(submitted_birth, web_as, services):  # noqa: F811
    did = submitted_birth()["id"]
    clerk = web_as("clerk")
    r = clerk.post(f"/desk/dossiers/{did}/documents", {"requirement": "medical_birth_notice",
                                                         "file": (io.BytesIO(blank_pages(52)), "dai.pdf")},
                   content_type="multipart/form-data")
    assert r.status_code == 303
    d = services.dossiers.get_dossier(did, services.accounts.actor_for("clerk"))
    doc = next(x for x in d.documents if x.requirement == "medical_birth_notice").id
    html = clerk.text(clerk.get(f"/desk/dossiers/{did}"))
    assert [alt for _, alt in pages_of(html)] == [f"Trang {n}" for n in range(1, 51)]
    assert "Đang hiển thị 50 trang đầu trong số 52 trang" in html
    assert clerk.get(f"/desk/dossiers/{did}/documents/{doc}/pages/51.png").status_code == 404
