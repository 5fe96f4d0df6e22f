"""Outgoing HTTP for the event feed's followers: webhook POSTs and the national portal's API.

``HttpSender`` resolves a target's host (the webhooks refuse loopback and private addresses unless an
administrator allows them, engine.rules.events.address_refusal) and POSTs a body without following
redirects (a redirect could lead to an address that was refused). ``HttpPortal`` speaks the portal
sandbox's API (motcua.sandbox), the adapter a real portal's connector replaces.
"""
from __future__ import annotations

import socket
from typing import Any

import requests


class HttpSender:
    """The webhook port over ``requests``: one POST per call, no redirects, no retries (the queue retries)."""

    def __init__(self, *, timeout: float = 10.0):
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy from the environment: the address checked is the one reached

    def resolve(self, host: str, port: int) -> list[str]:
        """Every address ``host`` resolves to; OSError when it does not resolve."""
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return sorted({info[4][0] for info in infos})

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        """(HTTP status, None), or (None, the error) when no answer came."""
        try:
            response = self.session.post(url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            return None, f"{type(exc).__name__}: {exc}"[:300]
        response.close()
        return response.status_code, None


class PortalError(Exception):
    """The portal did not take a status (no answer, or an error status)."""


class HttpPortal:
    """The national portal's API as the sandbox offers it: ``POST {url}/dossiers`` with one dossier's
    status (``Idempotency-Key``: the dossier code and the event), ``GET {url}/dossiers`` for all."""

    def __init__(self, url: str, token: str | None, *, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.session = requests.Session()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def push_status(self, record: dict[str, Any], key: str) -> None:
        try:
            response = self.session.post(f"{self.url}/dossiers", json=record, timeout=self.timeout,
                                         headers={**self._headers(), "Idempotency-Key": key})
        except requests.RequestException as exc:
            raise PortalError(f"{type(exc).__name__}: {exc}") from None
        if response.status_code >= 300:
            raise PortalError(f"HTTP {response.status_code}: {response.text[:200]}")

    def holdings(self) -> dict[str, dict[str, Any]]:
        """Every dossier the portal holds, by code."""
        try:
            response = self.session.get(f"{self.url}/dossiers", timeout=self.timeout, headers=self._headers())
        except requests.RequestException as exc:
            raise PortalError(f"{type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            raise PortalError(f"HTTP {response.status_code}: {response.text[:200]}")
        return {row["dossier_code"]: row for row in response.json()["dossiers"]}
