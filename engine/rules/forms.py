"""Validate a dossier's form data against its procedure's fields. Pure rules."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from engine.rules.definitions.schema import FieldDef, Procedure
from engine.rules.identity import PERSONAL_ID, PersonalIdRule
from engine.rules.text import text_problem

PHONE = re.compile(r"^(\+84|0)\d{9,10}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_TEXT = 500


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_value(f: FieldDef, value: Any, ids: PersonalIdRule = PERSONAL_ID) -> tuple[Any, str | None]:
    """Return (normalised value, error message or None) for one field; ``ids`` is the personal-id rule."""
    if _is_empty(value):
        return None, None
    t = f.type
    if t in ("text", "address"):
        if not isinstance(value, str):
            return value, "phải là chuỗi ký tự / must be text"
        value = value.strip()
        # the last line of defence: whatever the edge let through, no form stores what cannot be encoded
        problem = text_problem(value, limit=f.max_length or MAX_TEXT)
        return value, problem
    if t == "personal_id":
        value = str(value).strip()
        if not ids.matches(value):
            return value, ids.message
        return value, None
    if t == "phone":
        value = str(value).replace(" ", "").replace(".", "")
        if not PHONE.match(value):
            return value, "số điện thoại không hợp lệ / not a valid phone number"
        return value, None
    if t == "email":
        value = str(value).strip()
        if len(value) > 254 or not EMAIL.match(value):
            return value, "địa chỉ thư điện tử không hợp lệ / not a valid e-mail address"
        return value, None
    if t == "date":
        if not isinstance(value, str):
            return value, "ngày theo dạng YYYY-MM-DD / a date as YYYY-MM-DD"
        try:
            parsed = dt.date.fromisoformat(value.strip())
        except ValueError:
            return value, "ngày theo dạng YYYY-MM-DD / a date as YYYY-MM-DD"
        return parsed.isoformat(), None
    if t == "number":
        if isinstance(value, bool):
            return value, "phải là số / must be a number"
        if isinstance(value, str):
            try:
                value = float(value) if "." in value else int(value)
            except ValueError:
                return value, "phải là số / must be a number"
        if not isinstance(value, (int, float)):
            return value, "phải là số / must be a number"
        if f.min is not None and value < f.min:
            return value, f"không nhỏ hơn {f.min:g} / at least {f.min:g}"
        if f.max is not None and value > f.max:
            return value, f"không lớn hơn {f.max:g} / at most {f.max:g}"
        return value, None
    if t == "boolean":
        if isinstance(value, bool):
            return value, None
        if value in ("true", "1", "on", "yes"):
            return True, None
        if value in ("false", "0", "off", "no"):
            return False, None
        return value, "phải là có/không / must be true or false"
    if t == "select":
        allowed = {o.value for o in f.options}
        if str(value) not in allowed:
            return value, "giá trị không có trong danh sách / not one of the options"
        return str(value), None
    return value, None


def clean_form(proc: Procedure, data: Any, ids: PersonalIdRule = PERSONAL_ID) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Normalise submitted values; unknown fields and bad values are errors. Missing is fine here."""
    errors: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        return {}, {"data": ["phải là một đối tượng JSON / must be a JSON object"]}
    out: dict[str, Any] = {}
    for key, value in data.items():
        f = proc.field(str(key))
        if f is None:
            errors[str(key)] = ["trường không có trong tờ khai / no such field in this form"]
            continue
        norm, err = check_value(f, value, ids)
        if err:
            errors[f.id] = [err]
        elif norm is not None:
            out[f.id] = norm
    return out, errors


def missing_fields(proc: Procedure, data: dict[str, Any]) -> dict[str, list[str]]:
    """Required fields without a value."""
    return {
        f.id: ["bắt buộc / required"]
        for f in proc.fields
        if f.required and _is_empty(data.get(f.id))
    }
