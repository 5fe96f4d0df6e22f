"""Rules of the results store: verification tokens, status at a moment, what may be reused.

Pure: standard library only. A token is a capability (80 bits of HMAC-SHA256 over the result id),
never a hash of personal data, so a QR code reveals nothing and ids cannot be enumerated.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

STATUSES = ("pending", "valid", "revoked", "superseded", "expired")
TOKEN_CHARS = 16  # 16 base32 characters = 80 bits


def verification_token(secret: bytes, document_id: str) -> str:
    mac = hmac.new(secret, b"motcua-verify:" + document_id.encode("utf-8"), hashlib.sha256).digest()
    return base64.b32encode(mac).decode("ascii")[:TOKEN_CHARS]


def token_matches(secret: bytes, document_id: str, token: str) -> bool:
    return hmac.compare_digest(verification_token(secret, document_id), (token or "").upper())


@dataclass(frozen=True)
class Standing:
    status: str
    reason: str | None


def standing(status: str, valid_until: dt.datetime | None, now: dt.datetime, reason: str | None = None) -> Standing:
    """The status a reader should see now: a valid result past its validity reads as expired."""
    if status == "valid" and valid_until is not None and now >= valid_until:
        return Standing("expired", "validity ended")
    return Standing(status, reason)


def reusable(status: str, valid_until: dt.datetime | None, now: dt.datetime) -> bool:
    """A result may stand in for a paper document only while it is valid."""
    return standing(status, valid_until, now).status == "valid"
