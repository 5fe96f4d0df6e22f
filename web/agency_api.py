"""The JSON API under /api/v1 (CONTRACT.md): procedures, dossiers, documents, actions, results."""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for

from engine.rules import events as event_rules
from engine.rules.access import Actor
from engine.rules.definitions import Procedure
from engine.rules.errors import AuthenticationError, PayloadTooLargeError, ValidationError
from engine.usecases.catalogue import time_limit_document
from engine.usecases.feed import event_document
from engine.usecases.services import Services
from engine.usecases.views import DossierView
from web import dataclass_fields
from web.inputs import header_text

bp = Blueprint("agency_api", __name__, url_prefix="/api/v1")


def services() -> Services:
    return current_app.extensions["motcua"]


def current_actor(required: bool = True) -> Actor | None:
    if "actor" in g:
        return g.actor
    header = request.headers.get("Authorization", "")
    if not header:
        if required:
            raise AuthenticationError("Cần đăng nhập (Authorization: Bearer ...) / a bearer token is required")
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Authorization must be 'Bearer <token>'")
    g.actor = services().accounts.authenticate_token(token.strip())
    return g.actor


_SCALARS = frozenset({str, int, float, bool, type(None)})


def as_json(obj: Any) -> Any:
    """A use case's answer as ``jsonify`` takes it: a dossier's view with the address of its older events;
    anything else as it is (the app's JSON provider turns dataclasses, at any depth, into objects of their
    fields as it encodes them)."""
    if isinstance(obj, DossierView):
        out = {f.name: getattr(obj, f.name) for f in dataclass_fields(DossierView)}
        out["events_next"] = _events_url(obj.id, obj.events_before)
        return out
    return obj


def plain(obj: Any) -> Any:
    """Dataclasses as dicts of their fields, tuples as lists, all the way down: an answer to read from."""
    kind = type(obj)
    if kind in _SCALARS:  # most values: answered without the dataclass test
        return obj
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in dataclass_fields(kind)}
    return obj


def json_body() -> dict:
    """The request's JSON object; its text was checked at the edge (web.inputs) before the view ran."""
    if not request.is_json:
        raise ValidationError("Gửi dữ liệu dạng JSON (Content-Type: application/json) / send a JSON body")
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested too deeply to parse
        body = None
    if not isinstance(body, dict):
        raise ValidationError("Nội dung phải là một đối tượng JSON / the body must be a JSON object")
    return body


# --------------------------------------------------------------------------- procedures


@bp.get("/procedures")
def list_procedures():
    return jsonify({"procedures": as_json(services().procedures.list_procedures())})


@bp.get("/procedures/<procedure_id>/prefill")
def prefill(procedure_id: str):
    """What the citizen finds already filled in; personal-id fields may be passed as query parameters
    (e.g. ?husband_personal_id=...) to look up family members they name. Staff: the reception clerk
    names the walk-in (?applicant=...); the read is logged for each person shown, with the purpose
    in the X-Purpose header (default: the counter filing). A source value a field cannot hold is listed
    in ``conflicts`` (with the value and why), never put in ``fields``."""
    view = services().prefill.prefill_for(procedure_id, current_actor(), dict(request.args),
                                          purpose=request.headers.get("X-Purpose"))
    return jsonify(as_json(view))


@bp.get("/procedures/<procedure_id>")
def get_procedure(procedure_id: str):
    return jsonify(procedure_document(services().procedures.get_procedure(procedure_id)))


def _text(t: Any) -> dict | None:
    return {"vi": t.vi, "en": t.en} if t is not None else None


def procedure_document(p: Procedure) -> dict:
    return {
        "id": p.id, "code": p.code, "version": p.version, "effective_from": p.effective_from.isoformat(),
        "title": _text(p.title), "authority": p.authority, "online": p.online, "channels": list(p.channels),
        "legal_basis": list(p.legal_basis),
        "time_limit": time_limit_document(p),
        "supplement_policy": p.supplement_policy,
        "fee": {"amount": p.fee_amount, "currency": "VND", "note": _text(p.fee_note)},
        "groups": [{"id": gr.id, "label": _text(gr.label)} for gr in p.groups],
        "fields": [
            {"id": f.id, "label": _text(f.label), "type": f.type, "required": f.required, "group": f.group,
             "options": [{"value": o.value, "label": _text(o.label)} for o in f.options],
             "max_length": f.max_length, "min": f.min, "max": f.max, "help": _text(f.help),
             "prefill": ({"source": f.prefill.source, "editable": f.prefill.editable} if f.prefill else None)}
            for f in p.fields
        ],
        "documents": [
            {"id": d.id, "label": _text(d.label), "required": d.required, "accept": list(d.accept),
             "max_mb": d.max_mb, "replaced_by": {"evidence": d.replaced_by} if d.replaced_by else None}
            for d in p.documents
        ],
        "steps": [{"id": s.id, "label": _text(s.label), "roles": list(s.roles), "time_share": s.time_share} for s in p.steps],
        "decided_by": list(p.decided_by),
        "states": [{"id": s.id, "status_code": s.status_code, "final": s.final} for s in p.states],
        "actions": [
            {"id": a.id, "from": list(a.sources), "to": a.dest, "roles": list(a.roles), "guards": list(a.guards)}
            for a in p.actions
        ],
        "results": [{"id": r.id, "title": _text(r.title), "evidence": r.evidence,
                     "validity": {"months": r.validity_months} if r.validity_months else None,
                     "copies": {"title": _text(r.copies.title), "fee_per_copy": r.copies.fee_per_copy,
                                "currency": "VND"} if r.copies else None} for r in p.results],
    }


# --------------------------------------------------------------------------- dossiers


@bp.post("/dossiers")
def create_dossier():
    actor = current_actor()
    body = json_body()
    key = header_text("Idempotency-Key")
    view = services().filing.start_dossier(
        body.get("procedure"), body.get("data"), actor, applicant=body.get("applicant"),
        agency_code=body.get("agency"), idempotency_key=key, purpose=request.headers.get("X-Purpose"),
    )
    return jsonify(as_json(view)), 201


@bp.get("/dossiers")
def list_dossiers():
    actor = current_actor()
    args = request.args
    overdue = args.get("overdue")
    if overdue not in (None, "", "true", "false", "1", "0"):
        raise ValidationError("overdue must be true or false", fields={"overdue": ["true | false"]})
    page = args.get("page", "1")
    if not page.isdigit():
        raise ValidationError("page must be a positive integer", fields={"page": ["số nguyên dương / positive integer"]})
    result = services().desk.list_dossiers(
        actor, state=args.get("state") or None, procedure=args.get("procedure") or None,
        overdue=None if overdue in (None, "") else overdue in ("true", "1"), page=int(page),
        cursor=args.get("cursor") or None,
    )
    return jsonify(as_json(result))


@bp.get("/dossiers/<dossier_id>")
def get_dossier(dossier_id: str):
    return jsonify(as_json(services().dossiers.get_dossier(dossier_id, current_actor())))


@bp.get("/dossiers/<dossier_id>/events")
def dossier_events(dossier_id: str):
    """A page of the dossier's audit events (the view carries only the latest): the access rule of the
    dossier's read; ``before`` a sequence number (default: the latest events), ``limit`` 1 to 100."""
    limit = request.args.get("limit")
    page = services().dossiers.list_events(dossier_id, current_actor(), before=request.args.get("before"), limit=limit)
    return jsonify({"events": as_json(page.events), "next_before": page.next_before,
                    "next": _events_url(page.dossier_id, page.next_before, limit)})


def _events_url(dossier_id: str, before: int | None, limit: str | None = None) -> str | None:
    """The address of the page of events older than ``before`` (None: there is none)."""
    if before is None:
        return None
    return url_for("agency_api.dossier_events", dossier_id=dossier_id, before=before, limit=limit or None)


@bp.patch("/dossiers/<dossier_id>")
def update_dossier(dossier_id: str):
    actor = current_actor()
    body = json_body()
    if not isinstance(body.get("data"), dict):
        raise ValidationError("data must be an object of field values", fields={"data": ["bắt buộc / required"]})
    view = services().filing.save_form(dossier_id, body["data"], actor, expected_version=body.get("expected_version"),
                                       purpose=request.headers.get("X-Purpose"))
    return jsonify(as_json(view))


@bp.post("/dossiers/<dossier_id>/documents")
def add_document(dossier_id: str):
    actor = current_actor()
    if request.mimetype == "multipart/form-data":
        requirement = request.form.get("requirement", "")
        upload = request.files.get("file")
        if upload is None:
            raise ValidationError("a file is required", fields={"file": ["bắt buộc / required"]})
        content = upload.read()
        view = services().filing.add_document(dossier_id, requirement, upload.filename, content, actor)
    else:
        body = json_body()
        if not body.get("result_id"):
            raise ValidationError("send multipart 'requirement' + 'file', or JSON {requirement, result_id}",
                                  fields={"result_id": ["bắt buộc / required"]})
        view = services().filing.link_result(dossier_id, body.get("requirement", ""), body["result_id"], actor)
    return jsonify(as_json(view)), 201


@bp.get("/dossiers/<dossier_id>/documents/<document_id>")
def get_document(dossier_id: str, document_id: str):
    content, mime, name = services().dossiers.document_content(dossier_id, document_id, current_actor())
    response = Response(content, mimetype=mime)
    response.headers["Content-Disposition"] = "attachment; filename*=UTF-8''" + _quote(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@bp.post("/dossiers/<dossier_id>/actions/<action>")
def perform_action(dossier_id: str, action: str):
    actor = current_actor()
    body = json_body() if request.content_length else {}
    view = services().actions.perform_action(
        dossier_id, action, actor, comment=body.get("comment"), comment_public=body.get("comment_public", False),
        reason=body.get("reason"), items=body.get("items"),
        new_due_at=body.get("new_due_at"), case=body.get("case"), expected_version=body.get("expected_version"),
    )
    return jsonify(as_json(view))


# --------------------------------------------------------------------------- results


@bp.get("/results")
def list_results():
    actor = current_actor()
    rows = services().results.list_results(actor, holder=request.args.get("holder") or None,
                                   evidence=request.args.get("evidence") or None,
                                   purpose=header_text("X-Purpose"))
    return jsonify({"results": as_json(rows)})


@bp.post("/results")
def deposit_result():
    """An issuing agency client deposits a result (a hospital's birth or death notice), signed over the
    canonical JSON body (X-Signature); 201 with the stored result, 200 when the same body was sent before."""
    actor = current_actor()
    outcome = services().deposits.deposit_result(actor, json_body(), header_text("X-Signature"))
    return jsonify(as_json(outcome.result)), 201 if outcome.created else 200


@bp.get("/results/<result_id>")
def get_result(result_id: str):
    return jsonify(as_json(services().results.get_result(result_id, current_actor(), purpose=header_text("X-Purpose"))))


@bp.get("/results/<result_id>/pdf")
def result_pdf(result_id: str):
    content, name = services().results.document_pdf("result", result_id, current_actor(),
                                            purpose=header_text("X-Purpose"))
    return _pdf_response(content, name)


@bp.get("/slips/<slip_id>/pdf")
def slip_pdf(slip_id: str):
    content, name = services().results.document_pdf("slip", slip_id, current_actor())
    return _pdf_response(content, name)


# --------------------------------------------------------------------------- the agency's papers (forms 06, 07)


@bp.get("/dossiers/<dossier_id>/control-sheet.pdf")
def control_sheet_pdf(dossier_id: str):
    content, name = services().control_sheets.control_sheet_pdf(dossier_id, current_actor())
    return _pdf_response(content, name)


@bp.get("/log-book")
def log_book():
    fmt = request.args.get("format", "pdf")
    if fmt not in ("pdf", "csv"):
        raise ValidationError("format là pdf hoặc csv / format is pdf or csv", fields={"format": ["pdf | csv"]})
    span = {"start": request.args.get("from"), "end": request.args.get("to")}
    if fmt == "csv":
        content, name = services().log_book.log_book_csv(current_actor(), **span)
        response = Response(content, mimetype="text/csv")
        response.headers["Content-Disposition"] = "attachment; filename*=UTF-8''" + _quote(name)
        return response
    content, name = services().log_book.log_book_pdf(current_actor(), **span)
    return _pdf_response(content, name)


def _pdf_response(content: bytes, name: str) -> Response:
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = "attachment; filename*=UTF-8''" + _quote(name)
    return response


@bp.post("/results/<result_id>/revoke")
def revoke_result(result_id: str):
    body = json_body()
    return jsonify(as_json(services().results.revoke_result(result_id, body.get("reason"), current_actor())))


@bp.post("/results/<result_id>/supersede")
def supersede_result(result_id: str):
    body = json_body()
    view = services().results.supersede_result(result_id, body.get("data"), body.get("reason"), current_actor())
    return jsonify(as_json(view)), 201


# --------------------------------------------------------------------------- the event feed and webhooks


@bp.get("/events")
def list_events():
    """The events this agency client may see after the cursor ``after``; the body is signed with the
    bearer token the client presented (``X-Signature: sha256=<hex HMAC-SHA256>``)."""
    actor = current_actor()
    page = services().feed.list_events(actor, request.args.get("after"), request.args.get("limit"))
    body = jsonify({"events": [event_document(e) for e in page.events], "next": page.next, "more": page.more})
    token = request.headers.get("Authorization", "").partition(" ")[2].strip()
    body.headers["X-Signature"] = event_rules.body_signature(token, body.get_data())
    return body


@bp.get("/webhooks")
def list_webhooks():
    return jsonify({"webhooks": as_json(services().webhooks.list_subscriptions(current_actor()))})


@bp.post("/webhooks")
def add_webhook():
    """A new subscription; the answer carries its signing secret, shown this once."""
    actor = current_actor()
    body = json_body()
    created = services().webhooks.add_subscription(actor, body.get("url"), after=body.get("after"))
    return jsonify({**plain(created.subscription), "secret": created.secret}), 201


@bp.delete("/webhooks/<int(max=2147483647):subscription_id>")
def remove_webhook(subscription_id: int):
    return jsonify(as_json(services().webhooks.remove_subscription(current_actor(), subscription_id)))


@bp.post("/webhooks/<int(max=2147483647):subscription_id>/enable")
def enable_webhook(subscription_id: int):
    return jsonify(as_json(services().webhooks.enable_subscription(current_actor(), subscription_id)))


@bp.post("/webhooks/<int(max=2147483647):subscription_id>/replay")
def replay_webhook(subscription_id: int):
    body = json_body()
    queued = services().webhooks.replay(current_actor(), subscription_id, body.get("after"))
    return jsonify({"queued": queued}), 202


@bp.get("/webhooks/<int(max=2147483647):subscription_id>/deliveries")
def webhook_deliveries(subscription_id: int):
    return jsonify({"attempts": as_json(services().webhooks.delivery_log(current_actor(), subscription_id))})


MAX_VERIFY_BYTES = 32 * 1024 * 1024


def uploaded_pdf() -> bytes:
    """The PDF to verify: a multipart 'file' part, or the raw body (application/pdf)."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ValidationError("a file is required", fields={"file": ["bắt buộc / required"]})
        data = upload.read(MAX_VERIFY_BYTES + 1)
    else:
        data = request.get_data(cache=False)
    if not data:
        raise ValidationError("send the PDF as the body or as a multipart 'file'", fields={"file": ["tệp rỗng / empty"]})
    if len(data) > MAX_VERIFY_BYTES:
        raise PayloadTooLargeError("the file is larger than 32 MB")
    return data


@bp.post("/verify")
def verify():
    report = services().verification.verify_document(uploaded_pdf())
    body = plain(report)
    document = body.pop("document")
    body["result"] = ({"id": document["id"], "status": document["status"], "number": document["number"],
                       "title": document["title"], "issuer": document["issuer"], "issued_at": document["issued_at"]}
                      if document and document["kind"] == "result" else None)
    body["slip"] = ({"id": document["id"], "status": document["status"], "number": document["number"],
                     "title": document["title"]} if document and document["kind"] == "slip" else None)
    return jsonify(body)


@bp.get("/me/access-log")
def access_log():
    return jsonify({"entries": as_json(services().access.access_log(current_actor()))})


@bp.get("/me/consents")
def list_consents():
    return jsonify({"consents": as_json(services().access.list_consents(current_actor()))})


@bp.post("/me/consents")
def grant_consent():
    body = json_body()
    view = services().access.grant_consent(current_actor(), body.get("agency"), body.get("evidence"))
    return jsonify(as_json(view)), 201


@bp.delete("/me/consents/<int(max=2147483647):consent_id>")
def withdraw_consent(consent_id: int):
    return jsonify(as_json(services().access.withdraw_consent(current_actor(), consent_id)))


@bp.get("/me/notifications")
def list_notifications():
    """My in-app notifications, newest first, each with the delivery log of its e-mail and SMS."""
    inbox = services().notifications.inbox(current_actor())
    return jsonify({"unread": inbox.unread, "notifications": as_json(inbox.notifications)})


@bp.post("/me/notifications/<int(max=9223372036854775807):notification_id>/read")
def read_notification(notification_id: int):
    services().notifications.mark_read(current_actor(), notification_id)
    return jsonify({"id": notification_id, "read": True})


@bp.get("/me/notification-preferences")
def notification_preferences():
    return jsonify(as_json(services().notifications.preferences(current_actor())))


@bp.put("/me/notification-preferences")
def set_notification_preferences():
    body = json_body()
    view = services().notifications.set_preferences(current_actor(), email=body.get("email"), sms=body.get("sms"),
                                                    language=body.get("language"))
    return jsonify(as_json(view))


@bp.get("/kpis")
def kpis():
    def when(name: str):
        value = request.args.get(name)
        if not value:
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(f"{name} must be an ISO date", fields={name: ["YYYY-MM-DD"]}) from None
        return parsed.replace(tzinfo=None) if parsed.tzinfo else parsed  # local time, like every stored date

    return jsonify(services().indicators.kpis(current_actor(), when("from"), when("to")))


@bp.get("/trust/root.pem")
def trust_root():
    return Response(services().issuance.root_pem(), mimetype="application/x-pem-file")


@bp.get("/openapi.json")
def openapi():
    from web.openapi import document

    return jsonify(document())
