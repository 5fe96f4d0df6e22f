"""PDF pages drawn by pdftoppm for the desk's viewer: real pages as PNG, every failure as
``PageRenderError`` (never a crash), a poster-sized page scaled down within the limits; and the blob
store's derived files the drawings are kept in."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from engine.adapters.blobs import LocalBlobStore
from engine.adapters.pdf_pages import PdftoppmRenderer
from engine.rules.errors import PageRenderError
from tests import pdf_samples


def size_of(png: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    return image.size


def test_a_page_is_drawn_as_a_png_at_the_asked_resolution():
    renderer = PdftoppmRenderer()
    content = pdf_samples.many_pages(3)
    assert renderer.count_pages(content) == 3
    assert size_of(renderer.render_page(content, 2, 96)) == (794, 1123)
    assert size_of(renderer.render_page(content, 1, 48)) == (397, 562)


def test_the_command_runs_pdftoppm_under_limits_on_stdin_without_a_shell():
    command = PdftoppmRenderer(memory_mb=256, cpu_seconds=5).command(4, 96)
    assert command[0].endswith("prlimit") and "--as=268435456" in command and "--cpu=5" in command
    assert command[command.index("--") + 1].endswith("pdftoppm")
    assert command[-8:] == ["-png", "-r", "96", "-f", "4", "-l", "4", "-"]


@pytest.mark.parametrize("content, page", [
    (b"not a pdf at all", 1),
    (pdf_samples.many_pages(3), 4),
], ids=["unreadable", "past-the-end"])
def test_a_page_that_cannot_be_drawn_is_a_render_error(content, page):
    with pytest.raises(PageRenderError):
        PdftoppmRenderer().render_page(content, page, 96)


def test_an_unreadable_file_has_no_page_count():
    with pytest.raises(PageRenderError):
        PdftoppmRenderer().count_pages(b"%PDF-1.7\ngarbage")


def test_a_missing_tool_or_a_timeout_is_a_render_error():
    with pytest.raises(PageRenderError):
        PdftoppmRenderer(executable="no-such-pdftoppm").render_page(pdf_samples.plain(), 1, 96)
    with pytest.raises(PageRenderError):
        PdftoppmRenderer(timeout=0.000001).render_page(pdf_samples.plain(), 1, 96)


def test_a_poster_sized_page_is_scaled_down_and_out_of_memory_is_not_a_blank_success():
    poster = pdf_samples.document(page=b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 14400 14400]/Contents 4 0 R>>")
    assert size_of(PdftoppmRenderer(max_side=1500).render_page(poster, 1, 96)) == (1500, 1500)
    # without the scaling, 19200 x 19200 pixels do not fit in 64 MB: pdftoppm answers one pixel, "successfully"
    with pytest.raises(PageRenderError):
        PdftoppmRenderer(max_side=100_000, memory_mb=64).render_page(poster, 1, 96)


def test_derived_files_are_kept_by_name_beside_the_blobs(tmp_path):
    blobs = LocalBlobStore(tmp_path)
    digest = blobs.put(b"%PDF-1.7 ...")
    name = f"{digest}-p1-r96.png"
    assert blobs.get_derived(name) is None
    blobs.put_derived(name, b"png")
    assert blobs.get_derived(name) == b"png"
    assert (tmp_path / "derived" / digest[:2] / name).stat().st_mode & 0o777 == 0o600
    for bad in ("../etc/passwd", f"{digest}.png", f"{digest}-p1/../../x.png", "a" * 64 + "-p1-r96.png/"):
        with pytest.raises(ValueError):
            blobs.put_derived(bad, b"x")
