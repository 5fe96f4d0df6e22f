"""The national one-stop lifecycle (DESIGN.md) that ``lifecycle: one-stop`` expands into: the
procedure's ``steps`` inside processing, ``decided_by`` closing it."""
from __future__ import annotations

from engine.rules.definitions.schema import ActionDef, StateDef, Step

ONE_STOP_STATES: dict[str, tuple[int | None, bool, str | None, str]] = {
    # id: (national status code, final, outcome, clock)
    "draft": (None, False, None, "idle"),
    "submitted": (1, False, None, "idle"),
    "reception_supplement": (5, False, None, "idle"),
    "refused": (3, True, "refusal", "idle"),
    "received": (2, False, None, "running"),
    "processing_supplement": (5, False, None, "paused"),
    "awaiting_decision": (4, False, None, "running"),
    "awaiting_payment": (6, False, None, "running"),
    "withdrawal_requested": (7, False, None, "running"),
    "stopped": (8, True, "stop", "idle"),
    "rejected": (9, True, "rejection", "idle"),
    "decided": (9, False, None, "idle"),
    "returned": (10, True, "result", "idle"),
}


# States in which the applicant may change the form and the documents, and the supplement states.
ONE_STOP_EDITABLE = frozenset({"draft", "reception_supplement", "processing_supplement"})
ONE_STOP_SUPPLEMENT = frozenset({"reception_supplement", "processing_supplement"})


def step_state(step_id: str) -> str:
    return f"processing_{step_id}"


# The action that applies a time-limit case, and its effect (only when the definition lists cases).
CASE_ACTION = "apply_time_limit_case"
CASE_EFFECT = "apply_time_limit_case"


def one_stop(steps: tuple[Step, ...], decided_by: tuple[str, ...], *,
             with_cases: bool = False) -> tuple[list[StateDef], list[ActionDef]]:
    """The states and actions of the lifecycle. ``with_cases`` (the definition's ``time_limit`` lists
    cases) adds ``apply_time_limit_case``: the clerk or the handling officer says, with a reason,
    which case holds while the dossier is received or in a processing step, once, before it is due."""
    states = [StateDef(sid, code, final, outcome, clock, sid in ONE_STOP_EDITABLE, sid in ONE_STOP_SUPPLEMENT)
              for sid, (code, final, outcome, clock) in ONE_STOP_STATES.items()]
    step_states = [step_state(s.id) for s in steps]
    # insert the step states after "received"
    at = [s.id for s in states].index("received") + 1
    states[at:at] = [StateDef(sid, 4, False, None, "running") for sid in step_states]
    first_step = step_states[0] if step_states else "awaiting_decision"
    open_states = (
        ("submitted", "reception_supplement", "received") + tuple(step_states)
        + ("processing_supplement", "awaiting_decision", "awaiting_payment")
    )
    running = ("received",) + tuple(step_states) + ("awaiting_decision", "awaiting_payment")
    actions = [
        ActionDef("submit", ("draft",), "submitted", ("applicant",),
                  ("form_complete", "documents_complete", "conditions_met"), ("mark_submitted",)),
        ActionDef("file_at_counter", ("draft",), "submitted", ("clerk",),
                  ("counter_draft", "form_complete", "conditions_met"), ("mark_submitted",)),
        ActionDef("receive", ("submitted",), "received", ("clerk",),
                  ("form_complete", "documents_complete", "conditions_met"),
                  ("assign_code", "start_clock", "issue_receipt")),
        ActionDef("request_supplement", ("submitted",), "reception_supplement", ("clerk",),
                  ("items_given",), ("count_supplement", "issue_supplement_request")),
        ActionDef("request_supplement", tuple(step_states) + ("received",), "processing_supplement",
                  ("clerk", "specialist"), ("items_given", "supplement_allowed"),
                  ("count_supplement", "pause_clock", "issue_supplement_request")),
        ActionDef("provide_supplement", ("reception_supplement",), "submitted", ("applicant", "clerk"),
                  ("form_complete", "documents_complete"), ()),
        ActionDef("provide_supplement", ("processing_supplement",), first_step, ("applicant", "clerk"),
                  ("form_complete", "documents_complete"), ("resume_clock",)),
        ActionDef("refuse", ("submitted", "reception_supplement"), "refused", ("clerk",),
                  ("reason_given",), ("close", "issue_refusal")),
        ActionDef("assign", ("received",), first_step, ("leader", "clerk"), (), ()),
    ]
    for i, step in enumerate(steps):
        nxt = step_states[i + 1] if i + 1 < len(steps) else "awaiting_decision"
        actions.append(ActionDef(step.id, (step_states[i],), nxt, step.roles, (), (), step.label))
    actions += [
        ActionDef("request_payment", ("awaiting_decision",), "awaiting_payment", ("clerk", "specialist"), (), ()),
        ActionDef("confirm_payment", ("awaiting_payment",), "awaiting_decision", ("clerk",), (), ("mark_paid",)),
        ActionDef("request_withdrawal", open_states, "withdrawal_requested", ("applicant",), (), ()),
        ActionDef("stop", ("withdrawal_requested",), "stopped", ("clerk", "leader"), (), ("close", "issue_stop_notice")),
        ActionDef("reject", ("awaiting_decision",) + tuple(step_states), "rejected", decided_by,
                  ("reason_given", "before_due_date"), ("close", "mark_decided", "issue_refusal_after_appraisal")),
        ActionDef("approve", ("awaiting_decision",), "decided", decided_by, ("fee_paid",), ("record_result", "mark_decided")),
        ActionDef("extend_due", running, None, ("clerk", "leader"),
                  ("reason_given", "new_due_date_given", "extension_unused", "extension_notice"),
                  ("extend_due", "issue_extension_apology")),
        ActionDef("return_result", ("decided",), "returned", ("clerk", "records"), ("results_issued",), ("close",)),
    ]
    if with_cases:
        actions.append(ActionDef(CASE_ACTION, ("received",) + tuple(step_states), None, ("clerk", "specialist"),
                                 ("time_limit_case_unused", "before_due_date", "reason_given", "time_limit_case_given"),
                                 (CASE_EFFECT,)))
    return states, actions

