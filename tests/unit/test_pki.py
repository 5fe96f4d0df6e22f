"""The development PKI: files, encryption at rest, certificate profiles, CRLs, PKCS#12 import."""
from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import stat
import warnings
from pathlib import Path

import pytest
import weasyprint
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID
from pyhanko_certvalidator.errors import PathBuildingError

from signing.pades import sign_pdf, upgrade_to_lta
from signing.pki import PKI, Party, PkiError
from signing.verification import PROBLEM_UNTRUSTED, verify_pdf

PASSPHRASE = b"mat-khau-thu-nghiem"
AGENCY = Party("agency", "000.00.25.H26", "Ủy ban nhân dân phường Ba Đình", "Ủy ban nhân dân phường Ba Đình")
LEADER = Party("officer", "leader", "Nguyễn Văn A", "Ủy ban nhân dân phường Ba Đình", "Chủ tịch")
PARTIES = [AGENCY, LEADER]


def render_pdf() -> bytes:
    with warnings.catch_warnings():
        # WeasyPrint 70 opens its sRGB ICC profile for PDF/A output and never closes it; the
        # ResourceWarning fires when the document is collected, which gc.collect() forces here.
        warnings.filterwarnings("ignore", category=ResourceWarning, message=r"unclosed file .*sRGB")
        pdf = weasyprint.HTML(string="<p>Giấy xác nhận tình trạng hôn nhân — Hà Nội</p>",
                              base_url=None).write_pdf(pdf_variant="pdf/a-3b")
        gc.collect()
    return pdf


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pki")
    PKI.ensure(root, PASSPHRASE, PARTIES)
    return root


@pytest.fixture(scope="module")
def pki(pki_dir) -> PKI:
    return PKI(pki_dir, PASSPHRASE)


@pytest.fixture
def fresh_pki(tmp_path) -> PKI:
    """A PKI of its own, for tests that revoke, re-sign CRLs or import."""
    return PKI.ensure(tmp_path / "pki", PASSPHRASE, PARTIES)


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def foreign_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA nước ngoài tự lập")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def foreign_leaf(ca_key, ca_cert) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, "Trần Thị Bình")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


# ---------------------------------------------------------------------------- creation


def test_ensure_creates_root_issuing_ca_timestamping_and_a_leaf_per_party(pki_dir):
    ca = pki_dir / "ca"
    root, issuing, tsa = load_cert(ca / "root.pem"), load_cert(ca / "issuing.pem"), load_cert(ca / "tsa.pem")
    assert root.subject == root.issuer
    assert isinstance(root.public_key(), ec.EllipticCurvePublicKey) and root.public_key().curve.name == "secp384r1"
    assert issuing.public_key().curve.name == "secp384r1"
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert issuing.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
    assert isinstance(tsa.public_key(), rsa.RSAPublicKey) and tsa.public_key().key_size == 2048
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    assert (ca / "root.crl").is_file() and (ca / "issuing.crl").is_file()
    assert (pki_dir / "leaves" / "agency" / "000.00.25.H26.pem").is_file()
    assert (pki_dir / "leaves" / "officer" / "leader.pem").is_file()


def test_ensure_a_second_time_changes_no_file(tmp_path):
    root = tmp_path / "pki"
    PKI.ensure(root, PASSPHRASE, PARTIES)
    before = snapshot(root)
    PKI.ensure(root, PASSPHRASE, PARTIES)
    assert snapshot(root) == before


def test_ensure_adds_a_leaf_for_a_new_party_and_keeps_the_others(fresh_pki):
    old_leader = fresh_pki.certificate("officer", "leader")
    assert not fresh_pki.has("officer", "specialist")
    specialist = Party("officer", "specialist", "Lê Thị Cúc", "Ủy ban nhân dân phường Ba Đình", "Công chức")
    pki = PKI.ensure(fresh_pki.root_dir, PASSPHRASE, [*PARTIES, specialist])
    assert pki.has("officer", "specialist")
    assert pki.certificate("officer", "leader") == old_leader


def test_opening_a_folder_without_a_pki_raises_pki_error(tmp_path):
    with pytest.raises(PkiError, match="no PKI"):
        PKI(tmp_path, PASSPHRASE)


def test_party_keys_that_could_escape_the_folder_and_unknown_kinds_are_refused(pki):
    with pytest.raises(PkiError):
        pki.has("officer", "../../ca/root")
    with pytest.raises(PkiError):
        pki.has("citizen", "leader")


# ---------------------------------------------------------------------------- keys at rest


def test_private_keys_on_disk_are_encrypted_owner_only_and_need_the_passphrase(pki_dir):
    key_files = sorted(pki_dir.rglob("*.key.pem"))
    assert len(key_files) == 5  # root, issuing, TSA, agency seal, leader
    for path in key_files:
        data = path.read_bytes()
        assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with pytest.raises(TypeError, match="encrypted"):
            serialization.load_pem_private_key(data, None)
        # a wrong passphrase is refused: usually as such; when the wrongly decrypted bytes happen to end in
        # valid padding (about 1 time in 256 with AES-CBC), as bytes that are no key
        with pytest.raises(ValueError, match="Incorrect password|Could not deserialize key data"):
            serialization.load_pem_private_key(data, b"sai-mat-khau")
        serialization.load_pem_private_key(data, PASSPHRASE)


def test_opening_the_pki_with_a_wrong_passphrase_raises_pki_error(pki_dir):
    with pytest.raises(PkiError, match="wrong passphrase"):
        PKI(pki_dir, b"sai-mat-khau")


# ---------------------------------------------------------------------------- profiles


def test_leaf_is_p256_with_the_signing_profile_and_no_ocsp_url(pki, pki_dir):
    leaf = pki.certificate("officer", "leader")
    issuing = load_cert(pki_dir / "ca" / "issuing.pem")
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey) and leaf.public_key().curve.name == "secp256r1"
    basic = leaf.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and not basic.value.ca
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign and not usage.value.key_encipherment
    ski = leaf.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(leaf.public_key())
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    dp = leaf.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert dp[0].full_name[0].value.startswith("http://pki.motcua.example/")
    with pytest.raises(x509.ExtensionNotFound):
        leaf.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_INFORMATION_ACCESS)


def test_subjects_are_vietnamese_utf8_strings_with_country_vn(pki):
    leaf = pki.certificate("officer", "leader")
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Nguyễn Văn A"
    assert leaf.subject.get_attributes_for_oid(NameOID.TITLE)[0].value == "Chủ tịch"
    assert leaf.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "VN"
    subject = asn1_x509.Certificate.load(leaf.public_bytes(serialization.Encoding.DER)).subject
    encodings = {atv["type"].native: atv["value"].name for rdn in subject.chosen for atv in rdn}
    assert encodings["common_name"] == "utf8_string"
    assert encodings["organization_name"] == "utf8_string"
    assert encodings["country_name"] == "printable_string"


def test_chain_verifies_from_leaf_to_root_with_cryptography(pki, pki_dir):
    root = load_cert(pki_dir / "ca" / "root.pem")
    issuing = load_cert(pki_dir / "ca" / "issuing.pem")
    tsa = load_cert(pki_dir / "ca" / "tsa.pem")
    root.verify_directly_issued_by(root)
    issuing.verify_directly_issued_by(root)
    tsa.verify_directly_issued_by(issuing)
    for kind, key in (("officer", "leader"), ("agency", "000.00.25.H26")):
        pki.certificate(kind, key).verify_directly_issued_by(issuing)
    assert pki.root_pem() == (pki_dir / "ca" / "root.pem").read_bytes()
    assert [c.dump() for c in pki.trust_roots()] == [root.public_bytes(serialization.Encoding.DER)]


def test_validation_context_builds_paths_only_to_our_root_and_never_fetches(pki, pki_dir):
    vc = pki.validation_context()
    assert vc.fetching_allowed is False
    leader = asn1_x509.Certificate.load(pki.certificate("officer", "leader").public_bytes(serialization.Encoding.DER))
    paths = vc.path_builder.build_paths(leader)
    root_der = load_cert(pki_dir / "ca" / "root.pem").public_bytes(serialization.Encoding.DER)
    assert paths and all(path.first.dump() == root_der and path.pkix_len == 2 for path in paths)
    _, stranger = foreign_ca()
    with pytest.raises(PathBuildingError):
        vc.path_builder.build_paths(asn1_x509.Certificate.load(stranger.public_bytes(serialization.Encoding.DER)))
    assert [c.issuer.native["common_name"] for c in pki.crls()] == [
        "CA gốc MotCua (phát triển)", "CA cấp chứng thư MotCua (phát triển)"]


# ---------------------------------------------------------------------------- CRLs


def test_revoke_lists_the_serial_in_the_issuing_crl_and_signer_refuses_the_key(fresh_pki):
    serial = fresh_pki.certificate("officer", "leader").serial_number
    issuing = load_cert(fresh_pki.root_dir / "ca" / "issuing.pem")
    before = x509.load_der_x509_crl(fresh_pki.crls()[1].dump())
    assert before.get_revoked_certificate_by_serial_number(serial) is None

    fresh_pki.revoke("officer", "leader")
    fresh_pki.revoke("officer", "leader")  # a second time is a no-op

    crl = x509.load_der_x509_crl(fresh_pki.crls()[1].dump())
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    assert entry is not None and len(list(crl)) == 1
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
    assert crl.is_signature_valid(issuing.public_key())
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert number == before.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number + 1
    assert crl.get_revoked_certificate_by_serial_number(
        fresh_pki.certificate("agency", "000.00.25.H26").serial_number) is None
    with pytest.raises(PkiError, match="revoked"):
        fresh_pki.signer("officer", "leader")


def test_crls_are_valid_for_seven_days_and_resigned_when_about_to_expire(fresh_pki):
    fresh_pki.revoke("agency", "000.00.25.H26")
    first = x509.load_der_x509_crl(fresh_pki.crls()[1].dump())
    assert first.next_update_utc - first.last_update_utc == dt.timedelta(days=7, minutes=5)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=6, hours=12)
    renewed = x509.load_der_x509_crl(fresh_pki.crls(now=later)[1].dump())
    assert renewed.last_update_utc > first.last_update_utc
    assert renewed.next_update_utc > later + dt.timedelta(days=6)
    serial = fresh_pki.certificate("agency", "000.00.25.H26").serial_number
    assert renewed.get_revoked_certificate_by_serial_number(serial) is not None  # entries survive


# ---------------------------------------------------------------------------- production certificates


def test_pkcs12_import_round_trip_signs_and_trusts_the_foreign_root_only_when_told(fresh_pki):
    ca_key, ca_cert = foreign_ca()
    key, cert = foreign_leaf(ca_key, ca_cert)
    p12 = pkcs12.serialize_key_and_certificates(
        b"officer", key, cert, [ca_cert], serialization.BestAvailableEncryption(b"mat-khau-p12"))

    fresh_pki.import_pkcs12("officer", "binh", p12, b"mat-khau-p12")

    assert fresh_pki.certificate("officer", "binh") == cert
    stored = (fresh_pki.root_dir / "leaves" / "officer" / "binh.key.pem").read_bytes()
    assert stored.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    reloaded = serialization.load_pem_private_key(stored, PASSPHRASE)  # re-encrypted with OUR passphrase
    assert reloaded.private_numbers() == key.private_numbers()

    signed = sign_pdf(render_pdf(), fresh_pki.signer("officer", "binh"), field_name="Sig1-binh", timestamper=None)
    untrusted = verify_pdf(signed, fresh_pki.trust_roots())
    assert not untrusted.valid and untrusted.problem == PROBLEM_UNTRUSTED
    assert untrusted.signatures[0].intact and untrusted.signatures[0].signer_name == "Trần Thị Bình"

    fresh_pki.trust_root(ca_cert.public_bytes(serialization.Encoding.PEM))
    assert len(fresh_pki.trust_roots()) == 2
    trusted = verify_pdf(signed, fresh_pki.trust_roots())
    assert trusted.valid, trusted.signatures
    with pytest.raises(PkiError, match="B-LTA"):  # no CRL of the foreign CA here: refuse, do not guess
        upgrade_to_lta(signed, fresh_pki)


def test_pkcs12_with_a_wrong_password_or_garbage_raises_pki_error(fresh_pki):
    ca_key, ca_cert = foreign_ca()
    key, cert = foreign_leaf(ca_key, ca_cert)
    p12 = pkcs12.serialize_key_and_certificates(
        b"officer", key, cert, None, serialization.BestAvailableEncryption(b"dung"))
    with pytest.raises(PkiError, match="wrong password"):
        fresh_pki.import_pkcs12("officer", "binh", p12, b"sai")
    with pytest.raises(PkiError, match="PKCS#12"):
        fresh_pki.import_pkcs12("officer", "binh", json.dumps({"not": "p12"}).encode(), None)
    assert not fresh_pki.has("officer", "binh")


def test_trust_root_refuses_a_certificate_that_is_not_a_ca(fresh_pki):
    ca_key, ca_cert = foreign_ca()
    _, leaf = foreign_leaf(ca_key, ca_cert)
    with pytest.raises(PkiError, match="CA certificate"):
        fresh_pki.trust_root(leaf.public_bytes(serialization.Encoding.PEM))
