"""Verification: a signed PDF checked (signatures, chain to our root, its hash against the store and
the store's status), and the public page a document's QR code opens."""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.adapters.blobs import LocalBlobStore
from engine.adapters.models import Agency, Result, Slip
from engine.adapters.uow import UnitOfWork
from engine.rules import results as result_rules
from engine.rules.definitions import Catalogue
from engine.rules.errors import NotFoundError, ValidationError
from engine.rules.slips import SLIP_TITLES
from engine.usecases.issuance import DocumentIssuer
from engine.usecases.links import Links


@dataclass(frozen=True)
class SignatureView:
    field: str
    kind: str
    signer_name: str | None
    signer_organization: str | None
    signing_time: str | None
    timestamp_time: str | None
    intact: bool
    trusted: bool
    covers_whole_document: bool
    summary: str


@dataclass(frozen=True)
class StoredDocumentView:
    kind: str  # result | slip
    id: str
    number: str
    title: str
    issuer: str
    issued_at: dt.datetime
    status: str
    status_reason: str | None
    hash_matches: bool
    holders: list[str]
    data: dict[str, Any]


@dataclass(frozen=True)
class VerificationView:
    valid: bool
    problem: str | None
    sha256: str
    signatures: list[SignatureView]
    document: StoredDocumentView | None


class Verification:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], catalogue: Catalogue,
                 blobs: LocalBlobStore, issuer: DocumentIssuer | None, links: Links):
        self.uow = uow
        self.clock = clock
        self.catalogue = catalogue
        self.blobs = blobs
        self.issuer = issuer
        self.links = links

    def verify_document(self, pdf: bytes) -> VerificationView:
        """Signatures, chain to our root, the file's hash against the store, and the store status."""
        if self.issuer is None:
            raise ValidationError("verification is not configured")
        report = self.issuer.verify(pdf)
        digest = report["sha256"] or hashlib.sha256(pdf).hexdigest()
        document = self._stored_document(digest)
        signatures = [SignatureView(**{k: sig.get(k) for k in SignatureView.__dataclass_fields__})
                      for sig in report["signatures"]]
        problem = report["problem"]
        valid = bool(report["valid"])
        if valid and document is None:
            valid, problem = False, "not issued by this system (unknown to the store)"
        elif valid and document.status != "valid":
            valid, problem = False, f"the document is {document.status}"
        return VerificationView(valid, problem, digest, signatures, document)

    def _stored_document(self, digest: str) -> StoredDocumentView | None:
        now = self.clock()
        with self.uow(write=False) as uow:
            s = uow.session
            r = s.execute(select(Result).where((Result.pdf_sha256 == digest) | (Result.signed_sha256 == digest))).scalars().first()
            if r is not None:
                agency = s.get(Agency, r.issuer_agency_id)
                st = result_rules.standing(r.status, r.valid_until, now, r.status_reason)
                title = self.catalogue.evidence_types.get(r.evidence_type)
                return StoredDocumentView("result", r.id, r.number, title.title.vi if title else r.evidence_type,
                                          agency.name_vi, r.issued_at, st.status, st.reason, True,
                                          sorted(h.personal_id for h in r.holders), dict(r.data or {}))
            slip = s.execute(select(Slip).where(Slip.pdf_sha256 == digest)).scalars().first()
            if slip is not None:
                agency = s.get(Agency, slip.issuer_agency_id)
                return StoredDocumentView("slip", slip.id, slip.number, SLIP_TITLES[slip.form], agency.name_vi,
                                          slip.issued_at, slip.status, None, True, [], {})
        return None

    def verification_page(self, document_id: str, token: str) -> tuple[StoredDocumentView, VerificationView | None]:
        """What the QR code opens: the stored document and a fresh check of its stored file."""
        if not _is_id(document_id) or not self.links.token_matches(document_id, token):
            raise NotFoundError("Mã xác thực không đúng / unknown document or wrong token")
        now = self.clock()
        with self.uow(write=False) as uow:
            s = uow.session
            r = s.get(Result, document_id)
            slip = None if r is not None else s.get(Slip, document_id)
            if r is None and slip is None:
                raise NotFoundError("Mã xác thực không đúng / unknown document or wrong token")
            digest = r.pdf_sha256 if r is not None else slip.pdf_sha256
            if r is not None:
                agency = s.get(Agency, r.issuer_agency_id)
                st = result_rules.standing(r.status, r.valid_until, now, r.status_reason)
                title = self.catalogue.evidence_types.get(r.evidence_type)
                doc = StoredDocumentView("result", r.id, r.number, title.title.vi if title else r.evidence_type,
                                         agency.name_vi, r.issued_at, st.status, st.reason, True,
                                         sorted(h.personal_id for h in r.holders), dict(r.data or {}))
            else:
                agency = s.get(Agency, slip.issuer_agency_id)
                doc = StoredDocumentView("slip", slip.id, slip.number, SLIP_TITLES[slip.form], agency.name_vi,
                                         slip.issued_at, slip.status, None, True, [], {})
        check = self.verify_document(self.blobs.get(digest)) if digest and self.issuer is not None else None
        return doc, check


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 36
