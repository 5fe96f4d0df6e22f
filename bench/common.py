"""What every benchmark shares: choosing the backend, a temporary database that is always removed,
and the error raised when a correctness check made during a benchmark fails."""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class CorrectnessError(AssertionError):
    """A benchmark's own correctness check failed (lost or extra rows, a broken audit chain)."""


class BackendUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class Backend:
    name: str  # sqlite | postgresql
    base_url: str | None  # the server to create a schema in (PostgreSQL only)


def note(message: str) -> None:
    """Progress and notes go to stderr, so that ``--json`` output on stdout stays one object a line."""
    print(message, file=sys.stderr, flush=True)


def configured_postgres() -> str | None:
    url = os.environ.get("MOTCUA_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


def postgres_reachable(url: str) -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means: no PostgreSQL to use
        return False


def select_backends(choice: str | None) -> list[Backend]:
    """``None`` = the configured database (PostgreSQL when MOTCUA_DATABASE_URL names one, else SQLite)."""
    configured = configured_postgres()
    if choice is None:
        choice = "postgresql" if configured else "sqlite"
    if choice == "sqlite":
        return [Backend("sqlite", None)]
    url = configured or POSTGRES_DEFAULT
    if choice == "postgresql":
        if not postgres_reachable(url):
            raise BackendUnavailable(f"no PostgreSQL answers at {_redact(url)}")
        return [Backend("postgresql", url)]
    if choice == "both":
        backends = [Backend("sqlite", None)]
        if postgres_reachable(url):
            backends.append(Backend("postgresql", url))
        else:
            note(f"note: PostgreSQL skipped: nothing answers at {_redact(url)} "
                 "(set MOTCUA_DATABASE_URL to run it)")
        return backends
    raise ValueError(f"unknown backend {choice!r}")


@contextlib.contextmanager
def temporary_database(backend: Backend) -> Iterator[tuple[str, Path]]:
    """A freshly migrated database and a scratch folder; both are removed on the way out, error or not.

    SQLite: a file in a temporary folder. PostgreSQL: a schema ``motcua_bench_<random>`` on the
    server, selected through ``options=-csearch_path``, dropped with everything in it at the end.
    """
    from sqlalchemy import create_engine, text

    from motcua.bootstrap import upgrade_database

    workdir = Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    schema = None
    try:
        if backend.name == "sqlite":
            url = f"sqlite:///{workdir / 'bench.db'}"
        else:
            assert backend.base_url
            schema = f"motcua_bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(backend.base_url)
            try:
                with admin.begin() as conn:
                    conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            finally:
                admin.dispose()
            sep = "&" if "?" in backend.base_url else "?"
            url = f"{backend.base_url}{sep}options=-csearch_path%3D{schema}"
        upgrade_database(url)
        yield url, workdir
    finally:
        try:
            if schema is not None:
                admin = create_engine(backend.base_url)  # type: ignore[arg-type]
                try:
                    with admin.begin() as conn:
                        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                finally:
                    admin.dispose()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "<unparsable URL>"
