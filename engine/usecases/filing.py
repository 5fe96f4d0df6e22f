"""Filing: a draft started online by a citizen or at the counter by a clerk, its form (prefilled,
with provenance; register values cannot be typed over), and its documents (uploads, sniffed by
content, or stored results standing in for paper)."""
from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from typing import Any, Protocol

import filetype
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from engine.adapters.models import Account, Agency, Document, Dossier, IdempotencyKey, Person, Result, new_uuid
from engine.adapters.uow import UnitOfWork
from engine.rules.access import Actor, roles_on_dossier
from engine.rules.definitions import Procedure
from engine.rules.effects import slip_form
from engine.rules.slips import RECEIPT
from engine.rules.errors import (
    ConcurrencyError,
    IdempotencyConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    UnsupportedMediaError,
    ValidationError,
)
from engine.rules.forms import check_value, clean_form
from engine.rules.identity import PersonalIdRule
from engine.rules.prefill import in_conflict, refusal_message
from engine.rules.prefill import merge as merge_prefill
from engine.rules.uploads import PdfRefusal
from engine.usecases.accounts import sha256_hex
from engine.usecases.blob_store import BlobStore
from engine.usecases.catalogue import Procedures
from engine.usecases.dossiers import Dossiers, append_event, check_version, not_editable
from engine.usecases.issuance import Issuance
from engine.usecases.prefill import Prefill
from engine.usecases.tasks import Tasks
from engine.usecases.views import DossierView


PDF = "application/pdf"


class PdfChecker(Protocol):
    """The port that screens an uploaded PDF (``engine.adapters.pdf_screen.PdfScreen``)."""

    def check(self, content: bytes) -> PdfRefusal | None: ...


class Filing:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], procedures: Procedures,
                 dossiers: Dossiers, prefill: Prefill, issuance: Issuance, tasks: Tasks, blobs: BlobStore,
                 personal_ids: PersonalIdRule, *, max_upload_mb: float, issue_inline: bool, pdf_checker: PdfChecker):
        self.uow = uow
        self.clock = clock
        self.procedures = procedures
        self.dossiers = dossiers
        self.prefill = prefill
        self.issuance = issuance
        self.tasks = tasks
        self.blobs = blobs
        self.personal_ids = personal_ids
        self.check_value = functools.partial(check_value, ids=personal_ids)  # the form rules, with the id rule
        self.max_upload_mb = max_upload_mb
        self.issue_inline = issue_inline
        self.pdf_checker = pdf_checker

    def start_dossier(self, procedure_id: str, data: Any, actor: Actor, *, applicant: str | None = None,
                      agency_code: str | None = None, idempotency_key: str | None = None,
                      purpose: str | None = None) -> DossierView:
        """Create a draft: online by a citizen for themself, or at the counter by a clerk for a walk-in.
        Register data of anyone but the actor is prefilled only as engine.rules.register_access allows,
        and each such read is logged for the person in the same unit of work (``purpose``: the stated
        one, else the counter filing for staff)."""
        if not isinstance(procedure_id, str) or not procedure_id:
            raise ValidationError("procedure is required", fields={"procedure": ["bắt buộc / required"]})
        proc = self.procedures.catalogue.latest(procedure_id)
        if proc is None:
            raise ValidationError(f"no procedure '{procedure_id}'", fields={"procedure": ["không có thủ tục này / unknown procedure"]})
        if data is None:
            data = {}
        cleaned, errors = clean_form(proc, data, self.personal_ids)
        if errors:
            raise ValidationError("Tờ khai có trường không hợp lệ / some fields are invalid", fields=errors)
        if idempotency_key is not None and (not idempotency_key.strip() or len(idempotency_key) > 200):
            raise ValidationError("Idempotency-Key must be 1-200 characters", fields={"Idempotency-Key": ["1-200 characters"]})
        request_hash = sha256_hex(json.dumps(
            {"procedure": procedure_id, "data": cleaned, "applicant": applicant, "agency": agency_code},
            sort_keys=True, ensure_ascii=False, default=str).encode())
        now = self.clock()
        # what the state already holds, looked up before any lock is taken
        applicant_pid = actor.personal_id if actor.is_citizen else applicant
        prefilled = provenance = outcome = None
        may_file = actor.is_citizen or (actor.is_staff and actor.has_role("clerk") and self.personal_ids.matches(applicant))
        if may_file and (not actor.is_citizen or applicant in (None, actor.personal_id)) and self.prefill.prefiller is not None:
            applicant_info = self.prefill.applicant_for_actor(actor, applicant_pid)
            known = actor.is_citizen or bool(applicant_info.full_name)  # a walk-in unknown to the register: no prefill
            outcome = self.prefill.prefill(proc, applicant_info, cleaned, now, actor) if known else None
            prefilled, provenance, errors = merge_prefill(proc, cleaned, outcome, self.check_value) if outcome else (None, None, {})
            if errors:
                raise ValidationError("Tờ khai có trường không sửa được / some fields cannot be changed", fields=errors)
        with self.uow() as uow:
            s = uow.session
            if idempotency_key and actor.account_id is not None:
                replay = self._replay(s, actor, idempotency_key, request_hash)
                if replay is not None:
                    return self.dossiers.view(s, replay, actor, proc)
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
            if outcome is not None and provenance:
                self.prefill.log_reads(s, actor, outcome, _from_outcome(outcome, provenance), purpose,
                                       procedure_id=proc.id, dossier_id=d.id)
            reused = self.prefill.auto_link(s, d, proc, applicant_pid, actor, now)
            details: dict[str, Any] = {"channel": channel}
            if provenance:
                details["prefilled"] = sorted(provenance)  # field names only: values stay in the dossier
                if conflicts := sorted(fid for fid, e in provenance.items() if in_conflict(e)):
                    details["conflicts"] = conflicts
            if reused:
                details["reused"] = reused
            append_event(s, d, actor, "create", None, proc.initial, now, role="applicant" if actor.is_citizen else "clerk",
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
                return self.dossiers.view(s, replay, actor, proc)
            return self.dossiers.view(s, d, actor, proc)

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
        if not self.personal_ids.matches(personal_id):
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

    def save_form(self, dossier_id: str, data: Any, actor: Actor, *, expected_version: int | None = None,
                  purpose: str | None = None) -> DossierView:
        """Change a draft's form. Values that become available are prefilled as the actor may see them
        (engine.rules.register_access: a citizen gets what they would online, whatever the channel)."""
        with self.uow(write=False) as uow:  # look the sources up before taking the write lock
            d0 = self.dossiers.load_visible(uow.session, dossier_id, actor)
            proc0 = self.procedures.procedure_version(d0.procedure_id, d0.procedure_version, uow.session)
            applicant_account = uow.session.get(Account, d0.applicant_account_id)
            # at the counter the identity fields came from the register, not from an account
            applicant_info = self.prefill.applicant_of(uow.session, applicant_account, staff_filing=d0.channel != "online")
            known = dict(d0.data or {})
            agency_id, channel = d0.agency_id, d0.channel
        cleaned0, _ = clean_form(proc0, data, self.personal_ids)
        context = self.prefill.read_context(actor, dossier_agency_id=agency_id, dossier_channel=channel)
        outcome = self.prefill.prefill(proc0, applicant_info, {**known, **cleaned0}, self.clock(), actor, context)
        with self.uow() as uow:
            s = uow.session
            d = self.dossiers.load_visible(s, dossier_id, actor)
            proc = self.procedures.procedure_version(d.procedure_id, d.procedure_version, s)
            roles = roles_on_dossier(actor, applicant_account_id=d.applicant_account_id, agency_id=d.agency_id)
            may_edit = "applicant" in roles or ("clerk" in roles and d.channel != "online")
            if not may_edit:
                raise PermissionDeniedError("Chỉ người nộp được sửa tờ khai / only the applicant may change the form")
            if d.state not in proc.editable_states:
                raise not_editable(d.state)
            check_version(d, expected_version)
            cleaned, errors = clean_form(proc, data, self.personal_ids)
            if errors:
                raise ValidationError("Tờ khai có trường không hợp lệ / some fields are invalid", fields=errors)
            merged = dict(d.data or {})
            provenance = dict(d.provenance or {})
            locked = {k: [refusal_message(provenance[k]) if in_conflict(provenance[k]) else
                          "lấy từ cơ sở dữ liệu, không sửa tại đây / comes from a register and cannot be changed here"]
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
            # and source values that these fields cannot hold (conflicts), unless the applicant typed one
            fresh = {fid: pre for fid, pre in outcome.values.items() if fid not in merged}
            stuck = {fid: c for fid, c in outcome.conflicts.items() if fid not in merged}
            if fresh or stuck:
                outcome.values, outcome.conflicts = fresh, stuck
                merged, provenance, _ = merge_prefill(proc, merged, outcome, self.check_value, previous=provenance)
                self.prefill.log_reads(s, actor, outcome, _from_outcome(outcome, provenance), purpose,
                                       procedure_id=proc.id, dossier_id=d.id)
            d.data = merged
            d.provenance = provenance
            d.updated_at = self.clock()
            uow.commit()
            return self.dossiers.view(s, d, actor, proc)

    def add_document(self, dossier_id: str, requirement_id: str, filename: str | None, content: bytes,
                     actor: Actor) -> DossierView:
        """Attach an uploaded file to a requirement: its type is sniffed from the bytes, not trusted, and
        a PDF is screened (no script, launch action, attachment or encryption; pages and decompressed
        size within limits) before anything is stored."""
        kind = filetype.guess(content) if content else None
        sniffed = kind.mime if kind else None
        refusal = None
        if sniffed == PDF and len(content) <= self.max_upload_mb * 1024 * 1024:
            refusal = self.pdf_checker.check(content)  # parsing takes time: before the write lock is taken
        with self.uow(write=False) as uow:
            _d, _proc, req = self.document_target(uow.session, dossier_id, requirement_id, actor)
            self._check_upload(content, req, sniffed, refusal)
        # stored before the write transaction: a remote store's upload does not hold the write lock, and the
        # blob exists before the row that names it commits (a refused or failed request leaves at most an
        # unnamed blob, never a row without its file)
        digest = self.blobs.put(content)
        with self.uow() as uow:
            s = uow.session
            d, proc, req = self.document_target(s, dossier_id, requirement_id, actor)  # again: it may have moved on
            self._check_upload(content, req, sniffed, refusal)
            now = self.clock()
            self._replace_documents(s, d.id, req.id, now)
            safe_name = _safe_filename(filename)
            s.add(Document(dossier_id=d.id, requirement_id=req.id, filename=safe_name, content_type=sniffed,
                           size=len(content), sha256=digest, added_by_account_id=actor.account_id, added_at=now))
            d.updated_at = now
            uow.commit()
            return self.dossiers.view(s, d, actor, proc)

    def _check_upload(self, content: bytes, req: Any, sniffed: str | None, refusal: PdfRefusal | None) -> None:
        if not content:
            raise ValidationError("the file is empty", fields={"file": ["tệp rỗng / empty file"]})
        limit = min(req.max_mb, self.max_upload_mb)
        if len(content) > limit * 1024 * 1024:
            raise PayloadTooLargeError(f"Tệp lớn hơn {limit:g} MB / the file is larger than {limit:g} MB")
        if sniffed not in req.accept:
            raise UnsupportedMediaError(
                f"Chỉ nhận {', '.join(req.accept)} / only {', '.join(req.accept)} accepted (got {sniffed or 'unknown'})"
            )
        if refusal is not None:
            error = UnsupportedMediaError if refusal.unsupported else ValidationError
            raise error(refusal.message, fields={"file": [refusal.message]})

    def link_result(self, dossier_id: str, requirement_id: str, result_id: str, actor: Actor) -> DossierView:
        """Satisfy a requirement from the results store instead of an upload."""
        with self.uow() as uow:
            s = uow.session
            d, proc, req = self.document_target(s, dossier_id, requirement_id, actor)
            if not req.replaced_by:
                raise ValidationError("this requirement cannot be taken from the results store",
                                      fields={"requirement": ["phải tải lên / must be uploaded"]})
            result = s.get(Result, result_id) if isinstance(result_id, str) and len(result_id) <= 36 else None
            applicant = s.get(Account, d.applicant_account_id)
            holders = {h.personal_id for h in result.holders} if result else set()
            # the applicant's own results, or those of their spouse, parents or children
            if result is None or not (holders & self.prefill.family(applicant.personal_id, session=s)):
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
            if first_reuse and not self.issue_inline:
                self.tasks.defer_upgrade(s.connection(), result.id)
            view = self.dossiers.view(s, d, actor, proc)
            uow.commit()
        if first_reuse and self.issue_inline:
            # reused in place of paper: add revocation data and a document timestamp (B-LTA) once
            self.issuance.upgrade_result(result.id)
        return view

    def document_target(self, s: Any, dossier_id: str, requirement_id: str, actor: Actor) -> tuple[Dossier, Procedure, Any]:
        d = self.dossiers.load_visible(s, dossier_id, actor)
        proc = self.procedures.procedure_version(d.procedure_id, d.procedure_version, s)
        req = proc.document(requirement_id) if isinstance(requirement_id, str) else None
        if req is None:
            raise ValidationError(f"no requirement '{requirement_id}'",
                                  fields={"requirement": ["không có thành phần hồ sơ này / unknown requirement"]})
        roles = roles_on_dossier(actor, applicant_account_id=d.applicant_account_id, agency_id=d.agency_id)
        if "applicant" in roles:
            allowed_states = proc.editable_states
        elif "clerk" in roles:
            allowed_states = clerk_upload_states(proc)
        else:
            raise PermissionDeniedError("Chỉ người nộp hoặc cán bộ tiếp nhận được thêm giấy tờ / only the applicant or a clerk adds documents")
        if d.state not in allowed_states:
            raise not_editable(d.state)
        return d, proc, req

    def _replace_documents(self, s: Any, dossier_id: str, requirement_id: str, now: dt.datetime) -> None:
        s.execute(update(Document).where(
            Document.dossier_id == dossier_id, Document.requirement_id == requirement_id, Document.replaced_at.is_(None)
        ).values(replaced_at=now))


def _from_outcome(outcome: Any, provenance: dict[str, Any]) -> list[str]:
    """The fields whose value on the dossier came from this prefill (and so was shown)."""
    shown = {**outcome.values, **outcome.conflicts}  # a conflict shows the source's value too
    return [fid for fid, pre in shown.items() if (provenance.get(fid) or {}).get("record") == pre.record]


def _safe_filename(name: str | None) -> str | None:
    if not name:
        return None
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())[:200]
    return name or None


def clerk_upload_states(proc: Procedure) -> frozenset[str]:
    """Where a reception clerk may still add a scanned document: wherever the applicant may change the
    form, and while the dossier awaits reception (the states its receipt slip is issued from)."""
    awaiting = {s for a in proc.actions if slip_form(a) == RECEIPT for s in a.sources}
    return proc.editable_states | awaiting
