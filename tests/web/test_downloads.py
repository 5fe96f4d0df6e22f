"""Stored files sent to a browser: downloads by default, inline only for the viewer's safe types."""
from __future__ import annotations

from web.downloads import FILE_CSP, file_response


def test_a_vietnamese_file_name_has_an_ascii_fallback_and_the_utf8_name():
    r = file_response(b"%PDF-1.7", "application/pdf", "Giấy khai sinh 1/2026.pdf")
    assert r.headers["Content-Disposition"] == (
        "attachment; filename=\"Gi_y_khai_sinh_1_2026.pdf\"; "
        "filename*=UTF-8''Gi%E1%BA%A5y%20khai%20sinh%201%2F2026.pdf")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "private, no-store"
    assert "Content-Security-Policy" not in r.headers


def test_only_pdf_and_images_are_shown_inline_and_then_under_a_policy_that_runs_nothing():
    pdf = file_response(b"%PDF-1.7", "application/pdf", "a.pdf", inline=True)
    assert pdf.headers["Content-Disposition"] == 'inline; filename="a.pdf"'
    assert pdf.headers["Content-Security-Policy"] == FILE_CSP and "script" not in FILE_CSP
    assert "sandbox" in [d.strip() for d in FILE_CSP.split(";")]  # a bare sandbox: no scripts, forms or popups
    assert pdf.headers["X-Frame-Options"] == "SAMEORIGIN"
    html = file_response(b"<script>alert(1)</script>", "text/html", "x.html", inline=True)
    assert html.headers["Content-Disposition"].startswith("attachment;")
    name = file_response(b"", "image/png", 'a"; evil=1.png').headers["Content-Disposition"]
    assert name.startswith('attachment; filename="a___evil_1.png"; filename*=UTF-8')
