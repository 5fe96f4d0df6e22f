"""How the JSON columns are written and read: by orjson, with the standard library's behaviour kept.

SQLAlchemy's default is the standard library's ``json`` (on PostgreSQL, psycopg's, which is the same).
orjson encodes and decodes the same values several times faster (a dossier's load decodes seven
columns, a transition encodes five). Where the two differ, the standard library decides, so that what
a column accepts and what it reads back do not change: orjson refuses an integer beyond 64 bits, a key
that is not a string, and a lone surrogate (in text to write, or escaped in text stored before the
edge refused them); those values go through ``json`` as before. A date or a dataclass is refused, as
``json`` refuses it, rather than written in orjson's own way (a UUID is written as its text, a NaN as null).
"""
from __future__ import annotations

import json
from typing import Any

import orjson

_STRICT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def _refuse(o: Any) -> Any:
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    """``value`` as JSON text, UTF-8 characters kept as they are."""
    try:
        return orjson.dumps(value, default=_refuse, option=_STRICT).decode("utf-8")
    except TypeError:
        return json.dumps(value)  # the standard library's answer, or its TypeError


def loads(text: str | bytes) -> Any:
    """The value of JSON text."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)  # e.g. an escaped lone surrogate, which orjson refuses to decode
