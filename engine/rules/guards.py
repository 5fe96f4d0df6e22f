"""Named guards: each checks one condition before an action fires and returns the error to raise,
or None. Procedure files name them in an action's ``guards``; the definition checks validate the
names against :data:`GUARDS`.

Facts registered with a guard: ``input=True`` for a guard on what the actor sends rather than on
the dossier (it never hides an action), ``asks`` for the input it asks for (API and forms).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.rules import deadlines, forms, prefill
from engine.rules.errors import ActionNotAllowedError, ConditionsNotMetError, ValidationError
from engine.rules.registry import Registry

if TYPE_CHECKING:
    from engine.rules.context import ActionContext

GUARDS: Registry[Any] = Registry("guard")
SUPPLEMENT_WINDOW_WORKING_DAYS = 3


@GUARDS.register("form_complete", input=True)
def _g_form_complete(d: Any, c: ActionContext) -> Exception | None:
    """Every required field has a value, and no field holds a register conflict that only the
    register can resolve (engine.rules.prefill.standing_conflicts)."""
    missing = forms.missing_fields(c.procedure, d.data or {})
    stuck = prefill.standing_conflicts(c.procedure, getattr(d, "provenance", None), d.data or {})
    if stuck:
        return ValidationError("Tờ khai có trường mà dữ liệu nguồn không dùng được / the source's value of some "
                               "fields cannot be used", fields={**missing, **stuck})
    if missing:
        return ValidationError("Tờ khai còn thiếu trường bắt buộc / required fields are missing", fields=missing)
    return None


@GUARDS.register("documents_complete", input=True)
def _g_documents_complete(d: Any, c: ActionContext) -> Exception | None:
    if c.missing_documents:
        return ValidationError(
            "Hồ sơ còn thiếu giấy tờ / required documents are missing",
            fields={doc: ["bắt buộc / required"] for doc in c.missing_documents},
        )
    return None


@GUARDS.register("conditions_met", input=True)
def _g_conditions_met(d: Any, c: ActionContext) -> Exception | None:
    """The procedure's conditions of eligibility (engine.rules.conditions), checked against the register and
    the results store. A condition that could not be checked does not block; it is shown to the clerk."""
    if not c.procedure.conditions:
        return None
    failed = [v for v in c.evaluate_conditions() if v.failed]
    if not failed:
        return None
    fields: dict[str, list[str]] = {}
    for v in failed:
        for name in v.fields or ("conditions",):
            fields.setdefault(name, []).append(v.message())
    return ConditionsNotMetError(
        "Không đủ điều kiện theo dữ liệu của Nhà nước / the conditions of eligibility are not met",
        fields=fields, conditions=[{"rule": v.rule, "fields": list(v.fields),
                                    "message": {"vi": v.message_vi, "en": v.message_en}} for v in failed])


@GUARDS.register("fee_paid")
def _g_fee_paid(d: Any, c: ActionContext) -> Exception | None:
    if c.procedure.fee_amount > 0 and not d.fee_paid:
        return ActionNotAllowedError("Chưa nộp phí, lệ phí / the fee has not been paid")
    return None


@GUARDS.register("before_due_date")
def _g_before_due_date(d: Any, c: ActionContext) -> Exception | None:
    if d.due_at is not None and c.now > d.due_at:
        return ActionNotAllowedError(
            "Đã quá hạn giải quyết; chỉ được từ chối trong thời hạn / past the due date: refusal must come before it"
        )
    return None


@GUARDS.register("extension_unused")
def _g_extension_unused(d: Any, c: ActionContext) -> Exception | None:
    if d.extended:
        return ActionNotAllowedError("Hồ sơ đã được gia hạn một lần / the due date was already extended once")
    return None


@GUARDS.register("extension_notice")
def _g_extension_notice(d: Any, c: ActionContext) -> Exception | None:
    if d.due_at is None or not deadlines.extension_allowed(d.due_at, c.now, c.calendar):
        return ActionNotAllowedError(
            "Phải gia hạn chậm nhất 01 ngày làm việc trước ngày hẹn trả / an extension must come at least one working day before the due date"
        )
    return None


@GUARDS.register("supplement_allowed")
def _g_supplement_allowed(d: Any, c: ActionContext) -> Exception | None:
    if d.received_at is None:
        return None
    if deadlines.working_days_since(d.received_at, c.now, c.calendar) > SUPPLEMENT_WINDOW_WORKING_DAYS:
        return ActionNotAllowedError(
            "Chỉ được yêu cầu bổ sung trong 03 ngày làm việc kể từ ngày tiếp nhận / a supplement may be requested only within 3 working days of receipt"
        )
    return None


@GUARDS.register("reason_given", input=True, asks="reason")
def _g_reason_given(d: Any, c: ActionContext) -> Exception | None:
    if not c.reason or not c.reason.strip():
        return ValidationError("Phải nêu rõ lý do / a reason is required", fields={"reason": ["bắt buộc / required"]})
    return None


@GUARDS.register("items_given", input=True, asks="items")
def _g_items_given(d: Any, c: ActionContext) -> Exception | None:
    if not c.items:
        return ValidationError(
            "Phải liệt kê đầy đủ, một lần các nội dung cần bổ sung / list every item to supplement, in one request",
            fields={"items": ["bắt buộc / required"]},
        )
    return None


@GUARDS.register("new_due_date_given", input=True, asks="new_due_at")
def _g_new_due_date_given(d: Any, c: ActionContext) -> Exception | None:
    if c.new_due_at is None:
        return ValidationError("Phải nêu ngày hẹn mới / a new due date is required", fields={"new_due_at": ["bắt buộc / required"]})
    if d.due_at is not None and c.new_due_at <= d.due_at:
        return ValidationError("Ngày hẹn mới phải sau ngày hẹn cũ / the new due date must be after the current one",
                               fields={"new_due_at": ["phải sau ngày hẹn hiện tại / must be later than the current due date"]})
    return None


@GUARDS.register("time_limit_case_given", input=True, asks="case")
def _g_time_limit_case_given(d: Any, c: ActionContext) -> Exception | None:
    known = [case.id for case in c.procedure.time_limit_cases]
    if not c.time_limit_case:
        return ValidationError("Phải chọn trường hợp áp dụng thời hạn / choose the case that holds",
                               fields={"case": ["bắt buộc / required"]})
    if c.procedure.time_limit_case(c.time_limit_case) is None:
        return ValidationError(
            f"Thủ tục không có trường hợp '{c.time_limit_case}' / the procedure has no case '{c.time_limit_case}'",
            fields={"case": [f"một trong / one of: {', '.join(known)}"]},
        )
    return None


@GUARDS.register("time_limit_case_unused")
def _g_time_limit_case_unused(d: Any, c: ActionContext) -> Exception | None:
    if d.time_limit_case is not None:
        return ActionNotAllowedError(
            f"Đã áp dụng trường hợp '{d.time_limit_case}' cho thời hạn / the case '{d.time_limit_case}' was already applied"
        )
    return None


@GUARDS.register("results_issued")
def _g_results_issued(d: Any, c: ActionContext) -> Exception | None:
    if c.results_pending:
        return ActionNotAllowedError("Kết quả đang được ký số; chờ ít phút / the result is still being signed; try again shortly")
    return None


@GUARDS.register("counter_draft")
def _g_counter_draft(d: Any, c: ActionContext) -> Exception | None:
    if d.channel != "counter":
        return ActionNotAllowedError("Hồ sơ trực tuyến do công dân tự nộp / an online draft is submitted by the citizen")
    return None


# Guards that check what the actor sent rather than the dossier: they do not hide an action.
INPUT_GUARDS = frozenset(name for name in GUARDS if GUARDS.info(name).get("input"))
# Inputs each input guard asks for, for the API and the forms.
GUARD_INPUTS = {name: GUARDS.info(name)["asks"] for name in GUARDS if "asks" in GUARDS.info(name)}
