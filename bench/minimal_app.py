"""The web benchmark's baseline: the least a Flask + SQLAlchemy endpoint does to answer with one row.

``GET /row/<id>`` reads one dossier of the benchmark's database by primary key through a SQLAlchemy
engine (a connection from the pool, one SELECT) and answers it as JSON. ``POST /write/<n>``, the
baseline of a write, commits one statement: it adds one to counter ``n`` of its own table
(``bench_minimal_writes``, made by ``prepare`` before the servers start), the least a request that changes something
does (on SQLite with the app's durability: WAL, ``synchronous=FULL``). It runs under gunicorn with
the same worker class, process and thread counts as the real app it is compared with:

    MOTCUA_DATABASE_URL=... gunicorn --workers 2 --threads 4 bench.minimal_app:app
"""
from __future__ import annotations

import os

from flask import Flask, abort, jsonify
from sqlalchemy import create_engine, event, text

ROW = text("SELECT id, state, status_code, version_counter FROM dossiers WHERE id = :id")
TABLE = text("CREATE TABLE IF NOT EXISTS bench_minimal_writes (id integer PRIMARY KEY, n integer NOT NULL)")
WRITE = text("INSERT INTO bench_minimal_writes (id, n) VALUES (:id, 1) "
             "ON CONFLICT (id) DO UPDATE SET n = bench_minimal_writes.n + 1 RETURNING n")


def prepare(url: str) -> None:
    """Make the write baseline's table (once, before the workers start: PostgreSQL's ``CREATE TABLE IF NOT
    EXISTS`` is not safe from two sessions at once)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(TABLE)
    finally:
        engine.dispose()


def create_app(url: str) -> Flask:
    app = Flask(__name__)
    sqlite = url.startswith("sqlite")
    engine = create_engine(url, connect_args={"timeout": 30} if sqlite else {})
    if sqlite:
        @event.listens_for(engine, "connect")
        def _durable(dbapi_conn, _record):
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute("PRAGMA synchronous=FULL")

    @app.get("/row/<dossier_id>")
    def row(dossier_id: str):
        with engine.connect() as conn:
            found = conn.execute(ROW, {"id": dossier_id}).mappings().first()
        if found is None:
            abort(404)
        return jsonify(dict(found))

    @app.post("/write/<int:n>")
    def write(n: int):
        with engine.begin() as conn:
            value = conn.execute(WRITE, {"id": n}).scalar_one()
        return jsonify({"id": n, "n": value})

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    return app


def __getattr__(name: str) -> Flask:  # gunicorn's ``bench.minimal_app:app``, built in each worker
    if name == "app":
        return create_app(os.environ["MOTCUA_DATABASE_URL"])
    raise AttributeError(name)
