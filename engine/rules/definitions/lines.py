"""YAML that remembers where each mapping, key and list item is, and the readers that report a
problem as ``file:line: message``."""
from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable
from typing import Any

import yaml

from engine.rules.definitions.schema import LANGS, Text
from engine.rules.errors import DefinitionError

# --------------------------------------------------------------------------- YAML with lines


class LineDict(dict):
    line: int = 0
    key_lines: dict[str, int]


class LineList(list):
    line: int = 0
    item_lines: list[int]


class _Loader(yaml.SafeLoader):
    """A safe loader whose mappings and sequences remember their 1-based line numbers."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    seen: set[Any] = set()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml_with_lines(text: str, source_name: str) -> Any:
    """Parse YAML keeping line numbers; a syntax error raises DefinitionError at its line."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or str(exc)
        raise DefinitionError([f"{source_name}:{line}: YAML syntax error: {problem}"]) from None
    except yaml.YAMLError as exc:
        raise DefinitionError([f"{source_name}:1: YAML error: {exc}"]) from None


# --------------------------------------------------------------------------- validation helpers


class Problems:
    def __init__(self, source: str):
        self.source = source
        self.items: list[str] = []

    def add(self, line: int, message: str) -> None:
        self.items.append(f"{self.source}:{line}: {message}")


def line_of(container: Any, key: Any = None) -> int:
    if key is not None and isinstance(container, LineDict):
        return container.key_lines.get(key, container.line)
    if isinstance(container, LineList) and isinstance(key, int) and key < len(container.item_lines):
        return container.item_lines[key]
    return getattr(container, "line", 1)


class Reader:
    """Typed access to one mapping, reporting wrong types and unknown keys once each."""

    def __init__(self, problems: Problems, mapping: Any, where: str, allowed: Iterable[str], line: int = 1):
        self.p = problems
        self.where = where
        self.ok = isinstance(mapping, dict)
        self.m: dict = mapping if self.ok else {}
        self.line = getattr(mapping, "line", line)
        if not self.ok:
            problems.add(line, f"{where} must be a mapping, not {type(mapping).__name__}")
            return
        allowed = set(allowed)
        for key in mapping:
            if key not in allowed:
                hint = suggest(str(key), allowed)
                problems.add(line_of(mapping, key), f"unknown key '{key}' in {where}{hint}")

    def line_of(self, key: str) -> int:
        return line_of(self.m, key) if key in self.m else self.line

    def has(self, key: str) -> bool:
        return key in self.m

    def raw(self, key: str) -> Any:
        return self.m.get(key)

    def get(self, key: str, kind: type | tuple[type, ...], *, required: bool = False, default: Any = None) -> Any:
        if key not in self.m:
            if required and self.ok:
                self.p.add(self.line, f"{self.where} is missing the required key '{key}'")
            return default
        value = self.m[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if bool in kinds and isinstance(value, bool):
            return value
        if isinstance(value, bool) and bool not in kinds:
            ok = False
        else:
            ok = isinstance(value, kinds)
        if not ok:
            names = " or ".join(type_name(k) for k in kinds)
            self.p.add(self.line_of(key), f"'{key}' in {self.where} must be {names}, not {type_name(type(value))}")
            return default
        return value

    def text(self, key: str, *, required: bool = False) -> Text | None:
        value = self.m.get(key)
        if value is None:
            if required and self.ok:
                self.p.add(self.line, f"{self.where} is missing the required key '{key}'")
            return None
        return text_of(self.p, value, f"'{key}' in {self.where}", self.line_of(key))


def type_name(kind: type) -> str:
    return {
        str: "a string", int: "an integer", float: "a number", bool: "true or false",
        dict: "a mapping", list: "a list", LineDict: "a mapping", LineList: "a list",
        dt.date: "a date (YYYY-MM-DD)", type(None): "empty",
    }.get(kind, kind.__name__)


def suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def text_of(problems: Problems, value: Any, where: str, line: int) -> Text | None:
    if isinstance(value, str):
        return Text(value, value)
    if not isinstance(value, dict):
        problems.add(line, f"{where} must be a mapping {{vi: ..., en: ...}} or a string")
        return None
    for key in value:
        if key not in LANGS:
            problems.add(line_of(value, key), f"unknown language '{key}' in {where} (use vi, en)")
    vi, en = value.get("vi"), value.get("en")
    if not isinstance(vi, str) or not vi.strip():
        problems.add(line, f"{where} needs a Vietnamese text (vi)")
        return None
    if en is not None and not isinstance(en, str):
        problems.add(line_of(value, "en"), f"{where}: 'en' must be a string")
        en = None
    return Text(vi, en or vi)


def str_list(problems: Problems, value: Any, where: str, line: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(line, f"{where} must be a list of names")
        return ()
    return tuple(value)

