"""The one composition root: builds the engine's services from the settings, and the web app on top."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, inspect

from engine.adapters.blobs import LocalBlobStore
from engine.adapters.messaging import HttpSmsGateway, SmtpMailer, SmtpOptions
from engine.adapters.http_delivery import HttpPortal, HttpSender
from engine.adapters.pdf_pages import PdftoppmRenderer
from engine.adapters.pdf_screen import PdfScreen
from engine.adapters.s3_blobs import S3BlobStore, S3Options
from engine.adapters.sources import DatabaseResults, HttpPopulationRegister, LocalPopulationRegister
from engine.adapters.uow import make_engine, uow_factory
from engine.rules import deadlines
from engine.rules.calendars import load_calendars
from engine.rules.definitions import Catalogue, load_catalogue
from engine.rules.identity import PersonalIdRule
from engine.rules.prefill import Prefiller
from engine.usecases.links import Links
from engine.usecases.services import Services, build_services
from motcua.datadir import prepare_sqlite_file
from signing.detached import DetachedSignatures
from motcua.settings import PROJECT_ROOT, Settings

MIGRATIONS = PROJECT_ROOT / "migrations"


def local_clock(tz_name: str) -> Callable[[], dt.datetime]:
    tz = ZoneInfo(tz_name)

    def now() -> dt.datetime:
        return dt.datetime.now(tz).replace(tzinfo=None)

    return now


def bootstrap(settings: Settings, *, engine: Engine | None = None, clock: Callable[[], dt.datetime] | None = None,
              use_db_calendars: bool = True, page_renderer: Any = None) -> Services:
    """Load and check definitions (fail fast), connect the database, wire the services (``page_renderer``
    replaces pdftoppm for the viewer, e.g. with a test's fake)."""
    calendars = load_calendars(settings.calendar_folders)
    catalogue = load_catalogue(settings.procedure_folders, calendars=calendars.keys())
    if engine is None:
        prepare_sqlite_file(settings.database_url)  # 0600, before SQLite creates it world-readable
        engine = make_engine(settings.database_url)
    uow = uow_factory(engine)
    clock = clock or local_clock(settings.timezone)
    services = build_services(
        uow=uow, clock=clock, catalogue=catalogue, calendars=dict(calendars),
        blobs=make_blob_store(settings),
        issuer=make_issuer(settings),
        prefiller=make_prefiller(settings, uow, catalogue, clock),
        links=Links(settings.public_url, settings.secret_key.encode("utf-8")),
        slips_dir=settings.slips_folder,
        max_upload_mb=settings.max_upload_mb,
        issue_inline=settings.issue_inline,
        queue=make_queue(settings, engine, uow, clock),
        personal_ids=PersonalIdRule(settings.personal_id_pattern),
        engine=engine,
        session_lifetime=dt.timedelta(hours=settings.session_hours),
        session_idle=dt.timedelta(minutes=settings.session_idle_minutes),
        token_lifetime=dt.timedelta(days=settings.token_days),
        pdf_checker=PdfScreen(max_pages=settings.pdf_max_pages, max_inflated_mb=settings.pdf_max_inflated_mb),
        page_renderer=page_renderer or PdftoppmRenderer(),
        verifier=DetachedSignatures(),
        mailer=make_mailer(settings),
        sms=make_sms_gateway(settings),
        webhook_sender=HttpSender(timeout=settings.webhook_timeout),
        portal=(HttpPortal(settings.portal_url, settings.portal_token, timeout=settings.portal_timeout)
                if settings.portal_url else None),
        webhook_allow_private=settings.webhook_allow_private,
        webhook_disable_failures=settings.webhook_disable_failures,
        webhook_disable_after=dt.timedelta(hours=settings.webhook_disable_hours),
    )
    if use_db_calendars and inspect(engine).has_table("calendar_settings"):
        services.deadlines.load_calendars_from_db()  # the administrator's edited copy wins over the files
    return services


def create_app(overrides_or_settings: Settings | dict | None = None, *, services: Services | None = None,
               login_provider: Any = None):
    """The web app for callers that have neither settings nor services (``motcua run``, a WSGI server)."""
    from web import create_app as create_web_app

    settings = (overrides_or_settings if isinstance(overrides_or_settings, Settings)
                else Settings.from_environment(overrides_or_settings))
    return create_web_app(settings, services=services or bootstrap(settings), login_provider=login_provider)


def make_prefiller(settings: Settings, uow: Callable[..., Any], catalogue: Catalogue,
                   clock: Callable[[], dt.datetime]) -> Prefiller:
    """The prefill sources: the local population table, or a remote register when configured."""
    population = (HttpPopulationRegister(settings.population_url, timeout=settings.population_timeout)
                  if settings.population_url else LocalPopulationRegister(uow))
    titles = {e.id: e.title.vi for e in catalogue.evidence_types.values()}
    return Prefiller(population, DatabaseResults(uow, titles, clock), titles)


def make_queue(settings: Settings, engine: Engine, uow: Callable[..., Any], clock: Callable[[], dt.datetime]):
    """The task queue: procrastinate on PostgreSQL (workers on any number of machines), the outbox rows
    of the embedded database otherwise (no extra service)."""
    if engine.dialect.name == "postgresql":
        from engine.adapters.procrastinate_queue import ProcrastinateQueue

        return ProcrastinateQueue(engine.url.render_as_string(hide_password=False),
                                  lease_seconds=settings.task_lease_seconds)
    from engine.adapters.outbox_queue import OutboxQueue

    return OutboxQueue(uow, clock, lease_seconds=settings.task_lease_seconds)


def make_mailer(settings: Settings) -> SmtpMailer | None:
    """E-mail notifications over SMTP, or none (the channel is off) when no host is set."""
    if not settings.smtp_host:
        return None
    return SmtpMailer(SmtpOptions(host=settings.smtp_host, port=settings.smtp_port, user=settings.smtp_user,
                                  password=settings.smtp_password, sender=settings.smtp_from,
                                  starttls=settings.smtp_starttls, timeout=settings.smtp_timeout))


def make_sms_gateway(settings: Settings) -> HttpSmsGateway | None:
    """SMS notifications through the HTTP gateway, or none (the channel is off) when no URL is set."""
    if not settings.sms_url:
        return None
    return HttpSmsGateway(settings.sms_url, token=settings.sms_token, timeout=settings.smtp_timeout)


def make_blob_store(settings: Settings) -> LocalBlobStore | S3BlobStore:
    """Where uploads and signed documents are kept: folders under the data dir, or an S3-compatible bucket."""
    if settings.blob_store == "s3":
        return S3BlobStore.from_options(S3Options(
            bucket=settings.s3_bucket, prefix=settings.s3_prefix, endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region, access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key, timeout=settings.s3_timeout,
            max_attempts=settings.s3_max_attempts))
    return LocalBlobStore(settings.data_dir / "blobs")


def make_issuer(settings: Settings):
    """The signing adapter: PKI and fonts under the data dir, opened on first use."""
    from signing.issuer import DocumentIssuer

    return DocumentIssuer(settings.data_dir / "pki", settings.pki_passphrase.encode("utf-8"), settings.font_cache_dir,
                          tsa_url=settings.tsa_url)


def upgrade_database(url: str) -> None:
    """Create or upgrade the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    prepare_sqlite_file(url)
    alembic_cfg = Config()
    alembic_cfg.set_main_option("script_location", str(MIGRATIONS))
    alembic_cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(alembic_cfg, "head")
