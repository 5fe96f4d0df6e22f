"""Registration periods of civil-status events: a birth is registered within 60 days of the birth
(Law on Civil Status 2014, Art. 15), a death within 15 days of the death (Art. 33). Registering
later is a late registration (đăng ký quá hạn), a category derived from the dates, never declared.
Used by the prefill's derivations and by the conditions."""
from __future__ import annotations

import datetime as dt

PERIODS = {"birth": 60, "death": 15}  # days from the event
ON_TIME = "on_time"
LATE = "late"


def category(event: dt.date, on: dt.date, period: str) -> str:
    """``on_time`` when ``on`` is within the period's days of ``event`` (the last day included),
    else ``late``. An event after ``on`` is no late registration (the date rules refuse it)."""
    return ON_TIME if (on - event).days <= PERIODS[period] else LATE
