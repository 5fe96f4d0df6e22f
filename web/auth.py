"""Who is signed in to the web pages. The session cookie carries a random session id (never the
account id); the session is looked up on every request (``Services.sessions.resume_session``, one
read), so sign-out, a password change, an administrator's revoke, a disabled account or the idle and
absolute expiry end it at once, also for a copy of the cookie saved before.

The login itself is pluggable: a ``LoginProvider`` owns the sign-in pages and calls ``sign_in`` with
the account it vouches for. ``LocalLogin`` checks a username and an argon2 password, throttled in the
database per source address and per account-and-address; an OpenID Connect provider replaces it by
registering its own routes (redirect, callback) and mapping the identity it receives (the citizen's
personal id) to an account with ``Services.accounts.actor_for``."""
from __future__ import annotations

import functools
import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from flask import (Blueprint, Flask, abort, current_app, flash, g, jsonify, make_response, redirect, render_template,
                   request, session, url_for)
from flask_babel import gettext as _

from engine.rules.access import Actor
from engine.rules.errors import AuthenticationError, ThrottledError
from web.i18n import safe_next

bp = Blueprint("auth", __name__)

SESSION_KEY = "sid"
OLD_SESSION_KEY = "account_id"  # cookies from before server-side sessions: no longer honoured


class LoginProvider(ABC):
    """The sign-in method. ``login_url`` is where pages send someone who must sign in."""

    name = "base"

    @abstractmethod
    def register(self, app: Flask) -> None:
        """Add the provider's own routes (a form, or a redirect and a callback) to the app."""

    @abstractmethod
    def login_url(self, next_url: str) -> str:
        """Where to send someone who must sign in, to come back to ``next_url``."""


def client_address() -> str:
    """The address the request came from. Behind reverse proxies (``MOTCUA_TRUSTED_PROXIES``) the app
    is wrapped in ProxyFix, which takes it from their X-Forwarded-For; otherwise that header is ignored."""
    return request.remote_addr or "unknown"


class LocalLogin(LoginProvider):
    """Username (a citizen's 12-digit personal id, or a staff name) and password, hashed with argon2."""

    name = "local"

    def register(self, app: Flask) -> None:
        app.add_url_rule("/login", "auth.login", self.login_page, methods=["GET"])
        app.add_url_rule("/login", "auth.login_submit", self.login_submit, methods=["POST"])

    def login_url(self, next_url: str) -> str:
        return url_for("auth.login", next=next_url)

    def login_page(self):
        if g.get("user") is not None:
            return redirect(home_for(g.user))
        return render_template("auth/login.html", next=safe_next(request.args.get("next"), ""), error=None,
                               username="", demo=demo_accounts())

    def login_submit(self):
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        next_url = safe_next(request.form.get("next"), "")
        try:
            started = services().sessions.sign_in_with_password(username, password, client_address())
        except ThrottledError as exc:
            message = _("Too many failed sign-ins from here. Try again in %(seconds)s seconds.", seconds=exc.retry_after)
            response = make_response(render_template("auth/login.html", next=next_url, username=username,
                                                      demo=demo_accounts(), error=message), 429)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except AuthenticationError:
            return render_template("auth/login.html", next=next_url, username=username, demo=demo_accounts(),
                                   error=_("Wrong username or password.")), 401
        _begin(started)
        return redirect(next_url or home_for(started.actor))


def demo_accounts() -> dict | None:
    """On a demo installation (``motcua init --demo`` wrote demo.json), the accounts to try, shown on the
    login page. Synthetic people only; a production installation has no demo.json."""
    path = Path(current_app.config["MOTCUA"].data_dir) / "demo.json"
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    cached = _demo_cache.get(str(path))
    if cached is None or cached[0] != stamp:
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
            scenarios = summary.get("scenarios", {})
            couple = scenarios.get("married_couple", {})
            citizens = [(couple.get("wife"), "married_couple_wife"), (couple.get("husband"), "married_couple_husband")]
            citizens += [(p.get("personal_id"), "single_adult") for p in scenarios.get("single_adults", [])[:2]]
            citizens.append(((scenarios.get("newborn") or {}).get("mother"), "newborn_mother"))
            demo = {"password": summary.get("password", ""), "staff": list(summary.get("staff", {})),
                    "citizens": [(pid, kind) for pid, kind in citizens if pid]}
        except (OSError, ValueError, AttributeError):
            demo = None
        cached = (stamp, demo)
        _demo_cache[str(path)] = cached
    return cached[1]


_demo_cache: dict[str, tuple[int, dict | None]] = {}


def services() -> Any:
    return current_app.extensions["motcua"]


def sign_in(actor: Actor) -> None:
    """Start a fresh session for an account a login provider vouches for: a new session id in the
    database and a new cookie (no fixation of an earlier one)."""
    _begin(services().sessions.start_session(actor, client_address()))


def _begin(started: Any) -> None:
    previous = session.get(SESSION_KEY)
    if previous:
        services().sessions.end_session(previous)  # signing in again replaces the session, never adds one
    lang = session.get("lang")
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = started.session_id
    if lang:
        session["lang"] = lang
    g.user = started.actor


def home_for(actor: Actor) -> str:
    if actor.is_staff:
        return url_for("admin.dashboard") if actor.has_role("admin") and len(actor.roles) == 1 else url_for("clerk.queue")
    if actor.is_citizen:
        return url_for("citizen.my_dossiers")
    return url_for("verify.index")


@bp.post("/logout")
def logout():
    services().sessions.end_session(session.get(SESSION_KEY))
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("verify.index"))


def load_user() -> None:
    session_id = session.get(SESSION_KEY)
    g.user = services().sessions.resume_session(session_id) if session_id is not None else None
    if (session_id is not None and g.user is None) or OLD_SESSION_KEY in session:
        session.clear()  # ended, expired, its account disabled, or a cookie of the old kind


def wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def login_required(kind: str | None = None, role: str | None = None):
    """Send someone not signed in to the login page; refuse a signed-in person of the wrong kind."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = g.get("user")
            if user is None:
                if wants_json():
                    response = jsonify({"error": "unauthenticated", "fields": {},
                                        "message": "Cần đăng nhập / sign in first"})
                    response.status_code = 401
                    return response
                target = request.full_path if request.method == "GET" else request.path
                return redirect(current_app.extensions["motcua_login"].login_url(target.rstrip("?")))
            if kind is not None and user.kind != kind:
                abort(403, _("This page is not for your kind of account."))
            if role is not None and not user.has_role(role):
                abort(403, _("Your role does not allow this page."))
            return view(*args, **kwargs)

        return wrapped

    return decorate


def init_app(app: Flask, provider: LoginProvider | None = None) -> None:
    provider = provider or LocalLogin()
    app.extensions["motcua_login"] = provider
    provider.register(app)
    app.register_blueprint(bp)
    app.before_request(load_user)

    @app.context_processor
    def _user() -> dict[str, Any]:
        return {"user": g.get("user"), "login_url": provider.login_url}
