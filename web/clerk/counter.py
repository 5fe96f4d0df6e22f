"""Counter filing: the clerk looks a walk-in citizen up in the population register, chooses a
procedure, checks the form the registers already filled in, types the rest and files the dossier
(it is then submitted, awaiting reception, like an online one)."""
from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.rules.errors import NotFoundError, ValidationError
from web.auth import login_required, services
from web.clerk import bp
from web.clerk.labels import display_value
from web.i18n import pick
from web.ui import conflict_advice, conflict_text

MAX_KEY = 200


def _find(personal_id: str) -> tuple[Any, str | None, int]:
    """(the person's card or None, the message to show, the status)."""
    try:
        return services().counter.find_person(personal_id, g.user), None, 200
    except ValidationError:
        return None, _("A personal identification number has 12 digits. Check the number and try again."), 422
    except NotFoundError:
        return None, _("There is no one with this number in the national population database."), 404


@bp.get("/counter")
@login_required(kind="staff", role="clerk")
def counter():
    personal_id = request.args.get("personal_id")
    person, error, status = _find(personal_id) if personal_id is not None else (None, None, 200)
    procedures = services().counter.counter_procedures(g.user) if person is not None else []
    return render_template("clerk/counter.html", personal_id=personal_id or "", person=person, error=error,
                           procedures=procedures), status


def _hints(proc: Any, applicant: str, values: dict[str, str]) -> dict[str, str]:
    """The walk-in, and the personal ids the clerk typed (a spouse, a parent): the registers fill in the rest."""
    hints = {"applicant": applicant}
    for f in proc.fields:
        value = values.get(f.id, "")
        if f.type == "personal_id" and services().personal_ids.matches(value):
            hints[f.id] = value
    return hints


def _same(a: Any, b: Any) -> bool:
    return a == b or str(a).strip() == str(b).strip()


def _field_rows(proc: Any, prefill: Any, typed: dict[str, str], errors: dict[str, list[str]]) -> list[tuple[Any, list[dict]]]:
    """The form's fields by group, with the value to show and where it came from."""
    groups: dict[str | None, list[dict]] = {}
    conflicts = getattr(prefill, "conflicts", None) or {}
    for f in proc.fields:
        pre = prefill.fields.get(f.id)
        conflict = conflicts.get(f.id)  # the register's value the field cannot hold: shown, never put in it
        locked = (pre is not None and not pre.editable) or (conflict is not None and not conflict.editable)
        typed_value = typed.get(f.id, "")
        if conflict is not None:
            value = "" if locked else typed_value
        else:
            value = pre.value if locked or (pre is not None and typed_value == "") else typed_value
        source = pick({"vi": pre.label, "en": pre.label_en}) if pre is not None else ""
        groups.setdefault(f.group, []).append({
            "f": f, "value": "" if value is None else value, "display": display_value(f, value), "locked": locked,
            "source": source if pre is not None and _same(value, pre.value) else "",
            "changed": pre is not None and not _same(value, pre.value),
            "errors": errors.get(f.id, []),
            "conflict": f"{conflict_text(conflict)} {conflict_advice(conflict.editable)}" if conflict is not None else "",
        })
    titles = {gr.id: gr.label for gr in proc.groups}
    ordered = [gid for gid in titles if gid in groups] + [gid for gid in groups if gid not in titles]
    return [(titles.get(gid), groups[gid]) for gid in ordered]


def _form_data(proc: Any, form: Any) -> dict[str, Any]:
    """What the clerk sent, as the service takes it: empty fields left out, a checkbox as true/false."""
    data: dict[str, Any] = {}
    for f in proc.fields:
        raw = form.get(f.id, "")
        if f.type == "boolean":
            data[f.id] = raw in ("true", "on")
        elif raw.strip():
            data[f.id] = raw.strip()
    return data


def _render_form(proc: Any, person: Any, *, typed: dict[str, str], key: str, errors: dict[str, list[str]] | None = None,
                 message: str | None = None, status: int = 200):
    errors = errors or {}
    prefill = services().prefill.prefill_for(proc.id, g.user, _hints(proc, person.personal_id, typed))
    known = {f.id for f in proc.fields}
    others = [(k, v) for k, v in errors.items() if k not in known]
    reused = [(pick(d.label), prefill.documents[d.id]) for d in proc.documents if d.id in prefill.documents]
    return render_template("clerk/counter_form.html", proc=proc, person=person, prefill=prefill,
                           rows=_field_rows(proc, prefill, typed, errors), key=key, errors=errors, others=others,
                           message=message, reused=reused), status


def _person_or_back(applicant: str):
    person, error, _status = _find(applicant)
    if person is None:
        flash(error, "error")
    return person


@bp.get("/counter/<procedure_id>")
@login_required(kind="staff", role="clerk")
def counter_form(procedure_id: str):
    proc = services().procedures.get_procedure(procedure_id)
    applicant = request.args.get("applicant", "").strip()
    if proc.id not in {p.id for p in services().counter.counter_procedures(g.user)}:
        flash(_("Your agency does not take this procedure at the counter."), "error")
        return redirect(url_for("clerk.counter", personal_id=applicant), 303)
    person = _person_or_back(applicant)  # looked up only for a procedure the counter takes: the read is logged
    if person is None:
        return redirect(url_for("clerk.counter", personal_id=applicant), 303)
    return _render_form(proc, person, typed={}, key=uuid.uuid4().hex)


@bp.post("/counter/<procedure_id>")
@login_required(kind="staff", role="clerk")
def counter_file(procedure_id: str):
    svc = services()
    proc = svc.procedures.get_procedure(procedure_id)
    form = request.form
    applicant = form.get("applicant", "").strip()
    key = form.get("idempotency_key", "").strip()
    if not key or len(key) > MAX_KEY:
        abort(400, _("The form is incomplete. Open the counter filing page again."))
    if proc.id not in {p.id for p in svc.counter.counter_procedures(g.user)}:
        flash(_("Your agency does not take this procedure at the counter."), "error")
        return redirect(url_for("clerk.counter", personal_id=applicant), 303)
    person = _person_or_back(applicant)
    if person is None:
        return redirect(url_for("clerk.counter", personal_id=applicant), 303)
    typed = {f.id: form.get(f.id, "").strip() for f in proc.fields}
    if "lookup" in form:  # look the personal ids typed so far up in the registers; file nothing
        return _render_form(proc, person, typed=typed, key=key)
    try:
        view = svc.counter.file_for_walk_in(proc.id, _form_data(proc, form), g.user, applicant=applicant, idempotency_key=key)
    except ValidationError as exc:
        return _render_form(proc, person, typed=typed, key=key, errors=exc.fields, message=exc.message, status=422)
    if view.state == proc.initial:
        flash(_("The dossier was created but could not be filed. Check it and file it from its page."), "warning")
    else:
        flash(_("Filed at the counter for %(name)s. Add scanned documents if needed, then receive the dossier.",
                name=person.full_name), "success")
    return redirect(url_for("clerk.dossier", dossier_id=view.id), 303)
