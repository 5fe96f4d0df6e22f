"""A sandbox of the national public-service portal's dossier-status API, for tests and demonstrations
(``motcua sandbox portal --port P``). It keeps, in memory, the last status pushed for each dossier code:

- ``POST /dossiers`` one status (JSON: dossier_code, status_code 1-10, received_at, due_at, finished_at,
  channel 1-3, result, event_id), with ``Idempotency-Key``. A key seen before, or an event older than
  the one held, changes nothing (200, ``"applied": false``); a new status answers 201.
- ``GET /dossiers`` every status held; ``GET /dossiers/<code>`` one.
With a token configured, every request needs ``Authorization: Bearer <token>``.
"""
from __future__ import annotations

import threading
from typing import Any

from flask import Flask, abort, jsonify, request

FIELDS = ("dossier_code", "status_code", "received_at", "due_at", "finished_at", "channel", "result", "event_id")


def create_portal_sandbox(token: str | None = None) -> Flask:
    app = Flask("motcua-portal-sandbox")
    held: dict[str, dict[str, Any]] = {}
    keys: set[str] = set()
    lock = threading.Lock()
    app.extensions["portal_sandbox"] = held

    @app.before_request
    def _authorise():
        if token and request.headers.get("Authorization", "") != f"Bearer {token}":
            return jsonify({"error": "unauthorised"}), 401
        return None

    @app.post("/dossiers")
    def push():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify({"error": "a JSON object is required"}), 400
        code, status, event_id = body.get("dossier_code"), body.get("status_code"), body.get("event_id")
        if (not isinstance(code, str) or not code or not isinstance(status, int) or not 1 <= status <= 10
                or not isinstance(event_id, int)):
            return jsonify({"error": "dossier_code, status_code (1-10) and event_id are required"}), 422
        if body.get("channel") not in (None, 1, 2, 3):
            return jsonify({"error": "channel must be 1, 2 or 3"}), 422
        key = request.headers.get("Idempotency-Key") or f"{code}:{event_id}"
        with lock:
            current = held.get(code)
            if key in keys or (current is not None and current["event_id"] >= event_id):
                return jsonify({"applied": False, "dossier": current}), 200
            keys.add(key)
            held[code] = {name: body.get(name) for name in FIELDS}
            return jsonify({"applied": True, "dossier": held[code]}), 201

    @app.get("/dossiers")
    def list_all():
        with lock:
            return jsonify({"dossiers": sorted(held.values(), key=lambda r: r["dossier_code"])})

    @app.get("/dossiers/<code>")
    def one(code: str):
        with lock:
            if code not in held:
                abort(404)
            return jsonify(held[code])

    return app
