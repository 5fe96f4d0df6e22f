"""A signed file this system issued is verified from the verdict kept when it was signed (keyed by
the file's SHA-256), re-checked only for revocation and certificate validity; any other bytes get the
full cryptographic check."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, update

from engine.adapters.models import Result, SignedVerdict
from tests.web.test_verify_pages import qr_path, tampered, upload
from tests.web.test_signed_results import approved_birth

pytestmark = pytest.mark.database


@pytest.fixture
def signed(demo, api_as, services):
    result = approved_birth(demo, api_as)["results"][0]
    pdf = api_as("leader").get(f"/api/v1/results/{result['id']}/pdf").data
    return result, pdf


def _no_full_check(monkeypatch, services) -> None:
    def refuse(pdf):
        raise AssertionError("the full check ran for a file with a stored verdict")

    monkeypatch.setattr(services.verification.issuer, "verify", refuse)


def test_issuing_keeps_the_verdict_of_the_signed_file_under_its_sha256(signed, services):
    result, pdf = signed
    digest = hashlib.sha256(pdf).hexdigest()
    with services.uow(write=False) as uow:
        row = uow.session.get(SignedVerdict, digest)
        verdict = dict(row.verdict) if row is not None else None
        assert uow.session.get(Result, result["id"]).pdf_sha256 == digest
    assert verdict is not None and verdict["valid"] is True and "attachment" not in verdict
    assert [s["field"] for s in verdict["signatures"]] == ["Sig1-leader", "Sig2-agency"]
    assert all(s["certificate_serial"] and s["certificate_issuer"] and s["certificate_not_after"]
               for s in verdict["signatures"])


def test_our_own_result_is_answered_from_the_stored_verdict(signed, services, monkeypatch):
    _, pdf = signed
    _no_full_check(monkeypatch, services)
    report = services.verification.verify_document(pdf)
    assert report.basis == "stored_verdict"
    assert report.valid and report.outcome == "genuine" and report.problem is None
    assert [s.field for s in report.signatures] == ["Sig1-leader", "Sig2-agency"]
    assert all(s.intact and s.trusted and s.covers_whole_document and s.timestamp_time for s in report.signatures)


def test_tampered_bytes_are_never_answered_from_a_stored_verdict(signed, services):
    _, pdf = signed
    report = services.verification.verify_document(tampered(pdf))
    assert report.basis == "signatures"
    assert not report.valid and report.outcome == "tampered"
    with services.uow(write=False) as uow:  # an upload never leaves a verdict behind
        assert uow.session.get(SignedVerdict, hashlib.sha256(tampered(pdf)).hexdigest()) is None


def test_the_same_answer_as_the_full_check(signed, services):
    _, pdf = signed
    stored = services.verification.verify_document(pdf)
    full = services.verification._check(stored.sha256, stored.document, None, lambda: pdf)
    assert full.basis == "signatures"
    assert (stored.valid, stored.problem, stored.outcome, stored.signatures) == (
        full.valid, full.problem, full.outcome, full.signatures)


def test_a_revoked_signing_certificate_is_reported_even_with_a_stored_verdict(signed, services, monkeypatch):
    _, pdf = signed
    services.verification.issuer.revoke_party("officer", "leader")
    _no_full_check(monkeypatch, services)
    report = services.verification.verify_document(pdf)
    assert report.basis == "stored_verdict"
    assert not report.valid and report.problem == "signer certificate revoked"
    leader, seal = report.signatures
    assert not leader.trusted and "revoked" in leader.summary and seal.trusted


def test_an_expired_signing_certificate_is_reported_even_with_a_stored_verdict(signed, services, monkeypatch):
    _, pdf = signed
    digest = hashlib.sha256(pdf).hexdigest()
    with services.uow() as uow:
        row = uow.session.get(SignedVerdict, digest)
        sigs = [dict(s, certificate_not_after="2026-01-01T00:00:00+00:00") if s["field"] == "Sig2-agency" else s
                for s in row.verdict["signatures"]]
        uow.session.execute(update(SignedVerdict).where(SignedVerdict.sha256 == digest)
                            .values(verdict=dict(row.verdict, signatures=sigs)))
        uow.commit()
    _no_full_check(monkeypatch, services)
    report = services.verification.verify_document(pdf)
    assert report.basis == "stored_verdict" and not report.valid
    assert report.problem == "signed by a key outside the trusted PKI"
    assert [s.trusted for s in report.signatures] == [True, False]
    assert "expired" in report.signatures[1].summary


def test_a_revoked_result_is_still_reported_revoked_with_a_stored_verdict(signed, services, api_as, monkeypatch):
    result, pdf = signed
    r = api_as("leader").post(f"/api/v1/results/{result['id']}/revoke", json={"reason": "Cấp sai thông tin"})
    assert r.status_code == 200
    _no_full_check(monkeypatch, services)
    report = services.verification.verify_document(pdf)
    assert report.basis == "stored_verdict"
    assert not report.valid and report.outcome == "revoked" and report.document.status == "revoked"


def test_the_public_page_is_served_from_the_stored_verdict(signed, services, client, monkeypatch):
    result, pdf = signed
    _no_full_check(monkeypatch, services)

    def no_blob(digest):
        raise AssertionError("the public page read the stored file")

    monkeypatch.setattr(services.verification.blobs, "get", no_blob)
    page = services.verification.verification_page(result["id"], qr_path(services, result["id"]).rsplit("/", 1)[1])
    assert page.check.basis == "stored_verdict" and page.outcome == "genuine"
    r = client.get(qr_path(services, result["id"]))
    assert r.status_code == 200 and result["number"] in r.get_data(as_text=True)


def test_a_document_without_a_stored_verdict_gets_the_full_check(signed, services):
    result, pdf = signed
    with services.uow() as uow:
        uow.session.query(SignedVerdict).delete()
        uow.commit()
    page = services.verification.verification_page(result["id"], qr_path(services, result["id"]).rsplit("/", 1)[1])
    assert page.check.basis == "signatures" and page.outcome == "genuine"


def test_the_upload_form_answers_our_file_from_the_verdict(signed, services, client, monkeypatch):
    _, pdf = signed
    _no_full_check(monkeypatch, services)
    r = upload(client, pdf)
    assert r.status_code == 200


def test_the_lta_upgrade_keeps_a_verdict_of_the_upgraded_file(signed, services):
    result, _ = signed
    assert services.issuance.archive_results() >= 1
    with services.uow(write=False) as uow:
        current = uow.session.get(Result, result["id"]).pdf_sha256
        row = uow.session.get(SignedVerdict, current)
        verdict = dict(row.verdict) if row is not None else None
        count = len(uow.session.scalars(select(SignedVerdict.sha256)).all())
    assert verdict is not None and verdict["valid"] is True and count >= 2
    assert [s["kind"] for s in verdict["signatures"]].count("document_timestamp") == 1
    report = services.verification.verify_document(services.blobs.get(current))
    assert report.basis == "stored_verdict" and report.valid
