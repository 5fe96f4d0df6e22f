"""My dossiers: the list, one dossier's page (form, documents, history, slips, results) and what
the citizen does on it (edit the form, add documents, submit, answer a supplement, withdraw)."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.rules.errors import (ActionNotAllowedError, ConcurrencyError, ConditionsNotMetError, NotFoundError,
                                 PayloadTooLargeError, UnsupportedMediaError, ValidationError)
from web.auth import login_required, services
from web.citizen import bp, forms
from web.downloads import file_response
from web.citizen.words import EVENT_LABELS, NEXT_STEP, RESULT_STATUS_LABELS, ROLE_LABELS, label_of, say
from web.i18n import pick
from web.ui import action_label, dossier_history

MAX_PAGE = 10_000

ACTION_DONE = {
    "submit": _l("Your dossier was submitted. The one-stop unit will check and receive it; the dossier code is "
                 "given on reception and shown here and on the receipt slip."),
    "provide_supplement": _l("Your supplement was sent. The dossier goes back to the one-stop unit."),
    "request_withdrawal": _l("Your request to withdraw the dossier was sent."),
}


@bp.get("/my/dossiers")
@login_required(kind="citizen")
def my_dossiers():
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isdigit() and 1 <= int(raw) <= MAX_PAGE else 1
    listing = services().desk.list_dossiers(g.user, page=page)
    pages = max(1, -(-listing.total // listing.page_size))
    return render_template("citizen/my_dossiers.html", listing=listing, pages=pages)


@bp.get("/my/dossiers/<dossier_id>")
@login_required(kind="citizen")
def dossier(dossier_id: str):
    return _dossier_page(services().dossiers.get_dossier(dossier_id, g.user))


# --------------------------------------------------------------------------- the form


@bp.post("/my/dossiers/<dossier_id>/form")
@login_required(kind="citizen")
def save_form(dossier_id: str):
    view = services().dossiers.get_dossier(dossier_id, g.user)
    proc = _procedure(view)
    entries = forms.dossier_entries(proc, view.data, view.provenance)
    values = forms.editable_values(proc, request.form, entries)
    try:
        services().filing.save_form(dossier_id, values, g.user, expected_version=_version())
    except ValidationError as exc:
        return _dossier_page(view, 422, typed=values, errors=exc.fields, message=say(exc.message))
    except (ConcurrencyError, ActionNotAllowedError) as exc:
        flash(_conflict(exc), "error")
        return _back(dossier_id)
    flash(_("The form was saved."), "success")
    return _back(dossier_id)


# --------------------------------------------------------------------------- documents


@bp.post("/my/dossiers/<dossier_id>/documents")
@login_required(kind="citizen")
def upload_document(dossier_id: str):
    requirement = request.form.get("requirement", "")
    upload = request.files.get("file")
    content = upload.read() if upload is not None else b""
    status, problem = 201, None
    if not content:
        status, problem = 422, _("Choose a file to upload.")
    else:
        try:
            services().filing.add_document(dossier_id, requirement, upload.filename, content, g.user)
        except PayloadTooLargeError as exc:
            status, problem = 413, say(exc.message)
        except UnsupportedMediaError as exc:
            status, problem = 415, say(exc.message)
        except ValidationError as exc:
            status, problem = 422, _field_messages(exc)
        except ActionNotAllowedError as exc:
            flash(_conflict(exc), "error")
            return _back(dossier_id)
    if problem is not None:
        view = services().dossiers.get_dossier(dossier_id, g.user)
        return _dossier_page(view, status, upload_errors={requirement: problem})
    flash(_("The file was added to your dossier."), "success")
    return _back(dossier_id, "documents")


@bp.post("/my/dossiers/<dossier_id>/documents/link")
@login_required(kind="citizen")
def link_result(dossier_id: str):
    try:
        services().filing.link_result(dossier_id, request.form.get("requirement", ""), request.form.get("result_id", ""), g.user)
    except ValidationError as exc:
        flash(_field_messages(exc), "error")
        return _back(dossier_id, "documents")
    except ActionNotAllowedError as exc:
        flash(_conflict(exc), "error")
        return _back(dossier_id, "documents")
    flash(_("The result from your data store now stands in for this document: no paper needed."), "success")
    return _back(dossier_id, "documents")


@bp.get("/my/dossiers/<dossier_id>/documents/<document_id>")
@login_required(kind="citizen")
def document(dossier_id: str, document_id: str):
    content, mime, name = services().dossiers.document_content(dossier_id, document_id, g.user)
    return file_response(content, mime, name)


# --------------------------------------------------------------------------- actions


@bp.post("/my/dossiers/<dossier_id>/actions/<action>")
@login_required(kind="citizen")
def act(dossier_id: str, action: str):
    form = request.form
    if action == "request_withdrawal":
        problem = None
        if not (form.get("reason") or "").strip():
            problem = _("Give the reason why you withdraw the dossier.")
        elif form.get("confirm") != "yes":
            problem = _("Tick the box to confirm that you want to withdraw the dossier.")
        if problem is not None:
            services().dossiers.get_dossier(dossier_id, g.user)  # someone else's dossier: not found
            flash(problem, "error")
            return _back(dossier_id, "actions")
    items = [line.strip() for line in (form.get("items") or "").splitlines() if line.strip()]
    try:
        services().actions.perform_action(dossier_id, action, g.user, comment=form.get("comment") or None,
                                  reason=form.get("reason") or None, items=items or None,
                                  expected_version=_version())
    except ConditionsNotMetError as exc:
        # the state's data says no: the same messages beside the fields they concern, and nothing filed
        view = services().dossiers.get_dossier(dossier_id, g.user)
        return _dossier_page(view, 422, errors=exc.fields, message=say(exc.message))
    except ValidationError as exc:
        flash(_field_messages(exc, services().dossiers.get_dossier(dossier_id, g.user)), "error")
        return _back(dossier_id, "actions")
    except (ActionNotAllowedError, ConcurrencyError) as exc:
        flash(_conflict(exc), "error")
        return _back(dossier_id)
    flash(str(ACTION_DONE[action]) if action in ACTION_DONE else _("Done."), "success")
    return _back(dossier_id)


# --------------------------------------------------------------------------- slips


@bp.get("/my/slips/<slip_id>.pdf")
@login_required(kind="citizen")
def slip_pdf(slip_id: str):
    return pdf_download("slip", slip_id)


def pdf_download(kind: str, document_id: str):
    """A signed PDF as an attachment; one still being signed (409) or without a file (404): a page."""
    try:
        content, name = services().results.document_pdf(kind, document_id, g.user)
    except ActionNotAllowedError as exc:
        return render_template("citizen/unavailable.html", status=409, message=say(exc.message)), 409
    except NotFoundError as exc:
        return render_template("citizen/unavailable.html", status=404, message=say(exc.message)), 404
    return file_response(content, "application/pdf", name)


# --------------------------------------------------------------------------- the page


def verify_link(document_id: str) -> str:
    """The public verification page of a document, as a path on this site."""
    parts = urlsplit(services().links.verify_url(document_id))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _procedure(view: Any) -> Any:
    return services().procedures.procedure_version(view.procedure, view.version)


def _version() -> int | None:
    raw = request.form.get("expected_version", "")
    return int(raw) if raw.isdigit() else None


def _back(dossier_id: str, anchor: str | None = None):
    return redirect(url_for("citizen.dossier", dossier_id=dossier_id, _anchor=anchor), 303)


def _conflict(exc: Exception) -> str:
    if isinstance(exc, ConcurrencyError):
        return _("Someone changed this dossier in the meantime. Here it is as it is now; try again.")
    return say(getattr(exc, "message", "")) or _("This cannot be done in the dossier's current state.")


def _field_messages(exc: ValidationError, view: Any = None) -> str:
    """The service's message with the fields or documents it names, in words."""
    names: dict[str, Any] = {}
    if view is not None:
        proc = _procedure(view)
        names = {f.id: f.label for f in proc.fields} | {d.id: d.label for d in proc.documents}
    parts = [f"{pick(names[k]) if k in names else k}: {', '.join(say(m) for m in msgs)}"
             for k, msgs in exc.fields.items()]
    text = say(exc.message)
    return f"{text} — {'; '.join(parts)}" if parts else text


def _supplement_request(view: Any, proc: Any) -> Any:
    if view.state not in proc.supplement_states:
        return None
    return next((e for e in reversed(view.events) if e.action == "request_supplement"), None)


def _dossier_page(view: Any, status: int = 200, *, typed: dict | None = None, errors: dict | None = None,
                  upload_errors: dict | None = None, message: str | None = None):
    proc = _procedure(view)
    editable = view.state in proc.editable_states
    entries = forms.dossier_entries(proc, view.data, view.provenance, typed, errors)
    errors = errors or {}
    summary = [(entries[k], [say(m) for m in msgs]) for k, msgs in errors.items() if k in entries]
    other = [say(m) for k, msgs in errors.items() if k not in entries for m in msgs]
    mine = services().results.list_results(g.user)
    numbers = {r.id: r.number for r in mine}
    docs = {d.requirement: d for d in view.documents}
    requirements = []
    for r in view.requirements:
        choices = [x for x in mine if r.replaced_by and x.evidence == r.replaced_by and x.status == "valid"]
        requirements.append({"req": r, "doc": docs.get(r.id), "choices": choices,
                             "error": (upload_errors or {}).get(r.id)})
    history = dossier_history(view, request.args.get("before"),
                              lambda did, before: services().dossiers.list_events(did, g.user, before=before))
    return render_template(
        "citizen/dossier.html", view=view, proc=proc, history=history, editable=editable, sections=forms.sections(proc, entries),
        summary=summary, other=other, message=message, requirements=requirements, numbers=numbers,
        supplement=_supplement_request(view, proc), next_step=NEXT_STEP.get(view.state),
        event_label=lambda action: str(EVENT_LABELS[action]) if action in EVENT_LABELS else action_label(action, proc),
        role_label=lambda role: label_of(ROLE_LABELS, role), RESULT_STATUS_LABELS=RESULT_STATUS_LABELS,
        label_of=label_of, verify_url=verify_link,
        evidence_titles={k: v.title for k, v in services().catalogue.evidence_types.items()},
    ), status
