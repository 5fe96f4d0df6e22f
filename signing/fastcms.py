"""CMS assembly for PAdES signatures and RFC 3161 tokens from pre-encoded parts.

pyHanko builds each signature's CMS (and the in-process timestamp service each token) as a tree
of asn1crypto objects made from native values, then encodes it: about 10,000 small encoding calls
per document, most of them re-encoding the same certificates, names and algorithm identifiers
every time. Everything in a signer's CMS except the document digest, the signature value and the
timestamp token is the same for every document it signs, so it is encoded once per signer (and
once per timestamp service) and kept with the signer object, which ``signing.pki`` caches per
process; per document only the few changing values are encoded and the DER is put together
around them (a few dozen byte concatenations).

The output is exactly what pyHanko makes for the same inputs: the same signed attributes
(content-type, message-digest, signing-certificate-v2: PAdES baseline, no signing-time), the same
certificate set (the signer's chain, roots included, sorted as DER sets are), the same unsigned
signature-timestamp attribute, and for tokens the layout of pyHanko's ``DummyTimeStamper``
(TSTInfo with policy, imprint, serial, time, nonce and the TSA's name; signed attributes
content-type, signing-time, signing-certificate, message-digest; the TSA's chain). The constant
parts are encoded by asn1crypto itself, so their bytes are asn1crypto's. Anything outside that
case (a dry run, other attribute settings or providers, encapsulated content) is left to pyHanko.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import struct
from collections.abc import Iterable

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from pyhanko.sign import general

# ---------------------------------------------------------------------- DER

SEQUENCE, SET, INTEGER, OCTET_STRING = 0x30, 0x31, 0x02, 0x04
CONTEXT_0, CONTEXT_1 = 0xA0, 0xA1  # [0] / [1], constructed


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, *parts: bytes) -> bytes:
    content = b"".join(parts)
    return bytes((tag,)) + _length(len(content)) + content


def der_set(tag: int, items: Iterable[bytes]) -> bytes:
    """A DER SET OF (sorted encodings), under ``tag`` (SET, or an implicit [n] tag)."""
    return tlv(tag, *sorted(items))


def attribute(type_der: bytes, *values: bytes) -> bytes:
    return tlv(SEQUENCE, type_der, der_set(SET, values))


def _oid(name: str) -> bytes:
    return cms.CMSAttributeType(name).dump()


def random_nonce() -> int:
    return struct.unpack(">q", b"\x01" + os.urandom(7))[0]  # like pyHanko's get_nonce: 8 bytes, positive


_SIGNED_DATA_OID = cms.ContentType("signed_data").dump()
_DATA_OID = cms.ContentType("data").dump()
_TST_INFO_OID = cms.ContentType("tst_info").dump()
_CONTENT_TYPE = _oid("content_type")
_MESSAGE_DIGEST = _oid("message_digest")
_SIGNING_TIME = _oid("signing_time")
_SIGNATURE_TIMESTAMP = _oid("signature_time_stamp_token")
_ONE = core.Integer(1).dump()
_THREE = core.Integer(3).dump()


def content_info(signed_data: bytes) -> bytes:
    return tlv(SEQUENCE, _SIGNED_DATA_OID, tlv(CONTEXT_0, signed_data))


def _issuer_and_serial(cert: asn1_x509.Certificate) -> bytes:
    return cms.IssuerAndSerialNumber({"issuer": cert.issuer, "serial_number": cert.serial_number}).dump()


def _certificate_set(certs: Iterable[asn1_x509.Certificate]) -> bytes:
    return der_set(CONTEXT_0, {c.dump() for c in certs})


# ---------------------------------------------------------------------- PAdES signature


class PadesTemplate:
    """The constant parts of one signer's PAdES CMS, encoded once."""

    def __init__(self, signing_cert: asn1_x509.Certificate, chain: Iterable[asn1_x509.Certificate],
                 signature_algorithm: algos.SignedDigestAlgorithm, digest_algorithm: str, *, embed_roots: bool):
        self.digest_algorithm = digest_algorithm
        digest = algos.DigestAlgorithm({"algorithm": digest_algorithm}).dump()
        self._digest_alg = digest
        self._sig_alg = signature_algorithm.dump()
        self._sid = _issuer_and_serial(signing_cert)
        certs = [c for c in chain if embed_roots or c.self_signed == "no"] + [signing_cert]
        self._certs = _certificate_set(certs)
        self._content_type_attr = attribute(_CONTENT_TYPE, _DATA_OID)
        self._signing_cert_attr = attribute(_oid("signing_certificate_v2"),
                                            general.as_signing_certificate_v2(signing_cert, digest_algorithm).dump())

    def signed_attrs(self, document_digest: bytes) -> bytes:
        """The signed attributes as a DER SET (the bytes the signature is computed over)."""
        md = attribute(_MESSAGE_DIGEST, core.OctetString(document_digest).dump())
        return der_set(SET, (self._content_type_attr, md, self._signing_cert_attr))

    def content_info(self, signed_attrs: bytes, signature: bytes, timestamp_token: bytes | None) -> bytes:
        signer_info = [_ONE, self._sid, self._digest_alg, bytes((CONTEXT_0,)) + signed_attrs[1:], self._sig_alg,
                       tlv(OCTET_STRING, signature)]
        if timestamp_token is not None:
            signer_info.append(der_set(CONTEXT_1, [attribute(_SIGNATURE_TIMESTAMP, timestamp_token)]))
        signed_data = tlv(SEQUENCE, _ONE, tlv(SET, self._digest_alg), tlv(SEQUENCE, _DATA_OID), self._certs,
                          tlv(SET, tlv(SEQUENCE, *signer_info)))
        return content_info(signed_data)


# ---------------------------------------------------------------------- RFC 3161 token


TSA_POLICY = "1.3.6.1.4.1.4146.2.2"  # the policy pyHanko's DummyTimeStamper writes (a testing device's)


class TokenTemplate:
    """The constant parts of an in-process TSA's tokens (its chain, name and ESS attribute), encoded once."""

    def __init__(self, tsa_cert: asn1_x509.Certificate, certs_to_embed: Iterable[asn1_x509.Certificate]):
        self._tsa_cert = tsa_cert
        self._sid = _issuer_and_serial(tsa_cert)
        self._certs = _certificate_set(list(certs_to_embed) + [tsa_cert])
        self._policy = core.ObjectIdentifier(TSA_POLICY).dump()
        self._tsa_name = tlv(CONTEXT_0, asn1_x509.GeneralName(name="directory_name", value=tsa_cert.subject).dump())
        self._content_type_attr = attribute(_CONTENT_TYPE, _TST_INFO_OID)
        self._signing_cert_attr = attribute(_oid("signing_certificate"),
                                            general.as_signing_certificate(tsa_cert).dump())
        self._rsa_alg = algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}).dump()
        self._digest_algs: dict[str, bytes] = {}

    def _digest_alg(self, md_algorithm: str) -> bytes:
        found = self._digest_algs.get(md_algorithm)
        if found is None:
            found = self._digest_algs[md_algorithm] = algos.DigestAlgorithm({"algorithm": md_algorithm}).dump()
        return found

    def tst_info(self, message_digest: bytes, md_algorithm: str, when: dt.datetime, nonce: int | None) -> bytes:
        imprint = tlv(SEQUENCE, self._digest_alg(md_algorithm), core.OctetString(message_digest).dump())
        parts = [_ONE, self._policy, imprint, core.Integer(random_nonce()).dump(), core.GeneralizedTime(when).dump()]
        if nonce is not None:
            parts.append(core.Integer(nonce).dump())
        parts.append(self._tsa_name)
        return tlv(SEQUENCE, *parts)

    def signed_attrs(self, tst_info: bytes, md_algorithm: str, when: dt.datetime) -> bytes:
        digest = hashlib.new(md_algorithm, tst_info).digest()
        return der_set(SET, (
            self._content_type_attr,
            attribute(_SIGNING_TIME, cms.Time({"utc_time": core.UTCTime(when)}).dump()),
            self._signing_cert_attr,
            attribute(_MESSAGE_DIGEST, core.OctetString(digest).dump()),
        ))

    def token(self, tst_info: bytes, signed_attrs: bytes, signature: bytes, md_algorithm: str) -> bytes:
        digest_alg = self._digest_alg(md_algorithm)
        signer_info = tlv(SEQUENCE, _ONE, self._sid, digest_alg, bytes((CONTEXT_0,)) + signed_attrs[1:],
                          self._rsa_alg, tlv(OCTET_STRING, signature))
        encap = tlv(SEQUENCE, _TST_INFO_OID, tlv(CONTEXT_0, tlv(OCTET_STRING, tst_info)))
        signed_data = tlv(SEQUENCE, _THREE, tlv(SET, digest_alg), encap, self._certs, tlv(SET, signer_info))
        return content_info(signed_data)


def load_content_info(der: bytes) -> cms.ContentInfo:
    """Parsed lazily; encoding it again returns these bytes as they are."""
    return cms.ContentInfo.load(der)
