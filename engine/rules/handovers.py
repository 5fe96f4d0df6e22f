"""The hand-overs of a dossier (form 06, "Phiếu kiểm soát quá trình giải quyết hồ sơ", Circular 01/2018
Art. 9; Circular 03/2025 form 06): from its event history, one row per transition after reception:
who handed it over (the acting role and its unit), to whom (the roles that act in the next state), when,
and whether that step was early, on time or late ("trước hạn / đúng hạn / quá hạn"), against the
step's share of the time limit when the definition gives the step a ``time_share``, else against the
dossier's due date. Pure: works on plain event records and the procedure definition.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from engine.rules import deadlines
from engine.rules.definitions.onestop import step_state
from engine.rules.effects import slip_form
from engine.rules.slips import RECEIPT

EARLY, ON_TIME, LATE = "early", "on_time", "late"
VERDICT_TEXT = {EARLY: "Trước hạn", ON_TIME: "Đúng hạn", LATE: "Quá hạn"}

# The unit each role belongs to in the agency (the one-stop unit receives and returns; the specialist
# unit appraises; the head decides).
ROLE_UNITS = {
    "applicant": "Tổ chức, cá nhân",
    "clerk": "Bộ phận Tiếp nhận và Trả kết quả",
    "records": "Văn thư",
    "specialist": "Công chức chuyên môn",
    "leader": "Lãnh đạo cơ quan",
    "system": "Hệ thống thông tin",
}


@dataclass(frozen=True)
class Handover:
    no: int
    action: str
    from_role: str
    from_unit: str
    from_name: str
    to_roles: tuple[str, ...]
    to_unit: str
    at: dt.datetime
    due: dt.datetime | None  # the step's due date-time (its share) or the dossier's
    verdict: str | None  # early | on_time | late | None (no due date to judge against)
    note: str | None


def receivers(proc: Any, state: str) -> tuple[str, ...]:
    """Who may act next on a dossier in ``state`` (the staff roles of the actions that move it on), or
    the applicant when the state is final or waits for them. Used for the last hand-over; the earlier
    ones name who actually took the dossier (the next transition's role)."""
    st = next((s for s in proc.states if s.id == state), None)
    if st is not None and st.final:
        return ("applicant",)
    roles: list[str] = []
    for a in proc.actions:
        if state in a.sources and a.dest not in (None, state):
            roles += [r for r in a.roles if r not in roles]
    staff = tuple(r for r in roles if r != "applicant")
    return staff or (("applicant",) if roles else ())


def verdict(at: dt.datetime, due: dt.datetime | None) -> str | None:
    """Early when done before the due date's day, on time on that day up to the due moment, else late."""
    if due is None:
        return None
    if at > due:
        return LATE
    return EARLY if at.date() < due.date() else ON_TIME


def step_due(started: dt.datetime, share: float, clock_started: dt.datetime, due_at: dt.datetime,
             cal: deadlines.Calendar) -> dt.datetime:
    """The due date-time of a step that began at ``started`` and may take ``share`` of the working time
    the whole time limit allows (from ``clock_started`` to ``due_at``)."""
    allowance = deadlines.working_time_between(clock_started, due_at, cal) * share
    return deadlines.add_working_time(started, allowance, cal)


def handovers(proc: Any, events: list[Any], *, received_at: dt.datetime | None, clock_started_at: dt.datetime | None,
              due_at: dt.datetime | None, cal: deadlines.Calendar) -> list[Handover]:
    """The rows of the control sheet. ``events`` have ``action, role, actor, from_state, to_state, at,
    reason`` (in order); rows begin with reception (the action that issues the receipt), none before it."""
    if received_at is None:
        return []
    receiving = {a.id for a in proc.actions if slip_form(a) == RECEIPT}  # the actions that receive a dossier
    start = max((i for i, e in enumerate(events) if e.action in receiving), default=None)
    if start is None:
        return []
    shares = {step_state(s.id): s.time_share for s in proc.steps if s.time_share}
    moves = [e for e in events[start:] if e.from_state != e.to_state]  # extensions, comments stay put
    rows: list[Handover] = []
    entered = received_at  # when the dossier entered the state the next hand-over leaves
    for i, e in enumerate(moves):
        share = shares.get(e.from_state)
        if share and clock_started_at is not None and due_at is not None:
            due = step_due(entered, share, clock_started_at, due_at, cal)
        else:
            due = due_at
        # who took it: the role of the next transition; for the last one, who may act next
        to_roles = (moves[i + 1].role,) if i + 1 < len(moves) else receivers(proc, e.to_state)
        rows.append(Handover(
            no=len(rows) + 1, action=e.action, from_role=e.role, from_unit=ROLE_UNITS.get(e.role, e.role),
            from_name=e.actor, to_roles=to_roles,
            to_unit=", ".join(dict.fromkeys(ROLE_UNITS.get(r, r) for r in to_roles)),
            at=e.at, due=due, verdict=verdict(e.at, due), note=e.reason))
        entered = e.at
    return rows
