"""A development PKI whose private keys are encrypted at rest, and the signers built on it.

Layout under ``root_dir`` (every file written atomically: temporary file, fsync, rename)::

    ca/root.pem  ca/root.key.pem  ca/root.crl          root CA, ECDSA P-384, self-signed
    ca/issuing.pem  ca/issuing.key.pem  ca/issuing.crl issuing CA, ECDSA P-384, under the root
    ca/tsa.pem  ca/tsa.key.pem                         timestamping, RSA-2048, under the issuing CA
    leaves/<kind>/<key>.pem  <key>.key.pem             agency seals and officers, ECDSA P-256
    leaves/<kind>/<key>.chain.pem                      only for imported (PKCS#12) certificates
    trusted/<sha256>.pem                               extra trust roots added with trust_root()

Private keys are PKCS#8 PEM encrypted with the passphrase (``BestAvailableEncryption``), mode 0600.
The TSA key is RSA because pyHanko's in-process ``DummyTimeStamper`` signs only with RSA; its
certificate carries a critical extended key usage ``timeStamping``.

Leaf profile (see ``reference/signing-pdf.md`` §1.1): BasicConstraints ca=False (critical);
KeyUsage digitalSignature + nonRepudiation (critical); SKI/AKI; a CRL distribution point on an
invented host. There is deliberately **no** AIA-OCSP URL: poppler's ``pdfsig`` tries the OCSP
responder of such a certificate and reports "Unknown issue with Certificate" when it is not
reachable. Subjects are in Vietnamese (UTF8String), country VN.

Each CA publishes a CRL valid for 7 days; :meth:`PKI.crls` (and everything that needs one)
re-signs it when less than a day of validity is left. :meth:`PKI.revoke` adds a leaf's serial.

**Production.** Real agency and officer certificates come from a licensed CA. Import a PKCS#12
file with :meth:`PKI.import_pkcs12`; its chain is kept for the signer, but its root is trusted
only after an explicit :meth:`PKI.trust_root`. Keys that must not leave a token (USB token or
HSM, as Vietnamese officer keys usually are) go through ``pyhanko.sign.pkcs11``
(``PKCS11Signer`` opened on the token's session, with the certificate label of the officer);
that is not implemented here: a deployment with tokens supplies its own ``Signer`` wherever
:meth:`PKI.signer` is used today. The timestamp service is configurable (``tsa_url``): in
production point it at a real RFC 3161 service run apart from the signing process.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign import signers, timestamps
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.fastcms import PadesTemplate, TokenTemplate, load_content_info, random_nonce

try:  # advisory lock so that two processes running ensure() at once do not both create a CA
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

KINDS = ("agency", "officer")
CRL_BASE_URL = "http://pki.motcua.example/crl/"  # invented host (RFC 2606 .example); never fetched
CRL_LIFETIME = dt.timedelta(days=7)
CRL_REFRESH_MARGIN = dt.timedelta(days=1)
ROOT_LIFETIME = dt.timedelta(days=20 * 365)
ISSUING_LIFETIME = dt.timedelta(days=10 * 365)
TSA_LIFETIME = dt.timedelta(days=5 * 365)
LEAF_LIFETIME = dt.timedelta(days=730)
BACKDATE = dt.timedelta(minutes=5)  # tolerate small clock differences between machines
ORGANIZATION = "MotCua (môi trường phát triển)"
ROOT_NAME = "CA gốc MotCua (phát triển)"
ISSUING_NAME = "CA cấp chứng thư MotCua (phát triển)"
TSA_NAME = "Dịch vụ cấp dấu thời gian MotCua (phát triển)"
_KEY_RE = re.compile(r"^[^\x00-\x1f/\\]{1,128}$")


class PkiError(Exception):
    """A PKI file is missing or unreadable, a passphrase or PKCS#12 file is wrong, a party unknown."""


@dataclass(frozen=True)
class Party:
    """Who a certificate is for."""

    kind: str  # "agency" (the agency seal, applied by the records clerk) | "officer"
    key: str  # agency code (e.g. "000.00.25.H26") or officer username (e.g. "leader")
    common_name: str  # Vietnamese display name
    organization: str  # the agency's Vietnamese name
    title: str = ""  # e.g. "Chủ tịch" (officers)


def _utcnow(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(dt.timezone.utc)


def _check_party(kind: str, key: str) -> None:
    if kind not in KINDS:
        raise PkiError(f"unknown party kind {kind!r} (expected one of {', '.join(KINDS)})")
    if not isinstance(key, str) or not _KEY_RE.match(key) or key in (".", ".."):
        raise PkiError(f"invalid {kind} key {key!r}")


def _file_stem(key: str) -> str:
    """A file name for a party key: readable for the usual codes and usernames, never a path."""
    out = []
    for ch in key:
        out.append(ch if (ch.isascii() and (ch.isalnum() or ch in "-_.@")) else f"%{ord(ch):04X}")
    stem = "".join(out)
    return "%002E" + stem[1:] if stem.startswith(".") else stem


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _load_certs_pem(data: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(data) if data.strip() else []


def _name(common_name: str, organization: str, *, title: str = "", uid: str = "") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
             x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)]
    if title:
        attrs.append(x509.NameAttribute(NameOID.TITLE, title))
    if uid:
        attrs.append(x509.NameAttribute(NameOID.USER_ID, uid))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _crl_dp(stem: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints([x509.DistributionPoint(
        [x509.UniformResourceIdentifier(f"{CRL_BASE_URL}{stem}.crl")], None, None, None)])


_CA_KEY_USAGE = x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                              data_encipherment=False, key_agreement=False, key_cert_sign=True,
                              crl_sign=True, encipher_only=False, decipher_only=False)
_SIGNING_KEY_USAGE = x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                   data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                   crl_sign=False, encipher_only=False, decipher_only=False)


class CachedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner re-parses the DER key on every raw signature (twice per PDF
    signature); for RSA that costs 40+ ms each. This keeps the parsed key (reference §5).

    It also assembles its PAdES CMS from parts encoded once per signer (``signing.fastcms``):
    the certificate chain, the signer identifier, the algorithm identifiers and the
    signing-certificate-v2 attribute are the same in every document. The signer object is cached
    per process (:meth:`PKI.signer`), so a worker encodes them once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._key = serialization.load_der_private_key(self.signing_key.dump(), None)
        self._templates: dict[str, PadesTemplate] = {}

    def _template(self, digest_algorithm: str) -> PadesTemplate:
        found = self._templates.get(digest_algorithm)
        if found is None:
            found = PadesTemplate(self.signing_cert, list(self.cert_registry or ()),
                                  self.get_signature_mechanism_for_digest(digest_algorithm), digest_algorithm,
                                  embed_roots=self.embed_roots)
            self._templates[digest_algorithm] = found
        return found

    async def async_sign(self, data_digest: bytes, digest_algorithm: str, dry_run=False, use_pades=False,
                         timestamper=None, signed_attr_settings=None, is_pdf_sig=True, encap_content_info=None):
        plain = (use_pades and is_pdf_sig and not dry_run and encap_content_info is None
                 and self.signed_attr_prov_spec is None and self.unsigned_attr_prov_spec is None
                 and not self.attribute_certs and self.signing_cert is not None
                 and (signed_attr_settings is None or (signed_attr_settings.cades_signed_attrs is None
                                                       and getattr(signed_attr_settings, "adobe_revinfo_attr", None) is None)))
        if not plain:  # anything but a PAdES baseline signature: pyHanko's own assembly
            return await super().async_sign(data_digest, digest_algorithm, dry_run=dry_run, use_pades=use_pades,
                                            timestamper=timestamper, signed_attr_settings=signed_attr_settings,
                                            is_pdf_sig=is_pdf_sig, encap_content_info=encap_content_info)
        digest_algorithm = digest_algorithm.lower()
        self._check_digest_algorithm(digest_algorithm)
        template = self._template(digest_algorithm)
        signed_attrs = template.signed_attrs(data_digest)
        signature = await self.async_sign_raw(signed_attrs, digest_algorithm)
        token = None
        if timestamper is not None:
            imprint = hashlib.new(digest_algorithm, signature).digest()
            if isinstance(timestamper, InProcessTimeStamper):
                token = timestamper.token(imprint, digest_algorithm)
            else:  # a remote service: its token as it sent it
                token = (await timestamper.async_timestamp(imprint, digest_algorithm)).dump()
        return load_content_info(template.content_info(signed_attrs, signature, token))

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "ecdsa" and isinstance(self._key, EllipticCurvePrivateKey):
            return self._key.sign(data, ECDSA(hash_algo))
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._key, RSAPrivateKey):
            return self._key.sign(data, PKCS1v15(), hash_algo)
        return super().sign_raw(data, digest_algorithm)


class InProcessTimeStamper(timestamps.DummyTimeStamper):
    """pyHanko's in-process RFC 3161 timestamper (development and tests), with the parsed RSA key
    kept instead of re-parsed for every token (about 40 ms each for RSA-2048). The token layout is
    exactly ``DummyTimeStamper``'s."""

    def __init__(self, tsa_cert: asn1_x509.Certificate, tsa_key: RSAPrivateKey,
                 certs_to_embed: Iterable[asn1_x509.Certificate]):
        der = tsa_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        super().__init__(tsa_cert=tsa_cert, tsa_key=asn1_keys.PrivateKeyInfo.load(der),
                         certs_to_embed=SimpleCertificateStore.from_certs(list(certs_to_embed)))
        self._rsa_key = tsa_key
        self._template = TokenTemplate(self.tsa_cert, self.certs_to_embed)

    def token(self, message_digest: bytes, md_algorithm: str) -> bytes:
        """A timestamp token (DER) for ``message_digest``, its constant parts encoded once
        (``signing.fastcms``); the same layout as the token pyHanko's DummyTimeStamper returns."""
        when = self.fixed_dt or dt.datetime.now(dt.timezone.utc)
        md_algorithm = md_algorithm.lower()
        template = self._template
        tst_info = template.tst_info(message_digest, md_algorithm, when, random_nonce() if self.include_nonce else None)
        signed_attrs = template.signed_attrs(tst_info, md_algorithm, when)
        signature = self._rsa_key.sign(signed_attrs, PKCS1v15(), get_pyca_cryptography_hash(md_algorithm))
        return template.token(tst_info, signed_attrs, signature, md_algorithm)

    async def async_timestamp(self, message_digest, md_algorithm):
        return load_content_info(self.token(message_digest, md_algorithm))

    def _sign_tst_info(self, tst_info_data, md_algorithm, gen_time):
        from asn1crypto import cms, core
        from pyhanko.sign import general

        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes([
            general.simple_cms_attribute("content_type", "tst_info"),
            general.simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(gen_time)})),
            general.simple_cms_attribute("signing_certificate", general.as_signing_certificate(self.tsa_cert)),
            general.simple_cms_attribute("message_digest", digest.finalize()),
        ])
        signature = self._rsa_key.sign(signed_attrs.dump(), PKCS1v15(),
                                       get_pyca_cryptography_hash(md_algorithm.upper()))
        return signature, signed_attrs


# Parsed private keys and signers, per process. Keyed by the key file's identity (path, inode,
# size, mtime) and a digest of the passphrase, so a rewritten file or another passphrase misses.
_CACHE: dict[tuple, object] = {}
_CACHE_LOCK = threading.Lock()


class PKI:
    """Files under root_dir: root CA (P-384) -> issuing CA (P-384) -> ECDSA P-256 leaves (agency
    seal, officers) and an RSA-2048 timestamping certificate. See the module docstring."""

    def __init__(self, root_dir: Path, passphrase: bytes, *, tsa_url: str | None = None):
        self.root_dir = Path(root_dir)
        if not isinstance(passphrase, bytes) or not passphrase:
            raise PkiError("the PKI passphrase must be non-empty bytes")
        self._passphrase = passphrase
        self._pass_id = hashlib.sha256(b"motcua-pki\x00" + passphrase).digest()
        self.tsa_url = tsa_url
        for name in ("root.pem", "root.key.pem", "issuing.pem", "issuing.key.pem", "tsa.pem", "tsa.key.pem"):
            if not (self._ca_dir / name).is_file():
                raise PkiError(f"no PKI at {self.root_dir} (missing ca/{name}); create it with PKI.ensure()")
        self._root = self._read_cert(self._ca_dir / "root.pem")
        self._issuing = self._read_cert(self._ca_dir / "issuing.pem")
        self._tsa = self._read_cert(self._ca_dir / "tsa.pem")
        self._load_key(self._ca_dir / "issuing.key.pem")  # fail now, not at the first signature
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ creation

    @classmethod
    def ensure(cls, root_dir: Path, passphrase: bytes, parties: Iterable[Party], *,
               now: dt.datetime | None = None, tsa_url: str | None = None) -> PKI:
        """Create the CAs, the TSA and the CRLs if absent; issue a leaf for every party that has
        none (or whose development leaf was revoked or has expired). Idempotent: a second call with the same
        parties writes nothing (the CRLs only when less than a day of validity is left)."""
        root_dir = Path(root_dir)
        parties = list(parties)
        for party in parties:
            _check_party(party.kind, party.key)
        when = _utcnow(now)
        root_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _exclusive(root_dir / ".lock"):
            ca_dir = root_dir / "ca"
            if not (ca_dir / "root.pem").is_file():
                _create_authorities(ca_dir, passphrase, when)
            pki = cls(root_dir, passphrase, tsa_url=tsa_url)
            pki._refresh_crls(when, locked=True)
            revoked = pki._revoked_serials("issuing")
            for party in parties:
                cert_path, _ = pki._leaf_paths(party.kind, party.key)
                if cert_path.is_file():
                    cert = pki._read_cert(cert_path)
                    if cert.issuer != pki._issuing.subject:
                        continue  # an imported (real) certificate is never replaced by a development one
                    if cert.serial_number not in revoked and cert.not_valid_after_utc > when:
                        continue
                pki._issue_leaf(party, when)
        return pki

    def _issue_leaf(self, party: Party, now: dt.datetime) -> None:
        issuer_key = self._load_key(self._ca_dir / "issuing.key.pem")
        key = ec.generate_private_key(ec.SECP256R1())
        subject = _name(party.common_name, party.organization, title=party.title, uid=party.key)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(self._issuing.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - BACKDATE)
                .not_valid_after(min(now + LEAF_LIFETIME, self._issuing.not_valid_after_utc))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(_SIGNING_KEY_USAGE, critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                               critical=False)
                .add_extension(_crl_dp("issuing"), critical=False)
                .sign(issuer_key, hashes.SHA256()))
        cert_path, key_path = self._leaf_paths(party.kind, party.key)
        _write_atomic(key_path, _encrypt_key(key, self._passphrase), 0o600)
        _write_atomic(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
        with contextlib.suppress(FileNotFoundError):
            (cert_path.parent / f"{_file_stem(party.key)}.chain.pem").unlink()

    # ------------------------------------------------------------------ reading

    @property
    def _ca_dir(self) -> Path:
        return self.root_dir / "ca"

    def _leaf_paths(self, kind: str, key: str) -> tuple[Path, Path]:
        _check_party(kind, key)
        base = self.root_dir / "leaves" / kind
        stem = _file_stem(key)
        return base / f"{stem}.pem", base / f"{stem}.key.pem"

    @staticmethod
    def _read_cert(path: Path) -> x509.Certificate:
        try:
            return x509.load_pem_x509_certificate(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise PkiError(f"cannot read certificate {path.name}: {exc}") from exc

    def _load_key(self, path: Path):
        try:
            st = path.stat()
        except OSError as exc:
            raise PkiError(f"cannot read private key {path.name}: {exc}") from exc
        cache_key = ("key", str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns, self._pass_id)
        with _CACHE_LOCK:
            if cache_key in _CACHE:
                return _CACHE[cache_key]
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), self._passphrase)
        except (TypeError, ValueError) as exc:
            raise PkiError(f"cannot decrypt private key {path.name}: wrong passphrase or damaged file") from exc
        with _CACHE_LOCK:
            _CACHE[cache_key] = key
        return key

    def root_pem(self) -> bytes:
        return self._root.public_bytes(serialization.Encoding.PEM)

    def trust_roots(self) -> list[asn1_x509.Certificate]:
        """Our root, plus the roots explicitly added with :meth:`trust_root`."""
        roots = [_to_asn1(self._root)]
        trusted = self.root_dir / "trusted"
        if trusted.is_dir():
            for path in sorted(trusted.glob("*.pem")):
                roots.append(_to_asn1(self._read_cert(path)))
        return roots

    def has(self, party_kind: str, key: str) -> bool:
        return self._leaf_paths(party_kind, key)[0].is_file()

    def certificate(self, party_kind: str, key: str) -> x509.Certificate:
        cert_path, _ = self._leaf_paths(party_kind, key)
        if not cert_path.is_file():
            raise PkiError(f"no certificate for {party_kind} {key!r}")
        return self._read_cert(cert_path)

    def _chain(self, party_kind: str, key: str) -> list[x509.Certificate]:
        cert_path, _ = self._leaf_paths(party_kind, key)
        chain_path = cert_path.parent / f"{_file_stem(key)}.chain.pem"
        if chain_path.is_file():
            return _load_certs_pem(chain_path.read_bytes())
        return [self._issuing, self._root]

    def signer(self, party_kind: str, key: str) -> signers.Signer:
        """A signer for a party's key, with its chain in the registry; cached per process.
        Refuses a certificate that our CRL lists or that has expired."""
        cert_path, key_path = self._leaf_paths(party_kind, key)
        if not cert_path.is_file() or not key_path.is_file():
            raise PkiError(f"no certificate for {party_kind} {key!r}")
        cert = self._read_cert(cert_path)
        if cert.serial_number in self._revoked_serials("issuing") and cert.issuer == self._issuing.subject:
            raise PkiError(f"the certificate of {party_kind} {key!r} is revoked")
        if cert.not_valid_after_utc <= _utcnow(None):
            raise PkiError(f"the certificate of {party_kind} {key!r} has expired")
        st_c, st_k = cert_path.stat(), key_path.stat()
        chain_path = cert_path.parent / f"{_file_stem(key)}.chain.pem"
        st_chain = chain_path.stat().st_mtime_ns if chain_path.is_file() else None
        cache_key = ("signer", str(cert_path.resolve()), st_c.st_ino, st_c.st_mtime_ns, st_k.st_ino,
                     st_k.st_mtime_ns, st_chain, self._pass_id)
        with _CACHE_LOCK:
            cached = _CACHE.get(cache_key)
        if cached is not None:
            return cached  # type: ignore[return-value]
        private_key = self._load_key(key_path)
        pub = serialization.PublicFormat.SubjectPublicKeyInfo
        if (private_key.public_key().public_bytes(serialization.Encoding.DER, pub)
                != cert.public_key().public_bytes(serialization.Encoding.DER, pub)):
            raise PkiError(f"the key of {party_kind} {key!r} does not match its certificate")
        der = private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
        signer = CachedKeySigner(
            signing_cert=_to_asn1(cert), signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=SimpleCertificateStore.from_certs([_to_asn1(c) for c in self._chain(party_kind, key)]))
        with _CACHE_LOCK:
            _CACHE[cache_key] = signer
        return signer

    def timestamper(self) -> timestamps.TimeStamper:
        """The configured RFC 3161 service (``tsa_url``), else the in-process one (cached)."""
        if self.tsa_url:
            return timestamps.HTTPTimeStamper(self.tsa_url)
        key_path = self._ca_dir / "tsa.key.pem"
        st = key_path.stat()
        cache_key = ("tsa", str(key_path.resolve()), st.st_ino, st.st_mtime_ns, self._pass_id)
        with _CACHE_LOCK:
            cached = _CACHE.get(cache_key)
        if cached is None:
            tsa_key = self._load_key(key_path)
            if not isinstance(tsa_key, RSAPrivateKey):
                raise PkiError("the in-process timestamper needs an RSA key")
            cached = InProcessTimeStamper(_to_asn1(self._tsa), tsa_key,
                                          [_to_asn1(self._issuing), _to_asn1(self._root)])
            with _CACHE_LOCK:
                _CACHE[cache_key] = cached
        return cached  # type: ignore[return-value]

    def _other_certs(self) -> list[asn1_x509.Certificate]:
        certs = [self._issuing, self._tsa]
        leaves = self.root_dir / "leaves"
        if leaves.is_dir():
            for chain_path in sorted(leaves.glob("*/*.chain.pem")):
                certs.extend(_load_certs_pem(chain_path.read_bytes()))
        return [_to_asn1(c) for c in certs]

    def validation_context(self, *, for_signing_lta: bool = False) -> ValidationContext:
        """Trust pinned to our root (and explicitly trusted roots), our fresh CRLs, no fetching.
        ``for_signing_lta``: revocation information is required for every certificate, so that an
        upgrade to B-LTA fails loudly instead of embedding an incomplete DSS."""
        return ValidationContext(
            trust_roots=self.trust_roots(), other_certs=self._other_certs(),
            crls=self.crls(), allow_fetching=False,
            revocation_mode="require" if for_signing_lta else "soft-fail")

    # ------------------------------------------------------------------ CRLs and revocation

    def crls(self, *, now: dt.datetime | None = None) -> list[asn1_crl.CertificateList]:
        """The root's and the issuing CA's CRLs, re-signed first when they are about to expire."""
        self._refresh_crls(_utcnow(now))
        return [asn1_crl.CertificateList.load(self._read_crl(ca).public_bytes(serialization.Encoding.DER))
                for ca in ("root", "issuing")]

    def _read_crl(self, ca: str) -> x509.CertificateRevocationList:
        try:
            return x509.load_pem_x509_crl((self._ca_dir / f"{ca}.crl").read_bytes())
        except (OSError, ValueError) as exc:
            raise PkiError(f"cannot read the {ca} CRL: {exc}") from exc

    def _revoked_serials(self, ca: str) -> set[int]:
        path = self._ca_dir / f"{ca}.crl"
        if not path.is_file():
            return set()
        return {entry.serial_number for entry in self._read_crl(ca)}

    def _stale_crls(self, now: dt.datetime) -> list[str]:
        stale = []
        for ca in ("root", "issuing"):
            if not (self._ca_dir / f"{ca}.crl").is_file():
                stale.append(ca)
                continue
            current = self._read_crl(ca)
            if not (current.next_update_utc and current.next_update_utc - now > CRL_REFRESH_MARGIN
                    and current.last_update_utc <= now):
                stale.append(ca)
        return stale

    def _refresh_crls(self, now: dt.datetime, *, locked: bool = False) -> None:
        """Re-sign the CRLs that are missing or about to expire, keeping their entries. Under the
        PKI's file lock, so that a concurrent revoke() is never overwritten by an older list."""
        if not self._stale_crls(now):
            return
        with contextlib.ExitStack() as stack:
            if not locked:
                stack.enter_context(self._lock)
                stack.enter_context(_exclusive(self.root_dir / ".lock"))
            for ca in self._stale_crls(now):
                path = self._ca_dir / f"{ca}.crl"
                self._write_crl(ca, list(self._read_crl(ca)) if path.is_file() else [], now)

    def _write_crl(self, ca: str, entries: list[x509.RevokedCertificate], now: dt.datetime) -> None:
        cert = self._root if ca == "root" else self._issuing
        key = self._load_key(self._ca_dir / f"{ca}.key.pem")
        number = 1
        path = self._ca_dir / f"{ca}.crl"
        if path.is_file():
            with contextlib.suppress(x509.ExtensionNotFound):
                number = self._read_crl(ca).extensions.get_extension_for_class(x509.CRLNumber).value.crl_number + 1
        builder = (x509.CertificateRevocationListBuilder().issuer_name(cert.subject)
                   .last_update(now - BACKDATE).next_update(now + CRL_LIFETIME)
                   .add_extension(x509.CRLNumber(number), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()),
                                  critical=False))
        for entry in entries:
            builder = builder.add_revoked_certificate(entry)
        crl = builder.sign(key, hashes.SHA384())
        _write_atomic(path, crl.public_bytes(serialization.Encoding.PEM), 0o644)

    def revoke(self, party_kind: str, key: str, *, reason: str = "key_compromise",
               now: dt.datetime | None = None) -> None:
        """Add the party's certificate to the issuing CA's CRL (a no-op if it is listed already)."""
        when = _utcnow(now)
        cert = self.certificate(party_kind, key)
        if cert.issuer != self._issuing.subject:
            raise PkiError(f"the certificate of {party_kind} {key!r} was not issued by this PKI; "
                           "revoke it at its own CA")
        flag = x509.ReasonFlags.__members__.get(reason)  # "key_compromise", "superseded", ...
        if flag is None or flag in (x509.ReasonFlags.unspecified, x509.ReasonFlags.remove_from_crl):
            raise PkiError(f"unknown revocation reason {reason!r}")
        with self._lock, _exclusive(self.root_dir / ".lock"):
            entries = list(self._read_crl("issuing"))
            if any(e.serial_number == cert.serial_number for e in entries):
                return
            entries.append(x509.RevokedCertificateBuilder().serial_number(cert.serial_number)
                           .revocation_date(when).add_extension(x509.CRLReason(flag), critical=False).build())
            self._write_crl("issuing", entries, when)

    # ------------------------------------------------------------------ production certificates

    def import_pkcs12(self, party_kind: str, key: str, p12: bytes, password: bytes | None) -> None:
        """Store a real certificate and key from a PKCS#12 file, the key re-encrypted with our
        passphrase; the file's other certificates are kept as the signer's chain. Its root is
        *not* trusted until :meth:`trust_root` is called with it."""
        cert_path, key_path = self._leaf_paths(party_kind, key)
        try:
            private_key, cert, extra = pkcs12.load_key_and_certificates(p12, password)
        except (TypeError, ValueError) as exc:
            raise PkiError(f"cannot open the PKCS#12 file for {party_kind} {key!r}: "
                           "wrong password or not a PKCS#12 file") from exc
        if private_key is None or cert is None:
            raise PkiError("the PKCS#12 file must hold a private key and its certificate")
        if not isinstance(private_key, (EllipticCurvePrivateKey, RSAPrivateKey)):
            raise PkiError("only ECDSA and RSA keys can sign PDFs that every validator accepts")
        pub = serialization.PublicFormat.SubjectPublicKeyInfo
        if (private_key.public_key().public_bytes(serialization.Encoding.DER, pub)
                != cert.public_key().public_bytes(serialization.Encoding.DER, pub)):
            raise PkiError("the PKCS#12 file's private key does not match its certificate")
        chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in extra)
        chain_path = cert_path.parent / f"{_file_stem(key)}.chain.pem"
        with self._lock:
            _write_atomic(key_path, _encrypt_key(private_key, self._passphrase), 0o600)
            _write_atomic(chain_path, chain, 0o644)
            _write_atomic(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)

    def trust_root(self, pem: bytes) -> None:
        """Trust one more root CA (e.g. the national root of imported certificates)."""
        try:
            cert = x509.load_pem_x509_certificate(pem) if b"-----BEGIN" in pem else x509.load_der_x509_certificate(pem)
        except ValueError as exc:
            raise PkiError(f"not a certificate: {exc}") from exc
        try:
            is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if not is_ca:
            raise PkiError("a trust root must be a CA certificate (BasicConstraints ca=True)")
        name = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
        _write_atomic(self.root_dir / "trusted" / f"{name}.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _encrypt_key(key, passphrase: bytes) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(passphrase))


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _create_authorities(ca_dir: Path, passphrase: bytes, now: dt.datetime) -> None:
    """Root CA, issuing CA, TSA and empty CRLs. The root certificate is written last, so that
    a crash half-way leaves no "existing PKI" behind and the next ensure() starts over."""
    root_key = ec.generate_private_key(ec.SECP384R1())
    root_name = _name(ROOT_NAME, ORGANIZATION)
    root = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(now + ROOT_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(_CA_KEY_USAGE, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA384()))
    issuing_key = ec.generate_private_key(ec.SECP384R1())
    issuing = (x509.CertificateBuilder().subject_name(_name(ISSUING_NAME, ORGANIZATION)).issuer_name(root_name)
               .public_key(issuing_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - BACKDATE).not_valid_after(now + ISSUING_LIFETIME)
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(_CA_KEY_USAGE, critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(issuing_key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                              critical=False)
               .add_extension(_crl_dp("root"), critical=False)
               .sign(root_key, hashes.SHA384()))
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa = (x509.CertificateBuilder().subject_name(_name(TSA_NAME, ORGANIZATION))
           .issuer_name(issuing.subject).public_key(tsa_key.public_key())
           .serial_number(x509.random_serial_number())
           .not_valid_before(now - BACKDATE).not_valid_after(now + TSA_LIFETIME)
           .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
           .add_extension(_SIGNING_KEY_USAGE, critical=True)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
           .add_extension(x509.SubjectKeyIdentifier.from_public_key(tsa_key.public_key()), critical=False)
           .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuing_key.public_key()),
                          critical=False)
           .add_extension(_crl_dp("issuing"), critical=False)
           .sign(issuing_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    for name, key in (("root", root_key), ("issuing", issuing_key), ("tsa", tsa_key)):
        _write_atomic(ca_dir / f"{name}.key.pem", _encrypt_key(key, passphrase), 0o600)
    for name in ("root.crl", "issuing.crl"):
        with contextlib.suppress(FileNotFoundError):
            (ca_dir / name).unlink()  # left over from a crashed run: signed by keys that no longer exist
    _write_atomic(ca_dir / "issuing.pem", issuing.public_bytes(pem), 0o644)
    _write_atomic(ca_dir / "tsa.pem", tsa.public_bytes(pem), 0o644)
    _write_atomic(ca_dir / "root.pem", root.public_bytes(pem), 0o644)
