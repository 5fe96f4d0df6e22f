"""The web benchmark's baseline: the least a Flask + SQLAlchemy endpoint does to answer with one row.

``GET /row/<id>`` reads one dossier of the benchmark's database by primary key through a SQLAlchemy
engine (a connection from the pool, one SELECT) and answers it as JSON. It runs under gunicorn with
the same worker class, process and thread counts as the real app it is compared with:

    MOTCUA_DATABASE_URL=... gunicorn --workers 2 --threads 4 bench.minimal_app:app
"""
from __future__ import annotations

import os

from flask import Flask, abort, jsonify
from sqlalchemy import create_engine, text

ROW = text("SELECT id, state, status_code, version_counter FROM dossiers WHERE id = :id")


def create_app(url: str) -> Flask:
    app = Flask(__name__)
    engine = create_engine(url)

    @app.get("/row/<dossier_id>")
    def row(dossier_id: str):
        with engine.connect() as conn:
            found = conn.execute(ROW, {"id": dossier_id}).mappings().first()
        if found is None:
            abort(404)
        return jsonify(dict(found))

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    return app


def __getattr__(name: str) -> Flask:  # gunicorn's ``bench.minimal_app:app``, built in each worker
    if name == "app":
        return create_app(os.environ["MOTCUA_DATABASE_URL"])
    raise AttributeError(name)
