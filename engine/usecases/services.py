"""The use cases, built once and handed to the web and the CLI as one namespace
(``services.filing.start_dossier(...)``, ``services.actions.perform_action(...)``). Each use case
takes its dependencies in its constructor; nothing is set on any of them afterwards."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.adapters.notification_texts import NotificationTexts
from engine.adapters.http_delivery import HttpSender
from engine.adapters.pdf_pages import PdftoppmRenderer
from engine.adapters.pdf_screen import PdfScreen
from engine.adapters.uow import UnitOfWork
from engine.rules import deadlines as deadline_rules
from engine.rules.definitions import Catalogue
from engine.rules.identity import PersonalIdRule
from engine.rules.prefill import Prefiller
from engine.usecases.access import Access
from engine.usecases.accounts import Accounts
from engine.usecases.actions import Actions
from engine.usecases.audit import AuditTrail
from engine.usecases.blob_store import BlobStore
from engine.usecases.catalogue import Procedures
from engine.usecases.control_sheets import ControlSheets
from engine.usecases.counter import Counter
from engine.usecases.deadlines import Deadlines
from engine.usecases.deposits import Deposits, SignatureVerifier
from engine.usecases.desk import Desk
from engine.usecases.dossiers import Dossiers
from engine.usecases.eligibility import Eligibility
from engine.usecases.feed import Feed
from engine.usecases.filing import Filing, PdfChecker
from engine.usecases.health import Health
from engine.usecases.indicators import Indicators
from engine.usecases.issuance import DocumentIssuer, Issuance
from engine.usecases.links import Links
from engine.usecases.log_book import LogBook
from engine.usecases.notifications import ContactBook, MailSender, Notifications, SmsSender
from engine.usecases.pages import PageRenderer, Pages
from engine.usecases.portal import Portal, PortalSync
from engine.usecases.prefill import Prefill
from engine.usecases.results import Results
from engine.usecases.sessions import Sessions
from engine.usecases.tasks import TaskQueue, Tasks
from engine.usecases.throttle import LoginThrottle
from engine.usecases.verification import Verification
from engine.usecases.webhooks import WebhookSender, Webhooks
from engine.usecases.writeback import RegisterWriter, WriteBack


@dataclass(frozen=True)
class Services:
    """Every use case, and the few handles the CLI and the tests need (the unit of work, the clock)."""

    procedures: Procedures
    deadlines: Deadlines
    accounts: Accounts
    throttle: LoginThrottle
    sessions: Sessions
    dossiers: Dossiers
    pages: Pages
    prefill: Prefill
    filing: Filing
    actions: Actions
    counter: Counter
    desk: Desk
    access: Access
    results: Results
    deposits: Deposits
    issuance: Issuance
    eligibility: Eligibility
    writeback: WriteBack
    tasks: Tasks
    control_sheets: ControlSheets
    log_book: LogBook
    feed: Feed
    webhooks: Webhooks
    portal: PortalSync
    verification: Verification
    audit: AuditTrail
    indicators: Indicators
    health: Health
    links: Links
    notifications: Notifications
    personal_ids: PersonalIdRule
    catalogue: Catalogue
    uow: Callable[..., UnitOfWork]
    clock: Callable[[], dt.datetime]
    blobs: BlobStore
    engine: Any = None  # the database engine, for the CLI's maintenance commands and the tests


def build_services(*, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], catalogue: Catalogue,
                   calendars: dict[str, deadline_rules.Calendar], blobs: BlobStore,
                   issuer: DocumentIssuer | None, prefiller: Prefiller | None, links: Links,
                   slips_dir: Path | None, max_upload_mb: float, issue_inline: bool,
                   personal_ids: PersonalIdRule, queue: TaskQueue, engine: Any = None, pdf_checker: PdfChecker | None = None,
                   page_renderer: PageRenderer | None = None,
                   session_lifetime: dt.timedelta = dt.timedelta(hours=8),
                   session_idle: dt.timedelta = dt.timedelta(minutes=60),
                   token_lifetime: dt.timedelta = dt.timedelta(days=90),
                   register: RegisterWriter | None = None,
                   verifier: SignatureVerifier | None = None,
                   mailer: MailSender | None = None, sms: SmsSender | None = None,
                   contacts: ContactBook | None = None,
                   webhook_sender: WebhookSender | None = None, portal: Portal | None = None,
                   webhook_allow_private: bool = False, webhook_disable_failures: int = 20,
                   webhook_disable_after: dt.timedelta = dt.timedelta(hours=24)) -> Services:
    """Wire every use case from the adapters the composition root chose (uploaded PDFs are screened
    with the default limits unless a ``pdf_checker`` is given, and drawn for the viewer by pdftoppm
    unless a ``page_renderer`` is given)."""
    procedures = Procedures(uow, catalogue, clock)
    deadlines = Deadlines(uow, clock, procedures, calendars)
    accounts = Accounts(uow, clock, token_lifetime=token_lifetime)
    throttle = LoginThrottle(uow, clock)
    sessions = Sessions(uow, clock, accounts, throttle, idle=session_idle, lifetime=session_lifetime)
    dossiers = Dossiers(uow, clock, procedures, deadlines, links, blobs)
    pages = Pages(dossiers, blobs, page_renderer or PdftoppmRenderer())
    access = Access(uow, clock, catalogue)
    prefill = Prefill(uow, clock, procedures, prefiller, personal_ids, accounts, access)
    if register is None and prefiller is not None:
        register = prefiller.population  # the register the prefill reads is the one results write back to
    writeback = WriteBack(uow, clock, register)
    feed = Feed(uow, clock, queue, portal=portal is not None)
    issuance = Issuance(uow, clock, procedures, blobs, issuer, links, slips_dir, writeback,
                        population=prefiller.population if prefiller is not None else None, feed=feed)
    if contacts is None and prefiller is not None:
        contacts = prefiller.population  # the citizen's e-mail and phone, as the register holds them
    notifications = Notifications(uow, clock, NotificationTexts(), portal_url=links.public_url, mailer=mailer,
                                  sms=sms, contacts=contacts)
    webhooks = Webhooks(uow, clock, feed, queue, webhook_sender or HttpSender(), allow_private=webhook_allow_private,
                        disable_failures=webhook_disable_failures, disable_after=webhook_disable_after)
    portal_sync = PortalSync(uow, clock, queue, portal)
    tasks = Tasks(uow, queue, issuance, notifications=notifications, webhooks=webhooks, portal=portal_sync)
    results = Results(uow, clock, procedures, access, dossiers, issuance, blobs, personal_ids, tasks, issue_inline,
                      feed=feed)
    filing = Filing(uow, clock, procedures, dossiers, prefill, issuance, tasks, blobs, personal_ids,
                    max_upload_mb=max_upload_mb, issue_inline=issue_inline, pdf_checker=pdf_checker or PdfScreen())
    eligibility = Eligibility(clock, access, prefiller.population if prefiller else None,
                              prefiller.results if prefiller else None)
    actions = Actions(uow, clock, procedures, deadlines, dossiers, issuance, tasks, eligibility,
                      issue_inline=issue_inline, writeback=writeback, notifications=notifications, feed=feed)
    counter = Counter(uow, clock, procedures, accounts, prefill, filing, actions, dossiers, access, personal_ids)
    deposits = Deposits(uow, clock, catalogue, verifier, register, personal_ids, feed=feed)
    desk = Desk(uow, clock, procedures, deadlines, dossiers, filing, results)
    control_sheets = ControlSheets(uow, clock, procedures, deadlines, dossiers, issuer, slips_dir)
    log_book = LogBook(uow, clock, procedures, access, issuer, slips_dir)
    return Services(
        procedures=procedures, deadlines=deadlines, accounts=accounts, throttle=throttle, sessions=sessions,
        dossiers=dossiers, pages=pages, prefill=prefill,
        filing=filing, actions=actions, counter=counter, desk=desk, access=access, results=results, deposits=deposits,
        control_sheets=control_sheets, log_book=log_book,
        issuance=issuance, eligibility=eligibility, writeback=writeback, tasks=tasks,
        feed=feed, webhooks=webhooks, portal=portal_sync,
        verification=Verification(uow, clock, procedures, blobs, issuer, links),
        audit=AuditTrail(uow), indicators=Indicators(uow, clock, procedures), health=Health(uow, blobs), links=links,
        notifications=notifications,
        personal_ids=personal_ids, catalogue=catalogue, uow=uow, clock=clock, blobs=blobs, engine=engine,
    )
