"""Who is signed in to the web pages. The session cookie carries only the account id; the account is
read again on every request, so a disabled account is out at once.

The login itself is pluggable: a ``LoginProvider`` owns the sign-in pages and calls ``sign_in`` with
the account it vouches for. ``LocalLogin`` checks a username and an argon2 password; an OpenID
Connect provider replaces it by registering its own routes (redirect, callback) and mapping the
identity it receives (the citizen's personal id) to an account with ``Services.accounts.actor_for``."""
from __future__ import annotations

import functools
import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import (Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _

from engine.rules.access import Actor
from engine.rules.errors import AuthenticationError
from web.i18n import safe_next

bp = Blueprint("auth", __name__)

SESSION_KEY = "account_id"


class LoginProvider(ABC):
    """The sign-in method. ``login_url`` is where pages send someone who must sign in."""

    name = "base"

    @abstractmethod
    def register(self, app: Flask) -> None:
        """Add the provider's own routes (a form, or a redirect and a callback) to the app."""

    @abstractmethod
    def login_url(self, next_url: str) -> str:
        """Where to send someone who must sign in, to come back to ``next_url``."""


class Throttle:
    """At most ``limit`` failed sign-ins per username in ``window`` seconds (per process)."""

    def __init__(self, limit: int = 8, window: float = 900.0, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, key: str) -> bool:
        with self._lock:
            recent = [t for t in self._failures.get(key, []) if self.clock() - t < self.window]
            self._failures[key] = recent
            return len(recent) >= self.limit

    def failed(self, key: str) -> None:
        with self._lock:
            self._failures.setdefault(key, []).append(self.clock())
            if len(self._failures) > 10_000:  # bounded memory under a spray of names
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class LocalLogin(LoginProvider):
    """Username (a citizen's 12-digit personal id, or a staff name) and password, hashed with argon2."""

    name = "local"

    def __init__(self, throttle: Throttle | None = None):
        self.throttle = throttle or Throttle()

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
        key = username.lower()[:80]
        if self.throttle.blocked(key):
            return render_template("auth/login.html", next=next_url, username=username, demo=demo_accounts(),
                                   error=_("Too many failed attempts. Wait 15 minutes and try again.")), 429
        try:
            actor = services().accounts.authenticate_password(username, password)
        except AuthenticationError:
            self.throttle.failed(key)
            return render_template("auth/login.html", next=next_url, username=username, demo=demo_accounts(),
                                   error=_("Wrong username or password.")), 401
        self.throttle.succeeded(key)
        sign_in(actor)
        return redirect(next_url or home_for(actor))


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
    """Start a fresh session for this account (a new cookie: no fixation of an earlier one)."""
    lang = session.get("lang")
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = actor.account_id
    if lang:
        session["lang"] = lang
    g.user = actor


def home_for(actor: Actor) -> str:
    if actor.is_staff:
        return url_for("admin.dashboard") if actor.has_role("admin") and len(actor.roles) == 1 else url_for("clerk.queue")
    if actor.is_citizen:
        return url_for("citizen.my_dossiers")
    return url_for("verify.index")


@bp.post("/logout")
def logout():
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("verify.index"))


def load_user() -> None:
    account_id = session.get(SESSION_KEY)
    g.user = services().accounts.actor_by_id(account_id) if account_id is not None else None
    if account_id is not None and g.user is None:
        session.clear()  # the account was disabled or removed since


def login_required(kind: str | None = None, role: str | None = None):
    """Send someone not signed in to the login page; refuse a signed-in person of the wrong kind."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = g.get("user")
            if user is None:
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
