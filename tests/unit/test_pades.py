"""PAdES signing (B-T, B-LTA) and verification, checked by pyHanko and by independent validators
(poppler's pdfsig with an NSS database holding only our root, qpdf)."""
from __future__ import annotations

import asyncio
import datetime as dt
import gc
import hashlib
import io
import json
import re
import shutil
import subprocess
import time
import warnings
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest
import weasyprint
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    CertValidationPolicySpec,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleCertificateStore, SimpleTrustManager

from signing.pades import sign_in_order, sign_pdf, upgrade_to_lta
from signing.pki import PKI, CachedKeySigner, Party
from signing.verification import (
    PROBLEM_DAMAGED,
    PROBLEM_MODIFIED,
    PROBLEM_NO_SIGNATURE,
    PROBLEM_NOT_PDF,
    PROBLEM_REVOKED,
    PROBLEM_UNTRUSTED,
    verify_pdf,
)

PASSPHRASE = b"mat-khau-thu-nghiem"
AGENCY = Party("agency", "000.00.25.H26", "Ủy ban nhân dân phường Ba Đình", "Ủy ban nhân dân phường Ba Đình")
LEADER = Party("officer", "leader", "Nguyễn Văn A", "Ủy ban nhân dân phường Ba Đình", "Chủ tịch")
DOOMED = Party("officer", "doomed", "Phạm Văn Đức", "Ủy ban nhân dân phường Ba Đình", "Phó Chủ tịch")
RESULT = {"so": "12/2025/TP-KS", "ho_ten": "Nguyễn Thị Ánh Dương", "noi_sinh": "Hà Nội"}
HTML = """<html lang="vi"><head><title>Giấy khai sinh</title></head><body>
<h1>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</h1><p>Độc lập - Tự do - Hạnh phúc</p>
<p>Họ và tên: Nguyễn Thị Ánh Dương; nơi sinh: Hà Nội. (Đã ký số)</p></body></html>"""


def render_pdf(html: str = HTML, attachment: bytes | None = None) -> bytes:
    attachments = []
    if attachment is not None:
        attachments.append(weasyprint.Attachment(string=attachment, name="result.json",
                                                 description="Kết quả (JSON)", relationship="Data"))
    with warnings.catch_warnings():
        # WeasyPrint 70 opens its sRGB ICC profile for PDF/A output and never closes it; the
        # ResourceWarning fires when the document is collected, which gc.collect() forces here.
        warnings.filterwarnings("ignore", category=ResourceWarning, message=r"unclosed file .*sRGB")
        pdf = weasyprint.HTML(string=html, base_url=None).write_pdf(pdf_variant="pdf/a-3b", attachments=attachments)
        gc.collect()
    return pdf


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> PKI:
    return PKI.ensure(tmp_path_factory.mktemp("pki"), PASSPHRASE, [AGENCY, LEADER, DOOMED])


@pytest.fixture(scope="module")
def unsigned() -> bytes:
    return render_pdf(attachment=json.dumps(RESULT, ensure_ascii=False, sort_keys=True).encode())


@pytest.fixture(scope="module")
def signed(pki, unsigned) -> bytes:
    steps = [("leader", pki.signer("officer", "leader")), ("agency", pki.signer("agency", "000.00.25.H26"))]
    return sign_in_order(unsigned, steps, timestamper=pki.timestamper())


@pytest.fixture(scope="module")
def lta(pki, signed) -> bytes:
    return upgrade_to_lta(signed, pki)


@pytest.fixture(scope="module")
def nss_db(pki, tmp_path_factory) -> Path:
    """An NSS database holding our root and nothing else."""
    if not (shutil.which("certutil") and shutil.which("pdfsig")):
        pytest.skip("poppler-utils and libnss3-tools are not installed")
    folder = tmp_path_factory.mktemp("nss")
    (folder / "root.pem").write_bytes(pki.root_pem())
    subprocess.run(["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"], check=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{folder}", "-n", "root", "-t", "CT,C,C",
                    "-i", str(folder / "root.pem")], check=True)
    return folder


def pdfsig(nss_dir: Path, pdf: bytes, tmp_path: Path) -> list[dict[str, str]]:
    """pdfsig's report, one dict per signature. pdfsig exits 0 whatever it finds, so the text
    is what counts. No -no-ocsp: poppler <= 25.10 then reports every chain as unknown."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss_dir}", str(path)],
                         capture_output=True, text=True, check=True).stdout
    sigs = []
    for block in re.split(r"^Signature #\d+:\n", out, flags=re.M)[1:]:
        fields = dict(re.findall(r"^ +- ([^:\n]+): (.*)$", block, flags=re.M))
        fields["coverage"] = "total" if "\n  - Total document signed" in block else "partial"
        sigs.append(fields)
    return sigs


def ades_spec(pki: PKI) -> PdfSignatureValidationSpec:
    return PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build(trust_roots=pki.trust_roots()),
            revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO)),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(
            online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY)))


def xmp_producer(reader: PdfFileReader) -> str:
    xmp = ET.fromstring(reader.root["/Metadata"].data)
    ns = "{http://ns.adobe.com/pdf/1.3/}Producer"
    for el in xmp.iter():
        if ns in el.attrib:
            return el.attrib[ns]
        if el.tag == ns:
            return el.text or ""
    raise AssertionError("no pdf:Producer in the XMP")


# ---------------------------------------------------------------------------- signing


def test_sign_in_order_adds_decider_then_agency_each_intact_trusted_and_timestamped(pki, signed):
    reader = PdfFileReader(io.BytesIO(signed))
    sigs = reader.embedded_signatures
    assert [s.field_name for s in sigs] == ["Sig1-leader", "Sig2-agency"]
    vc = pki.validation_context()
    names = []
    for sig in sigs:
        assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
        status = validate_pdf_signature(sig, vc, ts_validation_context=vc)
        assert status.intact and status.valid and status.trusted, status.summary()
        assert status.md_algorithm == "sha256" and status.pkcs7_signature_mechanism == "sha256_ecdsa"
        assert status.timestamp_validity is not None and status.timestamp_validity.trusted
        names.append(status.signing_cert.subject.native["common_name"])
    assert names == ["Nguyễn Văn A", "Ủy ban nhân dân phường Ba Đình"]


def test_signing_is_incremental_the_original_bytes_stay_a_prefix(unsigned, signed, lta):
    assert signed.startswith(unsigned) and len(signed) > len(unsigned)
    assert lta.startswith(signed)


def test_signature_fields_are_invisible_and_printable(signed):
    reader = PdfFileReader(io.BytesIO(signed))
    for field in reader.root["/AcroForm"]["/Fields"]:
        widget = field.get_object()
        assert [float(x) for x in widget["/Rect"]] == [0, 0, 0, 0]
        assert int(widget["/F"]) & 4  # Print


def test_sign_pdf_without_timestamper_gives_b_b_with_reason_and_location(pki, unsigned):
    out = sign_pdf(unsigned, pki.signer("officer", "leader"), field_name="Sig1-leader", timestamper=None,
                   reason="Phê duyệt kết quả", location="Hà Nội")
    sig = PdfFileReader(io.BytesIO(out)).embedded_signatures[0]
    assert sig.sig_object["/Reason"] == "Phê duyệt kết quả" and sig.sig_object["/Location"] == "Hà Nội"
    status = validate_pdf_signature(sig, pki.validation_context())
    assert status.trusted and status.timestamp_validity is None


def test_field_names_replace_the_dots_of_agency_codes(pki, unsigned):
    out = sign_in_order(unsigned, [("000.00.25.H26", pki.signer("agency", "000.00.25.H26"))], timestamper=None)
    assert [s.field_name for s in PdfFileReader(io.BytesIO(out)).embedded_signatures] == ["Sig1-000_00_25_H26"]


def test_pdfsig_with_only_our_root_finds_every_signature_valid_and_trusted(nss_db, signed, tmp_path):
    sigs = pdfsig(nss_db, signed, tmp_path)
    assert len(sigs) == 2
    for sig in sigs:
        assert sig["Signature Validation"] == "Signature is Valid."
        assert sig["Certificate Validation"] == "Certificate is Trusted."
    assert sigs[0]["Signer Certificate Common Name"] == "Nguyễn Văn A"
    assert sigs[1]["Signer Certificate Common Name"] == "Ủy ban nhân dân phường Ba Đình"
    assert [s["coverage"] for s in sigs] == ["partial", "total"]  # the seal covers the whole file


def test_pdfsig_without_our_root_does_not_trust_the_signatures(signed, tmp_path):
    if not (shutil.which("certutil") and shutil.which("pdfsig")):
        pytest.skip("poppler-utils and libnss3-tools are not installed")
    empty = tmp_path / "empty-nss"
    empty.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{empty}", "--empty-password"], check=True)
    sigs = pdfsig(empty, signed, tmp_path)
    assert len(sigs) == 2
    assert all(s["Signature Validation"] == "Signature is Valid." for s in sigs)
    assert all(s["Certificate Validation"] != "Certificate is Trusted." for s in sigs)


def test_pdfsig_reports_the_flipped_byte_as_a_digest_mismatch(nss_db, unsigned, signed, tmp_path):
    tampered = bytearray(signed)
    tampered[len(unsigned) // 2] ^= 0xFF
    sigs = pdfsig(nss_db, bytes(tampered), tmp_path)
    assert [s["Signature Validation"] for s in sigs] == ["Digest Mismatch."] * 2


def test_pdfsig_still_trusts_both_signatures_after_the_lta_upgrade(nss_db, lta, tmp_path):
    sigs = pdfsig(nss_db, lta, tmp_path)
    # the third entry is the document timestamp, which pdfsig 22.12 cannot check
    assert [s["Signature Field Name"] for s in sigs] == ["Sig1-leader", "Sig2-agency", "Timestamp-LTA1"]
    for sig in sigs[:2]:
        assert sig["Signature Validation"] == "Signature is Valid."
        assert sig["Certificate Validation"] == "Certificate is Trusted."


@pytest.mark.parametrize("which", ["signed", "lta"])
def test_qpdf_check_finds_no_errors(which, request, tmp_path):
    if not shutil.which("qpdf"):
        pytest.skip("qpdf is not installed")
    path = tmp_path / f"{which}.pdf"
    path.write_bytes(request.getfixturevalue(which))
    result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors found" in result.stdout


@pytest.mark.parametrize("which", ["signed", "lta"])
def test_info_producer_equals_xmp_producer_after_signing(which, request):
    reader = PdfFileReader(io.BytesIO(request.getfixturevalue(which)))
    info = reader.trailer["/Info"]
    assert str(info["/Producer"]) == xmp_producer(reader)
    assert str(info["/Title"]) == "Giấy khai sinh"  # WeasyPrint's entries survive
    xmp = reader.root["/Metadata"].data.decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp


# ---------------------------------------------------------------------------- B-LTA


def test_upgrade_to_lta_passes_pyhanko_ades_lta_validation_offline(pki, lta):
    reader = PdfFileReader(io.BytesIO(lta))
    assert reader.embedded_timestamp_signatures, "no document timestamp"
    assert "/DSS" in reader.root and len(reader.root["/DSS"]["/CRLs"]) == 2
    for sig in reader.embedded_regular_signatures:
        result = asyncio.run(ades_lta_validation(sig, ades_spec(pki)))
        assert result.ades_subindic == AdESPassed.OK, (sig.field_name, result.ades_subindic)


def test_upgrade_to_lta_again_renews_with_one_more_document_timestamp(pki, lta):
    renewed = upgrade_to_lta(lta, pki)
    assert renewed.startswith(lta)
    reader = PdfFileReader(io.BytesIO(renewed))
    assert [t.field_name for t in reader.embedded_timestamp_signatures] == ["Timestamp-LTA1", "Timestamp-LTA2"]
    for sig in reader.embedded_regular_signatures:
        assert asyncio.run(ades_lta_validation(sig, ades_spec(pki))).ades_subindic == AdESPassed.OK
    assert verify_pdf(renewed, pki.trust_roots(), crls=pki.crls()).valid


def test_b_t_without_revocation_data_is_not_passed_by_the_strict_offline_check(pki, signed):
    """The reason for B-LTA: offline, the strict AdES check has no revocation data for B-T."""
    sig = PdfFileReader(io.BytesIO(signed)).embedded_regular_signatures[0]
    result = asyncio.run(ades_lta_validation(sig, ades_spec(pki)))
    assert result.ades_subindic != AdESPassed.OK


# ---------------------------------------------------------------------------- verification


def test_verify_good_file_reports_both_signers_with_times(pki, signed):
    started = dt.datetime.now(dt.timezone.utc)
    result = verify_pdf(signed, pki.trust_roots())
    assert result.valid and result.problem is None
    assert [c.field for c in result.signatures] == ["Sig1-leader", "Sig2-agency"]
    leader, agency = result.signatures
    assert (leader.signer_name, leader.signer_organization) == ("Nguyễn Văn A", "Ủy ban nhân dân phường Ba Đình")
    assert agency.signer_name == "Ủy ban nhân dân phường Ba Đình"
    for check in result.signatures:
        assert check.intact and check.trusted and check.covers_whole_document and check.kind == "signature"
        assert abs(check.signing_time - started) < dt.timedelta(minutes=10)
        assert abs(check.timestamp_time - check.signing_time) < dt.timedelta(seconds=5)
    assert leader.timestamp_time <= agency.timestamp_time
    assert result.sha256 == hashlib.sha256(signed).hexdigest()


def test_verify_returns_the_embedded_result_json(pki, signed):
    attachment = verify_pdf(signed, pki.trust_roots()).attachment
    assert attachment is not None and json.loads(attachment) == RESULT


def test_verify_lta_file_is_valid_and_lists_the_document_timestamp(pki, lta):
    result = verify_pdf(lta, pki.trust_roots(), crls=pki.crls())
    assert result.valid, result.signatures
    assert [c.kind for c in result.signatures] == ["signature", "signature", "document_timestamp"]
    assert result.signatures[2].signer_name == "Dịch vụ cấp dấu thời gian MotCua (phát triển)"


def test_verify_accepts_the_root_as_pem_bytes(pki, signed):
    assert verify_pdf(signed, [pki.root_pem()]).valid


def test_verify_one_flipped_byte_inside_the_signed_range_is_modified(pki, unsigned, signed):
    tampered = bytearray(signed)
    tampered[len(unsigned) // 2] ^= 0xFF  # inside the original document, covered by both signatures
    result = verify_pdf(bytes(tampered), pki.trust_roots())
    assert not result.valid and result.problem == PROBLEM_MODIFIED
    assert [c.intact for c in result.signatures] == [False, False]
    assert "digest mismatch" in result.signatures[0].summary


def test_verify_an_appended_update_that_changes_the_title_is_modified_after_signing(pki, signed):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    info = writer.trailer["/Info"].get_object()
    info["/Title"] = generic.TextStringObject("Giấy khai sinh (đã sửa)")
    writer.update_container(info)
    out = io.BytesIO()
    writer.write(out)
    assert out.getvalue().startswith(signed)
    result = verify_pdf(out.getvalue(), pki.trust_roots())
    assert not result.valid and result.problem == PROBLEM_MODIFIED
    last = result.signatures[-1]
    assert last.intact and last.trusted and not last.covers_whole_document


def test_verify_a_signature_from_a_foreign_self_made_ca_is_outside_the_trusted_pki(pki, unsigned):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Ủy ban nhân dân phường Ba Đình")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
            .sign(key, hashes.SHA256()))
    signer = CachedKeySigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        cert_registry=SimpleCertificateStore())
    forged = sign_pdf(unsigned, signer, field_name="Sig1-agency", timestamper=pki.timestamper())
    result = verify_pdf(forged, pki.trust_roots(), crls=pki.crls())
    assert not result.valid and result.problem == PROBLEM_UNTRUSTED
    assert "outside the trusted PKI" in result.problem
    check = result.signatures[0]
    assert check.intact and not check.trusted
    assert check.signer_name == "Ủy ban nhân dân phường Ba Đình"  # the name alone proves nothing


def test_verify_truncated_file_reports_damage_without_raising(pki, signed):
    result = verify_pdf(signed[: len(signed) // 2], pki.trust_roots())
    assert not result.valid and result.problem == PROBLEM_DAMAGED and result.signatures == []


@pytest.mark.parametrize("data", [b"hello", b"", b"\x00" * 4096, "tiếng Việt".encode()])
def test_verify_bytes_that_are_not_a_pdf(pki, data):
    result = verify_pdf(data, pki.trust_roots())
    assert not result.valid and result.problem == PROBLEM_NOT_PDF


def test_verify_unsigned_pdf_reports_no_signature_but_still_finds_the_attachment(pki, unsigned):
    result = verify_pdf(unsigned, pki.trust_roots())
    assert not result.valid and result.problem == PROBLEM_NO_SIGNATURE
    assert json.loads(result.attachment) == RESULT


def test_verify_an_xref_stream_declaring_millions_of_objects_fails_fast(pki):
    """A 16 MB run of zeros compresses to 16 KB: pyHanko's default limits would let its parser
    build an entry per declared object (minutes, gigabytes); ours refuse it at once."""
    count = 16 * 1024 * 1024
    data = zlib.compress(b"\x01" * count, 9)
    head = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    xref = (b"2 0 obj\n<< /Type /XRef /Size %d /W [1 0 0] /Root 1 0 R /Filter /FlateDecode /Length %d >>\n"
            b"stream\n" % (count, len(data)) + data + b"\nendstream\nendobj\n")
    hostile = head + xref + b"startxref\n%d\n%%%%EOF\n" % len(head)
    started = time.perf_counter()
    result = verify_pdf(hostile, pki.trust_roots())
    assert result.problem == PROBLEM_DAMAGED
    assert time.perf_counter() - started < 10  # unbounded, this takes over a minute


def test_verify_revoked_signer_is_untrusted_when_the_crl_is_given(pki, unsigned):
    signed_before = sign_pdf(unsigned, pki.signer("officer", "doomed"), field_name="Sig1-doomed",
                             timestamper=pki.timestamper())
    pki.revoke("officer", "doomed")
    revoked = verify_pdf(signed_before, pki.trust_roots(), crls=pki.crls())
    assert not revoked.valid and revoked.problem == PROBLEM_REVOKED
    assert revoked.signatures[0].intact and not revoked.signatures[0].trusted
    # Revocation checking is soft-fail: without the CRL the verifier cannot know, and trusts it.
    # Validation time is now, so the revocation counts although it came after the signature.
    assert verify_pdf(signed_before, pki.trust_roots()).valid
