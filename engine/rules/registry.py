"""Registries: the named implementations a procedure file refers to (guards, effects, derivations,
prefill sources), the open-forms pattern. Each name is registered once, where it is implemented;
the definition checks validate the names in a file against the registry, so there is no second
list to keep in step.

    GUARDS = Registry("guard")

    @GUARDS.register("fee_paid")
    def _fee_paid(d, c): ...

A name registered twice raises :class:`DuplicateNameError` when the module is imported.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class DuplicateNameError(ValueError):
    """Two implementations claim the same name in one registry (a programming error)."""


class Registry(Generic[T]):
    """Names -> implementations of one kind, each with optional facts about it (``info``)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._info: dict[str, Mapping[str, Any]] = {}

    def register(self, name: str, **info: Any) -> Callable[[T], T]:
        """Decorator: register the decorated object under ``name``; ``info`` are facts about it."""

        def add(item: T) -> T:
            return self.add(name, item, **info)

        return add

    def add(self, name: str, item: T, **info: Any) -> T:
        if name in self._items:
            raise DuplicateNameError(f"{self.kind} '{name}' is registered twice")
        self._items[name] = item
        self._info[name] = MappingProxyType(dict(info))
        return item

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(f"unknown {self.kind} '{name}'") from None

    def info(self, name: str) -> Mapping[str, Any]:
        """The facts registered with ``name`` (empty when none were given)."""
        self.get(name)
        return self._info[name]

    def names(self) -> frozenset[str]:
        return frozenset(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {sorted(self._items)})"
