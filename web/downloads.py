"""Stored files sent to a browser: as a download, or inline (PDF, JPEG and PNG only), allowed to run
nothing; and the desk's document viewer, a PDF's pages drawn as PNG images on a small page of its own.

What is shown inline is sandboxed twice: the desk's frame carries the ``sandbox`` attribute (no
``allow-scripts``), and the answer itself a ``sandbox`` policy, which also holds when it is opened on
its own. Chromium and Safari decline to start their PDF viewer in a sandbox (Firefox shows it), so the
frame holds the viewer page, plain ``<img>`` elements, which every browser shows; the desk links to
the file and its download beside the frame."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response

INLINE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})
FILE_CSP = "default-src 'none'; frame-ancestors 'self'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def file_response(content: bytes, mimetype: str, name: str, *, inline: bool = False) -> Response:
    response = Response(content, mimetype=mimetype)
    inline = inline and mimetype in INLINE_TYPES
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in name) or "document"
    disposition = f'{"inline" if inline else "attachment"}; filename="{fallback}"'
    if fallback != name:
        disposition += "; filename*=UTF-8''" + quote(name, safe="")
    response.headers["Content-Disposition"] = disposition
    if inline:
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def viewer_response(html: str) -> Response:
    """The viewer's page of images, for the desk's frame: the same policy as a file shown inline."""
    response = Response(html, mimetype="text/html")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def page_image_response(png: bytes) -> Response:
    """One drawn page: a PNG, never sniffed as anything else, kept by no shared cache nor on disk (the
    server keeps the drawing, so showing it again costs no rendering)."""
    response = Response(png, mimetype="image/png")
    response.headers["Content-Disposition"] = 'inline; filename="page.png"'
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
