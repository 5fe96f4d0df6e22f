"""SQLAlchemy 2 models: thin records. The rules live in the pure engine modules.

Date-times are naive local time of the deployment (``MOTCUA_TIMEZONE``, default Asia/Ho_Chi_Minh),
the same convention as :mod:`engine.rules.deadlines`.
"""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    JSON,
    PrimaryKeyConstraint,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def new_uuid() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))  # ministry | province | commune; facility: an outside issuer (a hospital)
    address: Mapped[str | None] = mapped_column(String(300))
    calendar: Mapped[str] = mapped_column(String(40), default="vn")
    # The administrative unit the agency serves (code of the commune/ward or province; the jurisdiction
    # conditions compare a person's residence with it), the province code of birth registration that
    # opens the personal ids it issues, and the place name on the date line of its papers.
    unit_code: Mapped[str | None] = mapped_column(String(10))
    province_code: Mapped[str | None] = mapped_column(String(3))
    place_name: Mapped[str | None] = mapped_column(String(100))


class Person(Base):
    """A record of the population register (the default adapter's local table)."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    personal_id: Mapped[str] = mapped_column(String(12), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    date_of_birth: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(6))  # female | male
    ethnicity: Mapped[str] = mapped_column(String(40))
    nationality: Mapped[str] = mapped_column(String(40), default="Việt Nam")
    religion: Mapped[str | None] = mapped_column(String(40))
    home_town: Mapped[str | None] = mapped_column(String(200))
    place_of_birth: Mapped[str | None] = mapped_column(String(200))
    permanent_address: Mapped[str | None] = mapped_column(String(300))
    current_address: Mapped[str | None] = mapped_column(String(300))
    # Codes of the administrative units (commune/ward) of the permanent and the current residence.
    permanent_unit: Mapped[str | None] = mapped_column(String(10))
    current_unit: Mapped[str | None] = mapped_column(String(10), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(120))
    marital_status: Mapped[str | None] = mapped_column(String(20))  # single | married | divorced | widowed
    id_issued_on: Mapped[dt.date | None] = mapped_column(Date)
    id_issued_by: Mapped[str | None] = mapped_column(String(200))
    household_id: Mapped[str | None] = mapped_column(String(20), index=True)
    relation_to_head: Mapped[str | None] = mapped_column(String(40))
    father_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    mother_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    spouse_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    date_of_death: Mapped[dt.date | None] = mapped_column(Date)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # citizen | staff | agency_client
    display_name: Mapped[str] = mapped_column(String(160))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    roles: Mapped[list] = mapped_column(JSONType, default=list)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    personal_id: Mapped[str | None] = mapped_column(String(12), index=True)
    allowed_evidence: Mapped[list] = mapped_column(JSONType, default=list)  # what an agency client may read
    # An agency client that issues results outside this system (a hospital's birth notices): the
    # evidence types it may deposit, and the public key (PEM) its deposits are signed with.
    issues_evidence: Mapped[list | None] = mapped_column(JSONType, default=list)
    signing_key: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # none on tokens older than expiry: created_at + the setting
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class WebSession(Base):
    """A signed-in browser. The cookie holds a random id; the table holds its SHA-256 only."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime)  # idle expiry counts from here
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)  # absolute expiry
    address: Mapped[str | None] = mapped_column(String(45))  # where it signed in, for the administrator's list
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(20))  # logout | password | admin


class LoginThrottle(Base):
    """Failed sign-ins counted per source address or per account-and-address (keyed by the SHA-256 of
    the pair, so typed names are not stored); every worker and a restart see the same counts."""

    __tablename__ = "login_throttles"

    key_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))  # address | account
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    retry_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ProcedureVersion(Base):
    """A published procedure definition: the text a dossier's version pins, kept forever."""

    __tablename__ = "procedure_versions"
    __table_args__ = (UniqueConstraint("procedure_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    procedure_id: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    source_name: Mapped[str] = mapped_column(String(300))
    source_text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Dossier(Base):
    __tablename__ = "dossiers"
    __table_args__ = (
        # The work queue, read by keyset on (due_at, id) (engine.usecases.desk): one state's dossiers of an
        # agency in due order; every non-draft dossier of an agency in due order (the agency-wide view);
        # the live dossiers (neither decided nor closed, drafts aside) in due order, whose timeliness the
        # counters work out in SQL and among which the overdue ones are.
        Index("ix_dossiers_queue", "agency_id", "state", "due_at", "id"),
        Index("ix_dossiers_agency_due", "agency_id", "due_at", "id",
              postgresql_where=text("state <> 'draft'"), sqlite_where=text("state <> 'draft'")),
        Index("ix_dossiers_live", "agency_id", "due_at", "id", "state", "procedure_id", "procedure_version", "overdue",
              postgresql_where=text("closed_at IS NULL AND decided_at IS NULL AND state <> 'draft'"),
              sqlite_where=text("closed_at IS NULL AND decided_at IS NULL AND state <> 'draft'")),
        Index("ix_dossiers_applicant", "applicant_account_id", "created_at", "id"),
        Index("ix_dossiers_log_book", "agency_id", "received_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    code: Mapped[str | None] = mapped_column(String(60), unique=True)
    procedure_id: Mapped[str] = mapped_column(String(80))
    procedure_version: Mapped[int] = mapped_column(Integer)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    applicant_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    filed_by_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    channel: Mapped[str] = mapped_column(String(10))  # online | counter | postal
    state: Mapped[str] = mapped_column(String(60))
    status_code: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
    provenance: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    clock_started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    original_due_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    time_limit_case: Mapped[str | None] = mapped_column(String(60))  # the time-limit case applied, if any
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    supplement_rounds: Mapped[int] = mapped_column(Integer, default=0)
    paused_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    fee_paid: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    # the entry number in the receiving agency's log book of the year of receipt (form 07), continuous
    # from 1 each year; printed on form 01 as the log-book reference
    log_entry: Mapped[int | None] = mapped_column(Integer)
    last_event_hash: Mapped[str | None] = mapped_column(String(64))
    version_counter: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version_counter}

    events: Mapped[list[DossierEvent]] = relationship(
        back_populates="dossier", order_by="DossierEvent.seq", lazy="raise_on_sql"
    )


class DossierCount(Base):
    """How many settled dossiers (decided or closed) an agency holds, by procedure, state and timeliness.

    A settled dossier's timeliness no longer moves with the clock (engine.rules.timeliness.settled), so
    the count is kept by the transition that settles or moves it, in its own transaction
    (engine.adapters.queries.write_transition), and the desk's counters read it instead of counting the
    agency's history. Live dossiers are counted in SQL over ``ix_dossiers_live``."""

    __tablename__ = "dossier_counts"
    __table_args__ = (PrimaryKeyConstraint("agency_id", "procedure_id", "state", "timeliness"),)

    agency_id: Mapped[int] = mapped_column(Integer)
    procedure_id: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(60))
    timeliness: Mapped[str] = mapped_column(String(10))  # overdue | on_time | none
    n: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)


class DossierEvent(Base):
    """One audit event; events of a dossier form a SHA-256 hash chain."""

    __tablename__ = "dossier_events"
    __table_args__ = (UniqueConstraint("dossier_id", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(60))
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    actor_name: Mapped[str] = mapped_column(String(160))
    role: Mapped[str] = mapped_column(String(40))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    from_state: Mapped[str | None] = mapped_column(String(60))
    to_state: Mapped[str] = mapped_column(String(60))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    comment: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    items: Mapped[list | None] = mapped_column(JSONType)
    details: Mapped[dict | None] = mapped_column(JSONType)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    dossier: Mapped[Dossier] = relationship(back_populates="events")


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"), index=True)
    requirement_id: Mapped[str] = mapped_column(String(80))
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    result_id: Mapped[str | None] = mapped_column(ForeignKey("results.id"))
    added_by_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    added_at: Mapped[dt.datetime] = mapped_column(DateTime)
    replaced_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Result(Base):
    __tablename__ = "results"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    number: Mapped[str] = mapped_column(String(80))
    dossier_id: Mapped[str | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    procedure_id: Mapped[str] = mapped_column(String(80))
    procedure_version: Mapped[int] = mapped_column(Integer)
    result_key: Mapped[str] = mapped_column(String(80))
    evidence_type: Mapped[str] = mapped_column(String(80), index=True)
    issuer_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime)
    valid_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default="valid")
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    superseded_by: Mapped[str | None] = mapped_column(String(36))
    supersedes: Mapped[str | None] = mapped_column(String(36))
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
    signers: Mapped[list | None] = mapped_column(JSONType)  # [{role, username, name, title}] in signing order
    pdf_sha256: Mapped[str | None] = mapped_column(String(64), index=True)  # the current file (B-T, later B-LTA)
    signed_sha256: Mapped[str | None] = mapped_column(String(64), index=True)  # the file as first signed
    signed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    lta_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    issue_attempts: Mapped[int] = mapped_column(Integer, default=0)
    issue_error: Mapped[str | None] = mapped_column(String(300))

    holders: Mapped[list[ResultHolder]] = relationship(
        back_populates="result", cascade="all, delete-orphan", lazy="selectin"
    )


class Slip(Base):
    """A one-stop form (01 receipt, 02 supplement, 03 refusal, 04 apology, 05 stop), signed with the seal."""

    __tablename__ = "slips"
    __table_args__ = (UniqueConstraint("dossier_id", "event_seq"), Index("ix_slips_dossier_form", "dossier_id", "form"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"), index=True)
    event_seq: Mapped[int] = mapped_column(Integer)
    form: Mapped[str] = mapped_column(String(2))
    number: Mapped[str] = mapped_column(String(80))
    issuer_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | valid
    context: Mapped[dict] = mapped_column(JSONType, default=dict)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    signed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    issue_attempts: Mapped[int] = mapped_column(Integer, default=0)
    issue_error: Mapped[str | None] = mapped_column(String(300))


class SignedVerdict(Base):
    """The verdict of the full cryptographic check of a signed file this system issued (a result, its
    B-LTA form, a slip), keyed by the file's SHA-256 (the blob store's address): a later check of the
    same bytes answers from it, re-checking only revocation and certificate validity at that time."""

    __tablename__ = "signed_verdicts"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    verdict: Mapped[dict] = mapped_column(JSONType)  # signing.verification.report_dict, without the attachment
    verified_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ResultHolder(Base):
    __tablename__ = "result_holders"

    result_id: Mapped[str] = mapped_column(ForeignKey("results.id"), primary_key=True)
    personal_id: Mapped[str] = mapped_column(String(12), primary_key=True, index=True)

    result: Mapped[Result] = relationship(back_populates="holders")


class Sequence(Base):
    """Counters for dossier codes and result numbers, one row per scope and period."""

    __tablename__ = "sequences"

    scope: Mapped[str] = mapped_column(String(120), primary_key=True)
    period: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class CalendarDayRecord(Base):
    """The editable copy of the calendar files: days off on weekdays and worked weekend days."""

    __tablename__ = "calendar_days"

    calendar: Mapped[str] = mapped_column(String(40), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    working: Mapped[bool] = mapped_column(Boolean)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(300))


class CalendarSetting(Base):
    __tablename__ = "calendar_settings"

    calendar: Mapped[str] = mapped_column(String(40), primary_key=True)
    weekend: Mapped[list] = mapped_column(JSONType)
    office_hours: Mapped[list] = mapped_column(JSONType)
    cutoff: Mapped[str] = mapped_column(String(5))
    years: Mapped[list] = mapped_column(JSONType)
    provisional_years: Mapped[list] = mapped_column(JSONType, default=list)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class OutboxMessage(Base):
    """Outside effects (mail, SMS, webhooks) written with the transition, sent after the commit; and, on
    the embedded database, the jobs of the task queue (``task`` set): written in the transaction that
    needs them, claimed by a worker with a lease, done when ``sent_at`` is set (engine.adapters.outbox_queue)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_jobs", "sent_at", "task"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(60))
    dossier_id: Mapped[str | None] = mapped_column(String(36), index=True)
    payload: Mapped[dict] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    task: Mapped[str | None] = mapped_column(String(60))  # a job: the task's name (payload: its arguments)
    lock_key: Mapped[str | None] = mapped_column(String(120))  # jobs with one key never run at the same time
    run_after: Mapped[dt.datetime | None] = mapped_column(DateTime)  # not before (retries back off)
    leased_until: Mapped[dt.datetime | None] = mapped_column(DateTime)  # claimed by a worker until then
    failed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # gave up after the last attempt
    last_error: Mapped[str | None] = mapped_column(String(300))


class Consent(Base):
    """A citizen's consent for an agency to read their results of one evidence type."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_lookup", "personal_id", "agency_id", "evidence_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    personal_id: Mapped[str] = mapped_column(String(12))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    evidence_type: Mapped[str] = mapped_column(String(80))
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class RegisterRead(Base):
    """Every time a person's register data was shown to someone else: who, why, on what basis, which
    attributes (names only, never values). The person reads these in their access log."""

    __tablename__ = "register_reads"
    __table_args__ = (Index("ix_register_reads_subject", "personal_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    personal_id: Mapped[str] = mapped_column(String(12))  # the person whose data was shown
    reader_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    reader_name: Mapped[str] = mapped_column(String(160))
    reader_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    purpose: Mapped[str] = mapped_column(String(300))
    basis: Mapped[str] = mapped_column(String(20))  # family | consent | counter_filing (engine.rules.register_access)
    attributes: Mapped[list] = mapped_column(JSONType, default=list)  # attribute names shown, never values
    procedure_id: Mapped[str | None] = mapped_column(String(80))
    dossier_id: Mapped[str | None] = mapped_column(String(36))  # no foreign key: the log outlives a draft
    at: Mapped[dt.datetime] = mapped_column(DateTime)


class EligibilityCheck(Base):
    """One evaluation of a dossier's conditions of eligibility that an action relied on (submission,
    counter filing, receipt): every verdict with the data it used, for the staff dossier page."""

    __tablename__ = "eligibility_checks"
    __table_args__ = (Index("ix_eligibility_checks_dossier", "dossier_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"))
    action: Mapped[str] = mapped_column(String(60))
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(String(12))  # passed | not_checked (a failed check commits nothing)
    verdicts: Mapped[list] = mapped_column(JSONType, default=list)


class ResultAccess(Base):
    """Every read of a result by an agency client or by staff of another agency: who, when, why."""

    __tablename__ = "result_accesses"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    result_id: Mapped[str] = mapped_column(ForeignKey("results.id"), index=True)
    reader_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    reader_name: Mapped[str] = mapped_column(String(160))
    reader_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    purpose: Mapped[str] = mapped_column(String(300))
    basis: Mapped[str] = mapped_column(String(20))  # law (allowed evidence) | consent | dossier
    what: Mapped[str] = mapped_column(String(20))  # metadata | pdf | list
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class ResultDeposit(Base):
    """A result an outside issuer deposited through the API: the signature over the canonical JSON it
    sent and the fingerprint of the key that verified it, kept with the result. A number is unique
    per issuer and evidence type; replaying the same body finds this row again."""

    __tablename__ = "result_deposits"
    __table_args__ = (UniqueConstraint("issuer_agency_id", "evidence_type", "number"),)

    result_id: Mapped[str] = mapped_column(ForeignKey("results.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    issuer_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    evidence_type: Mapped[str] = mapped_column(String(80))
    number: Mapped[str] = mapped_column(String(80))
    body_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)  # base64, as received
    algorithm: Mapped[str] = mapped_column(String(20))  # ed25519 | ecdsa-p256
    key_fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the key's SubjectPublicKeyInfo
    received_at: Mapped[dt.datetime] = mapped_column(DateTime)


class RegisterWrite(Base):
    """What a result wrote back into the population register, one row per person: the audit of the
    write and, for a remote register, the durable message posted after the commit (``change_key`` is
    the idempotency key of the POST; the rows of one change are posted together)."""

    __tablename__ = "register_writes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    change_key: Mapped[str] = mapped_column(String(36), index=True)
    dossier_id: Mapped[str | None] = mapped_column(String(36), index=True)
    result_id: Mapped[str | None] = mapped_column(String(36))
    rule: Mapped[str] = mapped_column(String(40))
    personal_id: Mapped[str] = mapped_column(String(12), index=True)
    change: Mapped[dict] = mapped_column(JSONType)  # {create, set, links}
    status: Mapped[str] = mapped_column(String(20), index=True)  # applied (local) | pending | acknowledged (remote)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(String(300))


class NotificationPreference(Base):
    """How a citizen wants to be told about their dossiers (engine.usecases.notifications). An account
    without a row gets the defaults: e-mail and SMS on, Vietnamese."""

    __tablename__ = "notification_preferences"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    sms_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(2), default="vi")  # vi | en
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Notification(Base):
    """One message to one citizen on one channel, written with the transition that calls for it; the
    delivery log of the e-mail and SMS ones (status, attempts, the last error)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_inbox", "account_id", "channel", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # received | supplement_requested | extended | ...
    channel: Mapped[str] = mapped_column(String(10))  # in-app | email | sms
    language: Mapped[str] = mapped_column(String(2))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), index=True)  # pending | sent | failed | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class FeedCounter(Base):
    """The one row whose value numbers the event feed. A transaction that appends events takes the next
    numbers with ``UPDATE ... RETURNING``, which holds the row's lock until it commits: the numbers are
    therefore handed out in commit order and without gaps, so a reader never skips an event that
    commits later (docs/events.md)."""

    __tablename__ = "feed_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class FeedEvent(Base):
    """One event of the feed, numbered by the feed counter (the cursor): a transition, a payment, a
    result issued, revoked or superseded. ``data`` holds no personal data."""

    __tablename__ = "feed_events"
    __table_args__ = (Index("ix_feed_events_agency", "agency_id", "id"),
                      Index("ix_feed_events_dossier", "dossier_id", "id"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=False)
    type: Mapped[str] = mapped_column(String(40))
    dossier_id: Mapped[str | None] = mapped_column(String(36))
    dossier_code: Mapped[str | None] = mapped_column(String(60))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    evidence_type: Mapped[str | None] = mapped_column(String(80))  # result events: who may read them by law
    status_code: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    data: Mapped[dict] = mapped_column(JSONType, default=dict)


class FeedCursor(Base):
    """Where a follower of the feed (the national-portal sync) has got to."""

    __tablename__ = "feed_cursors"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class WebhookSubscription(Base):
    """An agency client's webhook: the events it may see, POSTed to ``url``, signed with ``secret``
    (HMAC-SHA256). ``position``: the feed cursor up to which events were queued for delivery."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(100))
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False)  # an administrator's allowance
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    removed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class WebhookDelivery(Base):
    """One event to deliver to one subscription; delivered in feed order per dossier. A replay adds
    new rows for events already delivered."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_next", "subscription_id", "dossier_key", "delivered_at", "event_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    event_id: Mapped[int] = mapped_column(BigInteger)
    dossier_key: Mapped[str] = mapped_column(String(36))  # the dossier's id, or "-" for an event without one
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    replay: Mapped[bool] = mapped_column(Boolean, default=False)


class WebhookAttempt(Base):
    """The delivery log: every POST of an event to a subscription, with its outcome."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_subscription", "subscription_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    delivery_id: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[int] = mapped_column(BigInteger)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(String(300))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
