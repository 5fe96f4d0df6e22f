"""The public verification pages: what a result's QR code opens, and an upload form for any PDF."""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.rules.errors import NotFoundError, ValidationError
from web.auth import login_required
from web.i18n import fmt_date, fmt_datetime, local_text, pick

bp = Blueprint("verify", __name__)


# A stored document's standing (glossary: Còn hiệu lực / Hết hiệu lực / Đã thu hồi / Đã thay thế).
STATUS_LABELS = {
    "valid": _l("Valid"),
    "pending": _l("Being signed"),
    "revoked": _l("Revoked"),
    "superseded": _l("Superseded"),
    "expired": _l("Expired"),
}

# The verdict in one phrase (engine.rules.results.OUTCOMES), on top of every verification page.
OUTCOME_LABELS = {
    "genuine": _l("Genuine document"),
    "recorded": _l("On record in the agency's store"),
    "revoked": _l("Revoked document"),
    "superseded": _l("Superseded document"),
    "expired": _l("Expired document"),
    "unknown": _l("Not issued by this system"),
    "tampered": _l("Altered document"),
    "unverified": _l("Cannot be verified"),
}

# The reasons the verifier gives (signing.verification PROBLEM_* and the store checks), in words.
PROBLEM_LABELS = {
    "not a PDF": _l("the file is not a PDF"),
    "file too large": _l("the file is too large"),
    "truncated or damaged file": _l("the file is truncated or damaged"),
    "no signature": _l("the file carries no digital signature"),
    "modified after signing": _l("the file was modified after it was signed"),
    "signer certificate revoked": _l("the signer's certificate has been revoked"),
    "signed by a key outside the trusted PKI": _l("it was signed by a key outside the trusted certificate chain"),
    "timestamp not valid or not trusted": _l("the timestamp is not valid or not trusted"),
    "not issued by this system (unknown to the store)": _l("it was not issued by this system (the store does not know it)"),
}

# What a slip's public page shows (engine.usecases.verification: the applicant's id masked).
SLIP_ROWS = {
    "dossier_code": _l("Dossier code"),
    "procedure_title": _l("Procedure"),
    "applicant_name": _l("Applicant"),
    "applicant_personal_id": _l("Personal identification number"),
}

# Result data that does not come from the form: named by where it comes from.
SOURCE_LABELS = {
    "dossier.code": _l("Dossier code"),
    "dossier.received_at": _l("Received on"),
    "agency.name": _l("Issuing agency"),
}


def _services():
    return current_app.extensions["motcua"]


def status_label(status: str | None) -> str:
    return str(STATUS_LABELS.get(status or "", status or ""))


def outcome_label(outcome: str | None) -> str:
    return str(OUTCOME_LABELS.get(outcome or "", OUTCOME_LABELS["unverified"]))


def problem_label(problem: str | None) -> str:
    """The verifier's reason in the page's language. One it has no words for is summed up; its raw text
    is shown only in the page's technical details."""
    if not problem:
        return ""
    if problem in PROBLEM_LABELS:
        return str(PROBLEM_LABELS[problem])
    prefix = "the document is "
    if problem.startswith(prefix):
        return _("the document is %(status)s", status=status_label(problem[len(prefix):]).lower())
    return _("the check could not be completed (see the technical details)")


def local_time(value: Any) -> str:
    """A signature's time (ISO, with its zone, usually UTC) on the agency's clock, dd/mm/yyyy HH:MM."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        zone = current_app.config["MOTCUA"].timezone
        value = value.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return fmt_datetime(value)


def _date(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return fmt_date(value)


def content_rows(document: Any) -> list[tuple[str, str]]:
    """The stored result's data as (label, value) rows, labelled from the procedure that issues it."""
    data = {k: v for k, v in (document.data or {}).items() if v not in (None, "")}
    if not data:
        return []
    if document.kind == "slip":
        return [(str(SLIP_ROWS.get(k, k)), str(v)) for k, v in data.items()]
    catalogue = _services().catalogue
    fields: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for proc in catalogue.current():
        for result in proc.results:
            evidence = catalogue.evidence_types.get(result.evidence)
            if document.title not in {result.title.vi, evidence.title.vi if evidence else None}:
                continue
            for key, source in result.data:
                sources.setdefault(key, source)
                kind, _dot, name = source.partition(".")
                field = proc.field(name) if kind == "form" else None
                if field is not None:
                    fields.setdefault(key, field)
    rows = []
    for key, value in data.items():
        field = fields.get(key)
        if field is not None:
            label = pick(field.label)
            option = next((o for o in field.options if o.value == str(value)), None)
            if option is not None:
                value = pick(option.label)
            elif field.type == "date":
                value = _date(value)
            elif field.type == "boolean":
                value = _("Yes") if value in (True, "true", "1", 1) else _("No")
        else:
            source = sources.get(key, "")
            label = str(SOURCE_LABELS.get(source, key.replace("_", " ")))
            if source.endswith("_at"):
                value = fmt_datetime(value)
        rows.append((label, str(value)))
    return rows


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"status_label": status_label, "problem_label": problem_label, "outcome_label": outcome_label,
            "local_time": local_time,
            "max_mb": "%g" % _max_mb()}


@bp.get("/")
def index():
    return render_template("index.html", procedures=_services().procedures.list_procedures())


@bp.get("/verify/<document_id>/<token>")
def document_page(document_id: str, token: str):
    try:
        page = _services().verification.verification_page(document_id, token)
    except NotFoundError:
        return render_template("verify/not_found.html"), 404
    return render_template("verify/document.html", document=page.document, check=page.check, outcome=page.outcome,
                           rows=content_rows(page.document),
                           full_url=url_for("verify.full_record", document_id=document_id, token=token))


@bp.get("/verify/<document_id>/<token>/full")
@login_required()
def full_record(document_id: str, token: str):
    """The whole document, for its holder or the issuing agency's staff: their own page for it."""
    try:
        record = _services().verification.full_record(document_id, token, g.user)
    except NotFoundError:
        return render_template("verify/not_found.html"), 404
    if record.audience == "staff":
        if record.dossier_id:
            return redirect(url_for("clerk.dossier", dossier_id=record.dossier_id))
        return redirect(url_for("clerk.result_pdf", result_id=record.id))
    if record.audience == "holder":
        return redirect(url_for("citizen.result", result_id=record.id))
    return redirect(url_for("citizen.dossier", dossier_id=record.dossier_id))


def _max_mb() -> float:
    """The upload limit, the one setting (MOTCUA_MAX_UPLOAD_MB) that also bounds every request."""
    return current_app.config["MOTCUA"].max_upload_mb


@bp.get("/verify")
def upload_form():
    return render_template("verify/upload.html", report=None, error=None)


@bp.post("/verify")
def upload():
    upload = request.files.get("file")
    limit = int(_max_mb() * 1024 * 1024)
    data = upload.read(limit + 1) if upload is not None else b""
    if not data:
        return render_template("verify/upload.html", report=None, error=_("Choose a PDF file.")), 422
    if len(data) > limit:
        return render_template("verify/upload.html", report=None,
                               error=_("The file is larger than %(mb)s MB.", mb="%g" % _max_mb())), 413
    try:
        report = _services().verification.verify_document(data)
    except ValidationError as exc:
        return render_template("verify/upload.html", report=None, error=local_text(exc.message)), 422
    return render_template("verify/upload.html", report=report, error=None)
