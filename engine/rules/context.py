"""What a guard or an effect may read about the action being fired: built by the use case, never
by a callback."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.rules import deadlines
    from engine.rules.conditions import Verdict
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
    conditions_fn: Callable[[], list[Verdict]] | None = None  # asked only by the conditions guard
    verdicts: list[Verdict] | None = None  # the conditions' verdicts, once the guard asked for them

    @property
    def missing_documents(self) -> list[str]:
        return self.missing_documents_fn() if self.missing_documents_fn is not None else []

    def evaluate_conditions(self) -> list[Verdict]:
        """The procedure's conditions of eligibility, evaluated once per action against the state's data."""
        if self.verdicts is None:
            self.verdicts = self.conditions_fn() if self.conditions_fn is not None else []
        return self.verdicts
