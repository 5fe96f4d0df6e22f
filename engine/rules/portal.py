"""The national public-service portal's terms (vietnam-rules §2.2, §2.4): a dossier's status as the
portal records it, built from one event of our feed. Pure."""
from __future__ import annotations

from typing import Any

# Decree 61/2018 Art. 16 channels, with the codes the national portal's integrations use.
CHANNEL_CODES = {"counter": 1, "online": 2, "postal": 3}


def channel_code(channel: str | None) -> int | None:
    return CHANNEL_CODES.get(channel or "")


def portal_status(event: dict[str, Any]) -> dict[str, Any] | None:
    """The record the portal keeps for the event's dossier after this event, or None when the event
    says nothing the portal keeps (no dossier code yet, no status code). ``event``: a feed event as the
    API shows it (``id``, ``type``, ``dossier`` {id, code}, ``status_code``, ``data``)."""
    dossier = event.get("dossier") or {}
    code = dossier.get("code")
    status = event.get("status_code")
    if not code or not isinstance(status, int) or not 1 <= status <= 10:
        return None
    data = event.get("data") or {}
    return {
        "dossier_code": code,
        "status_code": status,
        "received_at": data.get("received_at"),
        "due_at": data.get("due_at"),
        "finished_at": data.get("finished_at"),
        "channel": channel_code(data.get("channel")),
        "result": data.get("outcome"),
        "event_id": event["id"],
    }


def idempotency_key(record: dict[str, Any]) -> str:
    """The key of one push: the dossier code and the event that moved it."""
    return f"{record['dossier_code']}:{record['event_id']}"
