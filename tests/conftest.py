"""Shared fixtures: a fresh database per test (SQLite, or PostgreSQL when MOTCUA_DATABASE_URL names
one), an injected clock, the services wired by the real composition root, and the Flask app."""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text

from engine.adapters.models import Base
from engine.adapters.uow import make_engine
from motcua.bootstrap import bootstrap, upgrade_database
from motcua.demo import seed_demo
from motcua.settings import BUNDLED_PROCEDURES, Settings
from web import create_app

POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PROCRASTINATE_TABLES = ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs",
                        "procrastinate_workers")

# Property-based tests drive the app through the test client: no deadline (the machine is shared), no
# example database in the work tree, examples bounded so that a run stays well under a minute.
# HYPOTHESIS_PROFILE=thorough explores ten times as many.
_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
           HealthCheck.function_scoped_fixture]
settings.register_profile("motcua", max_examples=200, deadline=None, database=None, suppress_health_check=_HEALTH,
                          print_blob=True)
settings.register_profile("thorough", settings.get_profile("motcua"), max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "motcua"))


DATABASE_ONLY = "MOTCUA_TEST_DATABASE_ONLY"  # "1": only the tests that run on the configured database


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With MOTCUA_TEST_DATABASE_ONLY=1 (CI's PostgreSQL pass), leave out the tests that never touch the
    configured database: they neither take a fresh one (``db_url``) nor carry the ``database`` marker
    (pure rules, signing, the CLI on its own SQLite file, the benchmarks' smoke runs, which choose their
    own database). The pass on SQLite runs them; run again, they would run the same way."""
    if os.environ.get(DATABASE_ONLY) != "1":
        return
    keep, leave = [], []
    for item in items:
        uses = "db_url" in getattr(item, "fixturenames", ()) or item.get_closest_marker("database") is not None
        (keep if uses else leave).append(item)
    if leave:
        config.hook.pytest_deselected(items=leave)
        items[:] = keep


class FakeClock:
    """A clock the test moves by hand; naive local time like the real one."""

    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, when: dt.datetime) -> None:
        self.now = when

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


def _configured_url() -> str | None:
    url = os.environ.get("MOTCUA_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


def postgres_url() -> str | None:
    """A reachable PostgreSQL for tests that must run there, or None (those tests skip)."""
    url = _configured_url() or os.environ.get("MOTCUA_TEST_POSTGRES_URL") or POSTGRES_DEFAULT
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return url
    except Exception:  # noqa: BLE001 - any failure means: no PostgreSQL here
        return None


class _Postgres:
    """One schema per test session, migrated once, emptied between tests."""

    def __init__(self, base_url: str):
        self.schema = f"motcua_test_{uuid.uuid4().hex[:10]}"
        self.base_url = base_url
        admin = create_engine(base_url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        admin.dispose()
        sep = "&" if "?" in base_url else "?"
        self.url = f"{base_url}{sep}options=-csearch_path%3D{self.schema}"
        upgrade_database(self.url)
        self.engine = create_engine(self.url)

    def reset(self) -> None:
        tables = ", ".join([f'"{t.name}"' for t in Base.metadata.sorted_tables] + list(PROCRASTINATE_TABLES))
        with self.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))

    def drop(self) -> None:
        self.engine.dispose()
        admin = create_engine(self.base_url)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        admin.dispose()


class _SQLiteTemplate:
    """A migrated SQLite file, copied for each test (migrating every time would be slow)."""

    def __init__(self, folder: Path):
        self.path = folder / "template.db"
        upgrade_database(f"sqlite:///{self.path}")

    def fresh(self, folder: Path) -> str:
        target = folder / "motcua.db"
        shutil.copyfile(self.path, target)
        return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def _db_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    url = _configured_url()
    if url:
        pg = _Postgres(url)
        yield pg
        pg.drop()
    else:
        yield _SQLiteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture
def db_url(_db_backend: object, tmp_path: Path) -> str:
    if isinstance(_db_backend, _Postgres):
        _db_backend.reset()
        return _db_backend.url
    return _db_backend.fresh(tmp_path)  # type: ignore[union-attr]


@pytest.fixture
def clock() -> FakeClock:
    # Monday 2 March 2026, 09:00: an ordinary working morning
    return FakeClock(dt.datetime(2026, 3, 2, 9, 0))


@pytest.fixture(scope="session")
def font_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Subsetting the fonts takes seconds: once per test session."""
    return tmp_path_factory.mktemp("fonts")


@pytest.fixture
def config(db_url: str, tmp_path: Path, font_cache: Path) -> dict:
    return {
        "DATABASE_URL": db_url,
        "DATA_DIR": str(tmp_path / "instance"),
        "FONT_CACHE_DIR": str(font_cache),
        "PROCEDURES": str(BUNDLED_PROCEDURES),
        "SECRET_KEY": "test-secret",
        "TESTING": True,
        # most tests read a signed document in the answer of the action that issues it; the tests of
        # the task queue (tests/integration/test_task_queue.py) set this to False, the default
        "ISSUE_INLINE": True,
    }


@pytest.fixture
def settings(config: dict) -> Settings:
    return Settings.from_environment(config)


@pytest.fixture
def services(settings: Settings, clock: FakeClock):
    engine = make_engine(settings.database_url)
    svc = bootstrap(settings, engine=engine, clock=clock)
    svc.procedures.publish_procedures()
    svc.deadlines.sync_calendars()
    yield svc
    engine.dispose()


@pytest.fixture
def demo(services) -> dict:
    """A small seeded world: the demo agency, its staff, families with results in the store."""
    return seed_demo(services, people=60)


@pytest.fixture
def app(settings: Settings, services):
    return create_app(settings, services=services)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def token_for(services) -> Callable[[str], str]:
    cache: dict[str, str] = {}

    def get(username: str) -> str:
        if username not in cache:
            cache[username] = services.accounts.issue_token(username)
        return cache[username]

    return get


class Api:
    """The test client with a bearer token and JSON by default."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _call(self, method: str, path: str, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return getattr(self.client, method)(path, headers=headers, **kwargs)

    def get(self, path: str, **kw):
        return self._call("get", path, **kw)

    def post(self, path: str, **kw):
        return self._call("post", path, **kw)

    def patch(self, path: str, **kw):
        return self._call("patch", path, **kw)

    def delete(self, path: str, **kw):
        return self._call("delete", path, **kw)

    def act(self, dossier_id: str, action: str, expect: int = 200, **body):
        r = self.post(f"/api/v1/dossiers/{dossier_id}/actions/{action}", json=body)
        assert r.status_code == expect, (action, r.status_code, r.get_json())
        return r.get_json()


@pytest.fixture
def api_as(client, token_for) -> Callable[[str | None], Api]:
    def make(username: str | None) -> Api:
        return Api(client, token_for(username) if username else None)

    return make


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebUser:
    """The Flask test client as a person using the HTML pages: signs in through the login form and
    sends every form with the CSRF token a page of the site gave it."""

    def __init__(self, client):
        self.client = client

    def token(self) -> str:
        page = self.client.get("/verify").get_data(as_text=True)  # every page with a form carries the token
        match = CSRF_INPUT.search(page)
        assert match, "no CSRF token on the page"
        return match.group(1)

    def login(self, username: str, password: str = "motcua-demo"):
        response = self.client.post("/login", data={"username": username, "password": password,
                                                   "csrf_token": self.token()})
        assert response.status_code == 302, (username, response.status_code)
        return response

    def get(self, path: str, **kw):
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kw):
        body = dict(data or {})
        if csrf:
            body.setdefault("csrf_token", self.token())
        return self.client.post(path, data=body, **kw)

    @staticmethod
    def text(response) -> str:
        return response.get_data(as_text=True)


@pytest.fixture
def web_as(app) -> Callable[[str | None], WebUser]:
    """A signed-in web user (a fresh cookie jar each), e.g. web_as("clerk"); None for a visitor."""

    def make(username: str | None) -> WebUser:
        user = WebUser(app.test_client())
        if username:
            user.login(username)
        return user

    return make


# ------------------------------------------------------------------------------------------ S3 blob store

S3_BUCKET = "motcua-test"
S3_KEYS = {"S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing", "S3_REGION": "us-east-1"}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    """moto's S3 API server (server mode) on a free local port: a real HTTP endpoint for boto3."""

    def __init__(self):
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, aws_access_key_id="testing",
                            aws_secret_access_key="testing", region_name="us-east-1")

    def settings(self, bucket: str, prefix: str) -> dict:
        """The ``MOTCUA_S3_*`` overrides for this server; one try per call and short timeouts, so a
        test of an outage is quick."""
        return {"BLOB_STORE": "s3", "S3_BUCKET": bucket, "S3_PREFIX": prefix, "S3_ENDPOINT_URL": self.endpoint_url,
                "S3_TIMEOUT": 2, "S3_MAX_ATTEMPTS": 1, **S3_KEYS}

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """One S3 API server for the test session, with the bucket ``motcua-test``; tests keep apart by
    prefix (``s3_settings``)."""
    server = S3Server()
    server.client().create_bucket(Bucket=S3_BUCKET)
    yield server
    server.stop()


@pytest.fixture
def s3_settings(s3_server: S3Server) -> dict:
    """Settings overrides for an S3 blob store under a prefix of its own in the session's bucket."""
    return s3_server.settings(S3_BUCKET, f"t-{uuid.uuid4().hex[:12]}")
