"""Verification links: the public address of a signed document, with its HMAC token (what the QR
code on the paper opens)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.rules import results as result_rules


@dataclass(frozen=True)
class Links:
    public_url: str
    secret: bytes

    def verify_url(self, document_id: str) -> str:
        token = result_rules.verification_token(self.secret, document_id)
        return f"{self.public_url.rstrip('/')}/verify/{document_id}/{token}"

    def token_matches(self, document_id: str, token: str) -> bool:
        return result_rules.token_matches(self.secret, document_id, token)
