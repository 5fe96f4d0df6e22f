"""The one composition root: builds the engine's services from configuration."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, inspect

from engine import deadlines
from engine.blobs import LocalBlobStore
from engine.definitions import load_catalogue
from engine.services import Services
from engine.store import make_engine, uow_factory
from web import config as cfg

MIGRATIONS = cfg.PROJECT_ROOT / "migrations"


def local_clock(tz_name: str) -> Callable[[], dt.datetime]:
    tz = ZoneInfo(tz_name)

    def now() -> dt.datetime:
        return dt.datetime.now(tz).replace(tzinfo=None)

    return now


def bootstrap(config: dict, *, engine: Engine | None = None, clock: Callable[[], dt.datetime] | None = None,
              use_db_calendars: bool = True) -> Services:
    """Load and check definitions (fail fast), connect the database, wire the services."""
    calendars = deadlines.load_calendars(cfg.calendar_folders(config))
    catalogue = load_catalogue(cfg.procedure_folders(config), calendars=calendars.keys())
    engine = engine or make_engine(str(config["DATABASE_URL"]))
    services = Services(
        uow=uow_factory(engine),
        catalogue=catalogue,
        calendars=dict(calendars),
        clock=clock or local_clock(str(config.get("TIMEZONE") or "Asia/Ho_Chi_Minh")),
        blobs=LocalBlobStore(Path(str(config["DATA_DIR"])) / "blobs"),
        max_upload_mb=float(config.get("MAX_UPLOAD_MB") or 20),
    )
    services.engine = engine  # type: ignore[attr-defined]
    if use_db_calendars and inspect(engine).has_table("calendar_settings"):
        services.load_calendars_from_db()  # the administrator's edited copy wins over the files
    return services


def upgrade_database(url: str) -> None:
    """Create or upgrade the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    alembic_cfg = Config()
    alembic_cfg.set_main_option("script_location", str(MIGRATIONS))
    alembic_cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(alembic_cfg, "head")
