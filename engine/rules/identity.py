"""The personal-id rule: what a personal identification number looks like. Written once; its format
is the ``PERSONAL_ID_PATTERN`` setting (by default the 12 digits of the Vietnamese identity number)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

DEFAULT_PATTERN = r"\d{12}"


@dataclass(frozen=True)
class PersonalIdRule:
    pattern: str = DEFAULT_PATTERN
    message: str = "số định danh cá nhân gồm 12 chữ số / a personal id has 12 digits"
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", re.compile(rf"(?:{self.pattern})\Z"))

    def matches(self, value: Any) -> bool:
        """Whether ``value`` is a well-formed personal id (a string, nothing around it)."""
        return isinstance(value, str) and self._compiled.match(value) is not None


PERSONAL_ID = PersonalIdRule()


def mask_personal_id(value: object) -> str:
    """A personal id as a public page may show it: the first four and the last two characters, the rest
    starred (``001198012344`` → ``0011******44``). Anything shorter than seven characters is starred whole."""
    text = str(value)
    if len(text) < 7:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 6) + text[-2:]
