"""The PDF screen on its own: what it refuses, and its limits as settings."""
from __future__ import annotations

import zlib

import pytest

from engine.adapters.pdf_screen import PdfScreen
from motcua.settings import Settings, SettingsError
from tests import pdf_samples


def test_the_limits_are_the_screens_own_and_come_from_the_settings(tmp_path):
    strict = PdfScreen(max_pages=1, max_inflated_mb=1)
    assert strict.check(pdf_samples.plain()) is None
    assert strict.check(pdf_samples.many_pages(2)).code == "too_many_pages"
    assert strict.check(pdf_samples.deflate_bomb(2 * 1024 * 1024)).code == "too_large_inflated"
    s = Settings.from_environment({"DATA_DIR": str(tmp_path)}, environ={})
    assert (s.pdf_max_pages, s.pdf_max_inflated_mb) == (500, 100)
    s = Settings.from_environment({"DATA_DIR": str(tmp_path)}, environ={"MOTCUA_PDF_MAX_PAGES": "20",
                                                                         "MOTCUA_PDF_MAX_INFLATED_MB": "2.5"})
    assert (s.pdf_max_pages, s.pdf_max_inflated_mb) == (20, 2.5)
    with pytest.raises(SettingsError, match="^MOTCUA_PDF_MAX_PAGES: not a whole number"):
        Settings.from_environment({"DATA_DIR": str(tmp_path)}, environ={"MOTCUA_PDF_MAX_PAGES": "many"})


def test_a_script_hidden_outside_the_document_tree_is_still_found():
    # object 5 is in the cross-reference table but nothing in the document points to it
    pdf = pdf_samples.document(more=[b"<</S/JavaScript/JS(app.alert\\(1\\))>>"])
    assert PdfScreen().check(pdf).code == "javascript"


def test_a_flate_stream_without_its_zlib_header_is_still_counted():
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw deflate, as a lenient viewer reads it
    data = compressor.compress(b"\0" * (3 * 1024 * 1024)) + compressor.flush()
    page = pdf_samples.PAGE[:-2] + b"/Resources<</XObject<</B 5 0 R>>>>>>"
    pdf = pdf_samples.document(page=page, more=[pdf_samples.stream(data, b"/Filter/FlateDecode")])
    assert PdfScreen(max_inflated_mb=2).check(pdf).code == "too_large_inflated"
    assert PdfScreen(max_inflated_mb=4).check(pdf) is None


def test_a_pdf_without_pages_is_refused():
    pdf = pdf_samples.build([b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[]/Count 0>>"])
    assert PdfScreen().check(pdf).code == "no_pages"
