"""The CMS assembled from pre-encoded parts (signing.fastcms) is what pyHanko's own assembly makes."""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib

import pytest
from asn1crypto import cms, tsp
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from signing.pki import PKI, InProcessTimeStamper, Party

AGENCY = Party("agency", "000.00.25.H26", "Ủy ban nhân dân phường Ba Đình", "Ủy ban nhân dân phường Ba Đình")


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> PKI:
    return PKI.ensure(tmp_path_factory.mktemp("pki"), b"fastcms-test", [AGENCY])


def _pyhanko_signed_attrs(signer, digest: bytes) -> bytes:
    return asyncio.run(signer.signed_attrs(digest, "sha256", use_pades=True)).dump()


def test_signed_attributes_are_byte_for_byte_pyhankos(pki):
    signer = pki.signer("agency", AGENCY.key)
    digest = hashlib.sha256(b"document").digest()
    assert signer._template("sha256").signed_attrs(digest) == _pyhanko_signed_attrs(signer, digest)


def test_the_cms_matches_pyhankos_apart_from_the_signature_and_token(pki):
    signer = pki.signer("agency", AGENCY.key)
    tsa = pki.timestamper()
    digest = hashlib.sha256(b"document").digest()
    ours = asyncio.run(signer.async_sign(digest, "sha256", use_pades=True, timestamper=tsa))
    theirs = asyncio.run(super(type(signer), signer).async_sign(digest, "sha256", use_pades=True, timestamper=tsa))
    ours, theirs = cms.ContentInfo.load(ours.dump()), cms.ContentInfo.load(theirs.dump())
    a, b = ours["content"], theirs["content"]
    assert a["version"].native == b["version"].native == "v1"
    assert a["digest_algorithms"].dump() == b["digest_algorithms"].dump()
    assert a["encap_content_info"].dump() == b["encap_content_info"].dump()
    assert sorted(c.dump() for c in a["certificates"]) == sorted(c.dump() for c in b["certificates"])
    sa, sb = a["signer_infos"][0], b["signer_infos"][0]
    for key in ("version", "sid", "digest_algorithm", "signed_attrs", "signature_algorithm"):
        assert sa[key].dump() == sb[key].dump(), key
    assert [x["type"].native for x in sa["unsigned_attrs"]] == ["signature_time_stamp_token"]
    # the signature verifies over the signed attributes (as a SET), the token covers the signature
    key = cx509.load_der_x509_certificate(signer.signing_cert.dump()).public_key()
    key.verify(sa["signature"].native, b"\x31" + sa["signed_attrs"].dump()[1:], ec.ECDSA(hashes.SHA256()))
    token = sa["unsigned_attrs"][0]["values"][0]
    info = token["content"]["encap_content_info"]["content"].parsed
    assert isinstance(info, tsp.TSTInfo)
    assert info["message_imprint"]["hashed_message"].native == hashlib.sha256(sa["signature"].native).digest()


def test_a_token_has_the_dummy_timestampers_layout(pki):
    tsa = pki.timestamper()
    assert isinstance(tsa, InProcessTimeStamper)
    digest = hashlib.sha256(b"x").digest()
    ours = cms.ContentInfo.load(tsa.token(digest, "sha256"))["content"]
    theirs = asyncio.run(super(InProcessTimeStamper, tsa).async_timestamp(digest, "sha256"))
    theirs = cms.ContentInfo.load(theirs.dump())["content"]
    assert ours["version"].native == theirs["version"].native == "v3"
    assert sorted(c.dump() for c in ours["certificates"]) == sorted(c.dump() for c in theirs["certificates"])
    oi, ti = ours["encap_content_info"]["content"].parsed, theirs["encap_content_info"]["content"].parsed
    assert [k for k, v in oi.native.items() if v is not None] == [k for k, v in ti.native.items() if v is not None]
    for key in ("version", "policy", "message_imprint", "tsa"):
        assert oi[key].dump() == ti[key].dump(), key
    assert abs(oi["gen_time"].native - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=1)
    osi, tsi = ours["signer_infos"][0], theirs["signer_infos"][0]
    for key in ("version", "sid", "digest_algorithm", "signature_algorithm"):
        assert osi[key].dump() == tsi[key].dump(), key
    assert sorted(a["type"].native for a in osi["signed_attrs"]) == sorted(a["type"].native for a in tsi["signed_attrs"])

    def ess(attrs):
        return next(a.dump() for a in attrs if a["type"].native == "signing_certificate")

    assert ess(osi["signed_attrs"]) == ess(tsi["signed_attrs"])
