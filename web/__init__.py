"""MotCua's web application: the Flask app factory."""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
from pathlib import Path
from typing import Any

import orjson
from flask import Flask, jsonify
from flask.json.provider import DefaultJSONProvider

from engine.rules.text import has_surrogate

HSTS = "max-age=31536000; includeSubDomains"
HEALTH_PARTS = {"database": "cơ sở dữ liệu", "blob_store": "kho lưu trữ tệp"}


class JSONProvider(DefaultJSONProvider):
    """ISO 8601 date-times (local time, as stored), non-ASCII kept as is; a dataclass as the object of its
    fields, converted as the encoder meets it (not deep-copied first, as ``dataclasses.asdict`` does).

    Encoded by orjson (a dossier's answer: 25 µs against the standard library's 250 µs), which writes
    UTF-8 at once. What orjson refuses is encoded as Flask would, by the standard library: a lone
    surrogate stored before the edge refused them (escaped, \\ud800 is valid JSON, so that such a
    record stays readable), an integer beyond 64 bits, a key that is not a string."""

    ensure_ascii = False
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if not kwargs:
            try:
                return orjson.dumps(obj, default=self.default, option=_ORJSON).decode("utf-8")
            except TypeError:
                pass  # what orjson refuses: as the standard library does it
        text = super().dumps(obj, **kwargs)
        return super().dumps(obj, **{**kwargs, "ensure_ascii": True}) if has_surrogate(text) else text

    def response(self, *args: Any, **kwargs: Any) -> Any:
        """Flask's, encoded to UTF-8 once, by orjson where it can."""
        obj = self._prepare_response_obj(args, kwargs)
        compact = not ((self.compact is None and self._app.debug) or self.compact is False)
        try:
            data = orjson.dumps(obj, default=self.default,
                               option=_ORJSON | orjson.OPT_APPEND_NEWLINE | (0 if compact else orjson.OPT_INDENT_2))
        except TypeError:
            dump_args: dict[str, Any] = {"separators": (",", ":")} if compact else {"indent": 2}
            text = DefaultJSONProvider.dumps(self, obj, **dump_args)
            try:
                data = text.encode("utf-8")
            except UnicodeEncodeError:
                data = DefaultJSONProvider.dumps(self, obj, **dump_args, ensure_ascii=True).encode("ascii")
            data += b"\n"
        return self._app.response_class(data, mimetype=self.mimetype)

    @staticmethod
    def default(o: Any) -> Any:
        convert = _CONVERTERS.get(type(o))
        if convert is None:
            convert = _CONVERTERS.setdefault(type(o), _converter(type(o)))
        return convert(o)


# orjson hands dataclasses to ``default``: left to itself it would answer a dataclass's whole ``__dict__``
# (a cached property's value too) and drop its fields named with a leading underscore
_ORJSON = orjson.OPT_PASSTHROUGH_DATACLASS


@functools.lru_cache(maxsize=None)
def dataclass_fields(kind: type) -> tuple[dataclasses.Field, ...]:
    """``dataclasses.fields`` of a class, looked up once (answers convert many of the same classes)."""
    return dataclasses.fields(kind)


_CONVERTERS: dict[type, Any] = {}  # type -> how the JSON provider converts its objects, found once per type


def _converter(kind: type) -> Any:
    """How ``JSONProvider.default`` converts an object of ``kind``: a date or time to ISO 8601; a dataclass
    to the object of its fields (the instance's own ``__dict__`` when it holds exactly its fields, as the
    views' frozen dataclasses do: no copy); anything else as Flask does (or its TypeError)."""
    if issubclass(kind, (dt.datetime, dt.date, dt.time)):
        return kind.isoformat
    if dataclasses.is_dataclass(kind):
        names = tuple(f.name for f in dataclass_fields(kind))
        count = len(names)

        def fields_of(o: Any) -> dict[str, Any]:
            own = getattr(o, "__dict__", None)
            if own is not None and len(own) == count:  # set by __init__, in field order; nothing else added
                return own
            return {name: getattr(o, name) for name in names}

        return fields_of
    return DefaultJSONProvider.default


def create_app(settings: Any, *, services: Any, login_provider: Any = None) -> Flask:
    """The app over ``services`` (the use cases, built by the composition root), configured by
    ``settings`` (read by attribute: ``secret_key``, ``max_upload_mb``, ``secure_cookies``, ``public_url``,
    ``session_hours``, ``trusted_proxies``, ``data_dir``, ``timezone``, ``testing``). ``login_provider`` replaces the local
    password login (e.g. with OpenID Connect)."""
    from flask_wtf.csrf import CSRFProtect

    from web import admin, agency_api, auth, citizen, clerk, errors, i18n, inputs, ui, verify
    from web.cookie_session import CookieSessions
    from web.fragments import EXTENSION, Fragments

    app = Flask(__name__)
    app.session_interface = CookieSessions()
    app.json_provider_class = JSONProvider
    app.json = JSONProvider(app)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=int(settings.max_upload_mb * 1024 * 1024) + 64 * 1024,  # the file and the form around it
        SESSION_COOKIE_NAME="motcua_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings.session_hours),
        # The cookie is signed and sent when the session changes (sign-in, language, the CSRF token), not
        # on every answer: it expires with the session it names, whose end (its lifetime from sign-in, its
        # idle time) the server decides. Re-signing it on every page cost a tenth of the desk's time.
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        TESTING=settings.testing,
    )
    app.config["MOTCUA"] = settings
    proxies = int(getattr(settings, "trusted_proxies", 0) or 0)
    if proxies:  # only then is X-Forwarded-For believed, and only the hops the proxies added
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies)  # type: ignore[method-assign]
    app.extensions["motcua"] = services
    app.extensions[EXTENSION] = Fragments()  # rendered rows of the desk, kept
    errors.register(app)
    inputs.init_app(app)  # before CSRF and every view: text no record may hold is refused at the door
    csrf = CSRFProtect(app)
    csrf.exempt(agency_api.bp)  # the JSON API authenticates with bearer tokens, not cookies
    app.register_blueprint(agency_api.bp)
    app.register_blueprint(verify.bp)
    i18n.init_app(app, Path(settings.data_dir))
    ui.init_app(app)
    auth.init_app(app, login_provider)
    app.register_blueprint(citizen.bp)
    app.register_blueprint(clerk.bp)
    app.register_blueprint(admin.bp)

    @app.get("/healthz")
    def healthz():
        report = app.extensions["motcua"].health.check()
        checks = {"database": report.database, "blob_store": report.blob_store}
        if report.healthy:
            return jsonify({"status": "ok", "checks": checks})
        down = [part for part, state in checks.items() if state != "ok"]
        message = (f"Không truy cập được: {', '.join(HEALTH_PARTS[p] for p in down)} / "
                   f"unavailable: {', '.join(p.replace('_', ' ') for p in down)}")
        # the error body every non-2xx answer has, with the report beside it
        return jsonify({"error": "unavailable", "message": message, "fields": {}, "status": "unavailable",
                        "checks": checks}), 503

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

    if str(settings.public_url).lower().startswith("https://"):
        @app.after_request
        def _hsts(response):
            # served over https (behind a proxy that terminates TLS): browsers must not fall back to http
            response.headers.setdefault("Strict-Transport-Security", HSTS)
            return response

    logging.getLogger("motcua").setLevel(logging.INFO)
    return app
