"""The edge: every request's text is checked once, before any view runs and before anything is stored.

One ``before_request`` hook for the JSON API and the pages alike refuses lone surrogates, NUL, other
control characters and over-long strings in the path, the query string, the headers the app reads
(``X-Purpose``, ``Idempotency-Key``), JSON bodies (keys and values, recursively, and numbers JSON
cannot carry) and HTML form fields. Upload file names are cleaned rather than refused: filing keeps
only their printable characters (``engine.usecases.filing``), as it always has.
The path, the query, the headers and form fields are
a bad request (400); a JSON body is a validation error (422); both name the field at fault. The engine's form rules check text
fields again (``engine.rules.forms``), so no path can store such a string.

Headers: a WSGI server hands header bytes over as ISO-8859-1, so UTF-8 text arrives as mojibake.
:func:`header_text` reads a header as UTF-8 when its bytes are UTF-8 (and percent-decodes an ASCII
value that holds %XX escapes); the views read ``X-Purpose`` and ``Idempotency-Key`` through it.
"""
from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import unquote

from flask import Flask, request
from werkzeug.exceptions import BadRequest

from engine.rules.errors import ValidationError
from engine.rules.text import printable, text_problem

MAX_STRING = 10_000  # any one string in a body; form fields, comments and reasons have their own lower limits
MAX_KEY = 200
MAX_DEPTH = 32
MAX_QUERY_VALUE = MAX_STRING  # the views answer shorter over-long filters with their own message
MAX_HEADER = 1_000
READ_HEADERS = ("X-Purpose", "Idempotency-Key")
PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")

INVALID_TEXT = "Dữ liệu gửi lên có ký tự hoặc độ dài không hợp lệ / the request holds invalid characters or over-long text"


class BadInputError(BadRequest):
    """A 400 that names the parameter or header at fault (``fields`` in the error body)."""

    def __init__(self, message: str, fields: dict[str, list[str]]):
        super().__init__(message)
        self.fields = fields


def header_text(name: str) -> str | None:
    """A header's value as text: UTF-8 bytes read as UTF-8, a percent-encoded value decoded."""
    raw = request.headers.get(name)
    if raw is None:
        return None
    value = raw
    if value.isascii():
        if PERCENT_ESCAPE.search(value):
            try:
                value = unquote(value, errors="strict")
            except UnicodeDecodeError:
                raise BadInputError(f"{name}: mã hóa phần trăm không phải UTF-8 / percent-encoding that is not UTF-8",
                                    {name: ["UTF-8"]}) from None
    elif all(ord(c) < 256 for c in value):  # the server's ISO-8859-1 reading of the header's bytes
        try:
            value = value.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            pass  # not UTF-8: the bytes were meant as ISO-8859-1, which is what we have
    return value


def check_request() -> None:
    """Refuse what no view may see; runs before every view of the app."""
    req = request._get_current_object()  # type: ignore[attr-defined]  # one context look-up, not one per use
    environ = req.environ
    problems: dict[str, list[str]] = {}
    problem = text_problem(req.path, multiline=False)
    if problem:
        problems["path"] = [problem]
    if environ.get("QUERY_STRING"):
        for key, value in req.args.items(multi=True):
            problem = text_problem(key, multiline=False, limit=MAX_KEY) or text_problem(value, limit=MAX_QUERY_VALUE)
            if problem:
                problems.setdefault(printable(key or ""), []).append(problem)
    for key, value in environ.items():  # the headers, as the WSGI server hands them over
        if (key.startswith("HTTP_") or key in _CONTENT_KEYS) and isinstance(value, str) and "\x00" in value:
            problems.setdefault(_header_name(key), []).append(text_problem(value) or "")
    for name in READ_HEADERS:
        value = header_text(name)
        problem = value is not None and text_problem(value, multiline=False, limit=MAX_HEADER)
        if problem:
            problems[name] = [problem]
    if problems:
        raise BadInputError(INVALID_TEXT, problems)
    if not environ.get("CONTENT_TYPE"):
        return  # no body to read
    if req.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        problems = _form_problems()
        if problems:  # the pages' forms, like the query, answer a bad request
            raise BadInputError(INVALID_TEXT, problems)
    elif req.is_json:
        problems = _json_problems()
        if problems:
            raise ValidationError(INVALID_TEXT, fields=problems)


_CONTENT_KEYS = ("CONTENT_TYPE", "CONTENT_LENGTH")  # headers a WSGI environ keeps without the HTTP_ prefix


def _header_name(key: str) -> str:
    """A header's name from its WSGI environ key, as ``request.headers`` spells it (``HTTP_X_PURPOSE``: X-Purpose)."""
    return (key[5:] if key.startswith("HTTP_") else key).replace("_", "-").title()


def _form_problems() -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for key, value in request.form.items(multi=True):
        problem = text_problem(key or "", multiline=False, limit=MAX_KEY) or text_problem(value or "", limit=MAX_STRING)
        if problem:
            problems.setdefault(printable(key or ""), []).append(problem)
    for key in request.files:  # file names are cleaned, not refused: filing keeps their printable characters
        problem = text_problem(key or "", multiline=False, limit=MAX_KEY)
        if problem:
            problems.setdefault(printable(key or ""), []).append(problem)
    return problems


def _json_problems() -> dict[str, list[str]]:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested too deeply to parse: the view answers that
        return {}
    problems: dict[str, list[str]] = {}
    stack: list[tuple[str, Any, int]] = [("body", body, 0)]
    while stack:  # no recursion: the body may be nested as deeply as the parser allows
        name, value, depth = stack.pop()
        problem = None
        if depth > MAX_DEPTH:
            problem = f"lồng quá {MAX_DEPTH} cấp / nested more than {MAX_DEPTH} levels"
        elif isinstance(value, str):
            problem = text_problem(value, limit=MAX_STRING)
        elif isinstance(value, float) and not math.isfinite(value):
            problem = "số NaN/Infinity không lưu được / NaN and Infinity cannot be stored"
        elif isinstance(value, dict):
            for key, item in value.items():
                key_problem = text_problem(key, multiline=False, limit=MAX_KEY)
                if key_problem:
                    problems.setdefault(printable(key[:MAX_KEY]), []).append(key_problem)
                else:
                    stack.append((key, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((name, item, depth + 1) for item in value)
        if problem:
            problems.setdefault(printable(name), []).append(problem)
            if depth > MAX_DEPTH:
                break
    return {k: sorted(set(v)) for k, v in problems.items()}


def init_app(app: Flask) -> None:
    app.before_request(check_request)
