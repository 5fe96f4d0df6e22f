"""The workflow: one cached ``transitions`` Machine per (procedure, version), fired on any object
with the dossier's attributes (``state``, ``due_at``, ...). Never ``add_model``; callbacks only set
attributes. Guards and effects are the named ones of :mod:`engine.rules.guards` and
:mod:`engine.rules.effects`.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from transitions import Machine, MachineError

from engine.rules.context import ActionContext
from engine.rules.definitions import ActionDef, Procedure
from engine.rules.effects import EFFECTS, SERVICE_EFFECTS
from engine.rules.errors import ActionNotAllowedError, PermissionDeniedError
from engine.rules.guards import GUARD_INPUTS, GUARDS, INPUT_GUARDS

__all__ = [
    "ActionContext", "AvailableAction", "SERVICE_EFFECTS", "available_actions", "build_machine", "check_role",
    "fire", "machine_for",
]


class _GuardFailed(Exception):
    def __init__(self, error: Exception):
        self.error = error


# --------------------------------------------------------------------------- machines


def _condition(action: ActionDef) -> Callable[[Any], bool]:
    guards = [GUARDS.get(g) for g in action.guards]

    def check(event: Any) -> bool:
        ctx: ActionContext = event.kwargs["ctx"]
        for guard in guards:
            error = guard(event.model, ctx)
            if error is not None:
                raise _GuardFailed(error)
        return True

    return check


def _after(action: ActionDef) -> Callable[[Any], None]:
    effects = [EFFECTS.get(e) for e in action.effects]

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
    return [a for a in proc.actions_from(state) if a.id == action_id]


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
    for action in proc.actions_from(dossier.state):
        if action.id in seen:
            continue
        role = next((r for r in action.roles if r in roles), None)
        if role is None:
            continue
        blocked = any(
            GUARDS.get(g)(dossier, ctx) is not None for g in action.guards if g not in INPUT_GUARDS
        )
        if blocked:
            continue
        seen.add(action.id)
        inputs = tuple(GUARD_INPUTS[g] for g in action.guards if g in GUARD_INPUTS)
        out.append(AvailableAction(action.id, action.dest, role, inputs))
    return out
