"""The results store: a holder's results, a result and its signed PDF (each read by another party
logged for the holder), and a leader's revocation or correction of a result."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from engine.adapters.models import Agency, Dossier, Result, ResultHolder, Slip
from engine.adapters.sequences import next_in_sequence
from engine.adapters.uow import UnitOfWork
from engine.rules.access import Actor
from engine.rules.errors import ActionNotAllowedError, NotFoundError, PermissionDeniedError, ValidationError
from engine.rules.identity import PersonalIdRule
from engine.usecases.access import Access, clean_purpose, may_read_result
from engine.usecases.blob_store import BlobStore
from engine.usecases.catalogue import Procedures
from engine.usecases.dossiers import Dossiers
from engine.usecases.feed import Feed, result_event
from engine.usecases.issuance import Issuance
from engine.usecases.tasks import Tasks
from engine.usecases.views import ResultView, result_view

NOT_FOUND = "Không tìm thấy kết quả / result not found"


class Results:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], procedures: Procedures,
                 access: Access, dossiers: Dossiers, issuance: Issuance, blobs: BlobStore,
                 personal_ids: PersonalIdRule, tasks: Tasks, issue_inline: bool, feed: Feed | None = None):
        self.uow = uow
        self.feed = feed
        self.clock = clock
        self.procedures = procedures
        self.access = access
        self.dossiers = dossiers
        self.issuance = issuance
        self.blobs = blobs
        self.personal_ids = personal_ids
        self.tasks = tasks
        self.issue_inline = issue_inline

    def list_results(self, actor: Actor, *, holder: str | None = None, evidence: str | None = None,
                     purpose: str | None = None) -> list[ResultView]:
        """A holder's results store; staff: what their agency issued to a holder; an agency client:
        the holder's results it may read (by law or by the holder's consent), each read logged."""
        now = self.clock()
        if actor.kind == "agency_client":
            purpose = clean_purpose(purpose)
            if not self.personal_ids.matches(holder):
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
                readable = [(r, self.access.read_basis(s, actor, r)) for r in rows]
                if evidence and rows and not any(b for _, b in readable):
                    raise PermissionDeniedError(
                        "Cơ quan không được khai thác loại kết quả này / this client may not read this evidence type")
                rows = [r for r, b in readable if b]
                for r, b in readable:
                    if b:
                        self.access.log_read(s, actor, r, purpose, b, "list")
                uow.commit()
            agencies = {a.id: a for a in s.scalars(select(Agency))}
            return [result_view(r, agencies[r.issuer_agency_id], self.procedures.catalogue, now) for r in rows]

    def get_result(self, result_id: str, actor: Actor, *, purpose: str | None = None) -> ResultView:
        reader = actor.kind == "agency_client" or actor.is_staff
        with self.uow(write=reader) as uow:
            s = uow.session
            r = s.get(Result, result_id) if isinstance(result_id, str) and len(result_id) <= 36 else None
            if r is None:
                raise NotFoundError(NOT_FOUND)
            if self.access.check_read(s, actor, r, purpose, "metadata"):
                uow.commit()
            return result_view(r, s.get(Agency, r.issuer_agency_id), self.procedures.catalogue, self.clock())

    def document_pdf(self, kind: str, document_id: str, actor: Actor, *, purpose: str | None = None) -> tuple[bytes, str]:
        """The signed PDF of a result (its holders, the issuing agency's staff, readers with a basis, logged)
        or of a slip (whoever sees the dossier)."""
        with self.uow() as uow:
            s = uow.session
            if kind == "result":
                r = s.get(Result, document_id) if _is_id(document_id) else None
                if r is None:
                    raise NotFoundError("Không tìm thấy kết quả / result not found")
                if self.access.check_read(s, actor, r, purpose, "pdf"):
                    uow.commit()
                digest, name, status = r.pdf_sha256, f"{r.evidence_type}-{r.number.replace('/', '-')}.pdf", r.status
            else:
                slip = s.get(Slip, document_id) if _is_id(document_id) else None
                if slip is None:
                    raise NotFoundError("Không tìm thấy phiếu / slip not found")
                self.dossiers.load_visible(s, slip.dossier_id, actor)
                digest, name, status = slip.pdf_sha256, f"mau-{slip.form}-{slip.number.replace('/', '-')}.pdf", None
        if digest is None:
            if kind == "slip" or status == "pending":
                raise ActionNotAllowedError("Văn bản đang được ký số; thử lại sau ít phút / the document is still being signed")
            raise NotFoundError("Bản ghi này được số hóa từ sổ hộ tịch, không có tệp ký số / "
                                "this record was digitised from a register and has no signed file")
        return self.blobs.get(digest), name

    def revoke_result(self, result_id: str, reason: Any, actor: Actor) -> Any:
        """A leader of the issuing agency revokes a result, with a reason; it can no longer stand in for paper."""
        reason = reason.strip() if isinstance(reason, str) else ""
        if not reason:
            raise ValidationError("a reason is required", fields={"reason": ["bắt buộc / required"]})
        now = self.clock()
        with self.uow() as uow:
            s = uow.session
            r = s.get(Result, result_id) if _is_id(result_id) else None
            if r is None or not may_read_result(actor, r):
                raise NotFoundError("Không tìm thấy kết quả / result not found")
            if not (actor.is_staff and actor.has_role("leader") and actor.agency_id == r.issuer_agency_id):
                raise PermissionDeniedError("Chỉ lãnh đạo cơ quan cấp được thu hồi / only a leader of the issuing agency may revoke")
            if r.status not in ("valid", "pending"):
                raise ActionNotAllowedError(f"the result is already {r.status}")
            r.status, r.status_reason, r.status_changed_at = "revoked", reason[:1000], now
            self._announce(s, "result.revoked", r, now)
            uow.commit()
        return self.get_result(result_id, actor)

    def supersede_result(self, result_id: str, changes: Any, reason: Any, actor: Actor) -> Any:
        """Issue a corrected result: a new number, the corrected data, the old one marked superseded."""
        reason = reason.strip() if isinstance(reason, str) else ""
        if not reason:
            raise ValidationError("a reason is required", fields={"reason": ["bắt buộc / required"]})
        if not isinstance(changes, dict) or not changes:
            raise ValidationError("data must list the corrected values", fields={"data": ["bắt buộc / required"]})
        now = self.clock()
        with self.uow() as uow:
            s = uow.session
            old = s.get(Result, result_id) if _is_id(result_id) else None
            if old is None or not may_read_result(actor, old):
                raise NotFoundError("Không tìm thấy kết quả / result not found")
            if not (actor.is_staff and actor.has_role("leader") and actor.agency_id == old.issuer_agency_id):
                raise PermissionDeniedError("only a leader of the issuing agency may correct a result")
            if old.status != "valid":
                raise ActionNotAllowedError(f"only a valid result can be corrected (this one is {old.status})")
            unknown = [k for k in changes if k not in (old.data or {})]
            if unknown or not all(isinstance(v, (str, int, float, bool)) or v is None for v in changes.values()):
                raise ValidationError("unknown or invalid fields", fields={k: ["không có trong kết quả / not in the result"] for k in unknown} or {"data": ["plain values only"]})
            proc = self.procedures.procedure_version(old.procedure_id, old.procedure_version, s)
            spec = next(x for x in proc.results if x.id == old.result_key)
            seq = next_in_sequence(s.connection(), f"result:{old.issuer_agency_id}:{spec.number}", str(now.year))
            new = Result(number=spec.number.replace("{seq}", str(seq)).replace("{year}", str(now.year)),
                         dossier_id=old.dossier_id, procedure_id=old.procedure_id, procedure_version=old.procedure_version,
                         result_key=old.result_key, evidence_type=old.evidence_type, issuer_agency_id=old.issuer_agency_id,
                         issued_at=now, valid_until=old.valid_until, status="pending", data={**old.data, **changes},
                         supersedes=old.id, issue_attempts=0,
                         signers=self.issuance.result_signers(s, actor, s.get(Agency, old.issuer_agency_id), spec.signers))
            new.holders = [ResultHolder(personal_id=h.personal_id) for h in old.holders]
            s.add(new)
            s.flush()
            old.status, old.status_reason, old.status_changed_at, old.superseded_by = "superseded", reason[:1000], now, new.id
            if not self.issue_inline:
                self.tasks.defer_issue(s.connection(), [new.id])
            self._announce(s, "result.superseded", old, now)
            uow.commit()
            new_id = new.id
        if self.issue_inline:
            self.issuance.issue_pending(ids=[new_id])
        return self.get_result(new_id, actor)


    def _announce(self, s: Any, kind: str, r: Result, now: dt.datetime) -> None:
        """The result's event in the feed, in this transaction (last before its commit)."""
        if self.feed is None:
            return
        s.flush()
        code = status = None
        if r.dossier_id:
            code, status = s.execute(select(Dossier.code, Dossier.status_code).where(Dossier.id == r.dossier_id)).one()
        self.feed.append(s.connection(), [result_event(kind, r, now, dossier_code=code, status_code=status)])


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 36
