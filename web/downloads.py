"""Stored files sent to a browser: as a download, or inline (PDF, JPEG and PNG only) under a ``sandbox``
policy that runs nothing, also when the file is opened on its own; and the pages of a PDF drawn as PNG
images for the desk's viewer.

The desk shows a PDF as those images, on the dossier page: Chromium-based browsers decline to start
their PDF viewer in a sandboxed frame or under a ``sandbox`` policy, and an image runs no code in any
browser. (A sandboxed frame of images does not work either: its origin is opaque, so Chromium sends
the image requests without the SameSite=Lax session cookie.) The desk links to the file and its
download beside the pages."""
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
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def page_image_response(png: bytes) -> Response:
    """One drawn page: a PNG, never sniffed as anything else, under the inline files' policy, kept by
    no shared cache nor on the browser's disk (the server keeps the drawing, so showing it again costs
    no rendering)."""
    response = Response(png, mimetype="image/png")
    response.headers["Content-Disposition"] = 'inline; filename="page.png"'
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
