"""Timeliness: whether a dossier is on time, due soon or overdue. The one rule behind the work
queue's badges, its counts and the due-soon alerts. Pure: works on any object with the dossier's
``due_at``, ``overdue``, ``closed_at`` and ``decided_at``."""
from __future__ import annotations

import datetime as dt
from typing import Any

from engine.rules import deadlines

DUE_SOON_WORKING_DAYS = 1
TIMELINESS = ("overdue", "due_soon", "on_time", "none")


def is_overdue(d: Any, now: dt.datetime) -> bool:
    if d.due_at is None or d.closed_at is not None or d.decided_at is not None:
        return bool(d.overdue)
    return bool(d.overdue) or deadlines.is_overdue(d.due_at, now)


def due_soon_limit(now: dt.datetime, cal: deadlines.Calendar) -> dt.datetime:
    """The end of the working day ``DUE_SOON_WORKING_DAYS`` after today: a live dossier due by then is due soon."""
    return cal.day_end(cal.add_working_days(now.date(), DUE_SOON_WORKING_DAYS))


def timeliness(d: Any, now: dt.datetime, cal: deadlines.Calendar, *, soon_limit: dt.datetime | None = None) -> str:
    """on_time | due_soon | overdue | none. ``soon_limit``: ``due_soon_limit(now, cal)``, when the caller
    judges many dossiers at once (a page of the queue)."""
    if d.due_at is None:
        return "none"
    if is_overdue(d, now):
        return "overdue"
    if d.closed_at is None and d.decided_at is None:
        if d.due_at <= (soon_limit if soon_limit is not None else due_soon_limit(now, cal)):
            return "due_soon"
    return "on_time"


def is_settled(d: Any) -> bool:
    """Decided or closed: from then on the dossier's timeliness no longer moves with the clock."""
    return d.closed_at is not None or d.decided_at is not None


def settled(d: Any) -> str | None:
    """The timeliness of a settled dossier (overdue | on_time | none), which ``timeliness`` gives it at any
    time from now on; None while the dossier is live."""
    if not is_settled(d):
        return None
    if d.due_at is None:
        return "none"
    return "overdue" if d.overdue else "on_time"
