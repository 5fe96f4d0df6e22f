"""One handler per error class: engine errors and HTTP errors become the contract's JSON body."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from engine.rules import errors as e

log = logging.getLogger(__name__)

STATUS = {
    e.ValidationError: 422,
    e.NotFoundError: 404,
    e.AuthenticationError: 401,
    e.PermissionDeniedError: 403,
    e.ActionNotAllowedError: 409,
    e.ConcurrencyError: 409,
    e.IdempotencyConflictError: 409,
    e.PayloadTooLargeError: 413,
    e.UnsupportedMediaError: 415,
    e.ResultIssueError: 409,
    e.ThrottledError: 429,
    e.StorageUnavailableError: 503,  # the blob store is down or slow: try again later
    e.StoredFileError: 500,  # a file the records name is missing or damaged: for the operators
}
RETRY_STORAGE = 30  # seconds a client waits before trying the blob store again


def error_body(code: str, message: str, fields: dict | None = None, status: int = 400,
               extra: dict | None = None):
    if not request.path.startswith("/api/") and request.path != "/healthz":
        # people on the HTML pages get a page, not JSON
        response = make_response(render_template("error.html", status=status, title=code.replace("_", " "),
                                                 message=message), status)
        return response
    response = jsonify({"error": code, "message": message, "fields": fields or {}, **(extra or {})})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="motcua"'
    return response


def register(app: Flask) -> None:
    for cls, status in STATUS.items():
        app.register_error_handler(cls, _engine_handler(status))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
                422: "validation_error"}.get(exc.code or 500, "http_error")
        response = error_body(code, exc.description or exc.name, getattr(exc, "fields", None), status=exc.code or 500)
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # RFC 9110: a 405 names the allowed methods
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # Bad input never lands here; a bug does. Log it (no request data), answer without details.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_body("internal_error", "Lỗi hệ thống / internal error", status=500)


def _engine_handler(status: int):
    def handle(exc: e.EngineError):
        extra = {"conditions": exc.conditions} if isinstance(exc, e.ConditionsNotMetError) else None
        response = error_body(exc.code, exc.message, exc.fields, status, extra)
        if isinstance(exc, e.ThrottledError):
            response.headers["Retry-After"] = str(exc.retry_after)
        elif isinstance(exc, e.StorageUnavailableError):
            response.headers["Retry-After"] = str(RETRY_STORAGE)
        elif isinstance(exc, e.StoredFileError):
            log.error("stored file error on %s %s: %s", request.method, request.path, exc.code)
        return response

    return handle
