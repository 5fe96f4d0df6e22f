"""Use cases of signed documents: results and one-stop slips are recorded as *pending* inside the
transition that calls for them, then rendered, signed and stored after the commit.

Atomicity: the transition commits the intent (a pending row); the slow work (render, sign) runs
outside any transaction; one short transaction then moves the row from pending to valid with the
file's hash, by compare-and-set. A crash anywhere leaves a pending row that the next run
(``motcua issue``, ``motcua sweep``) finishes; a retry can never produce a second document, and a
pending document is never shown as valid, listed in a store or linked as evidence.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from engine.rules import results as rules
from engine.rules.access import Actor
from engine.rules.errors import ActionNotAllowedError, NotFoundError, PermissionDeniedError, ValidationError
from engine.rules.slips import SLIP_SUFFIX, SLIP_TEMPLATES, SLIP_TITLES
from engine.adapters.models import Account, Agency, Document, Dossier, Result, ResultHolder, Slip
from engine.usecases.reuse import clean_purpose
from engine.adapters.store import next_in_sequence

log = logging.getLogger(__name__)

# The action that issues each one-stop form (Circular 01/2018 Art. 9; Circular 03/2025 Appendix I).
SLIP_FOR_ACTION = {"receive": "01", "request_supplement": "02", "refuse": "03", "extend_due": "04", "stop": "05"}
ROLE_TITLES = {"leader": "Chủ tịch", "records": "Văn thư", "clerk": "Công chức tiếp nhận và trả kết quả",
               "specialist": "Công chức thụ lý"}
UNIT_TEXT = {"working_days": "ngày làm việc", "days": "ngày", "hours": "giờ làm việc", "immediate": ""}


@dataclass(frozen=True)
class IssueReport:
    issued: int
    failed: int
    pending: int


@dataclass(frozen=True)
class SignatureView:
    field: str
    kind: str
    signer_name: str | None
    signer_organization: str | None
    signing_time: str | None
    timestamp_time: str | None
    intact: bool
    trusted: bool
    covers_whole_document: bool
    summary: str


@dataclass(frozen=True)
class StoredDocumentView:
    kind: str  # result | slip
    id: str
    number: str
    title: str
    issuer: str
    issued_at: dt.datetime
    status: str
    status_reason: str | None
    hash_matches: bool
    holders: list[str]
    data: dict[str, Any]


@dataclass(frozen=True)
class VerificationView:
    valid: bool
    problem: str | None
    sha256: str
    signatures: list[SignatureView]
    document: StoredDocumentView | None


class IssuanceMixin:
    """Issuing, reading, verifying, revoking and superseding signed documents (part of Services)."""

    issuer: Any
    secret: bytes
    public_url: str
    slips_dir: Path | None
    issue_inline: bool

    # ----------------------------------------------------------------- recording (inside a transition)

    def _queue_slip(self, s: Any, d: Dossier, proc: Any, form: str, event_seq: int, now: dt.datetime, actor: Actor,
                    *, reason: str | None, items: list[str] | None) -> Slip:
        agency = s.get(Agency, d.agency_id)
        seq = next_in_sequence(s, f"slip:{agency.id}:{form}", str(now.year))
        applicant = s.get(Account, d.applicant_account_id)
        docs = s.scalars(select(Document).where(Document.dossier_id == d.id, Document.replaced_at.is_(None))).all()
        labels = {doc.id: doc.label.vi for doc in proc.documents}
        unit = UNIT_TEXT.get(proc.time_limit_unit, "")
        context = {
            "slip": {"form": form, "issued_at": now.isoformat()},
            "agency": {"name": agency.name_vi, "code": agency.code, "address": agency.address},
            "dossier": {
                "code": d.code, "procedure_title": proc.title.vi, "procedure_code": proc.code,
                "received_at": _iso(d.received_at), "due_at": _iso(d.due_at), "original_due_at": _iso(d.original_due_at),
                "channel": d.channel,
                "documents": [{"label": labels.get(doc.requirement_id, doc.requirement_id),
                               "by": "reused" if doc.result_id else ("electronic" if d.channel == "online" else "copy")}
                              for doc in docs],
                "time_limit_text": (f"{proc.time_limit_value:g} {unit}".strip() if unit else "giải quyết ngay"),
            },
            "applicant": {"name": applicant.display_name, "personal_id": applicant.personal_id,
                          "address": (d.data or {}).get("requester_residence"), "phone": None, "email": None},
            "items": items or [], "reason": reason,
            "new_due_at": _iso(d.due_at) if form == "04" else None,
            "signers": [{"name": actor.display_name, "title": ROLE_TITLES.get(_main_role(actor), "")},
                        {"name": agency.name_vi, "title": "Chữ ký số của cơ quan"}],
        }
        slip = Slip(dossier_id=d.id, event_seq=event_seq, form=form, number=f"{seq:04d}/{SLIP_SUFFIX[form]}",
                    issuer_agency_id=agency.id, issued_at=now, status="pending", context=context, issue_attempts=0)
        s.add(slip)
        return slip

    # ----------------------------------------------------------------- issuing (after the commit)

    def issue_pending(self, *, ids: list[str] | None = None, limit: int = 100,
                      on_signed: Callable[[str, str], None] | None = None) -> IssueReport:
        """Render, sign and store pending documents (these ids, or the oldest pending ones)."""
        if self.issuer is None:
            return IssueReport(0, 0, self._count_pending())
        with self.uow(write=False) as uow:
            s = uow.session
            rq = select(Result.id).where(Result.status == "pending")
            sq = select(Slip.id).where(Slip.status == "pending")
            if ids is not None:
                rq, sq = rq.where(Result.id.in_(ids)), sq.where(Slip.id.in_(ids))
            todo = [("result", i) for i in s.scalars(rq.order_by(Result.issued_at).limit(limit))]
            todo += [("slip", i) for i in s.scalars(sq.order_by(Slip.issued_at).limit(limit))]
        issued = failed = 0
        for kind, doc_id in todo:
            try:
                if self._issue_one(kind, doc_id, on_signed):
                    issued += 1
            except Exception as exc:  # the document stays pending; the next run retries it
                failed += 1
                log.exception("issuing %s %s failed", kind, doc_id)
                model = Result if kind == "result" else Slip
                with self.uow() as uow:
                    uow.session.execute(update(model).where(model.id == doc_id).values(
                        issue_attempts=model.issue_attempts + 1, issue_error=f"{type(exc).__name__}"[:300]))
                    uow.commit()
        return IssueReport(issued, failed, self._count_pending())

    def _count_pending(self) -> int:
        from sqlalchemy import func

        with self.uow(write=False) as uow:
            s = uow.session
            return (s.execute(select(func.count()).select_from(Result).where(Result.status == "pending")).scalar_one()
                    + s.execute(select(func.count()).select_from(Slip).where(Slip.status == "pending")).scalar_one())

    def _issue_one(self, kind: str, doc_id: str, on_signed: Callable[[str, str], None] | None) -> bool:
        now = self.clock()
        with self.uow(write=False) as uow:
            s = uow.session
            if kind == "result":
                job = self._result_job(s, doc_id)
            else:
                job = self._slip_job(s, doc_id)
            if job is None:
                return False
            self._ensure_parties(s, [(k, key) for _, k, key in job["signers"]])
        pdf = self.issuer.issue(job["template"], job["context"], attachment=job["attachment"], title=job["title"],
                                verify_url=job["verify_url"], signers=job["signers"])
        if on_signed is not None:
            on_signed(kind, doc_id)  # tests stop a worker here: signed, not yet stored
        digest = self.blobs.put(pdf)
        model = Result if kind == "result" else Slip
        values: dict[str, Any] = {"status": "valid", "pdf_sha256": digest, "signed_at": now, "issue_error": None}
        if kind == "result":
            values["signed_sha256"] = digest
        with self.uow() as uow:
            done = uow.session.execute(update(model).where(model.id == doc_id, model.status == "pending")
                                       .values(**values).execution_options(synchronize_session=False)).rowcount
            uow.commit()
        return bool(done)

    def _result_job(self, s: Any, result_id: str) -> dict | None:
        r = s.get(Result, result_id)
        if r is None or r.status != "pending":
            return None
        proc = self.procedure_version(r.procedure_id, r.procedure_version, s)
        spec = next(x for x in proc.results if x.id == r.result_key)
        agency = s.get(Agency, r.issuer_agency_id)
        signers = list(r.signers or [])
        attachment = {"id": r.id, "number": r.number, "evidence_type": r.evidence_type, "issuer": agency.code,
                      "issued_at": r.issued_at.isoformat(), "holders": sorted(h.personal_id for h in r.holders),
                      "data": r.data}
        return {
            "template": Path(proc.folder) / spec.template,
            "context": {"result": {"id": r.id, "number": r.number, "issued_at": r.issued_at.isoformat()},
                        "agency": {"name": agency.name_vi, "code": agency.code, "address": agency.address},
                        "data": dict(r.data or {}),
                        "signers": [{"name": x["name"], "title": x["title"]} for x in signers]},
            "attachment": attachment, "title": f"{spec.title.vi} {r.number}",
            "verify_url": self.verify_url(r.id),
            "signers": [(x["role"], x["kind"], x["key"]) for x in signers],
        }

    def _slip_job(self, s: Any, slip_id: str) -> dict | None:
        slip = s.get(Slip, slip_id)
        if slip is None or slip.status != "pending" or self.slips_dir is None:
            return None
        agency = s.get(Agency, slip.issuer_agency_id)
        context = dict(slip.context)
        context["slip"] = dict(context["slip"], number=slip.number)
        return {
            "template": self.slips_dir / SLIP_TEMPLATES[slip.form], "context": context, "attachment": None,
            "title": f"{SLIP_TITLES[slip.form]} {slip.number}", "verify_url": self.verify_url(slip.id),
            "signers": [("agency", "agency", agency.code)],
        }

    def _ensure_parties(self, s: Any, parties: list[tuple[str, str]]) -> None:
        missing = [(k, key) for k, key in parties if not self.issuer.has_party(k, key)]
        if missing:
            self.issuer.ensure_parties(self._party_records(s, missing))

    def _party_records(self, s: Any, parties: list[tuple[str, str]]) -> list[dict[str, str]]:
        out = []
        for kind, key in parties:
            if kind == "agency":
                a = s.execute(select(Agency).where(Agency.code == key)).scalar_one()
                out.append({"kind": "agency", "key": a.code, "common_name": a.name_vi, "organization": a.name_vi})
            else:
                acc = s.execute(select(Account).where(Account.username == key)).scalar_one()
                agency = s.get(Agency, acc.agency_id)
                role = next((r for r in ("leader", "records") if r in (acc.roles or [])), "")
                out.append({"kind": "officer", "key": acc.username, "common_name": acc.display_name,
                            "organization": agency.name_vi if agency else "", "title": ROLE_TITLES.get(role, "")})
        return out

    def ensure_signing_parties(self) -> int:
        """Certificates for every agency seal and every leader and records clerk (motcua init)."""
        if self.issuer is None:
            return 0
        with self.uow(write=False) as uow:
            s = uow.session
            parties = [("agency", a.code) for a in s.scalars(select(Agency))]
            for acc in s.scalars(select(Account).where(Account.kind == "staff")):
                if {"leader", "records"} & set(acc.roles or []):
                    parties.append(("officer", acc.username))
            self.issuer.ensure_parties(self._party_records(s, parties))
        return len(parties)

    # ----------------------------------------------------------------- reading and verifying

    def verify_url(self, document_id: str) -> str:
        return f"{self.public_url.rstrip('/')}/verify/{document_id}/{rules.verification_token(self.secret, document_id)}"

    def document_pdf(self, kind: str, document_id: str, actor: Actor, *, purpose: str | None = None) -> tuple[bytes, str]:
        """The signed PDF of a result (its holders, the issuing agency's staff, readers with a basis, logged)
        or of a slip (whoever sees the dossier)."""
        with self.uow() as uow:
            s = uow.session
            if kind == "result":
                r = s.get(Result, document_id) if _is_id(document_id) else None
                if r is None:
                    raise NotFoundError("Không tìm thấy kết quả / result not found")
                if not self._may_read_result(actor, r):
                    basis = self._read_basis(s, actor, r)
                    if basis is None:
                        raise NotFoundError("Không tìm thấy kết quả / result not found")
                    self._log_read(s, actor, r, clean_purpose(purpose) if actor.kind == "agency_client"
                                   else (purpose or "giải quyết hồ sơ / handling a dossier"), basis, "pdf")
                    uow.commit()
                digest, name, status = r.pdf_sha256, f"{r.evidence_type}-{r.number.replace('/', '-')}.pdf", r.status
            else:
                slip = s.get(Slip, document_id) if _is_id(document_id) else None
                if slip is None:
                    raise NotFoundError("Không tìm thấy phiếu / slip not found")
                self._load_visible(s, slip.dossier_id, actor)
                digest, name, status = slip.pdf_sha256, f"mau-{slip.form}-{slip.number.replace('/', '-')}.pdf", None
        if digest is None:
            if kind == "slip" or status == "pending":
                raise ActionNotAllowedError("Văn bản đang được ký số; thử lại sau ít phút / the document is still being signed")
            raise NotFoundError("Bản ghi này được số hóa từ sổ hộ tịch, không có tệp ký số / "
                                "this record was digitised from a register and has no signed file")
        return self.blobs.get(digest), name

    def _may_read_result(self, actor: Actor, r: Result) -> bool:
        holders = {h.personal_id for h in r.holders}
        return bool((actor.is_citizen and actor.personal_id in holders)
                    or (actor.is_staff and actor.agency_id == r.issuer_agency_id))

    def verify_document(self, pdf: bytes) -> VerificationView:
        """Signatures, chain to our root, the file's hash against the store, and the store status."""
        if self.issuer is None:
            raise ValidationError("verification is not configured")
        report = self.issuer.verify(pdf)
        digest = report["sha256"] or hashlib.sha256(pdf).hexdigest()
        document = self._stored_document(digest)
        signatures = [SignatureView(**{k: sig.get(k) for k in SignatureView.__dataclass_fields__})
                      for sig in report["signatures"]]
        problem = report["problem"]
        valid = bool(report["valid"])
        if valid and document is None:
            valid, problem = False, "not issued by this system (unknown to the store)"
        elif valid and document.status != "valid":
            valid, problem = False, f"the document is {document.status}"
        return VerificationView(valid, problem, digest, signatures, document)

    def _stored_document(self, digest: str) -> StoredDocumentView | None:
        now = self.clock()
        with self.uow(write=False) as uow:
            s = uow.session
            r = s.execute(select(Result).where((Result.pdf_sha256 == digest) | (Result.signed_sha256 == digest))).scalars().first()
            if r is not None:
                agency = s.get(Agency, r.issuer_agency_id)
                st = rules.standing(r.status, r.valid_until, now, r.status_reason)
                title = self.catalogue.evidence_types.get(r.evidence_type)
                return StoredDocumentView("result", r.id, r.number, title.title.vi if title else r.evidence_type,
                                          agency.name_vi, r.issued_at, st.status, st.reason, True,
                                          sorted(h.personal_id for h in r.holders), dict(r.data or {}))
            slip = s.execute(select(Slip).where(Slip.pdf_sha256 == digest)).scalars().first()
            if slip is not None:
                agency = s.get(Agency, slip.issuer_agency_id)
                return StoredDocumentView("slip", slip.id, slip.number, SLIP_TITLES[slip.form], agency.name_vi,
                                          slip.issued_at, slip.status, None, True, [], {})
        return None

    def verification_page(self, document_id: str, token: str) -> tuple[StoredDocumentView, VerificationView | None]:
        """What the QR code opens: the stored document and a fresh check of its stored file."""
        if not _is_id(document_id) or not rules.token_matches(self.secret, document_id, token):
            raise NotFoundError("Mã xác thực không đúng / unknown document or wrong token")
        now = self.clock()
        with self.uow(write=False) as uow:
            s = uow.session
            r = s.get(Result, document_id)
            slip = None if r is not None else s.get(Slip, document_id)
            if r is None and slip is None:
                raise NotFoundError("Mã xác thực không đúng / unknown document or wrong token")
            digest = r.pdf_sha256 if r is not None else slip.pdf_sha256
            if r is not None:
                agency = s.get(Agency, r.issuer_agency_id)
                st = rules.standing(r.status, r.valid_until, now, r.status_reason)
                title = self.catalogue.evidence_types.get(r.evidence_type)
                doc = StoredDocumentView("result", r.id, r.number, title.title.vi if title else r.evidence_type,
                                         agency.name_vi, r.issued_at, st.status, st.reason, True,
                                         sorted(h.personal_id for h in r.holders), dict(r.data or {}))
            else:
                agency = s.get(Agency, slip.issuer_agency_id)
                doc = StoredDocumentView("slip", slip.id, slip.number, SLIP_TITLES[slip.form], agency.name_vi,
                                         slip.issued_at, slip.status, None, True, [], {})
        check = self.verify_document(self.blobs.get(digest)) if digest and self.issuer is not None else None
        return doc, check

    def root_pem(self) -> bytes:
        if self.issuer is None:
            raise NotFoundError("no PKI configured")
        return self.issuer.root_pem()

    # ----------------------------------------------------------------- status changes

    def revoke_result(self, result_id: str, reason: Any, actor: Actor) -> Any:
        """A leader of the issuing agency revokes a result, with a reason; it can no longer stand in for paper."""
        reason = reason.strip() if isinstance(reason, str) else ""
        if not reason:
            raise ValidationError("a reason is required", fields={"reason": ["bắt buộc / required"]})
        now = self.clock()
        with self.uow() as uow:
            s = uow.session
            r = s.get(Result, result_id) if _is_id(result_id) else None
            if r is None or not self._may_read_result(actor, r):
                raise NotFoundError("Không tìm thấy kết quả / result not found")
            if not (actor.is_staff and actor.has_role("leader") and actor.agency_id == r.issuer_agency_id):
                raise PermissionDeniedError("Chỉ lãnh đạo cơ quan cấp được thu hồi / only a leader of the issuing agency may revoke")
            if r.status not in ("valid", "pending"):
                raise ActionNotAllowedError(f"the result is already {r.status}")
            r.status, r.status_reason, r.status_changed_at = "revoked", reason[:1000], now
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
            if old is None or not self._may_read_result(actor, old):
                raise NotFoundError("Không tìm thấy kết quả / result not found")
            if not (actor.is_staff and actor.has_role("leader") and actor.agency_id == old.issuer_agency_id):
                raise PermissionDeniedError("only a leader of the issuing agency may correct a result")
            if old.status != "valid":
                raise ActionNotAllowedError(f"only a valid result can be corrected (this one is {old.status})")
            unknown = [k for k in changes if k not in (old.data or {})]
            if unknown or not all(isinstance(v, (str, int, float, bool)) or v is None for v in changes.values()):
                raise ValidationError("unknown or invalid fields", fields={k: ["không có trong kết quả / not in the result"] for k in unknown} or {"data": ["plain values only"]})
            proc = self.procedure_version(old.procedure_id, old.procedure_version, s)
            spec = next(x for x in proc.results if x.id == old.result_key)
            seq = next_in_sequence(s, f"result:{old.issuer_agency_id}:{spec.number}", str(now.year))
            new = Result(number=spec.number.replace("{seq}", str(seq)).replace("{year}", str(now.year)),
                         dossier_id=old.dossier_id, procedure_id=old.procedure_id, procedure_version=old.procedure_version,
                         result_key=old.result_key, evidence_type=old.evidence_type, issuer_agency_id=old.issuer_agency_id,
                         issued_at=now, valid_until=old.valid_until, status="pending", data={**old.data, **changes},
                         supersedes=old.id, issue_attempts=0,
                         signers=self._result_signers(s, actor, s.get(Agency, old.issuer_agency_id), spec.signers))
            new.holders = [ResultHolder(personal_id=h.personal_id) for h in old.holders]
            s.add(new)
            s.flush()
            old.status, old.status_reason, old.status_changed_at, old.superseded_by = "superseded", reason[:1000], now, new.id
            uow.commit()
            new_id = new.id
        if self.issue_inline:
            self.issue_pending(ids=[new_id])
        return self.get_result(new_id, actor)

    def _result_signers(self, s: Any, decider: Actor, agency: Agency, roles: tuple[str, ...]) -> list[dict]:
        out = []
        for role in roles:
            if role == "agency":
                out.append({"role": "agency", "kind": "agency", "key": agency.code, "name": agency.name_vi,
                            "title": "Chữ ký số của cơ quan"})
            elif decider.has_role(role):
                out.append({"role": role, "kind": "officer", "key": decider.username, "name": decider.display_name,
                            "title": ROLE_TITLES.get(role, "")})
            else:  # a signer role the decider does not hold: the agency's first account with it
                acc = s.execute(select(Account).where(Account.agency_id == agency.id, Account.kind == "staff")
                                .order_by(Account.id)).scalars().all()
                holder = next((a for a in acc if role in (a.roles or [])), None)
                if holder is None:
                    raise ActionNotAllowedError(f"no {role} in this agency can sign the result")
                out.append({"role": role, "kind": "officer", "key": holder.username, "name": holder.display_name,
                            "title": ROLE_TITLES.get(role, "")})
        return out

    def archive_results(self, *, limit: int = 1000) -> int:
        """Upgrade valid results to B-LTA (revocation data + document timestamp) before archiving."""
        with self.uow(write=False) as uow:
            ids = list(uow.session.scalars(select(Result.id).where(Result.status == "valid", Result.lta_at.is_(None),
                                                                   Result.pdf_sha256.is_not(None)).limit(limit)))
        return sum(1 for rid in ids if self.upgrade_result(rid))

    def upgrade_result(self, result_id: str) -> bool:
        if self.issuer is None:
            return False
        with self.uow(write=False) as uow:
            r = uow.session.get(Result, result_id)
            if r is None or r.lta_at is not None or r.pdf_sha256 is None:
                return False
            current = r.pdf_sha256
        upgraded = self.issuer.upgrade(self.blobs.get(current))
        digest = self.blobs.put(upgraded)
        with self.uow() as uow:
            done = uow.session.execute(update(Result).where(Result.id == result_id, Result.pdf_sha256 == current)
                                       .values(pdf_sha256=digest, lta_at=self.clock())
                                       .execution_options(synchronize_session=False)).rowcount
            uow.commit()
        return bool(done)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 36


def _main_role(actor: Actor) -> str:
    return next((r for r in ("leader", "records", "clerk", "specialist") if actor.has_role(r)), "")
