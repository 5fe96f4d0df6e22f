"""Clerk desk pages: the work queue, a dossier with its documents, history and actions, and the files
(uploaded scans, slips, results) served for viewing. Every rule is the services'; the views only
read the request, call one use case and show the outcome."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from engine.rules.errors import (
    ActionNotAllowedError,
    ConcurrencyError,
    PageRenderError,
    PayloadTooLargeError,
    UnsupportedMediaError,
    ValidationError,
)
from web import fragments
from web.auth import login_required, services
from web.citizen.words import time_limit_text
from web.clerk import bp
from web.clerk.labels import (
    CHANNEL_LABELS,
    DOCUMENT_STATUS,
    HISTORY_ACTIONS,
    SLIP_LABELS,
    display_value,
    label,
    source_label,
)
from web.downloads import file_response, page_image_response
from web.i18n import locale, pick
from web.ui import (CAUTION_ACTIONS, CONDITION_LABELS, INPUT_LABELS, ROLE_LABELS, TIMELINESS_LABELS, action_label,
                    conflict_advice, conflict_text, dossier_history, state_label)

MAX_PAGE = 10_000
ACTION_INPUTS = ("reason", "items", "new_due_at", "case")


@dataclass
class Failure:
    """A form on the dossier page that came back with errors (shown next to its fields, status 422)."""

    form: str  # "action:<id>" or "upload"
    message: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    posted: dict[str, str] = field(default_factory=dict)
    others: list[tuple[str, list[str]]] = field(default_factory=list)  # errors on things the form has no field for


@bp.before_request
def _refuse_nul() -> None:
    """A NUL character cannot be looked up or stored (PostgreSQL refuses it): a bad request, at the door."""
    values = list(request.args.items(multi=True))
    if request.method == "POST":
        values += list(request.form.items(multi=True))
    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in values):
        abort(400, _("The request holds a character that cannot be stored (NUL)."))


# --------------------------------------------------------------------------- the work queue


def _state_choices(procedures: list[Any]) -> list[tuple[str, str]]:
    """Every state a dossier of the catalogue can be in (drafts are not in the queue), in lifecycle order."""
    seen: dict[str, str] = {}
    for proc in procedures:
        for s in proc.states:
            if s.id != "draft" and s.id not in seen:
                seen[s.id] = state_label(s.id, proc)
    return list(seen.items())


def _row_keys(items: list[Any], by_id: dict[str, Any]) -> list[tuple[Any, tuple]]:
    """Each queue row with its key: every value its rendering reads (the page's language and path, the
    dossier's fields shown, the procedure's version for the step's name)."""
    where = (locale(), request.script_root)
    out = []
    for item in items:
        proc = by_id.get(item.procedure)
        out.append((item, (where, item.id, item.code, item.procedure, proc.version if proc is not None else None,
                           tuple(item.title.items()), item.applicant, item.channel, item.state, item.received_at,
                           item.due_at, item.timeliness)))
    return out


@bp.get("/")
@login_required(kind="staff")
def queue():
    svc, actor, args = services(), g.user, request.args
    procedures = [svc.procedures.get_procedure(p.id) for p in svc.procedures.list_procedures()]
    by_id = {p.id: p for p in procedures}
    states = _state_choices(procedures)
    errors: dict[str, str] = {}

    procedure = args.get("procedure", "").strip() or None
    if procedure is not None and procedure not in by_id:
        errors["procedure"] = _("There is no such procedure; showing every procedure.")
        procedure = None
    state = args.get("state", "").strip() or None
    if state is not None and state not in dict(states):
        errors["state"] = _("There is no such state; showing every state.")
        state = None
    overdue_arg = args.get("overdue", "")
    if overdue_arg not in ("", "1"):
        errors["overdue"] = _("Tick the box or leave it empty.")
    overdue = True if overdue_arg == "1" else None
    all_arg = args.get("all", "")
    if all_arg not in ("", "1"):
        errors["all"] = _("Unknown view; showing your work queue.")
    show_all = all_arg == "1"
    page_arg = args.get("page", "1").strip()
    page = int(page_arg) if page_arg.isdigit() and 1 <= int(page_arg) <= MAX_PAGE else 0
    if not page:
        errors["page"] = _("The page number must be a whole number from 1; showing the first page.")
        page = 1

    cursor = args.get("cursor", "").strip() or None
    if cursor is not None and page != 1:
        errors["page"] = _("Use either the next-page link or a page number; showing the first page.")
        page, cursor = 1, None

    # The default view: the states where this person's roles have something to do. A state chosen in
    # the filter, or the agency-wide toggle, replaces it.
    scope = None if (show_all or state) else svc.desk.queue_states(actor)
    try:
        result = svc.desk.list_dossiers(actor, state=state, procedure=procedure, overdue=overdue, page=page,
                                        states=scope, cursor=cursor)
    except ValidationError:  # a cursor this page did not hand out
        errors["cursor"] = _("The next-page link is not valid; showing the first page.")
        cursor = None
        result = svc.desk.list_dossiers(actor, state=state, procedure=procedure, overdue=overdue, page=page,
                                        states=scope)
    counts = result.counts  # the same scope and filters but overdue, as count_queue
    pages = max(1, math.ceil(result.total / result.page_size)) if result.page_size else 1
    filters = {k: v for k, v in (("procedure", procedure), ("state", state), ("overdue", "1" if overdue else None),
                                 ("all", "1" if show_all else None)) if v}
    return render_template(
        "clerk/queue.html", page=result, rows=_row_keys(result.items, by_id), fragments=current_app.extensions[fragments.EXTENSION],
        pages=pages, counts=counts, procedures=procedures, by_id=by_id,
        states=states, chosen={"procedure": procedure, "state": state, "overdue": bool(overdue)}, show_all=show_all,
        filters=filters, by_cursor=cursor is not None, mine_filters={k: v for k, v in filters.items() if k != "all"}, errors=errors,
        CHANNEL_LABELS=CHANNEL_LABELS, label=label,
    ), (422 if errors else 200)


# --------------------------------------------------------------------------- one dossier


def _form_rows(proc: Any, data: dict[str, Any], provenance: dict[str, Any]) -> list[tuple[str, list[dict]]]:
    """The form's values by group, each with where it came from."""
    groups: dict[str | None, list[dict]] = {}
    for f in proc.fields:
        prov = provenance.get(f.id)
        value = data.get(f.id)
        if prov and isinstance(prov.get("conflict"), dict):
            # the source's value the field cannot hold, beside whatever the applicant declared instead
            mark, mark_text = "conflict", " ".join((conflict_text(prov), _("The value shown was declared by the applicant.")
                                                    if value not in (None, "") else conflict_advice(bool(prov.get("editable")))))
        elif prov and not prov.get("declared"):
            mark, mark_text = "source", _("Source: %(source)s", source=source_label(prov))
        elif prov:
            mark, mark_text = "declared", _("Declared (changed from %(source)s)", source=source_label(prov))
        elif value not in (None, ""):
            mark, mark_text = "declared", _("Declared")
        else:
            mark, mark_text = None, ""
        groups.setdefault(f.group, []).append({"id": f.id, "label": f.label, "value": display_value(f, value),
                                               "mark": mark, "mark_text": mark_text})
    titles = {gr.id: gr.label for gr in proc.groups}
    ordered = [gid for gid in titles if gid in groups] + [gid for gid in groups if gid not in titles]
    return [(titles.get(gid), groups[gid]) for gid in ordered]


def _field_label(proc: Any, key: str) -> str:
    if key in INPUT_LABELS:
        return str(INPUT_LABELS[key])
    f = proc.field(key)
    if f is not None:
        return pick(f.label)
    doc = proc.document(key)
    if doc is not None:
        return pick(doc.label)
    return key


def _pages(dossier_id: str, documents: list[Any]) -> dict[str, Any]:
    """The viewer's pages of each uploaded PDF, by document id (None: the file cannot be drawn)."""
    listings: dict[str, Any] = {}
    for doc in documents:
        if doc.by == "upload" and doc.content_type == "application/pdf":
            try:
                listings[doc.id] = services().pages.list_pages(dossier_id, doc.id, g.user)
            except PageRenderError:
                listings[doc.id] = None
    return listings


def _render_dossier(dossier_id: str, failure: Failure | None = None, status: int = 200):
    desk = services().desk.get_desk_dossier(dossier_id, g.user)
    d, proc = desk.dossier, desk.procedure
    if failure is not None:
        shown = set(ACTION_INPUTS) | {"comment", "confirm", "file", "requirement"}
        failure.others = [(_field_label(proc, k), v) for k, v in failure.fields.items() if k not in shown]
    receipt = next((s for s in reversed(d.slips) if s.form == "01"), None)
    history = dossier_history(d, request.args.get("before"),
                              lambda did, before: services().dossiers.list_events(did, g.user, before=before))
    return render_template(
        "clerk/dossier.html", d=d, proc=proc, desk=desk, history=history, rows=_form_rows(proc, d.data, d.provenance),
        pages=_pages(d.id, d.documents),
        receipt=receipt, failure=failure, caution=CAUTION_ACTIONS, CHANNEL_LABELS=CHANNEL_LABELS,
        ROLE_LABELS=ROLE_LABELS, SLIP_LABELS=SLIP_LABELS, DOCUMENT_STATUS=DOCUMENT_STATUS,
        HISTORY_ACTIONS=HISTORY_ACTIONS, label=label, TIMELINESS_LABELS=TIMELINESS_LABELS,
        CONDITION_LABELS=CONDITION_LABELS, accept=sorted({t for r in proc.documents for t in r.accept}),
        verify_urls={r.id: services().links.verify_url(r.id) for r in d.results},
        cases=[(c.id, pick(c.label), time_limit_text(c.value, c.unit)) for c in proc.time_limit_cases],
    ), status


@bp.get("/dossiers/<dossier_id>")
@login_required(kind="staff")
def dossier(dossier_id: str):
    return _render_dossier(dossier_id)


def _back(dossier_id: str):
    return redirect(url_for("clerk.dossier", dossier_id=dossier_id), 303)


@bp.post("/dossiers/<dossier_id>/actions/<action>")
@login_required(kind="staff")
def act(dossier_id: str, action: str):
    form = request.form
    version = form.get("expected_version", "")
    if not version.isdigit():
        abort(400, _("The form is incomplete. Reload the dossier page and try again."))
    inputs: dict[str, Any] = {}
    if "reason" in form:
        inputs["reason"] = form["reason"]
    if "items" in form:
        inputs["items"] = [line.strip() for line in form["items"].splitlines() if line.strip()]
    if "new_due_at" in form:
        inputs["new_due_at"] = form["new_due_at"].strip() or None
    if "case" in form:
        inputs["case"] = form["case"].strip() or None
    posted = {k: form.get(k, "") for k in (*ACTION_INPUTS, "comment", "comment_public")}
    if action in CAUTION_ACTIONS and form.get("confirm") != "yes":
        return _render_dossier(dossier_id, Failure(
            f"action:{action}", _("Confirm that you want to do this: it cannot be undone."),
            {"confirm": [_("Tick the box to confirm.")]}, posted), 422)
    try:
        view = services().actions.perform_action(dossier_id, action, g.user, comment=form.get("comment") or None,
                                                 comment_public=form.get("comment_public") == "yes",
                                         expected_version=int(version), **inputs)
    except ValidationError as exc:
        return _render_dossier(dossier_id, Failure(f"action:{action}", exc.message, exc.fields, posted), 422)
    except ConcurrencyError:
        flash(_("Someone else has just acted on this dossier. The page now shows its latest state: check it "
                "before you act again."), "error")
        return _back(dossier_id)
    except ActionNotAllowedError as exc:
        flash(_("This action cannot be taken now: %(reason)s", reason=exc.message), "error")
        return _back(dossier_id)
    proc = services().procedures.procedure_version(view.procedure, view.version)
    if action == "receive":
        slip = next((s for s in reversed(view.slips) if s.form == "01"), None)
        text = _("Received. Dossier code %(code)s, due %(due)s.", code=view.code or "",
                 due=view.due_at.strftime("%d/%m/%Y %H:%M") if view.due_at else "")
        if slip is not None:
            flash(Markup('{} <a href="{}">{}</a>').format(text, url_for("clerk.slip_pdf", slip_id=slip.id),
                                                          _("Print the receipt slip")), "success")
        else:
            flash(text, "success")
    else:
        flash(_("Done: %(action)s. The dossier is now: %(state)s.", action=action_label(action, proc),
                state=state_label(view.state, proc)), "success")
    return _back(dossier_id)


@bp.post("/dossiers/<dossier_id>/documents")
@login_required(kind="staff")
def upload(dossier_id: str):
    requirement = request.form.get("requirement", "")
    posted = {"requirement": requirement}
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render_dossier(dossier_id, Failure("upload", _("Choose the scanned file to add."),
                                                   {"file": [_("Choose a file.")]}, posted), 422)
    content = upload.read()
    try:
        services().filing.add_document(dossier_id, requirement, upload.filename, content, g.user)
    except ValidationError as exc:
        return _render_dossier(dossier_id, Failure("upload", exc.message, exc.fields, posted), 422)
    except PayloadTooLargeError as exc:
        return _render_dossier(dossier_id, Failure("upload", exc.message, {"file": [exc.message]}, posted), 413)
    except UnsupportedMediaError as exc:
        return _render_dossier(dossier_id, Failure("upload", exc.message, {"file": [exc.message]}, posted), 415)
    except ActionNotAllowedError as exc:
        flash(_("The document could not be added: %(reason)s", reason=exc.message), "error")
        return _back(dossier_id)
    flash(_("The scanned document was added to the dossier."), "success")
    return _back(dossier_id)


# --------------------------------------------------------------------------- files


@bp.get("/dossiers/<dossier_id>/documents/<document_id>")
@login_required(kind="staff")
def document(dossier_id: str, document_id: str):
    content, mimetype, name = services().dossiers.document_content(dossier_id, document_id, g.user)
    return file_response(content, mimetype, name, inline=request.args.get("download") != "1")


@bp.get("/dossiers/<dossier_id>/documents/<document_id>/pages/<int:page>.png")
@login_required(kind="staff")
def document_page(dossier_id: str, document_id: str, page: int):
    """One page of an uploaded PDF drawn as a PNG, for the viewer on the dossier page."""
    try:
        png = services().pages.render_page(dossier_id, document_id, page, g.user)
    except PageRenderError:
        abort(422, _("This document cannot be shown here: open or download the file."))
    return page_image_response(png)


@bp.get("/slips/<slip_id>.pdf")
@login_required(kind="staff")
def slip_pdf(slip_id: str):
    content, name = services().results.document_pdf("slip", slip_id, g.user)
    return file_response(content, "application/pdf", name, inline=request.args.get("download") != "1")


@bp.get("/results/<result_id>.pdf")
@login_required(kind="staff")
def result_pdf(result_id: str):
    content, name = services().results.document_pdf("result", result_id, g.user)
    return file_response(content, "application/pdf", name, inline=request.args.get("download") != "1")


# --------------------------------------------------------------------------- the agency's papers (forms 06, 07)


@bp.get("/dossiers/<dossier_id>/control-sheet.pdf")
@login_required(kind="staff")
def control_sheet_pdf(dossier_id: str):
    content, name = services().control_sheets.control_sheet_pdf(dossier_id, g.user)
    return file_response(content, "application/pdf", name, inline=request.args.get("download") != "1")


@bp.get("/log-book")
@login_required(kind="staff")
def log_book():
    fmt = request.args.get("format", "pdf")
    if fmt not in ("pdf", "csv"):
        abort(400, _("The format is pdf or csv."))
    span = {"start": request.args.get("from"), "end": request.args.get("to")}
    try:
        if fmt == "csv":
            content, name = services().log_book.log_book_csv(g.user, **span)
            return file_response(content, "text/csv", name, inline=False)
        content, name = services().log_book.log_book_pdf(g.user, **span)
    except ValidationError:
        abort(422, _("Give the days as YYYY-MM-DD, the first not after the last, at most a year apart."))
    return file_response(content, "application/pdf", name, inline=request.args.get("download") != "1")
