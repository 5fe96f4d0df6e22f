"""The parameters a rule takes, declared once where the rule is registered and checked when a
procedure file is loaded:

    @CONDITIONS.register("minimum_age", check=spec(parties=FieldMap(PERSON, Number(0, 150))))

``spec(...)`` returns the registration's ``check``: ``(params, fields) -> problems``, ``fields``
mapping the procedure's field ids to their types. Unknown and missing keys, wrong kinds, field ids
the form does not have and fields of the wrong type are problems."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

PERSON = ("personal_id",)  # a field holding a personal id
DATE = ("date",)
SELECT = ("select",)

Check = Callable[[Mapping[str, Any], Mapping[str, str]], list[str]]


class Param(Protocol):
    required: bool

    def problems(self, key: str, value: Any, fields: Mapping[str, str]) -> list[str]: ...


def _field_problems(key: str, fid: Any, fields: Mapping[str, str], types: tuple[str, ...]) -> list[str]:
    if not isinstance(fid, str):
        return [f"'{key}' must name form fields, not {fid!r}"]
    if fid not in fields:
        return [f"'{key}': '{fid}' is not a field of this form"]
    if types and fields[fid] not in types:
        return [f"'{key}': field '{fid}' is a {fields[fid]} field, not {' or '.join(types)}"]
    return []


@dataclass(frozen=True)
class Field:
    """One field id of the form, of one of ``types``."""

    types: tuple[str, ...]
    required: bool = True

    def problems(self, key: str, value: Any, fields: Mapping[str, str]) -> list[str]:
        return _field_problems(key, value, fields, self.types)


@dataclass(frozen=True)
class Fields:
    """A list of distinct field ids of the form."""

    types: tuple[str, ...]
    min_items: int = 1
    max_items: int | None = None
    required: bool = True

    def problems(self, key: str, value: Any, fields: Mapping[str, str]) -> list[str]:
        if not isinstance(value, list):
            return [f"'{key}' must be a list of field ids"]
        out = [p for fid in value for p in _field_problems(key, fid, fields, self.types)]
        if len(value) < self.min_items or (self.max_items is not None and len(value) > self.max_items):
            size = (f"exactly {self.min_items}" if self.max_items == self.min_items
                    else f"at least {self.min_items}" + (f" and at most {self.max_items}" if self.max_items else ""))
            out.append(f"'{key}' must list {size} field(s)")
        if len(set(map(str, value))) != len(value):
            out.append(f"'{key}' names a field twice")
        return out


@dataclass(frozen=True)
class FieldMap:
    """A mapping of field ids of the form to values each checked by ``values``."""

    types: tuple[str, ...]
    values: Param
    required: bool = True

    def problems(self, key: str, value: Any, fields: Mapping[str, str]) -> list[str]:
        if not isinstance(value, dict) or not value:
            return [f"'{key}' must map field ids to values"]
        out = []
        for fid, v in value.items():
            out += _field_problems(key, fid, fields, self.types)
            out += self.values.problems(f"{key}.{fid}", v, fields)
        return out


@dataclass(frozen=True)
class Choice:
    """One of ``options`` (or, with ``many``, a list of them)."""

    options: tuple[str, ...]
    required: bool = True
    many: bool = False

    def problems(self, key: str, value: Any, fields: Mapping[str, str]) -> list[str]:
        values = value if self.many and isinstance(value, list) else [value]
        if self.many and not isinstance(value, list):
            return [f"'{key}' must be a list (of {', '.join(self.options)})"]
        return [f"'{key}': unknown value {v!r} (use {', '.join(self.options)})"
                for v in values if not isinstance(v, str) or v not in self.options]


@dataclass(frozen=True)
class Words:
    """A list of plain words (e.g. option values of a select field)."""

    required: bool = False

    def problems(self, key: str, value: Any, fields: Mapping[str, str]) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            return [f"'{key}' must be a list of words"]
        return []


@dataclass(frozen=True)
class Number:
    """A whole number from ``low`` to ``high``."""

    low: int
    high: int
    required: bool = True

    def problems(self, key: str, value: Any, fields: Mapping[str, str]) -> list[str]:
        if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= self.high:
            return [f"'{key}' must be a whole number from {self.low} to {self.high}, not {value!r}"]
        return []


def spec(**declared: Param) -> Check:
    """The check of a rule taking the ``declared`` parameters."""

    def check(params: Mapping[str, Any], fields: Mapping[str, str]) -> list[str]:
        out = [f"unknown parameter '{k}' (known: {', '.join(sorted(declared)) or 'none'})"
               for k in params if k not in declared]
        for key, param in declared.items():
            if key not in params:
                if param.required:
                    out.append(f"missing parameter '{key}'")
                continue
            out += param.problems(key, params[key], fields)
        return out

    return check
