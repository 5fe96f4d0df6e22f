"""The event feed's pure rules: the event types, the webhook signature, and which target addresses a
webhook may not be sent to.

A webhook body is signed with the subscription's secret: ``X-MotCua-Signature: t=<unix time>,
v1=<hex HMAC-SHA256 of "<t>.<body>">`` (the time is inside the signed text, so a captured body cannot
be replayed later with a fresh time). ``signature_valid`` is the receiver's check, used by the tests.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress

DOSSIER_TRANSITION = "dossier.transition"
PAYMENT_CONFIRMED = "payment.confirmed"
RESULT_ISSUED = "result.issued"
RESULT_REVOKED = "result.revoked"
RESULT_SUPERSEDED = "result.superseded"
EVENT_TYPES = (DOSSIER_TRANSITION, PAYMENT_CONFIRMED, RESULT_ISSUED, RESULT_REVOKED, RESULT_SUPERSEDED)
RESULT_EVENTS = frozenset({RESULT_ISSUED, RESULT_REVOKED, RESULT_SUPERSEDED})

SIGNATURE_HEADER = "X-MotCua-Signature"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The value of the signature header for ``body`` sent at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is a valid signature of ``body`` with ``secret`` (the receiver's check)."""
    if not header:
        return False
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    stamp = parts.get("t", "")
    if not stamp.isdigit() or "v1" not in parts:
        return False
    return hmac.compare_digest(sign(secret, body, int(stamp)), f"t={stamp},v1={parts['v1']}")


def body_signature(key: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of the body>``: the ``X-Signature`` of a page of the feed."""
    return "sha256=" + hmac.new(key.encode("utf-8"), body, hashlib.sha256).hexdigest()


def address_refusal(address: str) -> str | None:
    """Why a webhook may not be sent to this IP address (loopback, private, link-local, multicast,
    reserved, unspecified, or not public for another reason), or None when it may."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for name in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    if not ip.is_global:
        return "not public"
    return None
