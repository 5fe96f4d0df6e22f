"""What text may be stored: valid Unicode without control characters. Pure rules.

A lone surrogate (U+D800..U+DFFF) is a ``str`` that no UTF-8 encoder accepts: stored, it breaks every
later read, render and signature of the record that holds it. NUL is refused by PostgreSQL; the other
control characters (C0, DEL, C1) have no place in a form, a comment or a header and hide text in logs
and terminals. Tab, line feed and carriage return are allowed where text may span lines.
"""
from __future__ import annotations

import re

SURROGATE = re.compile("[\ud800-\udfff]")
CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # all but \t \n \r
CONTROL_ONE_LINE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")  # all but \t

LONE_SURROGATE = "ký tự Unicode không hợp lệ (nửa cặp thay thế) / invalid Unicode (a lone surrogate)"
NUL = "ký tự NUL không được phép / NUL characters are not allowed"
CONTROL = "ký tự điều khiển không được phép / control characters are not allowed"


def has_surrogate(value: str) -> bool:
    """Whether ``value`` holds a surrogate code point (``SURROGATE``). An ASCII string cannot; otherwise
    UTF-8's encoder, which refuses exactly those, answers several times faster than a scan by ``re``."""
    if value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def text_problem(value: str, *, multiline: bool = True, limit: int | None = None) -> str | None:
    """Why ``value`` cannot be stored as text (a message in both languages), or None when it can."""
    if has_surrogate(value):
        return LONE_SURROGATE
    if "\x00" in value:
        return NUL
    if (CONTROL_MULTILINE if multiline else CONTROL_ONE_LINE).search(value):
        return CONTROL
    if limit is not None and len(value) > limit:
        return f"dài quá {limit} ký tự / longer than {limit} characters"
    return None


def printable(value: str) -> str:
    """``value`` with lone surrogates written as escapes, so that it can be echoed in a message."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8") if has_surrogate(value) else value
