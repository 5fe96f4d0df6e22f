"""The document issuer: render a template to PDF/A-3b, sign it in order, verify any PDF.

The engine sees only this object (through the composition root, ``motcua.bootstrap``) and speaks to it in plain values.
Everything heavy (the PKI, the fonts) is opened on first use, so a process that never signs
pays nothing.
"""
from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

from markupsafe import Markup

from signing.pades import sign_in_order, upgrade_to_lta
from signing.pki import PKI, Party
from signing.render import Renderer, canonical_json, qr_svg
from signing.verification import recheck_verdict, report_dict, revoked_certificates, verify_pdf

class DocumentIssuer:
    def __init__(self, pki_dir: Path, passphrase: bytes, font_cache_dir: Path, *, tsa_url: str | None = None):
        self.pki_dir = Path(pki_dir)
        self.font_cache_dir = Path(font_cache_dir)
        self._passphrase = passphrase
        self._tsa_url = tsa_url
        self._pki: PKI | None = None
        self._renderer: Renderer | None = None
        self._lock = threading.RLock()  # WeasyPrint's renderer is not thread-safe

    # ------------------------------------------------------------------ keys

    def ensure_parties(self, parties: list[dict[str, str]]) -> None:
        """Create the PKI if absent and a certificate for every party that has none (idempotent)."""
        with self._lock:
            self._pki = PKI.ensure(self.pki_dir, self._passphrase, [Party(**p) for p in parties], tsa_url=self._tsa_url)

    @property
    def pki(self) -> PKI:
        if self._pki is None:
            with self._lock:
                if self._pki is None:
                    # opened on first use; created (CAs and TSA only) when this data dir has none yet
                    self._pki = PKI.ensure(self.pki_dir, self._passphrase, [], tsa_url=self._tsa_url)
        return self._pki

    def has_party(self, kind: str, key: str) -> bool:
        return (self.pki_dir / "ca" / "root.pem").exists() and self.pki.has(kind, key)

    def root_pem(self) -> bytes:
        return self.pki.root_pem()

    def import_pkcs12(self, kind: str, key: str, p12: bytes, password: bytes | None) -> None:
        """Raises ValueError with a readable message for a bad file or password."""
        from signing.pki import PkiError

        try:
            self.pki.import_pkcs12(kind, key, p12, password)
        except PkiError as exc:
            raise ValueError(str(exc)) from None

    def revoke_party(self, kind: str, key: str) -> None:
        self.pki.revoke(kind, key)

    # ------------------------------------------------------------------ documents

    @property
    def renderer(self) -> Renderer:
        if self._renderer is None:
            with self._lock:
                if self._renderer is None:
                    self._renderer = Renderer(self.font_cache_dir)
        return self._renderer

    def render(self, template: Path, context: dict[str, Any], *, attachment: dict | None, title: str,
               verify_url: str) -> bytes:
        """Render only (no signature): used by the benchmark and by previews."""
        ctx = dict(context, qr_svg=Markup(qr_svg(verify_url)), verify_url=verify_url)
        with self._lock:
            return self.renderer.render(template, ctx, attachment=canonical_json(attachment) if attachment else None,
                                        title=title)

    def render_unsigned(self, template: Path, context: dict[str, Any], *, title: str) -> bytes:
        """A paper drawn on demand and not signed (the control sheet, the log book): no QR code."""
        with self._lock:
            return self.renderer.render(template, context, title=title)

    def issue(self, template: Path, context: dict[str, Any], *, attachment: dict | None, title: str,
              verify_url: str, signers: list[tuple[str, str, str]]) -> bytes:
        """Render, then sign in order; ``signers`` are (field label, party kind, party key), e.g.
        [("leader", "officer", "leader"), ("agency", "agency", "000.00.25.H26")]."""
        pdf = self.render(template, context, attachment=attachment, title=title, verify_url=verify_url)
        steps = [(label, self.pki.signer(kind, key)) for label, kind, key in signers]
        with self._lock:
            return sign_in_order(pdf, steps, timestamper=self.pki.timestamper())

    def upgrade(self, pdf: bytes) -> bytes:
        """B-T to B-LTA: revocation data and a document timestamp, before reuse and archiving."""
        with self._lock:
            return upgrade_to_lta(pdf, self.pki)

    def verify(self, pdf: bytes) -> dict[str, Any]:
        """The full cryptographic check (``signing.verification.verify_pdf``) as plain values."""
        return report_dict(verify_pdf(pdf, self.pki.trust_roots(), crls=self.pki.crls()))

    def recheck(self, verdict: dict[str, Any], *, now: dt.datetime | None = None) -> dict[str, Any]:
        """A stored verdict of a file this system issued, re-checked for what changes with time only:
        revocation of the signing certificates (our CRLs as they are now) and their validity at now."""
        when = now or dt.datetime.now(dt.timezone.utc)
        return recheck_verdict(verdict, revoked=revoked_certificates(self.pki.crls()), now=when)
