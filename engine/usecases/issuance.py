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

from engine.adapters import queries
from engine.adapters.models import Account, Agency, Dossier, Result, ResultHolder, SignedVerdict, Slip, new_uuid
from engine.adapters.sequences import next_in_sequence
from engine.adapters.uow import UnitOfWork
from engine.rules.access import Actor
from engine.rules.definitions import Procedure
from engine.rules.errors import ActionNotAllowedError, NotFoundError
from engine.rules.copies import COPY_KEY, copies_wanted
from engine.rules.slips import SLIP_FORMS, SLIP_TEMPLATES, SLIP_TITLES, signature
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
    def render_unsigned(self, template: Path, context: dict, *, title: str) -> bytes: ...
    def verify(self, pdf: bytes) -> dict[str, Any]: ...
    def recheck(self, verdict: dict[str, Any]) -> dict[str, Any]: ...
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
                 writeback: WriteBack | None = None, population: Any = None, feed: Feed | None = None):
        self.uow = uow
        self.writeback = writeback
        self.feed = feed
        self.clock = clock
        self.procedures = procedures
        self.blobs = blobs
        self.issuer = issuer
        self.links = links
        self.slips_dir = slips_dir
        self.population = population  # the population register (engine.rules.prefill.PopulationRegister)

    # ----------------------------------------------------------------- recording (inside a transition)

    def queue_slip(self, conn: Any, d: Any, proc: Any, form: str, event_seq: int, now: dt.datetime, actor: Actor,
                   *, reason: str | None, items: list[str] | None,
                   session: Callable[[], Any] | None = None) -> dict[str, Any]:
        """The row of the slip ``form`` this transition records as pending, with everything it prints taken
        from the data: the agency (its place name on the date line), the dossier, its documents, the
        applicant as the population register knows them, and who signs it in what capacity (the slip
        form's signer, :func:`engine.rules.slips.signature`). Its number is taken last, once the rest is
        made (in a transition, that is its first write); the row is written by ``queries.insert_slip``
        once the transition's versioned write has passed. ``session`` makes the
        transaction's ORM session, for a register read the dossier's row did not bring."""
        spec = SLIP_FORMS[form]
        agency, applicant = queries.parties(conn, d)  # read with the dossier in a transition
        unit = UNIT_TEXT.get(proc.time_limit_unit, "")
        role = _main_role(actor)
        sign = signature(spec, roles=set(actor.roles), name=actor.display_name, title=ROLE_TITLES.get(role, ""),
                         agency_level=agency["level"])
        context = {
            "slip": {"form": form, "issued_at": now.isoformat(), "printed_form": spec.printed_form},
            "agency": {"name": agency["name_vi"], "code": agency["code"], "address": agency["address"],
                       "place": agency["place_name"]},
            "dossier": {
                "code": d.code, "procedure_title": proc.title.vi, "procedure_code": proc.code,
                "received_at": _iso(d.received_at), "due_at": _iso(d.due_at), "original_due_at": _iso(d.original_due_at),
                "channel": d.channel, "sets": 1,
                "documents": self._documents_received(conn, d, proc),
                "time_limit_text": (f"{proc.time_limit_value:g} {unit}".strip() if unit else "giải quyết ngay"),
                "log_entry": getattr(d, "log_entry", None),
                "log_book": log_book_reference(getattr(d, "log_entry", None), d.received_at),
            },
            "applicant": {"name": applicant["display_name"], "personal_id": applicant["personal_id"],
                          **self.contacts(session, applicant["personal_id"], d)},
            "items": items or [], "reason": reason,
            "new_due_at": _iso(d.due_at) if form == "04" else None,
            "signature": sign,
            "signers": [{"name": sign["name"], "title": sign["title"] or sign["capacity"]},
                        {"name": agency["name_vi"], "title": "Chữ ký số của cơ quan"}],
            # the certificates that sign it, in order: the official, then the agency's seal
            "signed_by": [[role or "officer", "officer", actor.username], ["agency", "agency", agency["code"]]]
            if actor.is_staff and actor.account_id else [["agency", "agency", agency["code"]]],
        }
        # the number last: taking it is the transition's first write (on SQLite, its turn to write begins)
        seq = next_in_sequence(conn, f"slip:{agency['id']}:{form}", str(now.year))
        return {"id": new_uuid(), "dossier_id": d.id, "event_seq": event_seq, "form": form,
                "number": f"{seq:04d}/{spec.suffix}", "issuer_agency_id": agency["id"], "issued_at": now,
                "status": "pending", "context": context, "issue_attempts": 0}

    def contacts(self, s: Any, personal_id: str | None, d: Any = None) -> dict[str, str | None]:
        """The applicant's address, phone and e-mail as the population register holds them (the current
        residence, else the permanent one). Nothing the applicant typed: unknown stays empty. Accounts
        carry no phone or e-mail, so the register is the only source. ``s``: the session, or a function
        that makes it (asked only when the dossier's row did not bring the contacts)."""
        out: dict[str, str | None] = {"address": None, "phone": None, "email": None}
        if not personal_id or self.population is None:
            return out
        try:
            if getattr(self.population, "reads_through_session", False):  # the local register
                # a transition's row read them with the dossier (from the applicant's account), else one statement
                a = d.contacts if isinstance(d, queries.DossierRow) and d.applicant_personal_id == personal_id \
                    else self.population.contacts(personal_id, session=s() if callable(s) else s)
            else:
                record = self.population.person(personal_id)
                a = record.attributes if record is not None else None
        except Exception:  # the register is down: the slip is still issued, with empty contact lines
            log.warning("population register unavailable for a slip's contact lines", exc_info=True)
            return out
        if a is None:
            return out
        out["address"] = a.get("current_address") or a.get("permanent_address")
        out["phone"], out["email"] = a.get("phone"), a.get("email")
        return out

    @staticmethod
    def _documents_received(conn: Any, d: Dossier, proc: Any) -> list[dict[str, Any]]:
        """Every paper received: the declaration itself first, then each current document (a stored result
        standing in for paper named with its number), each with how it was given and how many."""
        title = proc.title.vi
        declaration = {"label": f"Tờ khai {title[:1].lower()}{title[1:]}", "by": "electronic" if d.channel == "online"
                       else "original", "quantity": 1}
        docs = queries.current_documents(conn, d)  # shared with the transition's guard and view
        labels = {doc.id: doc.label.vi for doc in proc.documents}
        out = [declaration]
        for _, requirement, result_id, _, _, _, _, _, number in docs:
            label = labels.get(requirement, requirement)
            if result_id:
                out.append({"label": f"{label} số {number}" if number else label, "by": "reused", "quantity": 1})
            else:
                out.append({"label": label, "by": "electronic" if d.channel == "online" else "copy", "quantity": 1})
        return out

    def record_results(self, s: Any, d: Dossier, proc: Procedure, now: dt.datetime, decider: Actor) -> list[str]:
        agency = s.get(Agency, d.agency_id)
        applicant = s.get(Account, d.applicant_account_id)
        ids: list[str] = []
        for spec in proc.results:
            seq = next_in_sequence(s.connection(), f"result:{agency.id}:{spec.number}", str(now.year))
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
            # the copies the form asks for ("Bản sao trích lục ..."): each a signed result of its own,
            # same data and holders, numbered "bản sao số n/N"
            total = copies_wanted(spec.copies, d.data or {})
            for n in range(1, total + 1):
                copy = Result(number=f"{number}/BS{n}", dossier_id=d.id, procedure_id=proc.id,
                              procedure_version=proc.version, result_key=spec.id, evidence_type=spec.evidence,
                              issuer_agency_id=agency.id, issued_at=now, valid_until=valid_until, status="pending",
                              data={**data, COPY_KEY: {"no": n, "of": total, "original": number}},
                              issue_attempts=0, signers=list(result.signers or []), supersedes=None)
                copy.holders = [ResultHolder(personal_id=h) for h in dict.fromkeys(holders)]
                s.add(copy)
                s.flush()
                ids.append(copy.id)
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
        verdict = self.verdict(pdf)
        model = Result if kind == "result" else Slip
        values: dict[str, Any] = {"status": "valid", "pdf_sha256": digest, "signed_at": now, "issue_error": None}
        if kind == "result":
            values["signed_sha256"] = digest
        with self.uow() as uow:
            done = uow.session.execute(update(model).where(model.id == doc_id, model.status == "pending")
                                       .values(**values).execution_options(synchronize_session=False)).rowcount
            if done:
                self.store_verdict(uow.session, digest, verdict, now)
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
        data = dict(r.data or {})
        copy = data.pop(COPY_KEY, None)
        copy_view = ({"no": copy["no"], "of": copy["of"], "original": copy["original"],
                      "title": spec.copies.title.vi if spec.copies else f"Bản sao {spec.title.vi}"} if copy else None)
        return {
            "template": Path(proc.folder) / spec.template,
            "context": {"result": {"id": r.id, "number": r.number, "issued_at": r.issued_at.isoformat()},
                        "agency": {"name": agency.name_vi, "code": agency.code, "address": agency.address},
                        "data": data, "copy": copy_view,
                        "signers": [{"name": x["name"], "title": x["title"]} for x in signers]},
            "attachment": attachment,
            "title": f"{copy_view['title'] if copy_view else spec.title.vi} {r.number}",
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
        context.setdefault("signature", None)  # slips recorded before the signature block was data
        signed_by = context.pop("signed_by", None) or [["agency", "agency", agency.code]]
        return {
            "template": self.slips_dir / SLIP_TEMPLATES[slip.form], "context": context, "attachment": None,
            "title": f"{SLIP_TITLES[slip.form]} {slip.number}", "verify_url": self.links.verify_url(slip.id),
            "signers": [tuple(x) for x in signed_by],
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
                role = next((r for r in ("leader", "records", "clerk", "specialist") if r in (acc.roles or [])), "")
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
        verdict = self.verdict(upgraded)
        now = self.clock()
        with self.uow() as uow:
            done = uow.session.execute(update(Result).where(Result.id == result_id, Result.pdf_sha256 == current)
                                       .values(pdf_sha256=digest, lta_at=now)
                                       .execution_options(synchronize_session=False)).rowcount
            if done:
                self.store_verdict(uow.session, digest, verdict, now)
            uow.commit()
        return bool(done)

    # ----------------------------------------------------------------- stored verdicts

    def verdict(self, pdf: bytes) -> dict[str, Any]:
        """The full check of a file just signed (or upgraded), as it is stored: without the attachment."""
        report = dict(self.issuer.verify(pdf))
        report.pop("attachment", None)
        return report

    @staticmethod
    def store_verdict(s: Any, digest: str, verdict: dict[str, Any], now: dt.datetime) -> None:
        """Keep ``verdict`` for the file whose SHA-256 is ``digest`` (in the caller's transaction). Only
        files this system signed get one; an upload is never stored, so it can never be answered from one."""
        if s.get(SignedVerdict, digest) is None:
            s.add(SignedVerdict(sha256=digest, verdict=verdict, verified_at=now))

    def record_verdict(self, pdf: bytes) -> str:
        """Check and keep the verdict of a signed file of ours already in the store (a document issued
        before verdicts were kept, the benchmark); returns its SHA-256."""
        digest = self.blobs.put(pdf)
        verdict = self.verdict(pdf)
        with self.uow() as uow:
            self.store_verdict(uow.session, digest, verdict, self.clock())
            uow.commit()
        return digest



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


def log_book_reference(entry: int | None, received_at: dt.datetime | None) -> str | None:
    """The log-book reference printed on form 01: the year's book and the entry's number in it."""
    if not entry or received_at is None:
        return None
    return f"Sổ năm {received_at.year}, số thứ tự {entry:02d}"


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _main_role(actor: Actor) -> str:
    return next((r for r in ("leader", "records", "clerk", "specialist") if actor.has_role(r)), "")
