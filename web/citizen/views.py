"""Citizen pages: the catalogue of procedures, a procedure's page, and filing with prefill.

The dossier pages are in ``web.citizen.dossiers``, the data store in ``web.citizen.datastore``."""
from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.rules.errors import IdempotencyConflictError, ValidationError
from web.auth import login_required, services
from web.citizen import bp, forms
from web.citizen.words import (AUTHORITY_LABELS, CHANNEL_LABELS, ONLINE_LABELS, label_of, matches, say,
                               time_limit_text)
from web.ui import action_label, state_label, workflow_layers


@bp.app_context_processor
def _words() -> dict[str, Any]:
    # available on every page (the home page is rendered by another blueprint)
    return {"time_limit_text": time_limit_text}


@bp.context_processor
def _citizen_words() -> dict[str, Any]:
    return {"say": say, "label_of": label_of, "AUTHORITY_LABELS": AUTHORITY_LABELS, "ONLINE_LABELS": ONLINE_LABELS,
            "CHANNEL_LABELS": CHANNEL_LABELS}


# --------------------------------------------------------------------------- the catalogue


@bp.get("/procedures")
def catalogue():
    query = (request.args.get("q") or "").strip()[:200]
    procedures = services().procedures.list_procedures()
    if query:
        procedures = [p for p in procedures if matches(query, p.title.get("vi"), p.title.get("en"), p.code, p.id)]
    return render_template("citizen/catalogue.html", procedures=procedures, query=query)


@bp.get("/procedures/<procedure_id>")
def procedure(procedure_id: str):
    proc = services().procedures.get_procedure(procedure_id)  # NotFoundError -> the 404 page
    evidence = services().catalogue.evidence_types
    return render_template("citizen/procedure.html", proc=proc,
                           evidence_titles={k: v.title for k, v in evidence.items()},
                           prefillable=sum(1 for f in proc.fields if f.prefill is not None),
                           steps=_workflow_steps(proc))


def _workflow_steps(proc: Any) -> list[tuple[str, Any, list[tuple[str, str]]]]:
    """The diagram as text, for screen readers: each state (main path first) with where it leads."""
    order = [state for layer in workflow_layers(proc) for state in layer]
    codes = {s.id: s.status_code for s in proc.states}
    steps = []
    for state in order:
        leads = [(action_label(a.id, proc), state_label(a.dest, proc)) for a in proc.actions
                 if state in a.sources and a.dest and a.dest != state]
        steps.append((state_label(state, proc), codes.get(state), leads))
    return steps


# --------------------------------------------------------------------------- filing


@bp.get("/procedures/<procedure_id>/apply")
@login_required(kind="citizen")
def apply(procedure_id: str):
    proc = services().procedures.get_procedure(procedure_id)
    if "online" not in proc.channels:
        flash(_("This procedure cannot be filed online. Please file it at the one-stop counter."), "error")
        return redirect(url_for("citizen.procedure", procedure_id=proc.id), 303)
    hints, problems = forms.hints_from(proc, request.args, services().personal_ids)
    typed = {f.id: v for f, v in ((proc.field(k), v) for k, v in hints.items()) if f is not None}
    return _filing_page(proc, hints, typed, {}, problems, forms.new_key(), 422 if problems else 200)


@bp.post("/procedures/<procedure_id>/apply")
@login_required(kind="citizen")
def file_dossier(procedure_id: str):
    proc = services().procedures.get_procedure(procedure_id)
    hints, _problems = forms.hints_from(proc, request.form, services().personal_ids)
    prefill = services().prefill.prefill_for(proc.id, g.user, hints)
    entries = forms.filing_entries(proc, prefill, {}, {})
    values = forms.editable_values(proc, request.form, entries)
    key = forms.new_key(request.form.get("idempotency_key"))
    missing = forms.missing_required(proc, entries, values)
    if missing:
        return _filing_page(proc, hints, values, missing, {}, key, 422, prefill=prefill)
    try:
        view = services().filing.start_dossier(proc.id, {k: v for k, v in values.items() if v != ""}, g.user,
                                        idempotency_key=key)
    except IdempotencyConflictError:
        return _filing_page(proc, hints, values, {}, {}, forms.new_key(), 409, prefill=prefill,
                            message=_("This form was already sent once with other values. "
                                      "Check the values and send it again."))
    except ValidationError as exc:
        return _filing_page(proc, hints, values, exc.fields, {}, key, 422, prefill=prefill, message=say(exc.message))
    flash(_("Your dossier was saved as a draft. Add the documents it still needs, then submit it."), "success")
    return redirect(url_for("citizen.dossier", dossier_id=view.id), 303)


def _filing_page(proc: Any, hints: dict[str, str], typed: dict[str, Any], errors: dict[str, list[str]],
                 lookup_errors: dict[str, str], key: str, status: int, *, prefill: Any = None,
                 message: str | None = None):
    if prefill is None:
        prefill = services().prefill.prefill_for(proc.id, g.user, hints)
    entries = forms.filing_entries(proc, prefill, typed, errors)
    field_ids = set(entries)
    summary = [(entries[fid], [say(m) for m in msgs]) for fid, msgs in errors.items() if fid in field_ids]
    other = [say(m) for fid, msgs in errors.items() if fid not in field_ids for m in msgs]
    evidence = services().catalogue.evidence_types
    return render_template(
        "citizen/apply.html", proc=proc, prefill=prefill, sections=forms.sections(proc, entries),
        summary=summary, other_errors=other, message=message, key=key,
        lookup=[(f, str(typed.get(f.id) or request.args.get(f.id, "")), lookup_errors.get(f.id))
                for f in forms.lookup_fields(proc)],
        evidence_titles={k: v.title for k, v in evidence.items()},
    ), status
