"""The signed-cookie session, as Flask's, without its per-request set-up cost.

Flask's ``SecureCookieSessionInterface`` builds a new signing serializer for every request, and
itsdangerous's constructor encodes an empty dict to learn the serializer's output type: about a tenth
of a JSON API request's time, for requests that carry no session cookie at all (the API's bearer
tokens). Here the serializer is built once per set of keys (the secret key and its fallbacks, read
from the configuration at each request, so a key changed at run time still applies), a request
without the cookie gets an empty session without one, and an empty session nobody changed answers
without setting or deleting a cookie, as Flask's does (``Vary: Cookie`` when it was read).
"""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CookieSessions(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        key = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            if len(self._serializers) >= 8:  # keys rotated at run time: keep only the recent ones
                self._serializers.clear()
            serializer = self._serializers[key] = super().get_signing_serializer(app)  # type: ignore[assignment]
        return serializer

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()  # no cookie: what Flask answers, without a serializer
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        if not session and not session.modified:  # nothing to set, nothing to delete
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)
