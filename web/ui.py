"""What every page shares: words for states, actions and inputs, and the workflow drawn as a diagram."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from flask import Flask, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from web.i18n import fmt_date, local_text, locale, pick

STATE_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted, awaiting reception"),
    "reception_supplement": _l("Supplement requested at reception"),
    "refused": _l("Not accepted"),
    "received": _l("Received"),
    "processing_supplement": _l("Supplement requested during processing"),
    "awaiting_decision": _l("Awaiting decision"),
    "awaiting_payment": _l("Awaiting payment"),
    "withdrawal_requested": _l("Withdrawal requested"),
    "stopped": _l("Stopped"),
    "rejected": _l("Rejected"),
    "decided": _l("Decided, result ready"),
    "returned": _l("Result returned"),
}

ACTION_LABELS = {
    "submit": _l("Submit"),
    "file_at_counter": _l("File at the counter"),
    "receive": _l("Receive"),
    "request_supplement": _l("Request a supplement"),
    "provide_supplement": _l("Send the supplement"),
    "refuse": _l("Refuse to accept"),
    "assign": _l("Assign for processing"),
    "request_payment": _l("Request payment"),
    "confirm_payment": _l("Confirm payment"),
    "request_withdrawal": _l("Withdraw the dossier"),
    "stop": _l("Stop processing"),
    "reject": _l("Reject"),
    "approve": _l("Approve and sign"),
    "extend_due": _l("Extend the time limit"),
    "apply_time_limit_case": _l("Apply a longer time limit for a case"),
    "return_result": _l("Return the result"),
}

INPUT_LABELS = {
    "reason": _l("Reason"),
    "items": _l("Items to supplement (one per line)"),
    "new_due_at": _l("New due date"),
    "case": _l("The case that holds"),
    "comment": _l("Comment"),
}

CONDITION_LABELS = {
    "passed": _l("Met"),
    "failed": _l("Not met"),
    "not_checked": _l("Not checked"),
}

TIMELINESS_LABELS = {
    "on_time": _l("On time"),
    "due_soon": _l("Due soon"),
    "overdue": _l("Overdue"),
    "none": _l("No time limit yet"),
}

ROLE_LABELS = {
    "clerk": _l("Reception clerk"),
    "specialist": _l("Handling officer"),
    "leader": _l("Leader (approves and signs)"),
    "records": _l("Records clerk (agency seal)"),
    "admin": _l("Administrator"),
    "applicant": _l("Applicant"),
    "system": _l("System"),
}

CHANNEL_LABELS = {
    "online": _l("Online"),
    "counter": _l("At the one-stop counter"),
    "postal": _l("By post"),
}

RESULT_STATUS_LABELS = {
    "valid": _l("Valid"),
    "pending": _l("Being signed"),
    "revoked": _l("Revoked"),
    "superseded": _l("Superseded"),
    "expired": _l("Expired"),
}

# Events in a dossier's history that are not workflow actions.
EVENT_LABELS = {
    "create": _l("Dossier created"),
}

# Actions that end or undo something: shown as secondary, asked for confirmation by the page.
CAUTION_ACTIONS = {"refuse", "reject", "stop", "request_withdrawal"}


_TRANSLATED: dict[tuple[int, str], dict[str, str]] = {}
_TABLES = {id(table) for table in (STATE_LABELS, ACTION_LABELS, INPUT_LABELS, CONDITION_LABELS, TIMELINESS_LABELS,
                                   ROLE_LABELS, CHANNEL_LABELS, RESULT_STATUS_LABELS, EVENT_LABELS)}


def translated(table: dict[str, Any]) -> dict[str, str]:
    """One of the tables above as text in the page's language. Translated once per language and kept:
    the catalogues do not change while the app runs (a page of the desk asks for hundreds of labels).
    Another table is translated at each call."""
    if id(table) not in _TABLES or not has_request_context():  # no page, no language: no keeping
        return {k: str(v) for k, v in table.items()}
    key = (id(table), locale())
    out = _TRANSLATED.get(key)
    if out is None:
        out = _TRANSLATED[key] = {k: str(v) for k, v in table.items()}
    return out


def label_of(table: dict[str, Any], key: str | None) -> str:
    """A code's words from one of the tables above (or from one as ``translated`` gives it, as templates
    have them); an unknown code as readable text."""
    if key is None:
        return ""
    words = (translated(table) if id(table) in _TABLES else table).get(key)
    return str(words) if words is not None else key.replace("_", " ")


def display_value(field: Any, value: Any) -> str:
    """A form value as a person reads it: the option's label, Yes/No, a date as dd/mm/yyyy."""
    if value is None or value == "":
        return ""
    if field is None:
        return str(value)
    if field.type == "select":
        option = next((o for o in field.options if o.value == str(value)), None)
        return pick(option.label) if option else str(value)
    if field.type == "boolean":
        return _("Yes") if value is True or value in ("true", "1", "on") else _("No")
    if field.type == "date":
        return fmt_date(str(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# Register codes a source may hold that a form does not offer (shown in a conflict in words).
REGISTER_VALUE_LABELS = {
    "single": _l("never married"),
    "married": _l("married"),
    "divorced": _l("divorced"),
    "widowed": _l("widowed"),
    "female": _l("female"),
    "male": _l("male"),
}


def conflict_text(conflict: Any) -> str:
    """A source value the field cannot hold, in the page's language: "The national population database
    records “married”; this value cannot be chosen in this field (not one of the options)". ``conflict``
    is a provenance entry (a dict with ``conflict``) or the prefill's conflict object."""
    if isinstance(conflict, dict):
        inner = conflict.get("conflict") or {}
        value, reason = inner.get("value"), inner.get("reason")
        vi, en = conflict.get("label") or "", conflict.get("label_en") or conflict.get("label") or ""
    else:
        value, reason, vi, en = conflict.value, conflict.reason, conflict.label, conflict.label_en
    source = en if locale() == "en" and en else vi
    shown = str(REGISTER_VALUE_LABELS[value]) if isinstance(value, str) and value in REGISTER_VALUE_LABELS else value
    return _("%(source)s records “%(value)s”; this value cannot be chosen in this field (%(reason)s).",
             source=source[:1].upper() + source[1:], value="" if shown is None else shown, reason=local_text(reason))


def conflict_advice(editable: bool) -> str:
    """What happens next with a field in conflict: typed by the applicant, or corrected at the register."""
    if editable:
        return _("Type the value that applies: the one-stop unit checks it against the register.")
    return _("The field stays empty: the register must be corrected first, and until then the dossier cannot be "
             "submitted.")


def state_label(state: str, procedure: Any = None) -> str:
    words = translated(STATE_LABELS).get(state)
    if words is not None:
        return words
    if state.startswith("processing_") and procedure is not None:
        step = next((s for s in procedure.steps if f"processing_{s.id}" == state), None)
        if step is not None:
            return pick(step.label)
    return state.replace("_", " ")


def action_label(action: str, procedure: Any = None) -> str:
    words = translated(ACTION_LABELS).get(action)
    if words is not None:
        return words
    if procedure is not None:
        step = next((s for s in procedure.steps if s.id == action), None)
        if step is not None:
            return pick(step.label)
    return action.replace("_", " ")


# --------------------------------------------------------------------------- the workflow diagram

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 184, 48, 22, 40, 12


@dataclass(frozen=True)
class History:
    """The events a dossier page lists: the view's latest ones, or an older page (``?before=<seq>``)."""

    events: list[Any]
    older: int | None  # the ``before`` of the next older page; None: the first event is listed
    paged: bool  # an older page is shown (the page offers a way back to the latest events)


def dossier_history(view: Any, before: str | None, list_events: Any) -> History:
    """The history section of a dossier page: the view's latest events, or, when ``before`` is a sequence
    number, the page of events before it, read by ``list_events(dossier_id, before=...)`` (the dossier's
    access rule was applied by the read of ``view``)."""
    if before and before.isdigit() and 0 < int(before) < 2**31:
        page = list_events(view.id, before=int(before))
        return History(page.events, page.next_before, True)
    return History(view.events, view.events_before, False)


def workflow_layers(procedure: Any) -> list[list[str]]:
    """States by their distance from the first state (breadth first), so the main path runs down."""
    edges: dict[str, list[str]] = {}
    for a in procedure.actions:
        for src in a.sources:
            edges.setdefault(src, []).append(a.dest)
    start = procedure.states[0].id
    depth = {start: 0}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        for dest in edges.get(state, []):
            if dest not in depth:
                depth[dest] = depth[state] + 1
                queue.append(dest)
    layers: list[list[str]] = []
    for s in procedure.states:
        if s.id in depth:
            while len(layers) <= depth[s.id]:
                layers.append([])
            layers[depth[s.id]].append(s.id)
    return layers


def workflow_svg(procedure: Any) -> Markup:
    """The procedure's states and actions as an SVG drawn on the server: no script, no outside asset."""
    layers = workflow_layers(procedure)
    finals = {s.id for s in procedure.states if s.final}
    widest = max(len(layer) for layer in layers)
    width = widest * BOX_W + (widest - 1) * GAP_X + 2 * PAD
    height = len(layers) * BOX_H + (len(layers) - 1) * GAP_Y + 2 * PAD
    pos: dict[str, tuple[float, float]] = {}
    for row, layer in enumerate(layers):
        row_w = len(layer) * BOX_W + (len(layer) - 1) * GAP_X
        x0 = (width - row_w) / 2
        for col, state in enumerate(layer):
            pos[state] = (x0 + col * (BOX_W + GAP_X), PAD + row * (BOX_H + GAP_Y))
    title = escape(pick(procedure.title))
    parts = [f'<svg class="workflow" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
             f'role="img" aria-labelledby="wf-title"><title id="wf-title">{title}</title>',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="wf-head"/></marker></defs>']
    drawn: set[tuple[str, str]] = set()
    for a in procedure.actions:
        for src in a.sources:
            if src not in pos or a.dest not in pos or (src, a.dest) in drawn or src == a.dest:
                continue
            drawn.add((src, a.dest))
            (x1, y1), (x2, y2) = pos[src], pos[a.dest]
            back = y2 <= y1
            sx, sy = x1 + BOX_W / 2, (y1 if back else y1 + BOX_H)
            ex, ey = x2 + BOX_W / 2, (y2 + BOX_H if back else y2)
            if back:  # a way back up (a supplement answered): curve it out to the side
                bend = max(x1, x2) + BOX_W / 2 + 18
                parts.append(f'<path class="wf-edge wf-back" d="M{sx + BOX_W / 2:.0f},{y1 + BOX_H / 2:.0f} '
                             f'C{bend + 40:.0f},{y1 + BOX_H / 2:.0f} {bend + 40:.0f},{y2 + BOX_H / 2:.0f} '
                             f'{ex + BOX_W / 2:.0f},{y2 + BOX_H / 2:.0f}" marker-end="url(#arrow)"/>')
            else:
                parts.append(f'<path class="wf-edge" d="M{sx:.0f},{sy:.0f} C{sx:.0f},{sy + GAP_Y / 2:.0f} '
                             f'{ex:.0f},{ey - GAP_Y / 2:.0f} {ex:.0f},{ey:.0f}" marker-end="url(#arrow)"/>')
    for state, (x, y) in pos.items():
        kind = "wf-final" if state in finals else "wf-state"
        code = next((s.status_code for s in procedure.states if s.id == state), None)
        lines = _wrap(state_label(state, procedure) + (f" ({code})" if code else ""))
        top = y + BOX_H / 2 + 5 - (len(lines) - 1) * 8
        spans = "".join(f'<tspan x="{x + BOX_W / 2:.0f}" y="{top + i * 16:.0f}">{escape(line)}</tspan>'
                        for i, line in enumerate(lines))
        parts.append(f'<g class="{kind}"><rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="8"/>'
                     f'<text text-anchor="middle">{spans}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _wrap(text: str, width: int = 26) -> list[str]:
    """At most two lines of about ``width`` characters, cut at spaces; the rest ends in an ellipsis."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    lines.append(current)
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
    if len(lines[-1]) > width + 2:
        lines[-1] = lines[-1][: width + 1] + "…"
    return lines


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(state_label=state_label, action_label=action_label, workflow_svg=workflow_svg,
                                 CAUTION_ACTIONS=CAUTION_ACTIONS)

    @app.context_processor
    def _labels() -> dict[str, Any]:  # the tables pages index, as text in the page's language
        roles = translated(ROLE_LABELS)
        return {"INPUT_LABELS": translated(INPUT_LABELS), "TIMELINESS_LABELS": translated(TIMELINESS_LABELS),
                "staff_roles": roles, "ROLE_LABELS": roles}
