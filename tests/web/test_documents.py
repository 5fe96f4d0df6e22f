"""Documents of a dossier through the JSON API: uploads sniffed by content, size limits, storage by
hash, downloads, replacement, and results linked from the store instead of an upload.

Each test checks the status code and the contract's error body ``{"error", "message", "fields"}``.
"""
from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from engine.adapters.models import Result
from tests import pdf_samples
from tests.web.test_lifecycle_api import PDF, birth_form

pytestmark = pytest.mark.database

ERROR_KEYS = {"error", "message", "fields"}


def assert_error(response, status: int, code: str | None = None, fields: tuple[str, ...] = ()) -> dict:
    """The response is the contract's error body with this status (and code, and these fields named)."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["error"], str) and isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fields"], dict)
    if code is not None:
        assert body["error"] == code, body
    for name in fields:
        assert name in body["fields"], body
    return body


def png_bytes() -> bytes:
    """A real 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def upload(api, dossier_id: str, requirement: str | None, content: bytes | None, filename: str = "scan.pdf",
           content_type: str = "application/pdf"):
    """POST a multipart upload, encoded in memory (the test client spools large forms to files it never closes)."""
    fields: dict = {}
    if requirement is not None:
        fields["requirement"] = requirement
    if content is not None:
        fields["file"] = FileStorage(io.BytesIO(content), filename, content_type=content_type)
    boundary, payload = encode_multipart(fields)
    return api.post(f"/api/v1/dossiers/{dossier_id}/documents", data=payload,
                    content_type=f"multipart/form-data; boundary={boundary}")


def current(docs: list[dict], requirement: str) -> list[dict]:
    return [d for d in docs if d["requirement"] == requirement]


@pytest.fixture
def couple(demo) -> dict:
    return demo["scenarios"]["married_couple"]


@pytest.fixture
def stranger(demo) -> str:
    return next(p["personal_id"] for p in demo["scenarios"]["single_adults"] if p["sex"] == "male")


@pytest.fixture
def draft(couple, api_as) -> dict:
    r = api_as(couple["wife"]).post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": birth_form(couple)})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


# --------------------------------------------------------------------------- sniffing and limits


def test_a_png_named_pdf_is_accepted_and_recorded_as_png(api_as, couple, draft):
    citizen = api_as(couple["wife"])
    png = png_bytes()
    r = upload(citizen, draft["id"], "medical_birth_notice", png, "giay-chung-sinh.pdf", "application/pdf")
    assert r.status_code == 201, r.get_json()
    [doc] = current(r.get_json()["documents"], "medical_birth_notice")
    assert doc["content_type"] == "image/png" and doc["filename"] == "giay-chung-sinh.pdf" and doc["size"] == len(png)
    download = citizen.get(f"/api/v1/dossiers/{draft['id']}/documents/{doc['id']}")
    assert download.status_code == 200 and download.mimetype == "image/png" and download.data == png
    # a JPEG named .png is what its bytes say, too
    r = upload(citizen, draft["id"], "medical_birth_notice", JPEG, "scan.png", "image/png")
    assert r.status_code == 201, r.get_json()
    assert current(r.get_json()["documents"], "medical_birth_notice")[0]["content_type"] == "image/jpeg"
    # but a GIF named .pdf is refused: no requirement of the procedure accepts image/gif
    body = assert_error(upload(citizen, draft["id"], "medical_birth_notice", GIF, "scan.pdf"), 415, "unsupported_media_type")
    assert "image/gif" in body["message"]


def test_a_text_file_named_pdf_is_an_unsupported_media_type(api_as, couple, draft):
    citizen = api_as(couple["wife"])
    r = upload(citizen, draft["id"], "medical_birth_notice", b"I am not a PDF, only text.\n" * 20, "notice.pdf",
               "application/pdf")
    assert_error(r, 415, "unsupported_media_type")
    r = upload(citizen, draft["id"], "medical_birth_notice", b"<html><script>alert(1)</script></html>", "notice.pdf")
    assert_error(r, 415, "unsupported_media_type")
    assert [d for d in citizen.get(f"/api/v1/dossiers/{draft['id']}").get_json()["documents"] if d["by"] == "upload"] == []


# --------------------------------------------------------------------------- what a PDF may not carry


def _blobs(services) -> set[str]:
    root = services.blobs.root
    return {p.name for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.mark.parametrize("content, status, code, words", [
    (pdf_samples.with_javascript(), 415, "unsupported_media_type", "JavaScript"),
    (pdf_samples.with_javascript_name_tree(), 415, "unsupported_media_type", "JavaScript"),
    (pdf_samples.with_launch(), 415, "unsupported_media_type", "launch action"),
    (pdf_samples.encrypted(), 415, "unsupported_media_type", "encrypted"),
    (pdf_samples.with_embedded_file(), 415, "unsupported_media_type", "embedded files"),
    (pdf_samples.with_file_attachment_annotation(), 415, "unsupported_media_type", "embedded files"),
    (pdf_samples.many_pages(501), 422, "validation_error", "more than 500 pages"),
    (b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n", 415, "unsupported_media_type",
     "cannot be read"),
], ids=["javascript", "javascript-name-tree", "launch", "encrypted", "embedded-file", "file-attachment", "pages",
        "unreadable"])
def test_a_pdf_with_active_content_or_over_the_limits_is_refused_and_nothing_is_stored(
        api_as, couple, draft, services, content, status, code, words):
    citizen = api_as(couple["wife"])
    before = _blobs(services)
    body = assert_error(upload(citizen, draft["id"], "medical_birth_notice", content, "notice.pdf"), status, code,
                        fields=("file",))
    vi, _, en = body["message"].partition(" / ")
    assert vi.startswith("Tệp PDF") and words in en, body  # both languages, like every upload error
    assert _blobs(services) == before
    assert [d for d in citizen.get(f"/api/v1/dossiers/{draft['id']}").get_json()["documents"] if d["by"] == "upload"] == []


@pytest.mark.parametrize("inflated, streams", [(512 * 1024 * 1024, 1), (40 * 1024 * 1024, 3)], ids=["one-stream", "three-streams"])
def test_a_deflate_bomb_is_refused_without_being_inflated_or_stored(api_as, couple, draft, services, inflated, streams):
    bomb = pdf_samples.deflate_bomb(inflated, streams=streams)  # built in memory a megabyte at a time
    assert len(bomb) < 1024 * 1024
    before = _blobs(services)
    body = assert_error(upload(api_as(couple["wife"]), draft["id"], "medical_birth_notice", bomb, "bomb.pdf"), 422,
                        "validation_error", fields=("file",))
    assert "100 MB once decompressed" in body["message"] and "khi giải nén" in body["message"]
    assert _blobs(services) == before


def test_a_plain_pdf_with_compressed_streams_under_the_limit_is_accepted(api_as, couple, draft):
    citizen = api_as(couple["wife"])
    for content in (pdf_samples.plain(), pdf_samples.deflate_bomb(20 * 1024 * 1024, streams=2),
                    pdf_samples.many_pages(500)):
        r = upload(citizen, draft["id"], "medical_birth_notice", content, "notice.pdf")
        assert r.status_code == 201, r.get_json()
        [doc] = current(r.get_json()["documents"], "medical_birth_notice")
        assert doc["content_type"] == "application/pdf" and doc["size"] == len(content)


def test_an_empty_file_is_a_validation_error(api_as, couple, draft):
    r = upload(api_as(couple["wife"]), draft["id"], "medical_birth_notice", b"", "empty.pdf")
    assert_error(r, 422, "validation_error", fields=("file",))


def test_a_file_over_the_requirements_size_limit_is_too_large(api_as, couple, draft):
    citizen = api_as(couple["wife"])
    requirement = next(q for q in draft["requirements"] if q["id"] == "medical_birth_notice")
    max_mb = requirement["max_mb"]
    big = b"%PDF-1.4\n" + b"0" * int((max_mb + 1) * 1024 * 1024)
    body = assert_error(upload(citizen, draft["id"], "medical_birth_notice", big, "big.pdf"), 413, "payload_too_large")
    assert f"{max_mb:g}" in body["message"]
    # just under the limit is fine
    fits = pdf_samples.sized(int(max_mb * 1024 * 1024))
    r = upload(citizen, draft["id"], "medical_birth_notice", fits, "fits.pdf")
    assert r.status_code == 201, r.get_json()
    assert current(r.get_json()["documents"], "medical_birth_notice")[0]["size"] == len(fits)


def test_an_unknown_requirement_or_a_missing_file_is_a_validation_error(api_as, couple, draft):
    citizen = api_as(couple["wife"])
    assert_error(upload(citizen, draft["id"], "passport_photo", PDF), 422, "validation_error", fields=("requirement",))
    assert_error(upload(citizen, draft["id"], None, PDF), 422, "validation_error", fields=("requirement",))
    assert_error(upload(citizen, draft["id"], "medical_birth_notice", None), 422, "validation_error", fields=("file",))
    r = citizen.post(f"/api/v1/dossiers/{draft['id']}/documents", json={"requirement": "medical_birth_notice"})
    assert_error(r, 422, "validation_error", fields=("result_id",))
    assert [d for d in citizen.get(f"/api/v1/dossiers/{draft['id']}").get_json()["documents"] if d["by"] == "upload"] == []


# --------------------------------------------------------------------------- storage and downloads


def test_an_upload_is_stored_by_its_sha256_and_downloadable_by_the_applicant_and_the_clerk(
    api_as, couple, draft, services, stranger
):
    citizen = api_as(couple["wife"])
    r = upload(citizen, draft["id"], "medical_birth_notice", PDF, "giay chung sinh (bản chụp).pdf")
    assert r.status_code == 201, r.get_json()
    [doc] = current(r.get_json()["documents"], "medical_birth_notice")
    assert doc["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert services.blobs.get(doc["sha256"]) == PDF
    assert (doc["by"], doc["size"], doc["content_type"]) == ("upload", len(PDF), "application/pdf")
    requirement = next(q for q in r.get_json()["requirements"] if q["id"] == "medical_birth_notice")
    assert requirement["satisfied"] and requirement["by"] == "upload"

    path = f"/api/v1/dossiers/{draft['id']}/documents/{doc['id']}"
    for who in (couple["wife"], "clerk"):
        download = api_as(who).get(path)
        assert download.status_code == 200, who
        assert download.data == PDF and download.mimetype == "application/pdf"
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert "filename*=UTF-8''giay%20chung%20sinh%20%28b%E1%BA%A3n%20ch%E1%BB%A5p%29.pdf" in download.headers["Content-Disposition"]
        assert download.headers["X-Content-Type-Options"] == "nosniff"

    for who in (stranger, couple["husband"], "agency"):
        body = assert_error(api_as(who).get(path), 404, "not_found")
        assert doc["id"] not in str(body) and draft["id"] not in str(body)
    assert_error(citizen.get(f"/api/v1/dossiers/{draft['id']}/documents/00000000-0000-0000-0000-000000000000"),
                 404, "not_found")


def test_a_document_is_only_downloadable_through_its_own_dossier(api_as, couple, draft):
    citizen = api_as(couple["wife"])
    r = upload(citizen, draft["id"], "medical_birth_notice", PDF)
    [doc] = current(r.get_json()["documents"], "medical_birth_notice")
    other = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": {}}).get_json()
    assert_error(citizen.get(f"/api/v1/dossiers/{other['id']}/documents/{doc['id']}"), 404, "not_found")
    # a result linked from the store has no uploaded file to download
    r = citizen.post(f"/api/v1/dossiers/{draft['id']}/documents",
                     json={"requirement": "parents_marriage_certificate", "result_id": couple["marriage_certificate"]})
    [linked] = current(r.get_json()["documents"], "parents_marriage_certificate")
    assert linked["by"] == "result" and linked["sha256"] is None
    assert_error(citizen.get(f"/api/v1/dossiers/{draft['id']}/documents/{linked['id']}"), 404, "not_found")


def test_uploading_the_same_requirement_again_replaces_the_document(api_as, couple, draft):
    citizen = api_as(couple["wife"])
    first = upload(citizen, draft["id"], "medical_birth_notice", PDF, "first.pdf").get_json()
    [old] = current(first["documents"], "medical_birth_notice")
    png = png_bytes()
    r = upload(citizen, draft["id"], "medical_birth_notice", png, "second.png", "image/png")
    assert r.status_code == 201, r.get_json()
    docs = current(r.get_json()["documents"], "medical_birth_notice")
    assert len(docs) == 1
    assert (docs[0]["filename"], docs[0]["sha256"]) == ("second.png", hashlib.sha256(png).hexdigest())
    view = citizen.get(f"/api/v1/dossiers/{draft['id']}").get_json()
    assert current(view["documents"], "medical_birth_notice") == docs
    assert old["id"] not in [d["id"] for d in view["documents"]]
    assert_error(upload(citizen, draft["id"], "medical_birth_notice", b"plain text"), 415, "unsupported_media_type")
    # a refused upload leaves the current document in place
    assert current(citizen.get(f"/api/v1/dossiers/{draft['id']}").get_json()["documents"], "medical_birth_notice") == docs


@pytest.mark.parametrize("sent, stored", [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    # a Windows path; in a multipart header's quoted string each backslash is escaped
    ("C:\\\\Users\\\\lan\\\\notice.pdf", "notice.pdf"),
    ("/absolute/path/scan.pdf", "scan.pdf"),
    ("tờ khai\x07.pdf", "tờ khai.pdf"),
])
def test_a_filename_is_stored_without_its_path(api_as, couple, draft, sent, stored):
    citizen = api_as(couple["wife"])
    r = upload(citizen, draft["id"], "medical_birth_notice", PDF, sent)
    assert r.status_code == 201, r.get_json()
    [doc] = current(r.get_json()["documents"], "medical_birth_notice")
    assert doc["filename"] == stored
    download = citizen.get(f"/api/v1/dossiers/{draft['id']}/documents/{doc['id']}")
    assert download.status_code == 200
    disposition = download.headers["Content-Disposition"]
    assert "/" not in disposition.partition("''")[2] and ".." not in disposition
    assert_error(citizen.get(f"/api/v1/dossiers/{draft['id']}/documents/{stored}"), 404, "not_found")


# --------------------------------------------------------------------------- results linked from the store


def test_linking_a_revoked_result_is_a_validation_error(api_as, couple, draft, services):
    with services.uow() as uow:
        uow.session.get(Result, couple["marriage_certificate"]).status = "revoked"
        uow.commit()
    citizen = api_as(couple["wife"])
    r = citizen.post(f"/api/v1/dossiers/{draft['id']}/documents",
                     json={"requirement": "parents_marriage_certificate", "result_id": couple["marriage_certificate"]})
    body = assert_error(r, 422, "validation_error", fields=("result_id",))
    assert body["fields"]["result_id"] == ["revoked"]
    assert [d for d in citizen.get(f"/api/v1/dossiers/{draft['id']}").get_json()["documents"] if d["by"] == "upload"] == []


def test_linking_a_result_of_the_wrong_evidence_type_is_a_validation_error(api_as, couple, draft):
    citizen = api_as(couple["wife"])
    # the marriage certificate is the wife's, but the birth notice needs a medical-birth-notice
    r = citizen.post(f"/api/v1/dossiers/{draft['id']}/documents",
                     json={"requirement": "medical_birth_notice", "result_id": couple["marriage_certificate"]})
    assert_error(r, 422, "validation_error", fields=("result_id",))
    r = citizen.post(f"/api/v1/dossiers/{draft['id']}/documents",
                     json={"requirement": "parents_marriage_certificate", "result_id": couple["marriage_certificate"]})
    assert r.status_code == 201, r.get_json()
    linked = current(r.get_json()["documents"], "parents_marriage_certificate")
    assert [(d["by"], d["result_id"]) for d in linked] == [("result", couple["marriage_certificate"])]


def test_linking_a_result_that_does_not_exist_is_not_found(api_as, couple, draft):
    citizen = api_as(couple["wife"])
    for result_id in ("00000000-0000-0000-0000-000000000000", "x" * 500, 42):
        r = citizen.post(f"/api/v1/dossiers/{draft['id']}/documents",
                         json={"requirement": "parents_marriage_certificate", "result_id": result_id})
        assert_error(r, 404, "not_found")


# --------------------------------------------------------------------------- who may add documents when


def test_uploads_are_refused_to_the_citizen_after_submission_but_allowed_to_the_clerk_at_reception(
    api_as, couple, draft
):
    citizen, clerk = api_as(couple["wife"]), api_as("clerk")
    assert upload(citizen, draft["id"], "medical_birth_notice", PDF).status_code == 201
    assert citizen.act(draft["id"], "submit")["state"] == "submitted"

    assert_error(upload(citizen, draft["id"], "medical_birth_notice", png_bytes(), "better.png", "image/png"),
                 409, "action_not_allowed")
    r = citizen.post(f"/api/v1/dossiers/{draft['id']}/documents",
                     json={"requirement": "parents_marriage_certificate", "result_id": couple["marriage_certificate"]})
    assert_error(r, 409, "action_not_allowed")

    # the clerk completes the dossier at reception
    r = upload(clerk, draft["id"], "medical_birth_notice", png_bytes(), "ban-ro-net.png", "image/png")
    assert r.status_code == 201, r.get_json()
    [doc] = current(r.get_json()["documents"], "medical_birth_notice")
    assert doc["content_type"] == "image/png"
    # once received, the clerk's window is closed too
    assert clerk.act(draft["id"], "receive")["state"] == "received"
    assert_error(upload(clerk, draft["id"], "medical_birth_notice", PDF), 409, "action_not_allowed")


@pytest.mark.parametrize("who", ["specialist", "leader", "records"])
def test_staff_other_than_the_clerk_cannot_add_documents(api_as, couple, draft, who):
    assert_error(upload(api_as(who), draft["id"], "medical_birth_notice", PDF), 403, "forbidden")
    assert [d for d in api_as(couple["wife"]).get(f"/api/v1/dossiers/{draft['id']}").get_json()["documents"] if d["by"] == "upload"] == []
