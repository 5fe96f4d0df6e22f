"""My notifications ("Thông báo"): the moments of my dossiers, with how each was delivered by e-mail
and SMS; marking them read; how I want to be told (e-mail, SMS, language)."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.rules.errors import ValidationError
from web.auth import login_required, services
from web.citizen import bp
from web.citizen.words import (DELIVERY_CHANNEL_LABELS, DELIVERY_STATUS_LABELS, NOTIFICATION_KIND_LABELS,
                               label_of, say)



@bp.app_context_processor
def _unread() -> dict:
    def unread_notifications() -> int:  # called by the layout for a signed-in citizen only
        user = g.get("user")
        return services().notifications.unread_count(user) if user is not None and user.is_citizen else 0

    return {"unread_notifications": unread_notifications}


@bp.get("/my/notifications")
@login_required(kind="citizen")
def notifications():
    svc = services().notifications
    return render_template("citizen/notifications.html", inbox=svc.inbox(g.user), prefs=svc.preferences(g.user),
                           KIND_LABELS=NOTIFICATION_KIND_LABELS, DELIVERY_CHANNEL_LABELS=DELIVERY_CHANNEL_LABELS,
                           STATUS_LABELS=DELIVERY_STATUS_LABELS, label_of=label_of)


@bp.post("/my/notifications/read")
@login_required(kind="citizen")
def read_notifications():
    raw = request.form.get("id", "").strip()
    which = int(raw) if raw.isdigit() and len(raw) < 19 else None
    if raw and which is None:
        which = -1  # not a number: names nothing, so not found
    services().notifications.mark_read(g.user, which)  # another's: not found
    return redirect(url_for("citizen.notifications"), 303)


@bp.post("/my/notifications/preferences")
@login_required(kind="citizen")
def notification_preferences():
    form = request.form
    try:
        services().notifications.set_preferences(g.user, email=form.get("email") == "on", sms=form.get("sms") == "on",
                                                 language=form.get("language", ""))
    except ValidationError as exc:
        flash(_("The preferences were not saved: %(problem)s",
                problem="; ".join(say(m) for msgs in exc.fields.values() for m in msgs) or say(exc.message)), "error")
        return redirect(url_for("citizen.notifications", _anchor="preferences"), 303)
    flash(_("Your notification preferences were saved."), "success")
    return redirect(url_for("citizen.notifications", _anchor="preferences"), 303)
