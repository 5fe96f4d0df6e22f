"""My data store ("Kho dữ liệu của tôi"): my results, who read them or was shown my register data, and
to whom I opened them."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.rules.errors import ValidationError
from web.auth import login_required, services
from web.citizen import bp
from web.citizen.dossiers import pdf_download, verify_link
from web.citizen.words import (
    ACCESS_BASIS_LABELS,
    ACCESS_WHAT_LABELS,
    REGISTER_ATTRIBUTE_LABELS,
    RESULT_STATUS_LABELS,
    label_of,
    say,
)


def _store_words() -> dict:
    return {"RESULT_STATUS_LABELS": RESULT_STATUS_LABELS, "ACCESS_BASIS_LABELS": ACCESS_BASIS_LABELS,
            "ACCESS_WHAT_LABELS": ACCESS_WHAT_LABELS, "REGISTER_ATTRIBUTE_LABELS": REGISTER_ATTRIBUTE_LABELS,
            "label_of": label_of, "verify_url": verify_link}


@bp.get("/my/results")
@login_required(kind="citizen")
def my_results():
    svc = services()
    evidence = svc.catalogue.evidence_types
    agencies = svc.accounts.list_agencies()
    return render_template(
        "citizen/my_results.html", results=svc.results.list_results(g.user), log=svc.access.access_log(g.user),
        consents=svc.access.list_consents(g.user), agencies=agencies, agency_names={a.code: a.name for a in agencies},
        evidence_types=sorted(((k, v.title) for k, v in evidence.items()), key=lambda kv: kv[1].vi),
        evidence_titles={k: v.title for k, v in evidence.items()}, **_store_words())


@bp.get("/my/results/<result_id>")
@login_required(kind="citizen")
def result(result_id: str):
    view = services().results.get_result(result_id, g.user)
    return render_template("citizen/result.html", result=view,
                           agency_names={a.code: a.name for a in services().accounts.list_agencies()}, **_store_words())


@bp.get("/my/results/<result_id>.pdf")
@login_required(kind="citizen")
def result_pdf(result_id: str):
    view = services().results.get_result(result_id, g.user)  # someone else's result: not found
    if view.sha256 is None:  # still being signed, or a record digitised from a register: no file to give
        if view.status == "pending":
            return render_template("citizen/unavailable.html", status=409,
                                   message=_("The result is still being signed.")), 409
        return render_template("citizen/unavailable.html", status=404,
                               message=_("This record was digitised from a register and has no signed file.")), 404
    return pdf_download("result", result_id)


@bp.post("/my/consents")
@login_required(kind="citizen")
def grant_consent():
    try:
        view = services().access.grant_consent(g.user, request.form.get("agency", ""), request.form.get("evidence", ""))
    except ValidationError as exc:
        flash(_("The consent was not saved: %(problem)s",
                problem="; ".join(say(m) for msgs in exc.fields.values() for m in msgs) or say(exc.message)), "error")
        return redirect(url_for("citizen.my_results", _anchor="consents"), 303)
    flash(_("%(agency)s may now read this kind of result of yours, until you withdraw the consent.",
            agency=view.agency_name), "success")
    return redirect(url_for("citizen.my_results", _anchor="consents"), 303)


@bp.post("/my/consents/<int:consent_id>/withdraw")
@login_required(kind="citizen")
def withdraw_consent(consent_id: int):
    view = services().access.withdraw_consent(g.user, consent_id)  # someone else's: not found
    flash(_("Consent withdrawn: %(agency)s can no longer read this kind of result by your consent.",
            agency=view.agency_name), "success")
    return redirect(url_for("citizen.my_results", _anchor="consents"), 303)
