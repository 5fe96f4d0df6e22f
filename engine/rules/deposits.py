"""Results deposited from outside (a hospital's birth or death notice): the body's shape, its data
against the keys the evidence type declares (procedures/evidence-types.yaml), and its canonical
form, the bytes the issuer signs.

    {"evidence_type": "medical-birth-notice", "number": "GCS-2026-000123",
     "issued_at": "2026-02-20T10:15:00", "holders": ["<mother's personal id>"],
     "data": {"date_of_birth": "2026-02-20", "sex": "male", ...}}
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from engine.rules.definitions.schema import EvidenceType
from engine.rules.errors import ValidationError
from engine.rules.identity import PersonalIdRule
from engine.rules.text import text_problem

BODY_KEYS = frozenset({"evidence_type", "number", "issued_at", "holders", "data"})
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_HOLDERS = 10
MAX_TEXT = 1000


@dataclass(frozen=True)
class Deposit:
    evidence_type: str
    number: str
    issued_at: dt.datetime
    holders: tuple[str, ...]
    data: dict[str, Any]


def canonical_json(body: Any) -> bytes:
    """The bytes an issuer signs: UTF-8 JSON, keys sorted, no insignificant whitespace, non-ASCII as is."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _bad(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field}: {message}", fields={field: [message]})


def parse_deposit(body: Any, evidence: dict[str, EvidenceType], ids: PersonalIdRule, now: dt.datetime) -> Deposit:
    """Check the body and return it as a Deposit; ValidationError (422) naming the field otherwise."""
    if not isinstance(body, dict):
        raise ValidationError("Nội dung phải là một đối tượng JSON / the body must be a JSON object")
    unknown = sorted(set(body) - BODY_KEYS)
    if unknown:
        raise ValidationError("unknown keys", fields={k: ["không được nhận / not accepted"] for k in unknown})
    ev_id = body.get("evidence_type")
    ev = evidence.get(ev_id) if isinstance(ev_id, str) else None
    if ev is None:
        raise _bad("evidence_type", "loại giấy tờ không có / unknown evidence type")
    if not ev.data:
        raise _bad("evidence_type", "loại giấy tờ này không nhận từ bên ngoài / this evidence type cannot be deposited")
    number = body.get("number")
    if not isinstance(number, str) or not number.strip() or len(number) > 80 or text_problem(number):
        raise _bad("number", "số giấy tờ: 1-80 ký tự / the number: 1 to 80 characters")
    issued_at = _when(body.get("issued_at"))
    if issued_at is None:
        raise _bad("issued_at", "ngày giờ ISO 8601 / an ISO 8601 date-time")
    if issued_at > now + dt.timedelta(minutes=5):
        raise _bad("issued_at", "không được ở tương lai / must not be in the future")
    holders = body.get("holders")
    if (not isinstance(holders, list) or not 1 <= len(holders) <= MAX_HOLDERS
            or not all(ids.matches(h) for h in holders) or len(set(holders)) != len(holders)):
        raise _bad("holders", f"1-{MAX_HOLDERS} số định danh khác nhau / 1 to {MAX_HOLDERS} distinct personal ids")
    data = body.get("data")
    if not isinstance(data, dict):
        raise _bad("data", "một đối tượng / an object")
    declared = {k.key: k for k in ev.data}
    problems: dict[str, list[str]] = {}
    for key in data:
        if key not in declared:
            problems[f"data.{key}"] = ["không khai báo cho loại giấy tờ này / not declared for this evidence type"]
    for key, spec in declared.items():
        value = data.get(key)
        if value is None:
            if spec.required:
                problems[f"data.{key}"] = ["bắt buộc / required"]
            continue
        problem = _value_problem(spec.type, value, ids)
        if problem:
            problems[f"data.{key}"] = [problem]
        elif spec.type == "personal_id" and value not in holders:
            problems[f"data.{key}"] = ["phải là một người giữ giấy tờ / must be one of the holders"]
    if problems:
        raise ValidationError("Dữ liệu không hợp lệ / invalid data", fields=problems)
    return Deposit(ev.id, number.strip(), issued_at, tuple(holders), dict(data))


def _when(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=None) if parsed.tzinfo else parsed  # local time, like every stored date


def _value_problem(kind: str, value: Any, ids: PersonalIdRule) -> str | None:
    if kind == "text":
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
            return f"văn bản 1-{MAX_TEXT} ký tự / text of 1 to {MAX_TEXT} characters"
        return text_problem(value)
    if kind == "date":
        try:
            if isinstance(value, str) and len(value) == 10:
                dt.date.fromisoformat(value)
                return None
        except ValueError:
            pass
        return "ngày YYYY-MM-DD / a date YYYY-MM-DD"
    if kind == "time":
        return None if isinstance(value, str) and TIME.match(value) else "giờ HH:MM / a time HH:MM"
    if kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 10**9
        return None if ok else "số không âm / a non-negative number"
    if kind == "personal_id":
        return None if ids.matches(value) else "số định danh 12 chữ số / a 12-digit personal id"
    if kind == "sex":
        return None if value in ("female", "male") else "female | male"
    return "unknown type"
