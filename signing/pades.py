"""PAdES signing of rendered PDFs with pyHanko: B-T at issue, B-LTA before reuse and archiving.

Every signature is an incremental update (the input bytes stay an exact prefix of the output),
subfilter ``ETSI.CAdES.detached`` (PAdES baseline), SHA-256, in an invisible field (``/Rect [0 0
0 0]``, printed and locked: PDF/A accepts it). The visible "(Đã ký số)" line and the signer's
name belong in the rendered HTML, not in a pyHanko appearance stream.

pyHanko rewrites the XMP ``pdf:Producer`` but *appends* to the Info ``/Producer``; PDF/A needs
both to be equal, hence :class:`PdfASafeIncrementalWriter` (reference ``signing-pdf.md`` §3.4).
"""
from __future__ import annotations

import asyncio
import io
import re

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata import model
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_signer import TimestampDSSContentSettings
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation import DocumentSecurityStore, collect_validation_info
from pyhanko_certvalidator.errors import PathValidationError

from signing.pki import PKI, PkiError

MD_ALGORITHM = "sha256"
_FIELD_CHARS = re.compile(r"[^A-Za-z0-9_-]")


class PdfASafeIncrementalWriter(IncrementalPdfFileWriter):
    """An incremental writer that keeps Info ``/Producer`` equal to XMP ``pdf:Producer``."""

    def _update_meta(self):
        super()._update_meta()
        if self._info is not None and "/Metadata" in self.root:
            self._info.get_object()["/Producer"] = generic.TextStringObject(model.VENDOR)
            self.mark_update(self._info)


SIGNATURE_ROOM = 16 * 1024


def _writer(pdf: bytes) -> PdfASafeIncrementalWriter:
    return PdfASafeIncrementalWriter(io.BytesIO(pdf), strict=False)


def field_name_for(position: int, name: str) -> str:
    """``Sig<n>-<name>``; characters that PDF field names treat specially ('.') become '_'."""
    return f"Sig{position}-{_FIELD_CHARS.sub('_', name)}"


def sign_pdf(pdf: bytes, signer: signers.Signer, *, field_name: str, timestamper: TimeStamper | None,
             reason: str | None = None, location: str | None = None) -> bytes:
    """Add one PAdES signature in a new invisible field; B-T when a timestamper is given, else B-B."""
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm=MD_ALGORITHM,
        reason=reason, location=location)
    # A fixed room for the CMS spares pyHanko a full trial signature made only to measure its size
    # (about a third of the signing time); 16 KiB holds a P-256 signature, its chain and a timestamp token
    # with the TSA's chain several times over. Larger chains (an imported RSA-4096 chain) get more room.
    reserved = SIGNATURE_ROOM if signer.signing_cert.public_key.algorithm == "ec" else 2 * SIGNATURE_ROOM
    out = signers.sign_pdf(_writer(pdf), meta, signer=signer, timestamper=timestamper,
                           new_field_spec=fields.SigFieldSpec(field_name), bytes_reserved=reserved)
    return out.getvalue()


def sign_in_order(pdf: bytes, steps: list[tuple[str, signers.Signer]], *,
                  timestamper: TimeStamper | None) -> bytes:
    """One signature per step, in the given order (e.g. the decider, then the agency seal), each
    in a field named ``Sig<n>-<name>``."""
    if not steps:
        raise ValueError("at least one signing step is needed")
    for position, (name, signer) in enumerate(steps, start=1):
        pdf = sign_pdf(pdf, signer, field_name=field_name_for(position, name), timestamper=timestamper)
    return pdf


def upgrade_to_lta(pdf: bytes, pki: PKI) -> bytes:
    """PAdES B-LTA: one incremental update with a DSS holding the certificates and CRLs of every
    signature and of its timestamp, then a document timestamp over it (the DSS entries for the
    document timestamp's own TSA are added before it, so no further revision follows). Calling
    it again on a B-LTA file renews it: fresh CRLs and one more document timestamp.

    Revocation information is required for every certificate (``for_signing_lta``): a chain that
    our CRLs do not cover raises :class:`PkiError` instead of producing a B-LTA file that cannot
    be validated. Synchronous (it runs pyHanko's coroutines with ``asyncio.run``): call it from a
    worker, not from inside an event loop.
    """
    vc = pki.validation_context(for_signing_lta=True)
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    sigs = reader.embedded_regular_signatures
    if not sigs:
        raise ValueError("the PDF has no signature to extend")

    async def _collect():
        paths = []
        for sig in sigs:
            paths.extend(await collect_validation_info(sig, vc))
        return paths

    try:
        paths = asyncio.run(_collect())
    except PathValidationError as exc:
        raise PkiError(f"cannot extend to B-LTA: {exc}") from exc
    writer = _writer(pdf)
    # No VRI entries (optional in PAdES): rewriting an existing one on a later renewal is
    # flagged by pyHanko's difference analysis as a suspicious modification.
    DocumentSecurityStore.supply_dss_in_writer(writer, None, paths=paths, validation_context=vc)
    ts_field = f"Timestamp-LTA{len(reader.embedded_timestamp_signatures) + 1}"
    out = signers.PdfTimeStamper(pki.timestamper(), field_name=ts_field).timestamp_pdf(
        writer, MD_ALGORITHM, validation_context=vc, validation_paths=paths,
        dss_settings=TimestampDSSContentSettings(update_before_ts=True, include_vri=False))
    return out.getvalue()
