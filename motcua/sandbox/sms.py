"""A sandbox SMS gateway: it speaks the gateway protocol MotCua sends SMS with (POST JSON
``{"to", "text"}`` with an optional bearer token) and keeps what it receives in memory instead of
sending it. ``GET /messages`` lists them, ``DELETE /messages`` forgets them. ``failing`` (or
``POST /failing`` with ``{"failing": true}``) makes it answer 500, to watch retries.

Run it with ``motcua sandbox sms --port 8025`` and point ``MOTCUA_SMS_URL`` at
``http://127.0.0.1:8025/messages``."""
from __future__ import annotations

import datetime as dt
import hmac
import threading
from typing import Any

from flask import Flask, jsonify, request

MAX_TEXT = 1600  # ten concatenated SMS


class SmsBox:
    """The messages received, in order; thread-safe (the test server runs in a thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[dict[str, Any]] = []
        self.failing = False
        self.refused = 0  # answers 500 given while failing

    def add(self, to: str, text: str) -> dict[str, Any]:
        with self._lock:
            message = {"id": len(self._messages) + 1, "to": to, "text": text,
                       "received_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
            self._messages.append(message)
            return message

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for m in self._messages]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()


def create_sms_sandbox(token: str | None = None) -> Flask:
    app = Flask(__name__)
    box = SmsBox()
    app.extensions["sms_box"] = box

    def authorised() -> bool:
        if not token:
            return True
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    @app.post("/messages")
    def receive():
        if not authorised():
            return jsonify({"error": "unauthorised"}), 401
        if box.failing:
            box.refused += 1
            return jsonify({"error": "unavailable"}), 500
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("to"), str) or not isinstance(body.get("text"), str) \
                or not body["to"].strip() or not body["text"] or len(body["text"]) > MAX_TEXT:
            return jsonify({"error": "bad_request", "message": "send {\"to\": text, \"text\": text}"}), 400
        return jsonify(box.add(body["to"].strip(), body["text"])), 201

    @app.get("/messages")
    def listing():
        if not authorised():
            return jsonify({"error": "unauthorised"}), 401
        return jsonify({"messages": box.messages()})

    @app.delete("/messages")
    def clear():
        if not authorised():
            return jsonify({"error": "unauthorised"}), 401
        box.clear()
        return "", 204

    @app.post("/failing")
    def set_failing():
        if not authorised():
            return jsonify({"error": "unauthorised"}), 401
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("failing"), bool):
            return jsonify({"error": "bad_request", "message": "send {\"failing\": true|false}"}), 400
        box.failing = body["failing"]
        return jsonify({"failing": box.failing})

    return app
