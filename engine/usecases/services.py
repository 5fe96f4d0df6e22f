"""Use cases. Each takes primitives plus an explicit actor, runs in one unit of work, commits once,
and returns plain dataclasses. Access is checked on every object: an object the actor may not see
is reported as not found, so its existence does not leak.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from pathlib import Path
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import filetype
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from engine.rules import audit

from engine.rules import deadlines
from engine.rules.access import Actor, can_view_dossier, roles_on_dossier
from engine.adapters.blobs import LocalBlobStore
from engine.rules.definitions import Catalogue, Procedure, parse_procedure
from engine.rules.errors import (
    ActionNotAllowedError,
    AuthenticationError,
    ConcurrencyError,
    DefinitionError,
    IdempotencyConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    UnsupportedMediaError,
    ValidationError,
)
from engine.rules.forms import clean_form
from engine.usecases.issuance import SLIP_FOR_ACTION, SLIP_TITLES, IssuanceMixin
from engine.usecases.desk import DemoQueueMixin, DeskMixin
from engine.usecases.portal import PortalMixin
from engine.usecases.reuse import ReuseMixin, clean_purpose
from engine.rules.prefill import merge as merge_prefill
from engine.rules.forms import check_value
from engine.rules import results as result_rules
from engine.adapters.models import (
    Account,
    Agency,
    ApiToken,
    CalendarDayRecord,
    CalendarSetting,
    Document,
    Dossier,
    DossierEvent,
    IdempotencyKey,
    OutboxMessage,
    Person,
    ProcedureVersion,
    Result,
    ResultHolder,
    Slip,
    new_uuid,
)
from engine.adapters.store import UnitOfWork, next_in_sequence
from engine.adapters import store
from engine.adapters.store import DossierRow
from engine.rules.workflow import SERVICE_EFFECTS, ActionContext, available_actions, fire

log = logging.getLogger(__name__)

OPEN_STATES_EXCLUDED = ("draft",)
EDITABLE_STATES = ("draft", "reception_supplement", "processing_supplement")
PAGE_SIZE = 50
DUE_SOON_WORKING_DAYS = 1


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class ProcedureSummary:
    id: str
    code: str
    version: int
    title: dict[str, str]
    authority: str
    online: str
    time_limit: dict[str, Any]
    fee: dict[str, Any]


@dataclass(frozen=True)
class EventView:
    seq: int
    action: str
    actor: str
    role: str
    from_state: str | None
    to_state: str
    at: dt.datetime
    comment: str | None
    reason: str | None
    items: list[str] | None
    details: dict | None


@dataclass(frozen=True)
class DocumentView:
    id: str
    requirement: str
    by: str  # upload | result
    filename: str | None
    content_type: str | None
    size: int | None
    sha256: str | None
    result_id: str | None
    added_at: dt.datetime
    verify_url: str | None = None  # a stored result standing in for paper: where anyone can check it


@dataclass(frozen=True)
class RequirementView:
    id: str
    label: dict[str, str]
    required: bool
    satisfied: bool
    by: str | None
    accept: list[str]
    max_mb: float
    replaced_by: str | None


@dataclass(frozen=True)
class ActionView:
    id: str
    to: str | None
    role: str
    inputs: list[str]


@dataclass(frozen=True)
class ResultView:
    id: str
    number: str
    procedure: str
    evidence: str
    title: dict[str, str]
    holders: list[str]
    issuer: str
    issued_at: dt.datetime
    valid_until: dt.datetime | None
    status: str
    status_reason: str | None
    data: dict[str, Any]
    dossier_id: str | None
    sha256: str | None = None
    signers: list[dict] = field(default_factory=list)
    superseded_by: str | None = None
    supersedes: str | None = None


@dataclass(frozen=True)
class SlipView:
    id: str
    form: str
    title: str
    number: str
    issued_at: dt.datetime
    status: str


@dataclass(frozen=True)
class DossierView:
    id: str
    code: str | None
    procedure: str
    version: int
    title: dict[str, str]
    agency: str
    channel: str
    applicant: dict[str, Any]
    state: str
    status_code: int | None
    data: dict[str, Any]
    provenance: dict[str, Any]
    documents: list[DocumentView]
    requirements: list[RequirementView]
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    received_at: dt.datetime | None
    due_at: dt.datetime | None
    original_due_at: dt.datetime | None
    extended: bool
    supplement_rounds: int
    overdue: bool
    fee_paid: bool
    available_actions: list[ActionView]
    events: list[EventView]
    results: list[ResultView]
    slips: list[SlipView]
    version_counter: int


@dataclass(frozen=True)
class TransitionOutcome:
    """What one transition changed, for callers that do not need the dossier's whole view."""

    id: str
    state: str
    status_code: int | None
    code: str | None
    due_at: dt.datetime | None
    version_counter: int
    event_seq: int  # the audit event this transition appended


@dataclass(frozen=True)
class QueueItem:
    id: str
    code: str | None
    procedure: str
    title: dict[str, str]
    applicant: str
    channel: str
    state: str
    status_code: int | None
    received_at: dt.datetime | None
    due_at: dt.datetime | None
    timeliness: str  # on_time | due_soon | overdue | none
    version_counter: int


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    page_size: int
    total: int


@dataclass(frozen=True)
class SweepReport:
    newly_overdue: int
    due_soon: int
    expired_results: int


@dataclass(frozen=True)
class AuditReport:
    dossiers: int
    events: int
    problems: list[audit.ChainProblem]


@dataclass(frozen=True)
class PublishReport:
    published: list[tuple[str, int]]
    unchanged: list[tuple[str, int]]


# --------------------------------------------------------------------------- the service object


@dataclass
class Services(IssuanceMixin, ReuseMixin, PortalMixin, DeskMixin, DemoQueueMixin):
    """The use cases, wired by ``web.bootstrap`` with a unit-of-work factory, the catalogue,
    the calendars, a clock, a blob store and the document issuer (render + sign + verify)."""

    uow: Callable[..., UnitOfWork]
    catalogue: Catalogue
    calendars: dict[str, deadlines.Calendar]
    clock: Callable[[], dt.datetime]
    blobs: LocalBlobStore
    max_upload_mb: float = 20
    issuer: Any = None
    secret: bytes = b""
    public_url: str = "http://127.0.0.1:8000"
    slips_dir: Path | None = None
    issue_inline: bool = True
    prefiller: Any = None
    _pinned: dict[tuple[str, int], Procedure] = field(default_factory=dict)

    # ----------------------------------------------------------------- procedures

    def list_procedures(self) -> list[ProcedureSummary]:
        return [_summary(p) for p in self.catalogue.current()]

    def get_procedure(self, procedure_id: str) -> Procedure:
        proc = self.catalogue.latest(procedure_id)
        if proc is None:
            raise NotFoundError(f"Không có thủ tục '{procedure_id}' / no procedure '{procedure_id}'")
        return proc

    def procedure_version(self, procedure_id: str, version: int, session: Any = None) -> Procedure:
        """A pinned version: from the loaded files, else from the text stored when it was published."""
        proc = self.catalogue.get(procedure_id, version) or self._pinned.get((procedure_id, version))
        if proc is not None:
            return proc
        if session is None:
            with self.uow(write=False) as uow:
                return self.procedure_version(procedure_id, version, uow.session)
        row = session.execute(
            select(ProcedureVersion).where(
                ProcedureVersion.procedure_id == procedure_id, ProcedureVersion.version == version
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFoundError(f"procedure '{procedure_id}' version {version} was never published")
        proc, problems = parse_procedure(row.source_text, f"{row.source_name} (v{version}, stored)")
        if proc is None:
            raise DefinitionError(problems)
        self._pinned[(procedure_id, version)] = proc
        return proc

    def publish_procedures(self) -> PublishReport:
        """Store the text of every loaded version; a published version may not change afterwards."""
        published: list[tuple[str, int]] = []
        unchanged: list[tuple[str, int]] = []
        problems: list[str] = []
        with self.uow() as uow:
            rows = {(r.procedure_id, r.version): r for r in uow.session.scalars(select(ProcedureVersion))}
            for key, proc in sorted(self.catalogue.procedures.items()):
                row = rows.get(key)
                if row is None:
                    uow.session.add(ProcedureVersion(
                        procedure_id=proc.id, version=proc.version, sha256=proc.sha256,
                        source_name=proc.source_name, source_text=proc.source_text, published_at=self.clock(),
                    ))
                    published.append(key)
                elif row.sha256 != proc.sha256:
                    problems.append(
                        f"{proc.source_name}:1: version {proc.version} of '{proc.id}' was published with other content; "
                        "running dossiers pin it, so publish the change as a new version"
                    )
                else:
                    unchanged.append(key)
            if problems:
                raise DefinitionError(problems)
            uow.commit()
        return PublishReport(published, unchanged)

    # ----------------------------------------------------------------- calendars

    def sync_calendars(self) -> int:
        """Copy the calendar files into the database (the editable copy); returns the days written."""
        n = 0
        with self.uow() as uow:
            s = uow.session
            for name, cal in self.calendars.items():
                setting = s.get(CalendarSetting, name)
                values = dict(
                    weekend=sorted(cal.weekend),
                    office_hours=[[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in cal.office_hours],
                    cutoff=cal.cutoff.strftime("%H:%M"), years=sorted(cal.years),
                    provisional_years=sorted(cal.provisional_years),
                )
                if setting is None:
                    s.add(CalendarSetting(calendar=name, **values))
                else:
                    for k, v in values.items():
                        setattr(setting, k, v)
                existing = {r.date: r for r in s.scalars(select(CalendarDayRecord).where(CalendarDayRecord.calendar == name))}
                for day in cal.entries:
                    row = existing.get(day.date)
                    if row is None:
                        s.add(CalendarDayRecord(calendar=name, date=day.date, kind=day.kind, working=day.working,
                                                name_vi=day.name_vi, name_en=day.name_en, source=day.source))
                        n += 1
            uow.commit()
        return n

    def load_calendars_from_db(self) -> None:
        """Use the database copy (which an administrator may have edited) where there is one."""
        with self.uow(write=False) as uow:
            s = uow.session
            for setting in s.scalars(select(CalendarSetting)):
                rows = s.scalars(select(CalendarDayRecord).where(CalendarDayRecord.calendar == setting.calendar))
                days = [deadlines.CalendarDay(r.date, r.kind, r.working, r.name_vi, r.name_en, r.source) for r in rows]
                self.calendars[setting.calendar] = deadlines.calendar_from_days(
                    setting.calendar, days,
                    weekend=frozenset(setting.weekend),
                    office_hours=tuple((_hm(a), _hm(b)) for a, b in setting.office_hours),
                    cutoff=_hm(setting.cutoff), years=frozenset(setting.years),
                )

    def calendar(self, name: str) -> deadlines.Calendar:
        cal = self.calendars.get(name)
        if cal is None:
            raise NotFoundError(f"no calendar '{name}'")
        return cal

    def compute_due(self, start: dt.datetime, value: float, unit: str, procedure_id: str | None = None,
                    *, cutoff_applies: bool = False) -> dt.datetime:
        cal_name = self.get_procedure(procedure_id).calendar if procedure_id else "vn"
        try:
            return deadlines.compute_due(start, value, unit, self.calendar(cal_name), cutoff_applies=cutoff_applies)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    # ----------------------------------------------------------------- accounts and tokens

    def issue_token(self, username: str) -> str:
        token = secrets.token_urlsafe(32)
        with self.uow() as uow:
            account = uow.session.execute(select(Account).where(Account.username == username)).scalar_one_or_none()
            if account is None or not account.active:
                raise NotFoundError(f"no active account '{username}'")
            uow.session.add(ApiToken(account_id=account.id, token_sha256=_sha256(token.encode()), created_at=self.clock()))
            uow.commit()
        return token

    def authenticate_token(self, token: str) -> Actor:
        if not token or len(token) > 200:
            raise AuthenticationError("Thiếu hoặc sai mã truy cập / missing or invalid bearer token")
        with self.uow(write=False) as uow:
            row = uow.session.execute(
                select(Account).join(ApiToken, ApiToken.account_id == Account.id).where(
                    ApiToken.token_sha256 == _sha256(token.encode()), ApiToken.revoked_at.is_(None)
                )
            ).scalar_one_or_none()
            if row is None or not row.active:
                raise AuthenticationError("Thiếu hoặc sai mã truy cập / missing or invalid bearer token")
            return _actor(row)

    def actor_for(self, username: str) -> Actor:
        with self.uow(write=False) as uow:
            row = uow.session.execute(select(Account).where(Account.username == username)).scalar_one_or_none()
            if row is None:
                raise NotFoundError(f"no account '{username}'")
            return _actor(row)

    # ----------------------------------------------------------------- dossiers

    def start_dossier(self, procedure_id: str, data: Any, actor: Actor, *, applicant: str | None = None,
                      agency_code: str | None = None, idempotency_key: str | None = None) -> DossierView:
        """Create a draft: online by a citizen for themself, or at the counter by a clerk for a walk-in."""
        if not isinstance(procedure_id, str) or not procedure_id:
            raise ValidationError("procedure is required", fields={"procedure": ["bắt buộc / required"]})
        proc = self.catalogue.latest(procedure_id)
        if proc is None:
            raise ValidationError(f"no procedure '{procedure_id}'", fields={"procedure": ["không có thủ tục này / unknown procedure"]})
        if data is None:
            data = {}
        cleaned, errors = clean_form(proc, data)
        if errors:
            raise ValidationError("Tờ khai có trường không hợp lệ / some fields are invalid", fields=errors)
        if idempotency_key is not None and (not idempotency_key.strip() or len(idempotency_key) > 200):
            raise ValidationError("Idempotency-Key must be 1-200 characters", fields={"Idempotency-Key": ["1-200 characters"]})
        request_hash = _sha256(json.dumps(
            {"procedure": procedure_id, "data": cleaned, "applicant": applicant, "agency": agency_code},
            sort_keys=True, ensure_ascii=False, default=str).encode())
        now = self.clock()
        # what the state already holds, looked up before any lock is taken
        applicant_pid = actor.personal_id if actor.is_citizen else applicant
        prefilled = provenance = None
        may_file = actor.is_citizen or (actor.is_staff and actor.has_role("clerk") and isinstance(applicant, str)
                                        and applicant.isdigit() and len(applicant) == 12)
        if may_file and (not actor.is_citizen or applicant in (None, actor.personal_id)) and self.prefiller is not None:
            applicant_info = self._applicant_for_actor(actor, applicant_pid)
            known = actor.is_citizen or bool(applicant_info.full_name)  # a walk-in unknown to the register: no prefill
            outcome = self._prefill(proc, applicant_info, cleaned, now) if known else None
            prefilled, provenance, errors = merge_prefill(proc, cleaned, outcome, check_value) if outcome else (None, None, {})
            if errors:
                raise ValidationError("Tờ khai có trường không sửa được / some fields cannot be changed", fields=errors)
        with self.uow() as uow:
            s = uow.session
            if idempotency_key and actor.account_id is not None:
                replay = self._replay(s, actor, idempotency_key, request_hash)
                if replay is not None:
                    return self._view(s, replay, actor, proc)
            if actor.is_citizen:
                if applicant not in (None, actor.personal_id):
                    raise PermissionDeniedError("Công dân chỉ nộp hồ sơ cho chính mình / citizens file for themselves")
                if "online" not in proc.channels:
                    raise ValidationError("Thủ tục này không nộp trực tuyến / this procedure cannot be filed online",
                                          fields={"procedure": ["không nộp trực tuyến / not online"]})
                applicant_account_id, channel = actor.account_id, "online"
                agency = self._agency_for(s, proc, agency_code)
            elif actor.is_staff and actor.has_role("clerk"):
                if not applicant:
                    raise ValidationError("Nhập số định danh của người nộp / the applicant's personal id is required",
                                          fields={"applicant": ["bắt buộc / required"]})
                agency = s.get(Agency, actor.agency_id)
                if "counter" not in proc.channels:
                    raise ValidationError("Thủ tục này không nhận hồ sơ tại quầy / this procedure is not filed at the counter",
                                          fields={"procedure": ["không nộp trực tiếp / not at the counter"]})
                if agency is None or agency.level != proc.authority:
                    raise ValidationError("Cơ quan không có thẩm quyền giải quyết thủ tục này / this agency does not handle the procedure",
                                          fields={"procedure": ["không có thẩm quyền / not competent for this procedure"]})
                applicant_account_id = self._walk_in_account(s, applicant, now).id
                channel = "counter"
            else:
                raise PermissionDeniedError("Chỉ công dân hoặc cán bộ tiếp nhận được nộp hồ sơ / only citizens and reception clerks file dossiers")
            d = Dossier(
                id=new_uuid(), procedure_id=proc.id, procedure_version=proc.version, agency_id=agency.id,
                applicant_account_id=applicant_account_id, filed_by_account_id=actor.account_id, channel=channel,
                state=proc.initial, status_code=proc.state(proc.initial).status_code,
                data=prefilled if prefilled is not None else cleaned, provenance=provenance or {},
                created_at=now, updated_at=now, extended=False, supplement_rounds=0, overdue=False,
                fee_paid=proc.fee_amount == 0, event_count=0,
            )
            s.add(d)
            s.flush()
            reused = self._auto_link(s, d, proc, applicant_pid, actor, now)
            details: dict[str, Any] = {"channel": channel}
            if provenance:
                details["prefilled"] = sorted(provenance)  # field names only: values stay in the dossier
            if reused:
                details["reused"] = reused
            self._append_event(s, d, actor, "create", None, proc.initial, now, role="applicant" if actor.is_citizen else "clerk",
                               details=details)
            if idempotency_key and actor.account_id is not None:
                s.add(IdempotencyKey(account_id=actor.account_id, key=idempotency_key, request_sha256=request_hash,
                                     dossier_id=d.id, created_at=now))
            try:
                uow.commit()
            except IntegrityError:
                # the same key arrived twice at once: the other request won; answer with its dossier
                if not idempotency_key:
                    raise
                s.rollback()
                replay = self._replay(s, actor, idempotency_key, request_hash)
                if replay is None:
                    raise ConcurrencyError("concurrent request, retry") from None
                return self._view(s, replay, actor, proc)
            return self._view(s, d, actor, proc)

    def _replay(self, s: Any, actor: Actor, key: str, request_hash: str) -> Dossier | None:
        row = s.get(IdempotencyKey, (actor.account_id, key))
        if row is None:
            return None
        if row.request_sha256 != request_hash:
            raise IdempotencyConflictError(
                "Idempotency-Key was already used for a different request", fields={"Idempotency-Key": ["reused with other content"]}
            )
        return s.get(Dossier, row.dossier_id)

    def _agency_for(self, s: Any, proc: Procedure, agency_code: str | None) -> Agency:
        if agency_code is not None and not isinstance(agency_code, str):
            raise ValidationError("agency must be an agency code", fields={"agency": ["phải là chuỗi / must be text"]})
        if agency_code:
            agency = s.execute(select(Agency).where(Agency.code == agency_code)).scalar_one_or_none()
            if agency is None:
                raise ValidationError(f"no agency '{agency_code}'", fields={"agency": ["không có cơ quan này / unknown agency"]})
            if agency.level != proc.authority:
                raise ValidationError("this agency does not handle the procedure",
                                      fields={"agency": ["không có thẩm quyền / not competent for this procedure"]})
            return agency
        candidates = s.scalars(select(Agency).where(Agency.level == proc.authority)).all()
        if len(candidates) != 1:
            raise ValidationError("choose the receiving agency", fields={"agency": ["chọn cơ quan tiếp nhận / choose an agency"]})
        return candidates[0]

    def _walk_in_account(self, s: Any, personal_id: str, now: dt.datetime) -> Account:
        if not isinstance(personal_id, str) or not personal_id.isdigit() or len(personal_id) != 12:
            raise ValidationError("a personal id has 12 digits", fields={"applicant": ["12 chữ số / 12 digits"]})
        account = s.execute(select(Account).where(Account.username == personal_id)).scalar_one_or_none()
        if account is not None:
            if account.kind != "citizen":
                raise ValidationError("not a citizen", fields={"applicant": ["không phải công dân / not a citizen"]})
            return account
        person = s.execute(select(Person).where(Person.personal_id == personal_id)).scalar_one_or_none()
        if person is None:
            raise ValidationError("Không tìm thấy công dân trong cơ sở dữ liệu dân cư / no such person in the population register",
                                  fields={"applicant": ["không tìm thấy / not found"]})
        account = Account(username=personal_id, kind="citizen", display_name=person.full_name, password_hash=None,
                          roles=["citizen"], personal_id=personal_id, allowed_evidence=[], active=True, created_at=now)
        s.add(account)
        s.flush()
        return account

    def get_dossier(self, dossier_id: str, actor: Actor) -> DossierView:
        with self.uow(write=False) as uow:
            d = self._load_visible(uow.session, dossier_id, actor)
            return self._view(uow.session, d, actor)

    def save_form(self, dossier_id: str, data: Any, actor: Actor, *, expected_version: int | None = None) -> DossierView:
        with self.uow(write=False) as uow:  # look the sources up before taking the write lock
            d0 = self._load_visible(uow.session, dossier_id, actor)
            proc0 = self.procedure_version(d0.procedure_id, d0.procedure_version, uow.session)
            applicant_account = uow.session.get(Account, d0.applicant_account_id)
            applicant_info = self._applicant(uow.session, applicant_account, staff_filing=d0.channel != "online")
            known = dict(d0.data or {})
        cleaned0, _ = clean_form(proc0, data)
        outcome = self._prefill(proc0, applicant_info, {**known, **cleaned0}, self.clock())
        with self.uow() as uow:
            s = uow.session
            d = self._load_visible(s, dossier_id, actor)
            proc = self.procedure_version(d.procedure_id, d.procedure_version, s)
            roles = roles_on_dossier(actor, applicant_account_id=d.applicant_account_id, agency_id=d.agency_id)
            may_edit = "applicant" in roles or ("clerk" in roles and d.channel != "online")
            if not may_edit:
                raise PermissionDeniedError("Chỉ người nộp được sửa tờ khai / only the applicant may change the form")
            if d.state not in EDITABLE_STATES:
                raise _not_editable(d.state)
            _check_version(d, expected_version)
            cleaned, errors = clean_form(proc, data)
            if errors:
                raise ValidationError("Tờ khai có trường không hợp lệ / some fields are invalid", fields=errors)
            merged = dict(d.data or {})
            provenance = dict(d.provenance or {})
            locked = {k: ["lấy từ cơ sở dữ liệu, không sửa tại đây / comes from a register and cannot be changed here"]
                      for k in data if k in provenance and not provenance[k].get("editable", True)
                      and str(cleaned.get(k, "")) != str(merged.get(k, ""))}
            if locked:
                raise ValidationError("Tờ khai có trường không sửa được / some fields cannot be changed", fields=locked)
            for key, value in (data or {}).items():
                if key in cleaned:
                    if key in provenance and str(cleaned[key]) != str(merged.get(key)):
                        provenance[key] = {**provenance[key], "declared": True}  # the citizen typed over it
                    merged[key] = cleaned[key]
                elif value is None or (isinstance(value, str) and not value.strip()):
                    merged.pop(key, None)
                    provenance.pop(key, None)
            # values that became available (e.g. the other party's data once their personal id is typed)
            fresh = {fid: pre for fid, pre in outcome.values.items() if fid not in merged}
            if fresh:
                outcome.values = fresh
                merged, provenance, _ = merge_prefill(proc, merged, outcome, check_value, previous=provenance)
            d.data = merged
            d.provenance = provenance
            d.updated_at = self.clock()
            uow.commit()
            return self._view(s, d, actor, proc)

    def add_document(self, dossier_id: str, requirement_id: str, filename: str | None, content: bytes,
                     actor: Actor) -> DossierView:
        """Attach an uploaded file to a requirement: its type is sniffed from the bytes, not trusted."""
        with self.uow() as uow:
            s = uow.session
            d, proc, req = self._document_target(s, dossier_id, requirement_id, actor)
            if not content:
                raise ValidationError("the file is empty", fields={"file": ["tệp rỗng / empty file"]})
            limit = min(req.max_mb, self.max_upload_mb)
            if len(content) > limit * 1024 * 1024:
                raise PayloadTooLargeError(f"Tệp lớn hơn {limit:g} MB / the file is larger than {limit:g} MB")
            kind = filetype.guess(content)
            sniffed = kind.mime if kind else None
            if sniffed not in req.accept:
                raise UnsupportedMediaError(
                    f"Chỉ nhận {', '.join(req.accept)} / only {', '.join(req.accept)} accepted (got {sniffed or 'unknown'})"
                )
            digest = self.blobs.put(content)
            now = self.clock()
            self._replace_documents(s, d.id, req.id, now)
            safe_name = _safe_filename(filename)
            s.add(Document(dossier_id=d.id, requirement_id=req.id, filename=safe_name, content_type=sniffed,
                           size=len(content), sha256=digest, added_by_account_id=actor.account_id, added_at=now))
            d.updated_at = now
            uow.commit()
            return self._view(s, d, actor, proc)

    def link_result(self, dossier_id: str, requirement_id: str, result_id: str, actor: Actor) -> DossierView:
        """Satisfy a requirement from the results store instead of an upload."""
        with self.uow() as uow:
            s = uow.session
            d, proc, req = self._document_target(s, dossier_id, requirement_id, actor)
            if not req.replaced_by:
                raise ValidationError("this requirement cannot be taken from the results store",
                                      fields={"requirement": ["phải tải lên / must be uploaded"]})
            result = s.get(Result, result_id) if isinstance(result_id, str) and len(result_id) <= 36 else None
            applicant = s.get(Account, d.applicant_account_id)
            holders = {h.personal_id for h in result.holders} if result else set()
            # the applicant's own results, or those of their spouse, parents or children
            if result is None or not (holders & self._family(applicant.personal_id, session=s)):
                raise NotFoundError("Không có kết quả này trong kho của người nộp / no such result in the applicant's store")
            if result.evidence_type != req.replaced_by:
                raise ValidationError("wrong kind of result", fields={"result_id": [f"cần {req.replaced_by} / needs {req.replaced_by}"]})
            now = self.clock()
            if result.status != "valid" or (result.valid_until is not None and result.valid_until < now):
                raise ValidationError("Kết quả không còn hiệu lực / the result is no longer valid",
                                      fields={"result_id": [result.status]})
            self._replace_documents(s, d.id, req.id, now)
            s.add(Document(dossier_id=d.id, requirement_id=req.id, result_id=result.id,
                           added_by_account_id=actor.account_id, added_at=now))
            d.updated_at = now
            first_reuse = result.lta_at is None and result.pdf_sha256 is not None
            s.flush()
            view = self._view(s, d, actor, proc)
            uow.commit()
        if first_reuse and self.issue_inline:
            # reused in place of paper: add revocation data and a document timestamp (B-LTA) once
            self.upgrade_result(result.id)
        return view

    def _document_target(self, s: Any, dossier_id: str, requirement_id: str, actor: Actor) -> tuple[Dossier, Procedure, Any]:
        d = self._load_visible(s, dossier_id, actor)
        proc = self.procedure_version(d.procedure_id, d.procedure_version, s)
        req = proc.document(requirement_id) if isinstance(requirement_id, str) else None
        if req is None:
            raise ValidationError(f"no requirement '{requirement_id}'",
                                  fields={"requirement": ["không có thành phần hồ sơ này / unknown requirement"]})
        roles = roles_on_dossier(actor, applicant_account_id=d.applicant_account_id, agency_id=d.agency_id)
        if "applicant" in roles:
            allowed_states = EDITABLE_STATES
        elif "clerk" in roles:
            allowed_states = ("draft", "submitted", "reception_supplement", "processing_supplement")
        else:
            raise PermissionDeniedError("Chỉ người nộp hoặc cán bộ tiếp nhận được thêm giấy tờ / only the applicant or a clerk adds documents")
        if d.state not in allowed_states:
            raise _not_editable(d.state)
        return d, proc, req

    def _replace_documents(self, s: Any, dossier_id: str, requirement_id: str, now: dt.datetime) -> None:
        s.execute(update(Document).where(
            Document.dossier_id == dossier_id, Document.requirement_id == requirement_id, Document.replaced_at.is_(None)
        ).values(replaced_at=now))

    def document_content(self, dossier_id: str, document_id: str, actor: Actor) -> tuple[bytes, str, str]:
        with self.uow(write=False) as uow:
            self._load_visible(uow.session, dossier_id, actor)
            doc = uow.session.get(Document, document_id)
            if doc is None or doc.dossier_id != dossier_id or doc.sha256 is None:
                raise NotFoundError("no such document")
            return self.blobs.get(doc.sha256), doc.content_type or "application/octet-stream", doc.filename or doc.id

    def perform_action(self, dossier_id: str, action: str, actor: Actor, *, comment: str | None = None,
                       reason: str | None = None, items: Any = None, new_due_at: Any = None,
                       expected_version: Any = None) -> DossierView:
        """Fire one workflow action: one transaction, one audit event, exactly one winner under races.
        Returns the dossier's full view (what the HTTP API answers with).

        Documents the action calls for (a result, a slip) are recorded as pending in the same
        transaction and signed after the commit (see engine.usecases.issuance).
        """
        return self._transition(dossier_id, action, actor, comment=comment, reason=reason, items=items,
                                new_due_at=new_due_at, expected_version=expected_version, with_view=True)[1]

    def fire_action(self, dossier_id: str, action: str, actor: Actor, *, comment: str | None = None,
                    reason: str | None = None, items: Any = None, new_due_at: Any = None,
                    expected_version: Any = None) -> TransitionOutcome:
        """The same transition as ``perform_action`` (same checks, writes, errors and documents), for
        callers that do not need the dossier's view: batch jobs, imports. Skips reading the documents,
        events, results and slips back; returns what changed."""
        return self._transition(dossier_id, action, actor, comment=comment, reason=reason, items=items,
                                new_due_at=new_due_at, expected_version=expected_version, with_view=False)[0]

    def _transition(self, dossier_id: str, action: str, actor: Actor, *, comment: Any, reason: Any, items: Any,
                    new_due_at: Any, expected_version: Any,
                    with_view: bool) -> tuple[TransitionOutcome, DossierView | None]:
        """One transition, one transaction. The dossier is read with its agency and applicant in one
        prebuilt Core SELECT into a plain object the machine fires on, and written back with the audit
        event and the outbox row by ``store.write_transition`` (a versioned UPDATE of what changed and two
        INSERTs; one statement on PostgreSQL). Slips and results are built as ORM objects by the code
        that records them, in the same transaction; the view, if asked for, is read before the commit."""
        comment = _opt_text(comment, "comment")
        reason = _opt_text(reason, "reason")
        items = _items(items)
        due = _parse_due(new_due_at)
        if expected_version is not None and (isinstance(expected_version, bool) or not isinstance(expected_version, int)):
            raise ValidationError("expected_version must be an integer", fields={"expected_version": ["số nguyên / integer"]})
        now = self.clock()
        issued: list[str] = []
        view: DossierView | None = None
        with self.uow() as uow:
            s = uow.session
            conn = s.connection()  # the session's transaction (BEGIN IMMEDIATE on SQLite)
            d = self._load_visible_row(conn, dossier_id, actor, parties=self._records_documents(action))
            _check_version(d, expected_version)
            proc = self.procedure_version(d.procedure_id, d.procedure_version, s)
            roles = roles_on_dossier(actor, applicant_account_id=d.applicant_account_id, agency_id=d.agency_id)
            cal = self.calendar(proc.calendar)
            if due is not None and due.time() == dt.time(0) and isinstance(new_due_at, str) and len(new_due_at.strip()) == 10:
                due = cal.day_end(due.date())
            if due is not None and due > now + dt.timedelta(days=366):
                raise ValidationError("the new due date is too far away",
                                      fields={"new_due_at": ["tối đa một năm / at most one year ahead"]})
            ctx = ActionContext(procedure=proc, calendar=cal, now=now, roles=roles, comment=comment, reason=reason,
                                items=items, new_due_at=due,
                                missing_documents_fn=lambda: self._missing_documents(s, d, proc),
                                results_pending=self._pending_results(s, d.id) if d.state == "decided" else 0)
            from_state = d.state
            fired = fire(proc, d, action, ctx)
            if fired.id in SLIP_FOR_ACTION or "record_result" in fired.effects:
                d.attach_parties(s)  # slips and results ask the session for the agency and the applicant
                d.has_results = d.has_results or "record_result" in fired.effects
            details: dict[str, Any] = {}
            if "assign_code" in fired.effects:
                day = now.strftime("%y%m%d")
                seq = next_in_sequence(s, f"dossier:{d.agency_id}", day)
                d.code = f"{d.agency_code}-{day}-{seq:04d}"
                details["code"] = d.code
            if "record_result" in fired.effects:
                issued += self._record_results(s, d, proc, now, actor)
                details["results"] = list(issued)
            if fired.id in ("approve", "reject"):
                d.decided_at = now
            if d.due_at is not None and "start_clock" in fired.effects:
                details["due_at"] = d.due_at.isoformat()
            if fired.id == "extend_due":
                details["original_due_at"] = d.original_due_at.isoformat() if d.original_due_at else None
                details["due_at"] = d.due_at.isoformat()
            if "resume_clock" in fired.effects:
                details["due_at"] = d.due_at.isoformat() if d.due_at else None
            form = SLIP_FOR_ACTION.get(fired.id)
            slip = None
            if form is not None:
                slip = self._queue_slip(s, d, proc, form, (d.event_count or 0) + 1, now, actor,
                                        reason=reason, items=items)
                if slip.id is None:
                    slip.id = new_uuid()  # known before the insert: the audit event names it
                issued.append(slip.id)
                details["slip"] = {"form": form, "number": slip.number, "id": slip.id}
            event = self._event_fields(d, actor, fired.id, from_state, d.state, now, role=ctx.role_used or "",
                                       comment=comment, reason=reason, items=items, details=details or None)
            # the version check comes before the inserts a concurrent winner's rows would collide with
            # (the event's and the slip's sequence number in the dossier)
            store.write_transition(conn, d, event, "dossier.transition", {"action": fired.id, "from": from_state,
                                                                          "to": d.state, "status_code": d.status_code})
            if slip is not None:
                store.insert_pending(s, slip)
            s.flush()  # anything else the session holds (results were flushed as they were recorded)
            if with_view and not (issued and self.issue_inline):
                view = self._view(s, d, actor, proc)
            uow.commit()
        if issued and self.issue_inline:
            self.issue_pending(ids=issued)
            if with_view:
                view = self.get_dossier(dossier_id, actor)
        outcome = TransitionOutcome(d.id, d.state, d.status_code, d.code, d.due_at, d.version_counter, d.event_count)
        return outcome, view

    def _pending_results(self, s: Any, dossier_id: str) -> int:
        return s.connection().execute(store.PENDING_RESULTS, {"dossier_id": dossier_id}).scalar_one()

    def _record_results(self, s: Any, d: Dossier, proc: Procedure, now: dt.datetime, decider: Actor) -> list[str]:
        agency = s.get(Agency, d.agency_id)
        applicant = s.get(Account, d.applicant_account_id)
        ids: list[str] = []
        for spec in proc.results:
            seq = next_in_sequence(s, f"result:{agency.id}:{spec.number}", str(now.year))
            number = spec.number.replace("{seq}", str(seq)).replace("{year}", str(now.year))
            data = {key: _resolve(ref, d, agency, applicant) for key, ref in spec.data}
            holders = [h for h in (_resolve(ref, d, agency, applicant) for ref in spec.holder) if h]
            if not holders and applicant.personal_id:
                holders = [applicant.personal_id]  # e.g. a newborn without a personal id yet: the parent holds it
            valid_until = _add_months(now, spec.validity_months) if spec.validity_months else None
            result = Result(number=number, dossier_id=d.id, procedure_id=proc.id, procedure_version=proc.version,
                            result_key=spec.id, evidence_type=spec.evidence, issuer_agency_id=agency.id, issued_at=now,
                            valid_until=valid_until, status="pending", data=data, issue_attempts=0,
                            signers=self._result_signers(s, decider, agency, spec.signers))
            result.holders = [ResultHolder(personal_id=h) for h in dict.fromkeys(holders)]
            s.add(result)
            s.flush()
            ids.append(result.id)
        return ids

    def _missing_documents(self, s: Any, d: Dossier | DossierRow, proc: Procedure) -> list[str]:
        if isinstance(d, DossierRow):  # a transition: the view, if one is built, reuses the rows
            have = {doc[1] for doc in self._current_documents(s, d)}
        else:
            have = set(s.connection().scalars(store.CURRENT_REQUIREMENTS, {"dossier_id": d.id}))
        return [req.id for req in proc.documents if req.required and req.id not in have]

    @staticmethod
    def _current_documents(s: Any, d: Dossier | DossierRow) -> list[Any]:
        """(id, requirement_id, result_id, filename, content_type, size, sha256, added_at) by date added;
        read once per transition (no transition adds or replaces documents)."""
        cached = getattr(d, "documents", None) if isinstance(d, DossierRow) else None
        if cached is None:
            cached = s.connection().execute(store.CURRENT_DOCUMENTS, {"dossier_id": d.id}).all()
            if isinstance(d, DossierRow):
                d.documents = cached
        return cached

    _result_actions = {}  # type: ignore[var-annotated]  # id(catalogue) -> ids of actions that record results (not a field)

    def _records_documents(self, action: Any) -> bool:
        """Whether ``action`` may record a slip or a result, which read the agency and the applicant."""
        if not isinstance(action, str):
            return False  # fire() reports it
        if action in SLIP_FOR_ACTION:
            return True
        ids = Services._result_actions.get(id(self.catalogue))
        if ids is None:
            ids = frozenset(a.id for p in self.catalogue.procedures.values() for a in p.actions
                            if "record_result" in a.effects)
            Services._result_actions[id(self.catalogue)] = ids
        return action in ids

    def _append_event(self, s: Any, d: Dossier, actor: Actor, action: str, from_state: str | None, to_state: str,
                      now: dt.datetime, *, role: str, comment: str | None = None, reason: str | None = None,
                      items: list[str] | None = None, details: dict | None = None) -> None:
        s.add(DossierEvent(**self._event_fields(d, actor, action, from_state, to_state, now, role=role, comment=comment,
                                                reason=reason, items=items, details=details)))

    @staticmethod
    def _event_fields(d: Dossier | DossierRow, actor: Actor, action: str, from_state: str | None, to_state: str,
                      now: dt.datetime, *, role: str, comment: str | None = None, reason: str | None = None,
                      items: list[str] | None = None, details: dict | None = None) -> dict[str, Any]:
        """The next audit event of ``d`` (its hash chained to the previous one); moves the dossier's head."""
        fields = dict(dossier_id=d.id, seq=(d.event_count or 0) + 1, action=action, actor_account_id=actor.account_id,
                      actor_name=actor.display_name, role=role, agency_id=actor.agency_id, from_state=from_state,
                      to_state=to_state, at=now, comment=comment, reason=reason, items=items, details=details,
                      prev_hash=d.last_event_hash)
        digest = audit.event_hash(fields)
        fields["hash"] = digest
        d.event_count = fields["seq"]
        d.last_event_hash = digest
        return fields

    def _load_visible(self, s: Any, dossier_id: str, actor: Actor) -> Dossier:
        d = s.get(Dossier, dossier_id) if isinstance(dossier_id, str) and len(dossier_id) <= 36 else None
        if d is None or not can_view_dossier(actor, applicant_account_id=d.applicant_account_id, agency_id=d.agency_id):
            raise NotFoundError("Không tìm thấy hồ sơ / dossier not found")
        return d

    def _load_visible_row(self, conn: Any, dossier_id: str, actor: Actor, *, parties: bool = False) -> DossierRow:
        """``_load_visible`` for a transition: the row with its agency and applicant, one Core SELECT."""
        d = (store.load_dossier(conn, dossier_id, parties=parties)
             if isinstance(dossier_id, str) and len(dossier_id) <= 36 else None)
        if d is None or not can_view_dossier(actor, applicant_account_id=d.applicant_account_id, agency_id=d.agency_id):
            raise NotFoundError("Không tìm thấy hồ sơ / dossier not found")
        return d

    def _view(self, s: Any, d: Dossier | DossierRow, actor: Actor, proc: Procedure | None = None) -> DossierView:
        """The dossier as its readers see it. One prebuilt Core query per kind (documents, events, results,
        slips) in the caller's transaction; the agency's code and the applicant come with the row when a
        transition read it (``DossierRow``), else from one query. Results, rare, are loaded as objects
        only when the dossier has some."""
        proc = proc if proc is not None and proc.version == d.procedure_version else self.procedure_version(
            d.procedure_id, d.procedure_version, s)
        now = self.clock()
        conn = s.connection()
        key = {"dossier_id": d.id}
        if isinstance(d, DossierRow):
            agency_code, applicant_pid, applicant_name = d.agency_code, d.applicant_personal_id, d.applicant_name
        else:
            agency_code, applicant_pid, applicant_name = conn.execute(
                store.PARTIES, {"agency_id": d.agency_id, "account_id": d.applicant_account_id}).one()
        docs = self._current_documents(s, d)  # id, requirement_id, result_id, filename, type, size, sha256, added_at
        by_req = {doc[1]: doc for doc in docs}
        requirements = [
            RequirementView(r.id, {"vi": r.label.vi, "en": r.label.en}, r.required, r.id in by_req,
                            ("result" if by_req[r.id][2] else "upload") if r.id in by_req else None,
                            list(r.accept), r.max_mb, r.replaced_by)
            for r in proc.documents
        ]
        events = conn.execute(store.EVENT_LIST, key).all()
        has_results = d.has_results if isinstance(d, DossierRow) else True  # a transition read it with the row
        statuses = conn.execute(store.RESULT_STATUSES, key).all() if has_results else []  # (id, status)
        results = s.scalars(select(Result).where(Result.dossier_id == d.id).order_by(Result.issued_at)).all() if statuses else []
        slips = conn.execute(store.SLIP_LIST, key).all()  # id, form, number, issued_at, status
        roles = roles_on_dossier(actor, applicant_account_id=d.applicant_account_id, agency_id=d.agency_id)
        ctx = ActionContext(procedure=proc, calendar=self.calendar(proc.calendar), now=now, roles=roles,
                            results_pending=sum(1 for _, status in statuses if status == "pending"))
        actions = [ActionView(a.id, a.to, a.role, list(a.inputs)) for a in available_actions(proc, d, roles, ctx)]
        agency = s.get(Agency, d.agency_id) if results else None
        return DossierView(
            id=d.id, code=d.code, procedure=d.procedure_id, version=d.procedure_version,
            title={"vi": proc.title.vi, "en": proc.title.en}, agency=agency_code, channel=d.channel,
            applicant={"personal_id": applicant_pid, "name": applicant_name},
            state=d.state, status_code=d.status_code, data=dict(d.data or {}), provenance=dict(d.provenance or {}),
            documents=[DocumentView(doc_id, requirement, "result" if result_id else "upload", filename, content_type,
                                    size, sha256, result_id, added_at,
                                    self.verify_url(result_id) if result_id else None)
                       for doc_id, requirement, result_id, filename, content_type, size, sha256, added_at in docs],
            requirements=requirements, created_at=d.created_at, submitted_at=d.submitted_at, received_at=d.received_at,
            due_at=d.due_at, original_due_at=d.original_due_at, extended=d.extended, supplement_rounds=d.supplement_rounds,
            overdue=_is_overdue(d, proc, now), fee_paid=d.fee_paid, available_actions=actions,
            events=[EventView(*e) for e in events],  # seq, action, actor_name, role, from, to, at, comment, reason, items, details
            results=[_result_view(r, agency, self.catalogue, now) for r in results],
            slips=[SlipView(slip_id, form, SLIP_TITLES[form], number, issued_at, status)
                   for slip_id, form, number, issued_at, status in slips],
            version_counter=d.version_counter,
        )

    # ----------------------------------------------------------------- queues

    def list_dossiers(self, actor: Actor, *, state: str | None = None, procedure: str | None = None,
                      overdue: bool | None = None, page: int = 1, states: list[str] | None = None) -> Page:
        """Staff: their agency's work queue, by due date. Citizens: their own dossiers, newest first."""
        if not isinstance(page, int) or page < 1 or page > 10_000:
            raise ValidationError("page must be a positive integer", fields={"page": ["số nguyên dương / positive integer"]})
        now = self.clock()
        with self.uow(write=False) as uow:
            s = uow.session
            q = queue_where(select(Dossier), actor, state=state, states=states, procedure=procedure)
            if overdue is not None:
                late = and_(Dossier.due_at.is_not(None), Dossier.closed_at.is_(None), Dossier.decided_at.is_(None),
                            or_(Dossier.overdue.is_(True), Dossier.due_at < now))
                q = q.where(late if overdue else ~late)
            total = s.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            if actor.is_staff:
                q = q.order_by(Dossier.due_at.is_(None), Dossier.due_at, Dossier.created_at)
            else:
                q = q.order_by(Dossier.created_at.desc())
            rows = s.scalars(q.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
            names = dict(s.execute(select(Account.id, Account.display_name).where(
                Account.id.in_({r.applicant_account_id for r in rows}))).all()) if rows else {}
            items = []
            for d in rows:
                proc = self.procedure_version(d.procedure_id, d.procedure_version, s)
                items.append(QueueItem(d.id, d.code, d.procedure_id, {"vi": proc.title.vi, "en": proc.title.en},
                                       names.get(d.applicant_account_id, ""), d.channel, d.state, d.status_code,
                                       d.received_at, d.due_at, timeliness(d, proc, now, self.calendar(proc.calendar)),
                                       d.version_counter))
            return Page(items, page, PAGE_SIZE, total)

    # ----------------------------------------------------------------- results (the store)

    def list_results(self, actor: Actor, *, holder: str | None = None, evidence: str | None = None,
                     purpose: str | None = None) -> list[ResultView]:
        """A holder's results store; staff: what their agency issued to a holder; an agency client:
        the holder's results it may read (by law or by the holder's consent), each read logged."""
        now = self.clock()
        if actor.kind == "agency_client":
            purpose = clean_purpose(purpose)
            if not isinstance(holder, str) or not (holder.isdigit() and len(holder) == 12):
                raise ValidationError("holder is required", fields={"holder": ["số định danh 12 chữ số / a 12-digit personal id"]})
        with self.uow(write=actor.kind == "agency_client") as uow:
            s = uow.session
            q = select(Result).join(ResultHolder).where(Result.status != "pending")
            if actor.is_citizen:
                if holder not in (None, actor.personal_id):
                    raise PermissionDeniedError("Chỉ xem được kết quả của chính mình / you can only list your own results")
                q = q.where(ResultHolder.personal_id == actor.personal_id)
            elif actor.is_staff:
                if not holder:
                    raise ValidationError("holder is required", fields={"holder": ["bắt buộc / required"]})
                q = q.where(ResultHolder.personal_id == holder, Result.issuer_agency_id == actor.agency_id)
            elif actor.kind == "agency_client":
                q = q.where(ResultHolder.personal_id == holder)
            else:
                raise PermissionDeniedError("not allowed")
            if evidence:
                q = q.where(Result.evidence_type == evidence)
            rows = s.scalars(q.order_by(Result.issued_at.desc())).unique().all()
            if actor.kind == "agency_client":
                readable = [(r, self._read_basis(s, actor, r)) for r in rows]
                if evidence and rows and not any(b for _, b in readable):
                    raise PermissionDeniedError(
                        "Cơ quan không được khai thác loại kết quả này / this client may not read this evidence type")
                rows = [r for r, b in readable if b]
                for r, b in readable:
                    if b:
                        self._log_read(s, actor, r, purpose, b, "list")
                uow.commit()
            agencies = {a.id: a for a in s.scalars(select(Agency))}
            return [_result_view(r, agencies[r.issuer_agency_id], self.catalogue, now) for r in rows]

    def get_result(self, result_id: str, actor: Actor, *, purpose: str | None = None) -> ResultView:
        reader = actor.kind == "agency_client" or actor.is_staff
        with self.uow(write=reader) as uow:
            s = uow.session
            r = s.get(Result, result_id) if isinstance(result_id, str) and len(result_id) <= 36 else None
            if r is None:
                raise NotFoundError("Không tìm thấy kết quả / result not found")
            if not self._may_read_result(actor, r):
                basis = self._read_basis(s, actor, r) if reader else None
                if basis is None:
                    raise NotFoundError("Không tìm thấy kết quả / result not found")
                self._log_read(s, actor, r, clean_purpose(purpose) if actor.kind == "agency_client"
                               else (purpose or "giải quyết hồ sơ / handling a dossier"), basis, "metadata")
                uow.commit()
            return _result_view(r, s.get(Agency, r.issuer_agency_id), self.catalogue, self.clock())

    # ----------------------------------------------------------------- demo data

    def seed_demo(self, *, people: int = 1200, seed: int = 2026) -> dict[str, Any]:
        """Seed the synthetic world (idempotent) and describe it for demo.json."""
        from engine import demo

        def mapper(procedure_id: str, result_id: str) -> Callable[[dict], dict] | None:
            proc = self.catalogue.latest(procedure_id)
            spec = next((r for r in proc.results if r.id == result_id), None) if proc else None
            if spec is None:
                return None
            refs = [(key, ref.partition(".")[2]) for key, ref in spec.data if ref.startswith("form.")]
            return lambda form: {key: form.get(field_id) for key, field_id in refs}

        with self.uow() as uow:
            summary = demo.seed_demo(
                uow.session, self.clock(), people=people, seed=seed,
                marriage_result_data=mapper("marriage-registration", "marriage-certificate"),
                birth_result_data=mapper("birth-registration", "birth-certificate"),
            )
            agency = uow.session.execute(select(Agency).where(Agency.code == summary.agency_code)).scalar_one()
            uow.commit()
        return {
            "password": summary.password,
            "agency": {"code": agency.code, "name": agency.name_vi},
            "staff": {username: username for username in summary.staff},
            "staff_names": dict(summary.staff),
            "agency_client": summary.agency_client,
            "people": summary.people,
            "scenarios": summary.scenarios,
        }

    # ----------------------------------------------------------------- sweeps and audits

    def sweep_deadlines(self) -> SweepReport:
        """Flag overdue dossiers, count those due soon (an alert each, via the outbox), expire results."""
        now = self.clock()
        with self.uow() as uow:
            s = uow.session
            open_q = and_(Dossier.due_at.is_not(None), Dossier.closed_at.is_(None), Dossier.decided_at.is_(None))
            newly = s.execute(update(Dossier).where(open_q, Dossier.overdue.is_(False), Dossier.due_at < now)
                              .values(overdue=True).execution_options(synchronize_session=False)).rowcount
            soon = 0
            for d in s.scalars(select(Dossier).where(open_q, Dossier.overdue.is_(False), Dossier.due_at >= now)):
                proc = self.procedure_version(d.procedure_id, d.procedure_version, s)
                if timeliness(d, proc, now, self.calendar(proc.calendar)) == "due_soon":
                    soon += 1
                    s.add(OutboxMessage(topic="dossier.due_soon", dossier_id=d.id, created_at=now, attempts=0,
                                        payload={"due_at": d.due_at.isoformat()}))
            expired = s.execute(update(Result).where(Result.status == "valid", Result.valid_until.is_not(None),
                                                     Result.valid_until < now)
                                .values(status="expired", status_changed_at=now, status_reason="validity ended")
                                .execution_options(synchronize_session=False)).rowcount
            uow.commit()
        return SweepReport(newly, soon, expired)

    def verify_audit(self, dossier_id: str | None = None) -> AuditReport:
        problems: list[audit.ChainProblem] = []
        n_d = n_e = 0
        with self.uow(write=False) as uow:
            s = uow.session
            q = select(Dossier.id, Dossier.last_event_hash, Dossier.event_count)
            if dossier_id:
                q = q.where(Dossier.id == dossier_id)
            heads = s.execute(q.order_by(Dossier.id)).all()
            if dossier_id and not heads:
                raise NotFoundError("dossier not found")
            for did, head, count in heads:
                events = s.scalars(select(DossierEvent).where(DossierEvent.dossier_id == did).order_by(DossierEvent.seq)).all()
                n_d += 1
                n_e += len(events)
                problems += audit.verify_chain(did, events, head_hash=head, count=count or 0)
        return AuditReport(n_d, n_e, problems)


def _not_editable(state: str) -> ActionNotAllowedError:
    """The error for a change to a dossier in a state that does not take one."""
    return ActionNotAllowedError(
        f"Hồ sơ ở trạng thái '{state}' không sửa được / a dossier in state '{state}' cannot be changed"
    )


# --------------------------------------------------------------------------- helpers


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hm(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def _actor(a: Account) -> Actor:
    return Actor(a.id, a.username, a.display_name, a.kind, frozenset(a.roles or ()), a.agency_id, a.personal_id)


def _summary(p: Procedure) -> ProcedureSummary:
    return ProcedureSummary(p.id, p.code, p.version, {"vi": p.title.vi, "en": p.title.en}, p.authority, p.online,
                            {"value": p.time_limit_value, "unit": p.time_limit_unit},
                            {"amount": p.fee_amount, "currency": "VND"})


def _check_version(d: Dossier, expected: Any) -> None:
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
        raise ValidationError("expected_version must be an integer", fields={"expected_version": ["số nguyên / integer"]})
    if expected is not None and expected != d.version_counter:
        raise ConcurrencyError(
            f"Hồ sơ đã thay đổi (phiên bản {d.version_counter}, không phải {expected}); hãy tải lại / "
            f"the dossier changed (version {d.version_counter}, not {expected}); reload it"
        )


def _opt_text(value: Any, name: str, limit: int = 4000) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be text", fields={name: ["phải là chuỗi / must be text"]})
    value = value.strip()
    if len(value) > limit:
        raise ValidationError(f"{name} is too long", fields={name: [f"tối đa {limit} ký tự / at most {limit} characters"]})
    return value or None


def _items(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError("items must be a list of texts", fields={"items": ["danh sách chuỗi / a list of texts"]})
    cleaned = [v.strip() for v in value if v.strip()]
    if len(cleaned) > 100 or any(len(v) > 1000 for v in cleaned):
        raise ValidationError("too many or too long items", fields={"items": ["quá dài / too long"]})
    return cleaned or None


def _parse_due(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError("new_due_at must be an ISO date", fields={"new_due_at": ["YYYY-MM-DD[THH:MM]"]})
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError("new_due_at must be an ISO date", fields={"new_due_at": ["YYYY-MM-DD[THH:MM]"]}) from None
    return parsed.replace(tzinfo=None) if parsed.tzinfo else parsed


def _safe_filename(name: str | None) -> str | None:
    if not name:
        return None
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())[:200]
    return name or None


def _resolve(ref: str, d: Dossier, agency: Agency, applicant: Account) -> Any:
    root, _, rest = ref.partition(".")
    if root == "form":
        return (d.data or {}).get(rest)
    if root == "dossier":
        value = {"code": d.code, "received_at": d.received_at, "decided_at": d.decided_at,
                 "procedure": d.procedure_id, "channel": d.channel}.get(rest)
        return value.isoformat() if isinstance(value, dt.datetime) else value
    if root == "agency":
        return {"name": agency.name_vi, "code": agency.code, "address": agency.address}.get(rest)
    if root == "applicant":
        return {"personal_id": applicant.personal_id, "name": applicant.display_name}.get(rest)
    return None


def _add_months(when: dt.datetime, months: int) -> dt.datetime:
    month = when.month - 1 + months
    year = when.year + month // 12
    month = month % 12 + 1
    import calendar as _cal

    day = min(when.day, _cal.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def _is_overdue(d: Dossier, proc: Procedure, now: dt.datetime) -> bool:
    if d.due_at is None or d.closed_at is not None or d.decided_at is not None:
        return bool(d.overdue)
    return bool(d.overdue) or deadlines.is_overdue(d.due_at, now)


def queue_where(q: Any, actor: Actor, *, state: str | None = None, states: list[str] | None = None,
                procedure: str | None = None) -> Any:
    """The dossiers a queue shows: the staff's agency's (drafts aside) or the citizen's own, filtered."""
    if actor.is_staff:
        q = q.where(Dossier.agency_id == actor.agency_id, Dossier.state != "draft")
    elif actor.is_citizen:
        q = q.where(Dossier.applicant_account_id == actor.account_id)
    else:
        raise PermissionDeniedError("Chỉ cán bộ và công dân / staff and citizens only")
    if state:
        q = q.where(Dossier.state == state)
    if states is not None:
        q = q.where(Dossier.state.in_(states))
    if procedure:
        q = q.where(Dossier.procedure_id == procedure)
    return q


def timeliness(d: Any, proc: Procedure, now: dt.datetime, cal: deadlines.Calendar) -> str:
    """on_time | due_soon | overdue | none: the one rule behind the queue's badges and alerts."""
    if d.due_at is None:
        return "none"
    if _is_overdue(d, proc, now):
        return "overdue"
    if d.closed_at is None and d.decided_at is None:
        soon_limit = cal.day_end(cal.add_working_days(now.date(), DUE_SOON_WORKING_DAYS))
        if d.due_at <= soon_limit:
            return "due_soon"
    return "on_time"


def _result_view(r: Result, agency: Agency, catalogue: Catalogue, now: dt.datetime | None = None) -> ResultView:
    ev = catalogue.evidence_types.get(r.evidence_type)
    st = result_rules.standing(r.status, r.valid_until, now, r.status_reason) if now else result_rules.Standing(r.status, r.status_reason)
    title = {"vi": ev.title.vi, "en": ev.title.en} if ev else {"vi": r.evidence_type, "en": r.evidence_type}
    return ResultView(r.id, r.number, r.procedure_id, r.evidence_type, title, sorted(h.personal_id for h in r.holders),
                      agency.code, r.issued_at, r.valid_until, st.status, st.reason, dict(r.data or {}), r.dossier_id,
                      r.pdf_sha256, r.signers and [{"name": x["name"], "title": x["title"]} for x in r.signers] or [],
                      r.superseded_by, r.supersedes)
