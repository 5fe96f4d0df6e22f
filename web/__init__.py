"""MotCua's web application: the Flask app factory."""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from flask import Flask, jsonify
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import text

from engine.rules.text import SURROGATE
from web import config as cfg


class JSONProvider(DefaultJSONProvider):
    """ISO 8601 date-times (local time, as stored), non-ASCII kept as is."""

    ensure_ascii = False
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        # A lone surrogate stored before the edge refused them cannot be encoded as UTF-8: escape it
        # (\ud800 is valid JSON) rather than fail, so that such a record stays readable.
        text = super().dumps(obj, **kwargs)
        if SURROGATE.search(text):
            text = super().dumps(obj, **{**kwargs, "ensure_ascii": True})
        return text

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, (dt.datetime, dt.date, dt.time)):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def create_app(overrides: dict | None = None, *, services: Any = None, login_provider: Any = None) -> Flask:
    """The app; ``login_provider`` replaces the local password login (e.g. with OpenID Connect)."""
    from flask_wtf.csrf import CSRFProtect

    from web import admin, agency_api, auth, citizen, clerk, errors, i18n, inputs, ui, verify
    from web.bootstrap import bootstrap

    config = cfg.from_environment(overrides)
    app = Flask(__name__)
    app.json_provider_class = JSONProvider
    app.json = JSONProvider(app)
    app.config.update(
        SECRET_KEY=config["SECRET_KEY"],
        MAX_CONTENT_LENGTH=int(float(config.get("MAX_UPLOAD_MB") or 20) * 1024 * 1024) + 64 * 1024,
        SESSION_COOKIE_NAME="motcua_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cfg.secure_cookies(config),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=float(config.get("SESSION_HOURS") or 8)),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        TESTING=bool(config.get("TESTING", False)),
    )
    app.config["MOTCUA"] = config
    app.extensions["motcua"] = services or bootstrap(config)
    errors.register(app)
    inputs.init_app(app)  # before CSRF and every view: text no record may hold is refused at the door
    csrf = CSRFProtect(app)
    csrf.exempt(agency_api.bp)  # the JSON API authenticates with bearer tokens, not cookies
    app.register_blueprint(agency_api.bp)
    app.register_blueprint(verify.bp)
    i18n.init_app(app, Path(str(config["DATA_DIR"])))
    ui.init_app(app)
    auth.init_app(app, login_provider)
    app.register_blueprint(citizen.bp)
    app.register_blueprint(clerk.bp)
    app.register_blueprint(admin.bp)

    @app.get("/healthz")
    def healthz():
        engine = app.extensions["motcua"].engine
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return jsonify({"status": "ok"})

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
            "form-action 'self'; base-uri 'none'")
        return response

    logging.getLogger("motcua").setLevel(logging.INFO)
    return app
