"""The public verification pages: what a result's QR code opens, and an upload form for any PDF."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from engine.errors import EngineError, NotFoundError

bp = Blueprint("verify", __name__)

MAX_BYTES = 20 * 1024 * 1024

STATUS_TEXT = {
    "valid": ("Còn hiệu lực", "Valid"),
    "pending": ("Đang ký số", "Being signed"),
    "revoked": ("Đã thu hồi", "Revoked"),
    "superseded": ("Đã được thay thế", "Superseded"),
    "expired": ("Hết hiệu lực", "Expired"),
}


def _services():
    return current_app.extensions["motcua"]


@bp.get("/")
def index():
    return render_template("index.html", procedures=_services().list_procedures())


@bp.get("/verify/<document_id>/<token>")
def document_page(document_id: str, token: str):
    try:
        document, check = _services().verification_page(document_id, token)
    except NotFoundError:
        return render_template("verify/not_found.html"), 404
    return render_template("verify/document.html", document=document, check=check, status_text=STATUS_TEXT)


@bp.get("/verify")
def upload_form():
    return render_template("verify/upload.html", report=None, error=None, status_text=STATUS_TEXT)


@bp.post("/verify")
def upload():
    upload = request.files.get("file")
    data = upload.read(MAX_BYTES + 1) if upload is not None else b""
    if not data:
        return render_template("verify/upload.html", report=None, status_text=STATUS_TEXT,
                               error="Hãy chọn một tệp PDF / choose a PDF file"), 422
    if len(data) > MAX_BYTES:
        return render_template("verify/upload.html", report=None, status_text=STATUS_TEXT,
                               error="Tệp lớn hơn 20 MB / the file is larger than 20 MB"), 413
    try:
        report = _services().verify_document(data)
    except EngineError as exc:
        return render_template("verify/upload.html", report=None, status_text=STATUS_TEXT, error=exc.message), 422
    return render_template("verify/upload.html", report=report, error=None, status_text=STATUS_TEXT)
