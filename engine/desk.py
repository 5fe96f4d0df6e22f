"""Use cases behind the clerk desk and the administration pages (part of Services)."""
from __future__ import annotations

from typing import Any


class DeskMixin:
    uow: Any
    catalogue: Any
