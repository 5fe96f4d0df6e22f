"""The workflow: one cached ``transitions`` Machine per (procedure, version), fired on any object
with the dossier's attributes (``state``, ``due_at``, ...). Never ``add_model``; callbacks only set
attributes. Guards and effects are the named ones of :mod:`engine.rules.definitions`.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from transitions import Machine, MachineError

from engine.rules import deadlines
from engine.rules.definitions import ActionDef, Procedure
from engine.rules.errors import ActionNotAllowedError, PermissionDeniedError, ValidationError
from engine.rules.forms import missing_fields

# Effects that need the database (a sequence, the results store): the service runs them after
# the machine has moved the dossier, inside the same transaction.
SERVICE_EFFECTS = frozenset({"assign_code", "record_result"})
# Guards that check what the actor sent rather than the dossier: they do not hide an action.
INPUT_GUARDS = frozenset({"reason_given", "items_given", "new_due_date_given", "form_complete", "documents_complete"})
# Inputs each input guard asks for, for the API and the forms.
GUARD_INPUTS = {"reason_given": "reason", "items_given": "items", "new_due_date_given": "new_due_at"}
SUPPLEMENT_WINDOW_WORKING_DAYS = 3


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
    missing_documents_fn: Callable[[], list[str]] | None = None  # asked only by the documents guard
    results_pending: int = 0
    role_used: str | None = None

    @property
    def missing_documents(self) -> list[str]:
        return self.missing_documents_fn() if self.missing_documents_fn is not None else []


class _GuardFailed(Exception):
    def __init__(self, error: Exception):
        self.error = error


# --------------------------------------------------------------------------- guards


def _g_form_complete(d: Any, c: ActionContext) -> Exception | None:
    missing = missing_fields(c.procedure, d.data or {})
    if missing:
        return ValidationError("Tờ khai còn thiếu trường bắt buộc / required fields are missing", fields=missing)
    return None


def _g_documents_complete(d: Any, c: ActionContext) -> Exception | None:
    if c.missing_documents:
        return ValidationError(
            "Hồ sơ còn thiếu giấy tờ / required documents are missing",
            fields={doc: ["bắt buộc / required"] for doc in c.missing_documents},
        )
    return None


def _g_fee_paid(d: Any, c: ActionContext) -> Exception | None:
    if c.procedure.fee_amount > 0 and not d.fee_paid:
        return ActionNotAllowedError("Chưa nộp phí, lệ phí / the fee has not been paid")
    return None


def _g_before_due_date(d: Any, c: ActionContext) -> Exception | None:
    if d.due_at is not None and c.now > d.due_at:
        return ActionNotAllowedError(
            "Đã quá hạn giải quyết; chỉ được từ chối trong thời hạn / past the due date: refusal must come before it"
        )
    return None


def _g_extension_unused(d: Any, c: ActionContext) -> Exception | None:
    if d.extended:
        return ActionNotAllowedError("Hồ sơ đã được gia hạn một lần / the due date was already extended once")
    return None


def _g_extension_notice(d: Any, c: ActionContext) -> Exception | None:
    if d.due_at is None or not deadlines.extension_allowed(d.due_at, c.now, c.calendar):
        return ActionNotAllowedError(
            "Phải gia hạn chậm nhất 01 ngày làm việc trước ngày hẹn trả / an extension must come at least one working day before the due date"
        )
    return None


def _g_supplement_allowed(d: Any, c: ActionContext) -> Exception | None:
    if d.received_at is None:
        return None
    if deadlines.working_days_since(d.received_at, c.now, c.calendar) > SUPPLEMENT_WINDOW_WORKING_DAYS:
        return ActionNotAllowedError(
            "Chỉ được yêu cầu bổ sung trong 03 ngày làm việc kể từ ngày tiếp nhận / a supplement may be requested only within 3 working days of receipt"
        )
    return None


def _g_reason_given(d: Any, c: ActionContext) -> Exception | None:
    if not c.reason or not c.reason.strip():
        return ValidationError("Phải nêu rõ lý do / a reason is required", fields={"reason": ["bắt buộc / required"]})
    return None


def _g_items_given(d: Any, c: ActionContext) -> Exception | None:
    if not c.items:
        return ValidationError(
            "Phải liệt kê đầy đủ, một lần các nội dung cần bổ sung / list every item to supplement, in one request",
            fields={"items": ["bắt buộc / required"]},
        )
    return None


def _g_new_due_date_given(d: Any, c: ActionContext) -> Exception | None:
    if c.new_due_at is None:
        return ValidationError("Phải nêu ngày hẹn mới / a new due date is required", fields={"new_due_at": ["bắt buộc / required"]})
    if d.due_at is not None and c.new_due_at <= d.due_at:
        return ValidationError("Ngày hẹn mới phải sau ngày hẹn cũ / the new due date must be after the current one",
                               fields={"new_due_at": ["phải sau ngày hẹn hiện tại / must be later than the current due date"]})
    return None


def _g_results_issued(d: Any, c: ActionContext) -> Exception | None:
    if c.results_pending:
        return ActionNotAllowedError("Kết quả đang được ký số; chờ ít phút / the result is still being signed; try again shortly")
    return None


def _g_counter_draft(d: Any, c: ActionContext) -> Exception | None:
    if d.channel != "counter":
        return ActionNotAllowedError("Hồ sơ trực tuyến do công dân tự nộp / an online draft is submitted by the citizen")
    return None


GUARD_FUNCS: dict[str, Callable[[Any, ActionContext], Exception | None]] = {
    "results_issued": _g_results_issued,
    "counter_draft": _g_counter_draft,
    "form_complete": _g_form_complete,
    "documents_complete": _g_documents_complete,
    "fee_paid": _g_fee_paid,
    "before_due_date": _g_before_due_date,
    "extension_unused": _g_extension_unused,
    "extension_notice": _g_extension_notice,
    "supplement_allowed": _g_supplement_allowed,
    "reason_given": _g_reason_given,
    "items_given": _g_items_given,
    "new_due_date_given": _g_new_due_date_given,
}

# --------------------------------------------------------------------------- effects


def _cutoff_applies(d: Any) -> bool:
    return d.channel in ("counter", "postal")


def _e_mark_submitted(d: Any, c: ActionContext) -> None:
    d.submitted_at = c.now


def _e_start_clock(d: Any, c: ActionContext) -> None:
    p = c.procedure
    d.received_at = c.now
    d.clock_started_at = deadlines.effective_start(c.now, c.calendar, cutoff_applies=_cutoff_applies(d))
    d.due_at = deadlines.compute_due(c.now, p.time_limit_value, p.time_limit_unit, c.calendar,
                                     cutoff_applies=_cutoff_applies(d))
    d.original_due_at = d.due_at
    d.overdue = False


def _e_pause_clock(d: Any, c: ActionContext) -> None:
    d.paused_at = c.now


def _e_resume_clock(d: Any, c: ActionContext) -> None:
    p = c.procedure
    if p.supplement_policy == "restart" or d.due_at is None or d.paused_at is None:
        # Decree 61/2018 Art. 19(4): the time limit restarts from zero once the dossier is complete.
        d.clock_started_at = c.now
        d.due_at = deadlines.compute_due(c.now, p.time_limit_value, p.time_limit_unit, c.calendar)
        d.original_due_at = d.due_at
    else:
        d.due_at = deadlines.pause_shift(d.due_at, d.paused_at, c.now, p.time_limit_unit, c.calendar)
        if d.original_due_at is not None and not d.extended:
            d.original_due_at = d.due_at
    d.paused_at = None
    d.overdue = False


def _e_count_supplement(d: Any, c: ActionContext) -> None:
    d.supplement_rounds = (d.supplement_rounds or 0) + 1


def _e_extend_due(d: Any, c: ActionContext) -> None:
    if d.original_due_at is None:
        d.original_due_at = d.due_at
    d.due_at = c.new_due_at
    d.extended = True
    d.overdue = False


def _e_mark_paid(d: Any, c: ActionContext) -> None:
    d.fee_paid = True


def _e_close(d: Any, c: ActionContext) -> None:
    d.closed_at = c.now


def _e_service(d: Any, c: ActionContext) -> None:
    """Placeholder for effects the service carries out (see SERVICE_EFFECTS)."""


EFFECT_FUNCS: dict[str, Callable[[Any, ActionContext], None]] = {
    "mark_submitted": _e_mark_submitted,
    "assign_code": _e_service,
    "start_clock": _e_start_clock,
    "pause_clock": _e_pause_clock,
    "resume_clock": _e_resume_clock,
    "count_supplement": _e_count_supplement,
    "extend_due": _e_extend_due,
    "mark_paid": _e_mark_paid,
    "record_result": _e_service,
    "close": _e_close,
}


# --------------------------------------------------------------------------- machines


def _condition(action: ActionDef) -> Callable[[Any], bool]:
    guards = [GUARD_FUNCS[g] for g in action.guards]

    def check(event: Any) -> bool:
        ctx: ActionContext = event.kwargs["ctx"]
        for guard in guards:
            error = guard(event.model, ctx)
            if error is not None:
                raise _GuardFailed(error)
        return True

    return check


def _after(action: ActionDef) -> Callable[[Any], None]:
    effects = [EFFECT_FUNCS[e] for e in action.effects]

    def apply(event: Any) -> None:
        ctx: ActionContext = event.kwargs["ctx"]
        model = event.model
        for effect in effects:
            effect(model, ctx)
        state = ctx.procedure.state(model.state)
        model.status_code = state.status_code
        model.updated_at = ctx.now

    return apply


def build_machine(proc: Procedure) -> Machine:
    transitions = []
    for action in proc.actions:
        for source in action.sources:
            transitions.append({
                "trigger": action.id,
                "source": source,
                "dest": action.dest,
                "conditions": [_condition(action)],
                "after": [_after(action)],
            })
    return Machine(
        model=None,
        states=[s.id for s in proc.states],
        transitions=transitions,
        initial=None,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )


_machines: dict[tuple[str, int, str], Machine] = {}
_lock = threading.Lock()


def machine_for(proc: Procedure) -> Machine:
    """The one Machine of this procedure version (built once per process, keyed by content hash)."""
    key = (proc.id, proc.version, proc.sha256)
    machine = _machines.get(key)
    if machine is None:
        with _lock:
            machine = _machines.get(key)
            if machine is None:
                machine = build_machine(proc)
                _machines[key] = machine
    return machine


def _actions_from(proc: Procedure, state: str, action_id: str) -> list[ActionDef]:
    """The definition(s) of ``action_id`` that leave ``state`` (one per source in practice)."""
    return [a for a in proc.actions if a.id == action_id and state in a.sources]


def check_role(proc: Procedure, dossier: Any, action_id: str, roles: frozenset[str]) -> tuple[ActionDef, str]:
    """Raise unless the action exists, leaves the current state, and one of ``roles`` may fire it."""
    known = [a for a in proc.actions if a.id == action_id]
    if not known:
        raise ActionNotAllowedError(f"Thủ tục không có thao tác '{action_id}' / the procedure has no action '{action_id}'")
    candidates = _actions_from(proc, dossier.state, action_id)
    if not candidates:
        raise ActionNotAllowedError(
            f"Không thể '{action_id}' khi hồ sơ ở trạng thái '{dossier.state}' / '{action_id}' is not available in state '{dossier.state}'"
        )
    for action in candidates:
        for role in action.roles:
            if role in roles:
                return action, role
    allowed = sorted({r for a in candidates for r in a.roles})
    raise PermissionDeniedError(
        f"Thao tác '{action_id}' dành cho: {', '.join(allowed)} / '{action_id}' is for: {', '.join(allowed)}"
    )


def fire(proc: Procedure, dossier: Any, action_id: str, ctx: ActionContext) -> ActionDef:
    """Move ``dossier`` by ``action_id``; raise ActionNotAllowed/PermissionDenied/Validation errors.

    On success the dossier's attributes are updated (state, status code, dates); effects in
    SERVICE_EFFECTS are left to the caller, which receives the ActionDef that fired.
    """
    action, role = check_role(proc, dossier, action_id, ctx.roles)
    ctx.role_used = role
    machine = machine_for(proc)
    try:
        ok = machine.events[action_id].trigger(dossier, ctx=ctx)
    except _GuardFailed as failed:
        raise failed.error from None
    except MachineError as exc:  # the state changed under us or is unknown to this version
        raise ActionNotAllowedError(str(exc)) from None
    if not ok:
        raise ActionNotAllowedError(f"'{action_id}' could not be carried out in state '{dossier.state}'")
    return action


@dataclass(frozen=True)
class AvailableAction:
    id: str
    to: str | None
    role: str
    inputs: tuple[str, ...]


def available_actions(proc: Procedure, dossier: Any, roles: frozenset[str], ctx: ActionContext) -> list[AvailableAction]:
    """The actions these roles may take now: state and role match, and no dossier guard fails.

    Guards on the actor's own input (a reason, the list of items, a complete form) do not hide
    an action; they are listed as the inputs it needs.
    """
    out: list[AvailableAction] = []
    seen: set[str] = set()
    for action in proc.actions:
        if dossier.state not in action.sources or action.id in seen:
            continue
        role = next((r for r in action.roles if r in roles), None)
        if role is None:
            continue
        blocked = any(
            GUARD_FUNCS[g](dossier, ctx) is not None for g in action.guards if g not in INPUT_GUARDS
        )
        if blocked:
            continue
        seen.add(action.id)
        inputs = tuple(GUARD_INPUTS[g] for g in action.guards if g in GUARD_INPUTS)
        out.append(AvailableAction(action.id, action.dest, role, inputs))
    return out
