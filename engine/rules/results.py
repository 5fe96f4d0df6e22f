"""Rules of the results store: verification tokens, status at a moment, what may be reused.

Pure: standard library only. A token is a capability (80 bits of HMAC-SHA256 over the result id),
never a hash of personal data, so a QR code reveals nothing and ids cannot be enumerated.
"""
from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.rules.identity import mask_personal_id

if TYPE_CHECKING:
    from engine.rules.definitions.schema import Procedure, ResultDef

STATUSES = ("pending", "valid", "revoked", "superseded", "expired")
TOKEN_CHARS = 16  # 16 base32 characters = 80 bits


@functools.lru_cache(maxsize=4096)  # a dossier's view shows the links of its results on every read
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


# --------------------------------------------------------------------------- what a public page shows

_CONTACT = frozenset({"address", "phone", "email"})


def _source_kind(proc: Procedure | None, source: str) -> str:
    """personal_id, address, phone, email or "" for a result data source; a residence typed as text is
    an address all the same."""
    root, _dot, name = source.partition(".")
    f = proc.field(name) if root == "form" and proc is not None else None
    if f is not None and f.type in _CONTACT | {"personal_id"}:
        return f.type
    if name == "personal_id" or name.endswith("_personal_id"):
        return "personal_id"
    if "address" in name or "residence" in name:
        return "address"
    if name in ("phone", "email"):
        return name
    return ""


def public_data(result: ResultDef | None, proc: Procedure | None, data: dict[str, Any]) -> dict[str, Any]:
    """A stored result's data as anyone holding its QR code may see it: only the keys its template
    prints, personal ids masked, no address, phone or e-mail (a verifier matches names, dates and
    numbers, not where people live or how to reach them). Without the definition nothing is shown."""
    if result is None:
        return {}
    out: dict[str, Any] = {}
    for key, source in result.data:
        value = data.get(key)
        if key not in result.printed or value in (None, ""):
            continue
        kind = _source_kind(proc, source)
        if kind in _CONTACT:
            continue
        out[key] = mask_personal_id(value) if kind == "personal_id" else value
    return out


# --------------------------------------------------------------------------- the verdict in words

OUTCOMES = ("genuine", "recorded", "revoked", "superseded", "expired", "unknown", "tampered", "unverified")
_TAMPERED = {"modified after signing", "truncated or damaged file"}
_UNKNOWN = {"not a PDF", "no signature", "signed by a key outside the trusted PKI",
            "not issued by this system (unknown to the store)"}


def outcome(*, checked: bool, valid: bool, problem: str | None, status: str | None) -> str:
    """One word for what a verifier learnt: genuine, recorded (a digitised register record, no signed
    file to check), revoked, superseded, expired, unknown (not issued by this system), tampered, or
    unverified (the check could not conclude, e.g. an untrusted timestamp)."""
    if checked and problem in _TAMPERED:
        return "tampered"
    if status in ("revoked", "superseded", "expired"):
        return status
    if checked and valid:
        return "genuine"
    if not checked:
        return "recorded" if status == "valid" else "unverified"
    if problem in _UNKNOWN or status is None:
        return "unknown"
    return "unverified"
