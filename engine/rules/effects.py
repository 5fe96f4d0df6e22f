"""Named effects: what an action does to the dossier once the machine has moved it. Procedure
files name them in an action's ``effects``; the definition checks validate the names against
:data:`EFFECTS`.

Pure effects set attributes of the dossier from the :class:`~engine.rules.context.ActionContext`.
Service effects (``service=True``) need the database or the document store (a sequence number,
the results store, a signed slip); the machine leaves them to the use case, which runs them after
the transition inside the same unit of work.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.rules import deadlines
from engine.rules.registry import Registry

if TYPE_CHECKING:
    from engine.rules.context import ActionContext
    from engine.rules.definitions.schema import ActionDef

EFFECTS: Registry[Any] = Registry("effect")


def _cutoff_applies(d: Any) -> bool:
    return d.channel in ("counter", "postal")


@EFFECTS.register("mark_submitted")
def _e_mark_submitted(d: Any, c: ActionContext) -> None:
    d.submitted_at = c.now


def _clock_start(d: Any) -> tuple[Any, bool]:
    """The moment the time limit counts from, and whether the 15:00 cut-off applies to it: the
    receipt (cut-off for counter and postal filings), or the complete supplement after a restart."""
    if d.clock_started_at is None or d.clock_started_at == d.received_at:
        return d.received_at, _cutoff_applies(d)
    return d.clock_started_at, False


def _limit(d: Any, c: ActionContext) -> tuple[float, str]:
    """(value, unit) of the dossier's time limit: the case applied to it, else the ordinary one."""
    return c.procedure.time_limit(getattr(d, "time_limit_case", None))


@EFFECTS.register("start_clock")
def _e_start_clock(d: Any, c: ActionContext) -> None:
    d.received_at = c.now
    d.clock_started_at = c.now
    value, unit = _limit(d, c)
    d.due_at = deadlines.compute_due(c.now, value, unit, c.calendar, cutoff_applies=_cutoff_applies(d))
    d.original_due_at = d.due_at
    d.overdue = False


@EFFECTS.register("pause_clock")
def _e_pause_clock(d: Any, c: ActionContext) -> None:
    d.paused_at = c.now


@EFFECTS.register("resume_clock")
def _e_resume_clock(d: Any, c: ActionContext) -> None:
    p = c.procedure
    value, unit = _limit(d, c)
    if p.supplement_policy == "restart" or d.due_at is None or d.paused_at is None:
        # Decree 61/2018 Art. 19(4): the time limit restarts from zero once the dossier is complete.
        d.clock_started_at = c.now
        d.due_at = deadlines.compute_due(c.now, value, unit, c.calendar)
        d.original_due_at = d.due_at
    else:
        d.due_at = deadlines.pause_shift(d.due_at, d.paused_at, c.now, unit, c.calendar)
        if d.original_due_at is not None and not d.extended:
            d.original_due_at = d.due_at
    d.paused_at = None
    d.overdue = False


@EFFECTS.register("apply_time_limit_case")
def _e_apply_time_limit_case(d: Any, c: ActionContext) -> None:
    """The case ``c.time_limit_case`` holds: the due date is counted again from the clock's start
    (the receipt, with its cut-off) by the case's limit, never earlier than it was. The first due
    date stays in ``original_due_at``."""
    case = c.procedure.time_limit_case(c.time_limit_case)
    if case is None:  # the guard time_limit_case_given refuses this first
        raise ValueError(f"unknown time-limit case {c.time_limit_case!r}")
    start, cutoff = _clock_start(d)
    due = deadlines.compute_due(start, case.value, case.unit, c.calendar, cutoff_applies=cutoff)
    if d.original_due_at is None:
        d.original_due_at = d.due_at
    d.due_at = max(due, d.due_at) if d.due_at is not None else due
    d.time_limit_case = case.id
    d.overdue = False


@EFFECTS.register("count_supplement")
def _e_count_supplement(d: Any, c: ActionContext) -> None:
    d.supplement_rounds = (d.supplement_rounds or 0) + 1


@EFFECTS.register("extend_due")
def _e_extend_due(d: Any, c: ActionContext) -> None:
    if d.original_due_at is None:
        d.original_due_at = d.due_at
    d.due_at = c.new_due_at
    d.extended = True
    d.overdue = False


@EFFECTS.register("mark_paid")
def _e_mark_paid(d: Any, c: ActionContext) -> None:
    d.fee_paid = True


@EFFECTS.register("close")
def _e_close(d: Any, c: ActionContext) -> None:
    d.closed_at = c.now


def _e_service(d: Any, c: ActionContext) -> None:
    """Placeholder for effects the service carries out (see SERVICE_EFFECTS)."""


@EFFECTS.register("mark_decided")
def _e_mark_decided(d: Any, c: ActionContext) -> None:
    d.decided_at = c.now


EFFECTS.add("assign_code", _e_service, service=True)
EFFECTS.add("record_result", _e_service, service=True, records_result=True)
# The one-stop slips, each with the number of the form it issues (engine.rules.slips).
EFFECTS.add("issue_receipt", _e_service, service=True, slip="01")
EFFECTS.add("issue_supplement_request", _e_service, service=True, slip="02")
EFFECTS.add("issue_refusal", _e_service, service=True, slip="03")
EFFECTS.add("issue_extension_apology", _e_service, service=True, slip="04")
EFFECTS.add("issue_stop_notice", _e_service, service=True, slip="05")
# Decree 61/2018 Art. 19(8): not eligible after appraisal, a written refusal with reasons, entered as
# the dossier's result.
EFFECTS.add("issue_refusal_after_appraisal", _e_service, service=True, slip="TC")

# Effects that need the database (a sequence, the results store): the service runs them after
# the machine has moved the dossier, inside the same transaction.
SERVICE_EFFECTS = frozenset(name for name in EFFECTS if EFFECTS.info(name).get("service"))


def slip_form(action: ActionDef) -> str | None:
    """The id of the slip form the action issues (a key of engine.rules.slips.SLIP_FORMS), or None."""
    for name in action.effects:
        form = EFFECTS.info(name).get("slip")
        if form is not None:
            return form
    return None


def records_result(action: ActionDef) -> bool:
    """Whether the action records the procedure's results."""
    return any(EFFECTS.info(name).get("records_result") for name in action.effects)
