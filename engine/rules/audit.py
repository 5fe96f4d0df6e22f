"""The audit trail's hash chain: each event's SHA-256 covers its content and the previous hash.

Editing an event changes its hash; deleting one breaks the link of the next or leaves the
dossier's head pointer (hash and count of the last event) pointing at nothing.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

HASHED_FIELDS = (
    "dossier_id", "seq", "action", "actor_account_id", "actor_name", "role", "agency_id",
    "from_state", "to_state", "at", "comment", "reason", "items", "details", "prev_hash",
)


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def event_hash(fields: dict[str, Any]) -> str:
    """The hash of one event given its fields (``prev_hash`` included)."""
    body = {name: _plain(fields.get(name)) for name in HASHED_FIELDS}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    dossier_id: str
    seq: int | None
    message: str


def verify_chain(dossier_id: str, events: Iterable[Any], *, head_hash: str | None, count: int) -> list[ChainProblem]:
    """Check one dossier's events (objects with the HASHED_FIELDS attributes plus ``hash``), in seq order."""
    problems: list[ChainProblem] = []
    prev: str | None = None
    expected_seq = 1
    n = 0
    for ev in events:
        n += 1
        if ev.seq != expected_seq:
            problems.append(ChainProblem(dossier_id, ev.seq, f"event {expected_seq} is missing (found {ev.seq})"))
            expected_seq = ev.seq
        if ev.prev_hash != prev:
            problems.append(ChainProblem(dossier_id, ev.seq, "link to the previous event is broken"))
        fields = {name: getattr(ev, name) for name in HASHED_FIELDS}
        if event_hash(fields) != ev.hash:
            problems.append(ChainProblem(dossier_id, ev.seq, "event content does not match its hash (edited)"))
        prev = ev.hash
        expected_seq += 1
    if n != count:
        problems.append(ChainProblem(dossier_id, None, f"the dossier records {count} events but {n} are stored"))
    if prev != head_hash:
        problems.append(ChainProblem(dossier_id, None, "the last stored event is not the dossier's last recorded event"))
    return problems


def chain_event(d: Any, *, actor_account_id: int | None, actor_name: str, agency_id: int | None, action: str,
                from_state: str | None, to_state: str, at: dt.datetime, role: str, comment: str | None = None,
                reason: str | None = None, items: list[str] | None = None,
                details: dict | None = None) -> dict[str, Any]:
    """The next audit event of ``d`` (any object with ``id``, ``event_count`` and ``last_event_hash``),
    its hash chained to the previous one; moves the dossier's head to it."""
    fields = dict(dossier_id=d.id, seq=(d.event_count or 0) + 1, action=action, actor_account_id=actor_account_id,
                  actor_name=actor_name, role=role, agency_id=agency_id, from_state=from_state,
                  to_state=to_state, at=at, comment=comment, reason=reason, items=items, details=details,
                  prev_hash=d.last_event_hash)
    digest = event_hash(fields)
    fields["hash"] = digest
    d.event_count = fields["seq"]
    d.last_event_hash = digest
    return fields
