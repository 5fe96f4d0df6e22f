"""Verify any uploaded or stored PDF: its PAdES signatures, their chain to our trust roots, and
that nothing but archival data (DSS, document timestamps) was appended after the last signature.

:func:`verify_pdf` never raises on bad input. A file is ``valid`` when it has at least one
signature; every signature and document timestamp is intact (the signed bytes match) and
trusted (chain to one of the given roots, not revoked per the given CRLs, timestamp token
trusted); and every revision after the last signature only extends the DSS or adds a document
timestamp, without changing the document information (Info entries other than the producer and
modification date).

That last rule is stricter than pyHanko's difference analysis, which treats metadata-only
updates (Info, XMP) as harmless ``LTA_UPDATES``: a retitled result would otherwise still verify.
A residual gap, accepted: an XMP-only change inside an otherwise legitimate DSS revision.

``problem`` is one of the ``PROBLEM_*`` texts below (the first that applies, in that order), or
``None`` when the file is valid. Revocation checking is soft-fail: without a CRL for a
certificate it is not held against it; with the issuer's CRL (``crls``) a listed certificate is
reported revoked. Validation time is now (not the timestamp's time): a certificate revoked
today makes yesterday's signature untrusted here; the strict, time-aware check of archived files
is pyHanko's AdES validation of the B-LTA form.
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import crl as asn1_crl
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.decode_limits import (
    DEFAULT_PURPOSE_LIMITS,
    DecodeLimits,
    DecodePurpose,
    DocumentDecodeBudget,
    StreamDecodeLimits,
)
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import SignatureCoverageLevel, async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext

logger = logging.getLogger(__name__)

PROBLEM_NOT_PDF = "not a PDF"
PROBLEM_TOO_LARGE = "file too large"
PROBLEM_DAMAGED = "truncated or damaged file"
PROBLEM_NO_SIGNATURE = "no signature"
PROBLEM_MODIFIED = "modified after signing"
PROBLEM_REVOKED = "signer certificate revoked"
PROBLEM_UNTRUSTED = "signed by a key outside the trusted PKI"
PROBLEM_TIMESTAMP = "timestamp not valid or not trusted"

ATTACHMENT_NAME = "result.json"
MAX_ATTACHMENT_BYTES = 16 * 1024 * 1024
MAX_INPUT_BYTES = 32 * 1024 * 1024
_MIB = 1024 * 1024
# Tighter than pyHanko's defaults for untrusted input. Its cross-reference parser makes one entry
# per declared object (about 4 s and 280 MB per million), and a 1 KB xref stream can declare
# hundreds of millions; our PDFs have under a thousand objects. What is left in the worst case
# (1 MiB of xref data, about a million entries) costs seconds, not minutes.
_UNTRUSTED_LIMITS = DecodeLimits(
    per_stream=StreamDecodeLimits(max_output_size=64 * _MIB),
    per_purpose={
        **DEFAULT_PURPOSE_LIMITS,
        DecodePurpose.XREF_STREAM: StreamDecodeLimits(max_ratio=50, ratio_floor=64 * 1024, max_output_size=_MIB),
        DecodePurpose.OBJECT_STREAM: StreamDecodeLimits(max_ratio=100, ratio_floor=_MIB, max_output_size=16 * _MIB),
    },
    document_budget=DocumentDecodeBudget(base_allowance=64 * _MIB, max_ratio=50),
)
_VOLATILE_INFO_KEYS = frozenset({"/Producer", "/ModDate"})
_REVOKED_INDICS = frozenset({"REVOKED", "REVOKED_NO_POE", "REVOKED_CA_NO_POE"})


@dataclass(frozen=True)
class SignatureCheck:
    field: str
    signer_name: str | None
    signer_organization: str | None
    signing_time: datetime | None  # as the signer claims it (CMS signing-time)
    timestamp_time: datetime | None  # from the RFC 3161 token (signature or document timestamp)
    intact: bool
    trusted: bool
    covers_whole_document: bool  # nothing but later signatures or archival data follows it
    summary: str
    kind: str = "signature"  # "signature" | "document_timestamp"
    # the signing certificate, for re-checking a stored verdict (recheck_verdict): serial (hex),
    # issuer (sha256 of its normalised name), end of validity
    certificate_serial: str | None = None
    certificate_issuer: str | None = None
    certificate_not_after: datetime | None = None


@dataclass(frozen=True)
class PdfVerification:
    valid: bool
    signatures: list[SignatureCheck]
    sha256: str
    problem: str | None
    attachment: bytes | None  # result.json as embedded in the revision the last signature covers


def verify_pdf(data: bytes, trust_roots: list, *, crls: list | None = None) -> PdfVerification:
    """Check every signature of ``data`` against ``trust_roots`` (asn1crypto or cryptography
    certificates, or PEM/DER bytes) and optional ``crls`` (same forms). Never raises on bad input."""
    data = bytes(data or b"")
    digest = hashlib.sha256(data).hexdigest()

    def fail(problem: str, checks: list[SignatureCheck] | None = None,
             attachment: bytes | None = None) -> PdfVerification:
        return PdfVerification(False, checks or [], digest, problem, attachment)

    if b"%PDF-" not in data[:1024]:
        return fail(PROBLEM_NOT_PDF)
    if len(data) > MAX_INPUT_BYTES:
        return fail(PROBLEM_TOO_LARGE)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass  # the normal case: no event loop in this thread
    else:
        raise RuntimeError("verify_pdf is synchronous; call it from a worker thread, not an event loop")
    roots = [_as_certificate(c) for c in trust_roots]
    revinfo = [_as_crl(c) for c in (crls or [])]
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=True, decode_limits=_UNTRUSTED_LIMITS)
        sigs = reader.embedded_regular_signatures
        doc_timestamps = reader.embedded_timestamp_signatures
    except Exception as exc:  # noqa: BLE001 - anything the parser trips on is a damaged file
        logger.info("unreadable PDF %s: %s", digest[:16], exc)
        return fail(PROBLEM_DAMAGED)
    try:
        attachment = _attachment(reader, sigs[-1].signed_revision if sigs else None)
    except Exception as exc:  # noqa: BLE001 - a broken attachment must not hide the signature check
        logger.info("unreadable attachment in %s: %s", digest[:16], exc)
        attachment = None
    if not sigs:
        return fail(PROBLEM_NO_SIGNATURE, attachment=attachment)
    try:
        checks, problem = asyncio.run(_check_all(reader, sigs, doc_timestamps, roots, revinfo))
    except Exception as exc:  # noqa: BLE001 - damaged structures surface deep inside pyHanko
        logger.info("signature check failed on %s: %s", digest[:16], exc)
        return fail(PROBLEM_DAMAGED, attachment=attachment)
    return PdfVerification(problem is None, checks, digest, problem, attachment)


async def _check_all(reader, sigs, doc_timestamps, roots, revinfo) -> tuple[list[SignatureCheck], str | None]:
    vc = ValidationContext(trust_roots=roots, crls=revinfo, allow_fetching=False, revocation_mode="soft-fail")
    problems: set[str] = set()
    checks: list[SignatureCheck] = []
    ts_revisions = {t.signed_revision for t in doc_timestamps}
    sig_revisions = {s.signed_revision for s in sigs} | ts_revisions
    last_revision = sigs[-1].signed_revision

    for sig in sigs:
        try:
            status = await async_validate_pdf_signature(sig, vc, ts_validation_context=vc)
        except Exception as exc:  # noqa: BLE001 - one broken signature does not stop the others
            checks.append(SignatureCheck(sig.field_name, None, None, None, None, False, False, False,
                                         f"unreadable signature: {exc}"))
            problems.add(PROBLEM_MODIFIED)
            continue
        intact = bool(status.intact and status.valid)
        trusted = bool(status.trusted) and not status.revoked
        level = status.modification_level
        # after the last signature only archival updates; after an earlier one, also signatures
        last = sig.signed_revision == last_revision
        covers = intact and (status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
            status.coverage == SignatureCoverageLevel.ENTIRE_REVISION and level is not None
            and level <= (ModificationLevel.LTA_UPDATES if last else ModificationLevel.FORM_FILLING)
            and _revisions_explained(reader, sig.signed_revision, ts_revisions if last else sig_revisions)))
        ts = status.timestamp_validity
        ts_ok = ts is None or bool(ts.intact and ts.valid and ts.trusted)
        if not intact or not covers:
            problems.add(PROBLEM_MODIFIED)
        if not trusted:
            problems.add(PROBLEM_REVOKED if _revoked(status) else PROBLEM_UNTRUSTED)
        if not ts_ok:
            problems.add(PROBLEM_TIMESTAMP)
        name, org = _subject(status.signing_cert)
        checks.append(SignatureCheck(
            field=sig.field_name, signer_name=name, signer_organization=org,
            signing_time=status.signer_reported_dt, timestamp_time=ts.timestamp if ts is not None else None,
            intact=intact, trusted=trusted, covers_whole_document=covers,
            summary=_summary(status, intact, covers, ts_ok), **_certificate(status.signing_cert)))

    for tst in doc_timestamps:
        try:
            status = await async_validate_pdf_timestamp(tst, vc)
        except Exception as exc:  # noqa: BLE001
            checks.append(SignatureCheck(tst.field_name, None, None, None, None, False, False, False,
                                         f"unreadable document timestamp: {exc}", kind="document_timestamp"))
            problems.add(PROBLEM_MODIFIED)
            continue
        intact = bool(status.intact and status.valid)
        trusted = bool(status.trusted)
        covers = intact and (status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
            status.modification_level is not None and status.modification_level <= ModificationLevel.LTA_UPDATES
            and _revisions_explained(reader, tst.signed_revision, ts_revisions)))
        if not intact or not covers:
            problems.add(PROBLEM_MODIFIED)
        if not trusted:
            problems.add(PROBLEM_TIMESTAMP)
        name, org = _subject(status.signing_cert)
        checks.append(SignatureCheck(
            field=tst.field_name, signer_name=name, signer_organization=org, signing_time=None,
            timestamp_time=status.timestamp, intact=intact, trusted=trusted, covers_whole_document=covers,
            summary=("document timestamp " + status.summary()), kind="document_timestamp",
            **_certificate(status.signing_cert)))

    for problem in (PROBLEM_MODIFIED, PROBLEM_REVOKED, PROBLEM_UNTRUSTED, PROBLEM_TIMESTAMP):
        if problem in problems:
            return checks, problem
    return checks, None


def _summary(status, intact: bool, covers: bool, ts_ok: bool) -> str:
    parts = [status.summary()]
    if not intact:
        parts.append("signed bytes changed (digest mismatch)")
    elif not covers:
        parts.append("changes appended after the signature")
    if status.revoked:
        parts.append("signer certificate revoked")
    elif status.trust_problem_indic is not None:
        parts.append(f"chain problem: {status.trust_problem_indic.name}")
    if not ts_ok:
        parts.append("timestamp token not trusted")
    return "; ".join(parts)


def _revoked(status) -> bool:
    indic = status.trust_problem_indic
    return status.revoked or (indic is not None and indic.name in _REVOKED_INDICS)


def _subject(cert: asn1_x509.Certificate | None) -> tuple[str | None, str | None]:
    if cert is None:
        return None, None
    native = cert.subject.native

    def first(key):
        value = native.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        return str(value) if value is not None else None

    return first("common_name"), first("organization_name")


def _certificate(cert: asn1_x509.Certificate | None) -> dict:
    if cert is None:
        return {}
    return {"certificate_serial": format(cert.serial_number, "x"), "certificate_issuer": issuer_key(cert.issuer),
            "certificate_not_after": cert["tbs_certificate"]["validity"]["not_after"].native}


def issuer_key(name: asn1_x509.Name) -> str:
    """A certificate issuer's name as a stable key (sha256 of asn1crypto's normalised form)."""
    return hashlib.sha256(name.hashable.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------- a stored verdict, re-checked

SIGNATURE_FIELDS = tuple(SignatureCheck.__dataclass_fields__)
_PROBLEM_ORDER = (PROBLEM_MODIFIED, PROBLEM_REVOKED, PROBLEM_UNTRUSTED, PROBLEM_TIMESTAMP)


def report_dict(report: PdfVerification) -> dict:
    """The report as plain values (times as ISO text), without a deep copy of the attachment."""
    return {
        "valid": report.valid, "sha256": report.sha256, "problem": report.problem, "attachment": report.attachment,
        "signatures": [{f: (v.isoformat() if isinstance(v, datetime) else v)
                        for f in SIGNATURE_FIELDS for v in (getattr(sig, f),)} for sig in report.signatures],
    }


def revoked_certificates(crls: Iterable) -> set[tuple[str, str]]:
    """(issuer key, serial in hex) of every certificate the given CRLs list."""
    out: set[tuple[str, str]] = set()
    for item in crls:
        crl = _as_crl(item)
        issuer = issuer_key(crl["tbs_cert_list"]["issuer"])
        for entry in crl["tbs_cert_list"]["revoked_certificates"] or ():
            out.add((issuer, format(entry["user_certificate"].native, "x")))
    return out


def recheck_verdict(verdict: dict, *, revoked: set[tuple[str, str]], now: datetime) -> dict:
    """A stored verdict (``report_dict`` of a full check, without the attachment) brought up to
    ``now``: a signing certificate listed in ``revoked`` or no longer valid makes its signature
    untrusted, as a full check today would. Nothing else is re-examined: the verdict is keyed by the
    file's SHA-256, so its bytes are the bytes that were checked."""
    sigs = []
    problems = {verdict["problem"]} if verdict.get("problem") else set()
    for sig in verdict.get("signatures") or []:
        sig = dict(sig)
        serial, issuer, not_after = (sig.get("certificate_serial"), sig.get("certificate_issuer"),
                                     sig.get("certificate_not_after"))
        notes = []
        if serial and issuer and (issuer, serial) in revoked:
            notes.append("signer certificate revoked")
            problems.add(PROBLEM_REVOKED if sig.get("kind") == "signature" else PROBLEM_TIMESTAMP)
        if not_after and datetime.fromisoformat(not_after) <= now:
            notes.append(f"certificate expired on {not_after}")
            problems.add(PROBLEM_UNTRUSTED if sig.get("kind") == "signature" else PROBLEM_TIMESTAMP)
        if notes:
            sig["trusted"] = False
            sig["summary"] = "; ".join([sig.get("summary") or "", *notes]).lstrip("; ")
        sigs.append(sig)
    problem = verdict.get("problem")
    if problem is None:
        problem = next((p for p in _PROBLEM_ORDER if p in problems), None)
    return {"valid": bool(verdict.get("valid")) and problem is None, "sha256": verdict.get("sha256"),
            "problem": problem, "attachment": None, "signatures": sigs}


# ---------------------------------------------------------------------- revisions after a signature

def _info_essentials(reader: PdfFileReader, revision: int) -> dict:
    try:
        info = reader.get_historical_resolver(revision).trailer_view["/Info"]
    except KeyError:
        return {}
    info = info.get_object()
    if not isinstance(info, generic.DictionaryObject):
        return {}
    return {k: str(v.get_object()) for k, v in info.items() if k not in _VOLATILE_INFO_KEYS}


def _dss_size(reader: PdfFileReader, revision: int) -> int:
    root = reader.get_historical_root(revision)
    if "/DSS" not in root:
        return 0
    dss = root["/DSS"]
    size = 0
    for key in ("/Certs", "/CRLs", "/OCSPs"):
        if key in dss:
            size += len(dss[key])
    if "/VRI" in dss:
        size += len(dss["/VRI"])
    return size


def _revisions_explained(reader: PdfFileReader, signed_revision: int, allowed: set[int]) -> bool:
    """Every revision after ``signed_revision`` is one of ``allowed`` (revisions holding a later
    signature or a document timestamp) or extends the DSS, and none changes the document
    information."""
    base_info = _info_essentials(reader, signed_revision)
    for revision in range(signed_revision + 1, reader.total_revisions):
        if _info_essentials(reader, revision) != base_info:
            return False
        if revision not in allowed and _dss_size(reader, revision) <= _dss_size(reader, revision - 1):
            return False
    return True


# ---------------------------------------------------------------------- attachment

def _attachment(reader: PdfFileReader, revision: int | None) -> bytes | None:
    """The embedded ``result.json`` (PDF/A-3 associated file) as of ``revision`` (the revision
    the last signature covers; the latest one for an unsigned file)."""
    root = reader.root if revision is None else reader.get_historical_root(revision)
    candidates = []
    if "/AF" in root:
        candidates.extend(x.get_object() for x in root["/AF"])
    if "/Names" in root and "/EmbeddedFiles" in root["/Names"]:
        candidates.extend(_name_tree_values(root["/Names"]["/EmbeddedFiles"], depth=0))
    for spec in candidates:
        if not isinstance(spec, generic.DictionaryObject) or "/EF" not in spec:
            continue
        names = {str(spec[k]) for k in ("/UF", "/F") if k in spec}
        if ATTACHMENT_NAME not in names:
            continue
        ef = spec["/EF"]
        stream = ef.get("/F") or ef.get("/UF")
        if stream is None:
            continue
        stream = stream.get_object()
        if not isinstance(stream, generic.StreamObject):
            continue
        payload = stream.data
        if len(payload) > MAX_ATTACHMENT_BYTES:
            return None
        return bytes(payload)
    return None


def _name_tree_values(node, depth: int) -> Iterable:
    if depth > 16:  # a name tree is shallow; deeper means a loop or a hostile file
        return
    node = node.get_object()
    if "/Names" in node:
        pairs = node["/Names"]
        for i in range(1, len(pairs), 2):
            yield pairs[i].get_object()
    if "/Kids" in node:
        for kid in node["/Kids"]:
            yield from _name_tree_values(kid, depth + 1)


# ---------------------------------------------------------------------- inputs

def _as_certificate(cert) -> asn1_x509.Certificate:
    if isinstance(cert, asn1_x509.Certificate):
        return cert
    if hasattr(cert, "public_bytes"):  # cryptography certificate
        from cryptography.hazmat.primitives.serialization import Encoding

        return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
    der = bytes(cert)
    if asn1_pem.detect(der):
        _, _, der = asn1_pem.unarmor(der)
    return asn1_x509.Certificate.load(der)


def _as_crl(item) -> asn1_crl.CertificateList:
    if isinstance(item, asn1_crl.CertificateList):
        return item
    if hasattr(item, "public_bytes"):  # cryptography CRL
        from cryptography.hazmat.primitives.serialization import Encoding

        return asn1_crl.CertificateList.load(item.public_bytes(Encoding.DER))
    der = bytes(item)
    if asn1_pem.detect(der):
        _, _, der = asn1_pem.unarmor(der)
    return asn1_crl.CertificateList.load(der)
