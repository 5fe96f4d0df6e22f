"""Keyset paging: the opaque cursor a list hands out for "the rows after this one".

A cursor carries the sort key of the last row shown (a date-time or nothing, and the row's id) and the
order it belongs to, as URL-safe base64 of a small JSON object. It is not a secret and not signed: a
cursor someone made up only moves where the next page starts, within what the reader may see anyway.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass

from engine.rules.errors import ValidationError

MAX_CURSOR = 200  # characters; a real cursor is about 90


@dataclass(frozen=True)
class Cursor:
    order: str  # "due" (staff: due date, then id) | "new" (citizen: newest first, then id)
    at: dt.datetime | None  # the last row's due date (None: the rows without one) or creation time
    id: str


def encode(cursor: Cursor) -> str:
    body = {"o": cursor.order, "t": cursor.at.isoformat() if cursor.at else None, "i": cursor.id}
    return base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(text: str, order: str) -> Cursor:
    """The cursor ``text`` stands for, which must belong to ``order``; ValidationError otherwise."""
    try:
        if not isinstance(text, str) or not text or len(text) > MAX_CURSOR:
            raise ValueError("length")
        body = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
        if not isinstance(body, dict) or body.get("o") != order or not isinstance(body.get("i"), str):
            raise ValueError("shape")
        if len(body["i"]) > 64 or not body["i"].isprintable():  # an id: no NUL, no control characters
            raise ValueError("id")
        at = body.get("t")
        if at is not None and not isinstance(at, str):
            raise ValueError("time")
        when = dt.datetime.fromisoformat(at) if at else None
        if when is not None and when.tzinfo is not None:
            raise ValueError("time zone")
        if order == "new" and when is None:
            raise ValueError("time")
        return Cursor(order, when, body["i"])
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error, json.JSONDecodeError):
        raise ValidationError("cursor is not one this list handed out",
                              fields={"cursor": ["con trỏ trang không hợp lệ / not a cursor this list handed out"]}) from None


# --------------------------------------------------------------------------- a dossier's events

EVENTS_SHOWN = 20  # the latest events a dossier's view carries; older ones are paged (``before``)
MAX_EVENTS_PAGE = 100


def event_page_args(before: object, limit: object) -> tuple[int | None, int]:
    """``before`` (a sequence number: the page holds the events older than it; none: the latest) and
    ``limit`` (1 to MAX_EVENTS_PAGE, EVENTS_SHOWN if not given) as sent, checked; ValidationError otherwise."""
    def number(value: object, name: str, top: int) -> int:
        text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
        if not text.isdigit() or not 1 <= int(text) <= top:
            raise ValidationError(f"{name} must be an integer from 1 to {top}",
                                  fields={name: [f"số nguyên từ 1 đến {top} / an integer from 1 to {top}"]})
        return int(text)

    return (None if before in (None, "") else number(before, "before", 2**31 - 1),
            EVENTS_SHOWN if limit in (None, "") else number(limit, "limit", MAX_EVENTS_PAGE))
