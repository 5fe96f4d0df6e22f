"""Verification: a signed PDF checked (signatures, chain to our root, its hash against the store and
the store's status), and the public page a document's QR code opens.

What anyone may see of a stored document is what its paper prints and no more: the data keys its
template uses, personal ids masked, no address or contact (``rules.results.public_data``). The full
record is for its holder and the issuing agency's staff, signed in (:meth:`Verification.full_record`)."""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.adapters.models import Agency, Dossier, Result, SignedVerdict, Slip
from engine.adapters.uow import UnitOfWork
from engine.rules import results as result_rules
from engine.rules.access import Actor
from engine.rules.errors import EngineError, NotFoundError, ValidationError
from engine.rules.identity import mask_personal_id
from engine.rules.slips import SLIP_TITLES
from engine.usecases.access import may_read_result
from engine.usecases.blob_store import BlobStore
from engine.usecases.catalogue import Procedures
from engine.usecases.issuance import DocumentIssuer
from engine.usecases.links import Links

NOT_FOUND = "Mã xác thực không đúng / unknown document or wrong token"


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
    holders: list[str]  # masked
    data: dict[str, Any]  # what the paper prints, personal ids masked, no address or contact


@dataclass(frozen=True)
class FullRecord:
    """Where a signed-in reader finds the whole of a document the public page shows in part."""
    kind: str  # result | slip
    id: str
    dossier_id: str | None
    audience: str  # holder (of the result) | applicant (who filed the dossier) | staff (of the issuing agency)


@dataclass(frozen=True)
class VerificationView:
    valid: bool
    problem: str | None
    sha256: str
    signatures: list[SignatureView]
    document: StoredDocumentView | None
    outcome: str = "unknown"  # rules.results.OUTCOMES: genuine, revoked, superseded, expired, unknown, tampered...
    # "stored_verdict": the bytes are a file this system signed, answered from the verdict kept when it
    # was issued (re-checked for revocation and certificate validity now); "signatures": checked in full
    basis: str = "signatures"


@dataclass(frozen=True)
class VerificationPage:
    document: StoredDocumentView
    check: VerificationView | None
    outcome: str


class Verification:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], procedures: Procedures,
                 blobs: BlobStore, issuer: DocumentIssuer | None, links: Links):
        self.uow = uow
        self.clock = clock
        self.procedures = procedures
        self.catalogue = procedures.catalogue
        self.blobs = blobs
        self.issuer = issuer
        self.links = links

    def verify_document(self, pdf: bytes) -> VerificationView:
        """Signatures, chain to our root, the file's hash against the store, and the store status.

        A file this system signed (its SHA-256 has a stored verdict) is answered from that verdict,
        re-checked for revocation and certificate validity now; any other bytes (an upload, a copy
        changed by one bit) get the full cryptographic check."""
        if self.issuer is None:
            raise ValidationError("verification is not configured")
        digest = hashlib.sha256(pdf).hexdigest()
        with self.uow(write=False) as uow:
            document = self._stored_document(uow.session, digest)
            verdict = self._verdict(uow.session, digest) if document is not None else None
        return self._check(digest, document, verdict, lambda: pdf)

    def _check(self, digest: str, document: StoredDocumentView | None, verdict: dict | None,
               load: Callable[[], bytes]) -> VerificationView:
        if verdict is not None:
            report, basis = self.issuer.recheck(verdict), "stored_verdict"
        else:
            report, basis = self.issuer.verify(load()), "signatures"
        signatures = [SignatureView(**{k: sig.get(k) for k in _SIGNATURE_VIEW_FIELDS}) for sig in report["signatures"]]
        problem = report["problem"]
        valid = bool(report["valid"])
        if valid and document is None:
            valid, problem = False, "not issued by this system (unknown to the store)"
        elif valid and document.status != "valid":
            valid, problem = False, f"the document is {document.status}"
        outcome = result_rules.outcome(checked=True, valid=valid, problem=report["problem"] or problem,
                                       status=document.status if document else None)
        return VerificationView(valid, problem, digest, signatures, document, outcome, basis)

    @staticmethod
    def _verdict(s: Any, digest: str) -> dict | None:
        row = s.get(SignedVerdict, digest)
        return dict(row.verdict, sha256=digest) if row is not None and row.verdict else None

    def _stored_document(self, s: Any, digest: str) -> StoredDocumentView | None:
        r = s.execute(select(Result).where((Result.pdf_sha256 == digest) | (Result.signed_sha256 == digest))).scalars().first()
        if r is not None:
            return self._result_view(s, r)
        slip = s.execute(select(Slip).where(Slip.pdf_sha256 == digest)).scalars().first()
        if slip is not None:
            return self._slip_view(s, slip)
        return None

    def _result_view(self, s: Any, r: Result) -> StoredDocumentView:
        agency = s.get(Agency, r.issuer_agency_id)
        st = result_rules.standing(r.status, r.valid_until, self.clock(), r.status_reason)
        title = self.catalogue.evidence_types.get(r.evidence_type)
        try:
            proc = self.procedures.procedure_version(r.procedure_id, r.procedure_version, s)
        except EngineError:  # a record whose definition is unknown here: nothing of its data is shown
            proc = None
        definition = next((d for d in proc.results if d.id == r.result_key), None) if proc else None
        return StoredDocumentView("result", r.id, r.number, title.title.vi if title else r.evidence_type,
                                  agency.name_vi, r.issued_at, st.status, st.reason, True,
                                  sorted(mask_personal_id(h.personal_id) for h in r.holders),
                                  result_rules.public_data(definition, proc, dict(r.data or {})))

    @staticmethod
    def _slip_view(s: Any, slip: Slip) -> StoredDocumentView:
        """A slip prints the dossier's code, the procedure and the applicant: shown with the id masked,
        without the applicant's address, phone or e-mail."""
        agency = s.get(Agency, slip.issuer_agency_id)
        context = slip.context or {}
        dossier, applicant = context.get("dossier") or {}, context.get("applicant") or {}
        data = {"dossier_code": dossier.get("code"), "procedure_title": dossier.get("procedure_title"),
                "applicant_name": applicant.get("name"),
                "applicant_personal_id": mask_personal_id(applicant["personal_id"]) if applicant.get("personal_id") else None}
        return StoredDocumentView("slip", slip.id, slip.number, SLIP_TITLES[slip.form], agency.name_vi,
                                  slip.issued_at, slip.status, None, True, [],
                                  {k: v for k, v in data.items() if v not in (None, "")})

    def _by_token(self, s: Any, document_id: str, token: str) -> tuple[Result | None, Slip | None]:
        """The result or the slip a QR code names, if its token matches; else NotFoundError."""
        if not _is_id(document_id) or not self.links.token_matches(document_id, token):
            raise NotFoundError(NOT_FOUND)
        r = s.get(Result, document_id)
        slip = None if r is not None else s.get(Slip, document_id)
        if r is None and slip is None:
            raise NotFoundError(NOT_FOUND)
        return r, slip

    def verification_page(self, document_id: str, token: str) -> VerificationPage:
        """What the QR code opens: the stored document as the public may see it, the check of its stored
        file (from the verdict kept when it was signed, re-checked for revocation and certificate validity
        now; in full for a file without one), and the verdict in one word."""
        with self.uow(write=False) as uow:
            s = uow.session
            r, slip = self._by_token(s, document_id, token)
            digest = r.pdf_sha256 if r is not None else slip.pdf_sha256
            doc = self._result_view(s, r) if r is not None else self._slip_view(s, slip)
            verdict = self._verdict(s, digest) if digest and self.issuer is not None else None
        check = (self._check(digest, doc, verdict, lambda: self.blobs.get(digest))
                 if digest and self.issuer is not None else None)
        if check is not None:
            outcome = check.outcome
        else:
            outcome = result_rules.outcome(checked=False, valid=False, problem=None,
                                           status=doc.status if doc.kind == "result" else None)
        return VerificationPage(doc, check, outcome)

    def full_record(self, document_id: str, token: str, actor: Actor) -> FullRecord:
        """Where the whole document is, for a signed-in reader allowed to see it: a holder of the result
        (or the applicant of the slip's dossier), or staff of the issuing agency. Anyone else: not found."""
        with self.uow(write=False) as uow:
            s = uow.session
            r, slip = self._by_token(s, document_id, token)
            agency_id = r.issuer_agency_id if r is not None else slip.issuer_agency_id
            dossier_id = r.dossier_id if r is not None else slip.dossier_id
            kind = "result" if r is not None else "slip"
            if actor.is_staff and actor.agency_id == agency_id:
                return FullRecord(kind, document_id, dossier_id, "staff")
            if r is not None and may_read_result(actor, r):
                return FullRecord(kind, document_id, dossier_id, "holder")
            d = s.get(Dossier, dossier_id) if dossier_id and actor.is_citizen else None
            if d is not None and d.applicant_account_id == actor.account_id:
                return FullRecord(kind, document_id, dossier_id, "applicant")
        raise NotFoundError(NOT_FOUND)


_SIGNATURE_VIEW_FIELDS = tuple(SignatureView.__dataclass_fields__)


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 36
