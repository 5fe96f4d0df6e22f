"""Use cases of the once-only principle: prefill with provenance, results standing in for paper,
consent, the access log of the results store, and the KPIs that measure it (part of Services)."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from engine.rules import metrics
from engine.rules import results as rules
from engine.rules.access import Actor
from engine.rules.definitions import Procedure
from engine.rules.errors import NotFoundError, PermissionDeniedError, ValidationError
from engine.rules.forms import check_value
from engine.adapters.models import Account, Agency, Consent, Document, Dossier, Person, Result, ResultAccess, ResultHolder
from engine.rules.prefill import Applicant, PrefillOutcome, declared_share, definition_share, merge

log = logging.getLogger(__name__)

MAX_PURPOSE = 300


@dataclass(frozen=True)
class PrefillField:
    value: Any
    source: str
    record: str
    label: str
    label_en: str
    editable: bool


@dataclass(frozen=True)
class PrefillView:
    procedure: str
    version: int
    fields: dict[str, PrefillField]
    counts: dict[str, int]
    unavailable_sources: list[str]
    withheld: list[str]
    documents: dict[str, dict[str, Any]]  # requirement -> the stored result that will stand in for it


@dataclass(frozen=True)
class AccessEntry:
    result_id: str
    result_number: str
    evidence_type: str
    reader: str
    reader_agency: str | None
    purpose: str
    basis: str
    what: str
    at: dt.datetime


@dataclass(frozen=True)
class ConsentView:
    id: int
    agency: str
    agency_name: str
    evidence_type: str
    granted_at: dt.datetime
    withdrawn_at: dt.datetime | None


@dataclass(frozen=True)
class ProcedureCut:
    id: str
    code: str
    version: int
    title: str
    fields: int
    prefillable: int
    definition_cut: float
    measured_cut: float | None
    dossiers: int


class ReuseMixin:
    prefiller: Any

    # ----------------------------------------------------------------- prefill

    def _applicant(self, s: Any, account: Account, *, staff_filing: bool) -> Applicant:
        person = s.execute(select(Person).where(Person.personal_id == account.personal_id)).scalar_one_or_none() \
            if account.personal_id else None
        return Applicant(account.id, account.username, account.personal_id, account.display_name,
                         person.phone if person else None, person.email if person else None, staff_filing)

    def _applicant_for_actor(self, actor: Actor, applicant_pid: str | None) -> Applicant:
        with self.uow(write=False) as uow:
            s = uow.session
            if actor.is_citizen:
                account = s.get(Account, actor.account_id)
                return self._applicant(s, account, staff_filing=False)
            person = s.execute(select(Person).where(Person.personal_id == applicant_pid)).scalar_one_or_none()
            if person is None:
                return Applicant(None, applicant_pid or "", applicant_pid, "", None, None, True)
            return Applicant(None, person.personal_id, person.personal_id, person.full_name, person.phone,
                             person.email, True)

    def _prefill(self, proc: Procedure, applicant: Applicant, form: dict[str, Any], now: dt.datetime) -> PrefillOutcome:
        if self.prefiller is None or not applicant.personal_id:
            return PrefillOutcome()
        return self.prefiller.prefill(proc, applicant, form, now)

    def prefill_for(self, procedure_id: str, actor: Actor, hints: dict[str, str] | None = None) -> PrefillView:
        """What a citizen would find already filled in, and where each value comes from."""
        hints = dict(hints or {})
        applicant_pid = hints.pop("applicant", None)
        if actor.is_staff:
            # at the counter: the clerk names the walk-in citizen the dossier is filed for
            if not (isinstance(applicant_pid, str) and applicant_pid.isdigit() and len(applicant_pid) == 12):
                raise ValidationError("applicant: a 12-digit personal id", fields={"applicant": ["12 chữ số / 12 digits"]})
        elif not actor.is_citizen:
            raise PermissionDeniedError("prefill is for citizens and for staff filing at the counter")
        proc = self.get_procedure(procedure_id)
        form: dict[str, Any] = {}
        for key, value in hints.items():
            f = proc.field(key)
            if f is not None and f.type == "personal_id":
                norm, problem = check_value(f, value)
                if problem:
                    raise ValidationError("invalid personal id", fields={key: [problem]})
                form[key] = norm
        now = self.clock()
        applicant = self._applicant_for_actor(actor, applicant_pid if actor.is_staff else None)
        outcome = self._prefill(proc, applicant, form, now)
        _, provenance, _ = merge(proc, form, outcome, check_value)
        fields = {fid: PrefillField(p.value, p.source, p.record, p.label, p.label_en, p.editable)
                  for fid, p in outcome.values.items() if fid in provenance}
        counts = {"total": len(proc.fields), "prefilled": len(fields), "to_declare": len(proc.fields) - len(fields)}
        with self.uow(write=False) as uow:
            docs = {req: {"result_id": r.id, "number": r.number, "evidence": r.evidence_type}
                    for req, r in self._reusable_results(uow.session, proc, applicant.personal_id).items()}
        return PrefillView(proc.id, proc.version, fields, counts, outcome.failed_sources, outcome.withheld, docs)

    def _family(self, personal_id: str | None, session: Any = None) -> set[str]:
        """The applicant and the people linked to them in the register (spouse, parents, children).

        Inside a transaction pass its ``session``: the local register then reads through it, so a
        request never holds two database connections at once."""
        if not personal_id:
            return set()
        population = self.prefiller.population if self.prefiller else None
        try:
            if population is None:
                record = None
            elif session is not None and hasattr(population, "_person"):
                record = population.person(personal_id, session=session)
            else:
                record = population.person(personal_id)
        except Exception:
            log.warning("population register unavailable while resolving linked persons", exc_info=True)
            record = None
        return {personal_id} | (record.linked() if record else set())

    def _reusable_results(self, s: Any, proc: Procedure, personal_id: str | None) -> dict[str, Result]:
        """For each requirement a stored result may replace: the newest valid one of the family."""
        wanted = {d.id: d.replaced_by for d in proc.documents if d.replaced_by}
        family = self._family(personal_id, session=s)
        if not wanted or not family:
            return {}
        now = self.clock()
        rows = s.scalars(select(Result).join(ResultHolder).where(
            ResultHolder.personal_id.in_(family), Result.evidence_type.in_(set(wanted.values())),
            Result.status == "valid").order_by(Result.issued_at.desc())).unique().all()
        out: dict[str, Result] = {}
        for req, evidence in wanted.items():
            match = next((r for r in rows if r.evidence_type == evidence and rules.reusable(r.status, r.valid_until, now)), None)
            if match is not None:
                out[req] = match
        return out

    def _auto_link(self, s: Any, d: Dossier, proc: Procedure, personal_id: str | None, actor: Actor,
                   now: dt.datetime) -> list[str]:
        linked = []
        for req, result in self._reusable_results(s, proc, personal_id).items():
            s.add(Document(dossier_id=d.id, requirement_id=req, result_id=result.id,
                           added_by_account_id=actor.account_id, added_at=now))
            linked.append(req)
        return linked

    # ----------------------------------------------------------------- consent

    def list_consents(self, actor: Actor) -> list[ConsentView]:
        _citizen_only(actor)
        with self.uow(write=False) as uow:
            s = uow.session
            rows = s.execute(select(Consent, Agency).join(Agency, Agency.id == Consent.agency_id)
                             .where(Consent.personal_id == actor.personal_id).order_by(Consent.granted_at)).all()
            return [ConsentView(c.id, a.code, a.name_vi, c.evidence_type, c.granted_at, c.withdrawn_at) for c, a in rows]

    def grant_consent(self, actor: Actor, agency_code: Any, evidence_type: Any) -> ConsentView:
        _citizen_only(actor)
        if not isinstance(agency_code, str) or not agency_code:
            raise ValidationError("agency is required", fields={"agency": ["bắt buộc / required"]})
        if not isinstance(evidence_type, str) or evidence_type not in self.catalogue.evidence_types:
            raise ValidationError("unknown evidence type", fields={"evidence": ["loại kết quả không có / unknown type"]})
        now = self.clock()
        with self.uow() as uow:
            s = uow.session
            agency = s.execute(select(Agency).where(Agency.code == agency_code)).scalar_one_or_none()
            if agency is None:
                raise ValidationError("unknown agency", fields={"agency": ["không có cơ quan này / unknown agency"]})
            existing = s.execute(select(Consent).where(
                Consent.personal_id == actor.personal_id, Consent.agency_id == agency.id,
                Consent.evidence_type == evidence_type, Consent.withdrawn_at.is_(None))).scalar_one_or_none()
            consent = existing or Consent(personal_id=actor.personal_id, agency_id=agency.id,
                                          evidence_type=evidence_type, granted_at=now)
            s.add(consent)
            uow.commit()
            return ConsentView(consent.id, agency.code, agency.name_vi, evidence_type, consent.granted_at, None)

    def withdraw_consent(self, actor: Actor, consent_id: Any) -> ConsentView:
        _citizen_only(actor)
        now = self.clock()
        with self.uow() as uow:
            s = uow.session
            c = s.get(Consent, consent_id) if isinstance(consent_id, int) else None
            if c is None or c.personal_id != actor.personal_id:
                raise NotFoundError("no such consent")
            if c.withdrawn_at is None:
                c.withdrawn_at = now
            agency = s.get(Agency, c.agency_id)
            uow.commit()
            return ConsentView(c.id, agency.code, agency.name_vi, c.evidence_type, c.granted_at, c.withdrawn_at)

    # ----------------------------------------------------------------- agency reads and the access log

    def _read_basis(self, s: Any, actor: Actor, result: Result) -> str | None:
        """Why this reader may read this result, or None. Holders and the issuing agency need no basis."""
        if actor.kind == "agency_client":
            if result.evidence_type in self._allowed_evidence(s, actor):
                return "law"
            holders = [h.personal_id for h in result.holders]
            consented = s.execute(select(func.count()).select_from(Consent).where(
                Consent.personal_id.in_(holders), Consent.agency_id == actor.agency_id,
                Consent.evidence_type == result.evidence_type, Consent.withdrawn_at.is_(None))).scalar_one()
            return "consent" if consented else None
        if actor.is_staff and actor.agency_id != result.issuer_agency_id:
            used = s.execute(select(func.count()).select_from(Document).join(Dossier, Dossier.id == Document.dossier_id)
                             .where(Document.result_id == result.id, Dossier.agency_id == actor.agency_id)).scalar_one()
            return "dossier" if used else None
        return None

    def _allowed_evidence(self, s: Any, actor: Actor) -> set[str]:
        account = s.get(Account, actor.account_id)
        return set(account.allowed_evidence or [])

    def _log_read(self, s: Any, actor: Actor, result: Result, purpose: str, basis: str, what: str) -> None:
        s.add(ResultAccess(result_id=result.id, reader_account_id=actor.account_id, reader_name=actor.display_name,
                           reader_agency_id=actor.agency_id, purpose=purpose, basis=basis, what=what, at=self.clock()))

    def access_log(self, actor: Actor) -> list[AccessEntry]:
        """Who read which of my results, when and why (newest first)."""
        _citizen_only(actor)
        with self.uow(write=False) as uow:
            s = uow.session
            rows = s.execute(
                select(ResultAccess, Result, Agency)
                .join(Result, Result.id == ResultAccess.result_id)
                .join(ResultHolder, ResultHolder.result_id == Result.id)
                .outerjoin(Agency, Agency.id == ResultAccess.reader_agency_id)
                .where(ResultHolder.personal_id == actor.personal_id)
                .order_by(ResultAccess.at.desc(), ResultAccess.id.desc())
            ).all()
            return [AccessEntry(r.id, r.number, r.evidence_type, a.reader_name, ag.name_vi if ag else None, a.purpose,
                                a.basis, a.what, a.at) for a, r, ag in rows]

    # ----------------------------------------------------------------- KPIs and the declared-field cut

    def procedure_cuts(self) -> list[ProcedureCut]:
        """Per procedure: fields the definition can prefill, and the share measured on filed dossiers."""
        out = []
        with self.uow(write=False) as uow:
            s = uow.session
            for proc in self.catalogue.current():
                rows = s.execute(select(Dossier.provenance).where(
                    Dossier.procedure_id == proc.id, Dossier.procedure_version == proc.version,
                    Dossier.submitted_at.is_not(None))).scalars().all()
                measured = sum(declared_share(proc, p or {}) for p in rows) / len(rows) if rows else None
                out.append(ProcedureCut(proc.id, proc.code, proc.version, proc.title.vi, len(proc.fields),
                                        sum(1 for f in proc.fields if f.prefill), definition_share(proc),
                                        measured, len(rows)))
        return out

    def kpis(self, actor: Actor, start: dt.datetime | None = None, end: dt.datetime | None = None) -> dict[str, Any]:
        if not actor.is_staff:
            raise PermissionDeniedError("KPIs are for staff")
        now = self.clock()
        end = end or now
        start = start or (end - dt.timedelta(days=365))
        if start > end:
            raise ValidationError("from must be before to", fields={"from": ["sau 'to' / after 'to'"]})
        with self.uow(write=False) as uow:
            s = uow.session
            dossiers = s.scalars(select(Dossier).where(
                Dossier.agency_id == actor.agency_id, Dossier.received_at.is_not(None),
                Dossier.received_at >= start, Dossier.received_at <= end)).all()
            ids = [d.id for d in dossiers]
            reused = set(s.scalars(select(Document.dossier_id).where(Document.dossier_id.in_(ids),
                                                                        Document.result_id.is_not(None)))) if ids else set()
            results = s.execute(select(Result.dossier_id, Result.pdf_sha256).where(Result.dossier_id.in_(ids))).all() if ids else []
            submitted = s.scalars(select(Dossier).where(
                Dossier.agency_id == actor.agency_id, Dossier.submitted_at.is_not(None),
                Dossier.submitted_at >= start, Dossier.submitted_at <= end)).all()
            facts = [metrics.DossierFacts(
                received=True, online=d.channel == "online", due_at=d.due_at, finished_at=d.decided_at or d.closed_at,
                supplement_rounds=d.supplement_rounds, reused=d.id in reused, overdue_now=bool(
                    d.due_at and not (d.decided_at or d.closed_at) and now > d.due_at)) for d in dossiers]
            cuts: dict[str, list[float]] = {}
            for d in submitted:
                proc = self.procedure_version(d.procedure_id, d.procedure_version, s)
                cuts.setdefault(d.procedure_id, []).append(declared_share(proc, d.provenance or {}))
        e_results = {rid for rid, sha in results if sha}
        with_results = {rid for rid, _ in results}
        return metrics.kpis(facts, e_result_dossiers=len(e_results), result_dossiers=len(with_results),
                            cuts_by_procedure=cuts, definition_cuts={p.id: definition_share(p) for p in self.catalogue.current()},
                            period=(start, end))


def _citizen_only(actor: Actor) -> None:
    if not actor.is_citizen:
        raise PermissionDeniedError("Chỉ dành cho công dân / citizens only")


def clean_purpose(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PermissionDeniedError("Phải nêu mục đích khai thác (X-Purpose) / state a purpose (X-Purpose header)")
    value = " ".join(value.split())
    if len(value) > MAX_PURPOSE:
        raise ValidationError("purpose is too long", fields={"X-Purpose": [f"at most {MAX_PURPOSE} characters"]})
    return value
