"""Detached signatures over canonical JSON: how an outside issuer (a hospital) seals the results it
deposits, and how we verify them on the way in.

The signed bytes are the request body in canonical form: UTF-8 JSON with keys sorted, no
insignificant whitespace and non-ASCII characters written as themselves (``canonical_json``). The
signature travels base64-encoded in the ``X-Signature`` header. Keys: Ed25519, or ECDSA on P-256
with SHA-256 (DER-encoded signature). A key is registered as its public key in PEM
(SubjectPublicKeyInfo); its fingerprint is the SHA-256 of that structure in DER, in hex.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

ALGORITHMS = ("ed25519", "ecdsa-p256")


def canonical_json(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _public_key(pem: str | bytes) -> tuple[Any, str]:
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii") if isinstance(pem, str) else pem)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise ValueError("not a PEM public key") from exc
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key, "ed25519"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key, "ecdsa-p256"
    raise ValueError("the key must be Ed25519 or ECDSA P-256")


def key_info(pem: str | bytes) -> tuple[str, str]:
    """(algorithm, fingerprint) of a public key; ValueError when it is not a usable one."""
    key, algorithm = _public_key(pem)
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return algorithm, hashlib.sha256(der).hexdigest()


def verify(pem: str | bytes, message: bytes, signature_b64: str) -> bool:
    """Whether ``signature_b64`` is a valid signature of ``message`` by the key."""
    key, algorithm = _public_key(pem)
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        if algorithm == "ed25519":
            key.verify(signature, message)
        else:
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def sign(private_pem: str | bytes, message: bytes) -> str:
    """The base64 signature of ``message`` with a PEM private key (clients, the demo and the tests)."""
    key = serialization.load_pem_private_key(private_pem.encode("ascii") if isinstance(private_pem, str) else private_pem,
                                             password=None)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.sign(message)
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        raw = key.sign(message, ec.ECDSA(hashes.SHA256()))
    else:
        raise ValueError("the key must be Ed25519 or ECDSA P-256")
    return base64.b64encode(raw).decode("ascii")


def ed25519_private_pem(seed: bytes | None = None) -> str:
    """A new Ed25519 private key in PEM (PKCS#8); from a 32-byte ``seed`` when given (the demo)."""
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed) if seed is not None else ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def public_pem(private_pem: str | bytes) -> str:
    key = serialization.load_pem_private_key(private_pem.encode("ascii") if isinstance(private_pem, str) else private_pem,
                                             password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


class DetachedSignatures:
    """The signature-verifier port of engine.usecases.deposits."""

    def key_info(self, public_key_pem: str) -> tuple[str, str]:
        return key_info(public_key_pem)

    def verify(self, public_key_pem: str, message: bytes, signature: str) -> bool:
        return verify(public_key_pem, message, signature)
