"""Issuing signed documents. Results and one-stop slips are recorded as *pending* inside the
transition that calls for them (``record_results``, ``queue_slip``), together with a job of the task
queue (engine.usecases.tasks); a worker then renders, signs and stores each one (``issue_document``),
off the request. ``issue_pending`` does the same for every pending document at once (``motcua issue``).

Atomicity: the transition commits the intent (a pending row); the slow work (render, sign) runs
outside any transaction; one short transaction then moves the row from pending to valid with the
file's hash, by compare-and-set. A crash anywhere leaves a pending row that the next run
(``motcua issue``, ``motcua sweep``) finishes; a retry can never produce a second document, and a
pending document is never shown as valid, listed in a store or linked as evidence.
"""
from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, select, update

from engine.adapters.models import Account, Agency, Document, Dossier, Result, ResultHolder, Slip, new_uuid
from engine.adapters.sequences import next_in_sequence
from engine.adapters.uow import UnitOfWork
from engine.rules.access import Actor
from engine.rules.definitions import Procedure
from engine.rules.errors import ActionNotAllowedError, NotFoundError
from engine.rules.slips import SLIP_SUFFIX, SLIP_TEMPLATES, SLIP_TITLES
from engine.usecases.blob_store import BlobStore
from engine.usecases.catalogue import Procedures
from engine.usecases.feed import Feed, result_event
from engine.usecases.links import Links
from engine.usecases.writeback import WriteBack

log = logging.getLogger(__name__)

ROLE_TITLES = {"leader": "Chủ tịch", "records": "Văn thư", "clerk": "Công chức tiếp nhận và trả kết quả",
               "specialist": "Công chức thụ lý"}
UNIT_TEXT = {"working_days": "ngày làm việc", "days": "ngày", "hours": "giờ làm việc", "immediate": ""}


class DocumentIssuer(Protocol):
    """The port the signing adapter implements: render and sign, verify, upgrade, and signing keys."""

    def issue(self, template: Path, context: dict, *, attachment: dict | None, title: str, verify_url: str,
              signers: list[tuple[str, str, str]]) -> bytes: ...
    def verify(self, pdf: bytes) -> dict[str, Any]: ...
    def upgrade(self, pdf: bytes) -> bytes: ...
    def has_party(self, kind: str, key: str) -> bool: ...
    def ensure_parties(self, parties: list[dict[str, str]]) -> None: ...
    def root_pem(self) -> bytes: ...


@dataclass(frozen=True)
class IssueReport:
    issued: int
    failed: int
    pending: int


class Issuance:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], procedures: Procedures,
                 blobs: BlobStore, issuer: DocumentIssuer | None, links: Links, slips_dir: Path | None,
                 writeback: WriteBack | None = None, feed: Feed | None = None):
        self.uow = uow
        self.writeback = writeback
        self.feed = feed
        self.clock = clock
        self.procedures = procedures
        self.blobs = blobs
        self.issuer = issuer
        self.links = links
        self.slips_dir = slips_dir

    # ----------------------------------------------------------------- recording (inside a transition)

    def queue_slip(self, s: Any, d: Dossier, proc: Any, form: str, event_seq: int, now: dt.datetime, actor: Actor,
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

    def record_results(self, s: Any, d: Dossier, proc: Procedure, now: dt.datetime, decider: Actor) -> list[str]:
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
            valid_until = add_months(now, spec.validity_months) if spec.validity_months else None
            result_id = new_uuid()
            if spec.writes_back is not None:  # what the result establishes goes into the register, in this transaction
                if self.writeback is None:
                    raise ActionNotAllowedError("no population register to write the result back to")
                data, holders = self.writeback.record(s, spec.writes_back, dossier_id=d.id, result_id=result_id,
                                                      form=d.data or {}, province_code=agency.province_code,
                                                      now=now, data=data, holders=holders)
            result = Result(id=result_id, number=number, dossier_id=d.id, procedure_id=proc.id, procedure_version=proc.version,
                            result_key=spec.id, evidence_type=spec.evidence, issuer_agency_id=agency.id, issued_at=now,
                            valid_until=valid_until, status="pending", data=data, issue_attempts=0,
                            signers=self.result_signers(s, decider, agency, spec.signers))
            result.holders = [ResultHolder(personal_id=h) for h in dict.fromkeys(holders)]
            s.add(result)
            s.flush()
            ids.append(result.id)
        return ids

    def issue_pending(self, *, ids: list[str] | None = None, limit: int = 100,
                      on_signed: Callable[[str, str], None] | None = None) -> IssueReport:
        """Render, sign and store pending documents (these ids, or the oldest pending ones)."""
        if self.issuer is None:
            return IssueReport(0, 0, self.count_pending())
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
                if self._issue_recorded(kind, doc_id, on_signed):
                    issued += 1
            except Exception:  # the document stays pending; the next run retries it
                failed += 1
                log.exception("issuing %s %s failed", kind, doc_id)
        return IssueReport(issued, failed, self.count_pending())

    def issue_document(self, document_id: str, *, on_signed: Callable[[str, str], None] | None = None) -> bool:
        """Render, sign and store one pending result or slip (the task a worker runs). Idempotent: a
        document already issued (or unknown) is left as it is and False returned; the final write is
        a compare-and-set from pending, so a second run can never make a second document. A failure
        is recorded on the document and raised (the queue retries it)."""
        with self.uow(write=False) as uow:
            s = uow.session
            if s.get(Result, document_id) is not None:
                kind = "result"
            elif s.get(Slip, document_id) is not None:
                kind = "slip"
            else:
                return False
        return self._issue_recorded(kind, document_id, on_signed)

    def pending_documents(self, *, limit: int = 1000) -> list[str]:
        """The ids of the documents waiting to be signed, oldest first."""
        with self.uow(write=False) as uow:
            s = uow.session
            ids = list(s.scalars(select(Result.id).where(Result.status == "pending").order_by(Result.issued_at).limit(limit)))
            ids += list(s.scalars(select(Slip.id).where(Slip.status == "pending").order_by(Slip.issued_at).limit(limit)))
        return ids

    def _issue_recorded(self, kind: str, doc_id: str, on_signed: Callable[[str, str], None] | None) -> bool:
        try:
            return self._issue_one(kind, doc_id, on_signed)
        except Exception as exc:
            model = Result if kind == "result" else Slip
            with self.uow() as uow:
                uow.session.execute(update(model).where(model.id == doc_id).values(
                    issue_attempts=model.issue_attempts + 1, issue_error=f"{type(exc).__name__}"[:300]))
                uow.commit()
            raise

    def count_pending(self) -> int:
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
            if done and kind == "result" and self.feed is not None:
                self.feed.append(uow.session.connection(), [self.result_issued_event(uow.session, doc_id, now)])
            uow.commit()
        return bool(done)

    def result_issued_event(self, s: Any, result_id: str, now: dt.datetime) -> dict[str, Any]:
        """The feed's ``result.issued`` event of a result just made valid (with its dossier's code)."""
        r = s.get(Result, result_id)
        s.refresh(r)
        code, status = (s.execute(select(Dossier.code, Dossier.status_code).where(Dossier.id == r.dossier_id)).first()
                        or (None, None))
        return result_event("result.issued", r, now, dossier_code=code, status_code=status)

    def _result_job(self, s: Any, result_id: str) -> dict | None:
        r = s.get(Result, result_id)
        if r is None or r.status != "pending":
            return None
        proc = self.procedures.procedure_version(r.procedure_id, r.procedure_version, s)
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
            "verify_url": self.links.verify_url(r.id),
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
            "title": f"{SLIP_TITLES[slip.form]} {slip.number}", "verify_url": self.links.verify_url(slip.id),
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

    def root_pem(self) -> bytes:
        if self.issuer is None:
            raise NotFoundError("no PKI configured")
        return self.issuer.root_pem()

    def result_signers(self, s: Any, decider: Actor, agency: Agency, roles: tuple[str, ...]) -> list[dict]:
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


def add_months(when: dt.datetime, months: int) -> dt.datetime:
    month = when.month - 1 + months
    year = when.year + month // 12
    month = month % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _main_role(actor: Actor) -> str:
    return next((r for r in ("leader", "records", "clerk", "specialist") if actor.has_role(r)), "")
