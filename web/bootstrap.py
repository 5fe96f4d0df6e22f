"""The one composition root: builds the engine's services from configuration."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, inspect


from engine.adapters.blobs import LocalBlobStore
from engine.adapters.sources import DatabaseResults, HttpPopulationRegister, LocalPopulationRegister
from engine.adapters.uow import make_engine, uow_factory
from engine.rules import deadlines
from engine.rules.calendars import load_calendars
from engine.rules.definitions import Catalogue, load_catalogue
from engine.rules.identity import DEFAULT_PATTERN, PersonalIdRule
from engine.rules.prefill import Prefiller
from engine.usecases.links import Links
from engine.usecases.services import Services, build_services
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
    calendars = load_calendars(cfg.calendar_folders(config))
    catalogue = load_catalogue(cfg.procedure_folders(config), calendars=calendars.keys())
    engine = engine or make_engine(str(config["DATABASE_URL"]))
    data_dir = Path(str(config["DATA_DIR"]))
    uow = uow_factory(engine)
    clock = clock or local_clock(str(config.get("TIMEZONE") or "Asia/Ho_Chi_Minh"))
    services = build_services(
        uow=uow, clock=clock, catalogue=catalogue, calendars=dict(calendars),
        blobs=LocalBlobStore(data_dir / "blobs"),
        issuer=make_issuer(config),
        prefiller=make_prefiller(config, uow, catalogue, clock),
        links=Links(str(config.get("PUBLIC_URL") or "http://127.0.0.1:8000"), str(config["SECRET_KEY"]).encode("utf-8")),
        slips_dir=cfg.slips_folder(config),
        max_upload_mb=float(config.get("MAX_UPLOAD_MB") or 20),
        issue_inline=cfg.truthy(config.get("ISSUE_INLINE", True)),
        personal_ids=PersonalIdRule(str(config.get("PERSONAL_ID_PATTERN") or DEFAULT_PATTERN)),
        engine=engine,
    )
    if use_db_calendars and inspect(engine).has_table("calendar_settings"):
        services.deadlines.load_calendars_from_db()  # the administrator's edited copy wins over the files
    return services


def make_prefiller(config: dict, uow: Callable[..., Any], catalogue: Catalogue,
                   clock: Callable[[], dt.datetime]) -> Prefiller:
    """The prefill sources: the local population table, or a remote register when configured."""
    url = config.get("POPULATION_URL")
    population = (HttpPopulationRegister(str(url), timeout=float(config.get("POPULATION_TIMEOUT") or 3))
                  if url else LocalPopulationRegister(uow))
    titles = {e.id: e.title.vi for e in catalogue.evidence_types.values()}
    return Prefiller(population, DatabaseResults(uow, titles, clock), titles)


def make_issuer(config: dict):
    """The signing adapter: PKI and fonts under the data dir, opened on first use."""
    from signing.issuer import DocumentIssuer, passphrase_from

    data_dir = Path(str(config["DATA_DIR"]))
    fonts = Path(str(config.get("FONT_CACHE_DIR") or data_dir / "fonts"))
    return DocumentIssuer(data_dir / "pki", passphrase_from(data_dir, config.get("PKI_PASSPHRASE")), fonts,
                          tsa_url=config.get("TSA_URL") or None)


def upgrade_database(url: str) -> None:
    """Create or upgrade the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    alembic_cfg = Config()
    alembic_cfg.set_main_option("script_location", str(MIGRATIONS))
    alembic_cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(alembic_cfg, "head")
