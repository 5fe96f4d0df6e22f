"""Stored files sent to a browser: as a download, or inline in a frame of this site for the desk's
document viewer (PDF, JPEG and PNG only), allowed to run nothing.

An inline file is sandboxed twice: the desk's frame carries the ``sandbox`` attribute (no
``allow-scripts``), and the answer itself a ``sandbox`` policy, which also holds when the file is
opened on its own. Chromium and Safari then decline to start their PDF viewer in the frame (Firefox
shows it); the desk links to the file and its download beside the frame."""
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
