"""What a guard or an effect may read about the action being fired: built by the use case, never
by a callback."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.rules import deadlines
    from engine.rules.definitions.schema import Procedure


@dataclass
class ActionContext:
    """Everything a guard or an effect may read; built by the service, never by a callback."""

    procedure: Procedure
    calendar: deadlines.Calendar
    now: dt.datetime
    roles: frozenset[str]
    comment: str | None = None
    reason: str | None = None
    items: list[str] | None = None
    new_due_at: dt.datetime | None = None
    time_limit_case: str | None = None  # the id of the time-limit case the actor says holds
    missing_documents_fn: Callable[[], list[str]] | None = None  # asked only by the documents guard
    results_pending: int = 0
    role_used: str | None = None

    @property
    def missing_documents(self) -> list[str]:
        return self.missing_documents_fn() if self.missing_documents_fn is not None else []
