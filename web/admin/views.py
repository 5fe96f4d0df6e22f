"""Administration pages: the KPIs of the agency (Decision 766/QĐ-TTg) and the declared-field cut per
procedure (the once-only principle, measured); the live web sessions and bearer tokens, which an
administrator can end."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.rules.errors import NotFoundError, ValidationError
from web.admin import bp
from web.auth import login_required, services

ROLES = ("admin", "leader")

# Each KPI with what it means, in the words of engine.rules.metrics.
KPIS = (
    ("on_time_rate", _l("On-time rate"),
     _l("Finished dossiers settled by their due date; more than one supplement round counts as late.")),
    ("online_rate", _l("Online rate"), _l("Dossiers received online, out of all dossiers received.")),
    ("e_result_rate", _l("Electronic result rate"),
     _l("Dossiers whose result is a digitally signed file, out of the dossiers with a result.")),
    ("reuse_rate", _l("Reuse rate"),
     _l("Dossiers with at least one required document taken from the results store instead of paper.")),
    ("satisfaction", _l("Satisfaction (upper bound)"),
     _l("One minus the share of dossiers settled late or overdue now; complaints are not recorded yet.")),
)


def percent(value: float | None) -> str | None:
    return None if value is None else format_percent(value, "#,##0.0%")


def _day(name: str, errors: dict[str, str]) -> dt.date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("Not a date: choose a date, or type it as YYYY-MM-DD.")
        return None


@bp.get("/")
@login_required(kind="staff")
def dashboard():
    actor = g.user
    if not any(actor.has_role(r) for r in ROLES):
        abort(403, _("Your role does not allow this page."))
    svc = services()
    errors: dict[str, str] = {}
    start, end = _day("from", errors), _day("to", errors)
    since = dt.datetime.combine(start, dt.time.min) if start else None
    until = dt.datetime.combine(end, dt.time.max) if end else None
    try:
        kpis = svc.indicators.kpis(actor, since, until)
    except ValidationError:
        errors["from"] = _("The start of the period must come before its end.")
        kpis = svc.indicators.kpis(actor)
    cuts = svc.indicators.procedure_cuts()
    titles = {p.id: p.title for p in svc.procedures.list_procedures()}
    rows: list[dict[str, Any]] = [
        {"id": c.id, "code": c.code, "version": c.version, "title": titles.get(c.id, {"vi": c.title, "en": c.title}),
         "fields": c.fields, "prefillable": c.prefillable, "definition": percent(c.definition_cut),
         "measured": percent(c.measured_cut), "dossiers": c.dossiers}
        for c in cuts
    ]
    cut = kpis["declared_field_cut"]
    cards = [{"id": key, "title": title, "meaning": meaning, "value": percent(kpis.get(key))}
             for key, title, meaning in KPIS]
    cards.append({"id": "declared_field_cut", "title": _l("Declared-field cut"),
                  "meaning": _l("Share of form fields citizens did not have to type, the mean over procedures; "
                                "the target is at least 20%."),
                  "value": percent(cut.get("overall")), "ceiling": percent(cut.get("definition_overall"))})
    period = (dt.datetime.fromisoformat(kpis["period"]["from"]), dt.datetime.fromisoformat(kpis["period"]["to"]))
    return render_template("admin/dashboard.html", cards=cards, rows=rows, period=period, received=kpis["dossiers_received"],
                           errors=errors, chosen={"from": request.args.get("from", ""), "to": request.args.get("to", "")}), \
        (422 if errors else 200)


# ------------------------------------------------------------------------------------------ sessions and tokens

@bp.get("/access")
@login_required(kind="staff", role="admin")
def access():
    """Who is signed in and which bearer tokens are live, each with a button that ends it at once."""
    svc = services()
    return render_template("admin/access.html", sessions=svc.sessions.list_sessions(g.user),
                           tokens=svc.accounts.list_tokens(actor=g.user))


@bp.post("/access/sessions/<int:session_id>/revoke")
@login_required(kind="staff", role="admin")
def revoke_session(session_id: int):
    try:
        card = services().sessions.revoke_session(session_id, g.user)
    except NotFoundError:
        flash(_("That session had already ended."), "info")
    else:
        flash(_("The session of %(name)s has ended.", name=card.username), "info")
    return redirect(url_for("admin.access"))


@bp.post("/access/tokens/<int:token_id>/revoke")
@login_required(kind="staff", role="admin")
def revoke_token(token_id: int):
    try:
        card = services().accounts.revoke_token(token_id, g.user)
    except NotFoundError:
        flash(_("That token had already been revoked or had expired."), "info")
    else:
        flash(_("The token of %(name)s has been revoked.", name=card.username), "info")
    return redirect(url_for("admin.access"))
