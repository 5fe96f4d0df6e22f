"""Prefill and reuse: what the registers and the results store already hold about an applicant and
their family, offered with its provenance, and stored results standing in for paper documents."""
from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from engine.adapters.models import Account, Document, Dossier, Person, Result, ResultHolder
from engine.adapters.uow import UnitOfWork
from engine.rules import register_access
from engine.rules import results as result_rules
from engine.rules.access import Actor
from engine.rules.definitions import Procedure
from engine.rules.errors import PermissionDeniedError, ValidationError
from engine.rules.forms import check_value
from engine.rules.identity import PersonalIdRule
from engine.rules.prefill import Applicant, Prefiller, PrefillOutcome, conflict_message, in_conflict, merge, typed_fields
from engine.rules.register_access import ReadContext
from engine.usecases.access import Access
from engine.usecases.accounts import Accounts
from engine.usecases.catalogue import Procedures

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrefillField:
    value: Any
    source: str
    record: str
    label: str
    label_en: str
    editable: bool


@dataclass(frozen=True)
class TypingSample:
    """One applicant's form after the prefill: how many fields it declares, which they still type."""

    declared: int  # the form's fields
    typed: tuple[str, ...]  # left to type, or in conflict (see engine.rules.prefill.typed_fields)
    conflicts: tuple[str, ...]  # among them, those whose source value cannot be used


@dataclass(frozen=True)
class PrefillConflict:
    """A source's value the field cannot hold: shown beside the field, never put in it."""

    value: Any  # what the source holds
    reason: str  # why it cannot be used, "vi / en"
    message: str  # what the applicant is told, "vi / en"
    source: str
    record: str
    label: str
    label_en: str
    editable: bool  # the applicant may type a value of their own; when False the dossier cannot be submitted


@dataclass(frozen=True)
class PrefillView:
    procedure: str
    version: int
    fields: dict[str, PrefillField]
    counts: dict[str, int]
    unavailable_sources: list[str]
    withheld: list[str]
    documents: dict[str, dict[str, Any]]  # requirement -> the stored result that will stand in for it
    conflicts: dict[str, PrefillConflict] = field(default_factory=dict)


class Prefill:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], procedures: Procedures,
                 prefiller: Prefiller | None, personal_ids: PersonalIdRule, accounts: Accounts, access: Access):
        self.uow = uow
        self.clock = clock
        self.procedures = procedures
        self.accounts = accounts
        self.access = access
        self.prefiller = prefiller
        self.personal_ids = personal_ids
        self.check_value = functools.partial(check_value, ids=personal_ids)  # the form rules, with the id rule

    # ----------------------------------------------------------------- who is applying

    @staticmethod
    def applicant_of(s: Any, account: Account, *, staff_filing: bool) -> Applicant:
        person = s.execute(select(Person.phone, Person.email).where(Person.personal_id == account.personal_id)).first() \
            if account.personal_id else None
        return Applicant(account.id, account.username, account.personal_id, account.display_name,
                         person.phone if person else None, person.email if person else None, staff_filing)

    def applicant_for_actor(self, actor: Actor, applicant_pid: str | None, session: Any = None) -> Applicant:
        """A citizen filing for themself, or the walk-in a clerk names (empty name: unknown to the register).
        Inside a unit of work pass its ``session``."""
        if session is not None:
            return self._applicant_for_actor(session, actor, applicant_pid)
        with self.uow(write=False) as uow:
            return self._applicant_for_actor(uow.session, actor, applicant_pid)

    def _applicant_for_actor(self, s: Any, actor: Actor, applicant_pid: str | None) -> Applicant:
        if actor.is_citizen:
            account = s.get(Account, actor.account_id)
            return self.applicant_of(s, account, staff_filing=False)
        person = s.execute(select(Person.personal_id, Person.full_name, Person.phone, Person.email)
                           .where(Person.personal_id == applicant_pid)).first()
        if person is None:
            return Applicant(None, applicant_pid or "", applicant_pid, "", None, None, True)
        return Applicant(None, person.personal_id, person.personal_id, person.full_name, person.phone,
                         person.email, True)

    # ----------------------------------------------------------------- prefill

    def read_context(self, reader: Actor | None, *, dossier_agency_id: int | None = None,
                     dossier_channel: str | None = None) -> ReadContext:
        """What engine.rules.register_access needs to know of the reader besides the Actor (call it
        outside any open unit of work: it reads the reader's agency)."""
        level = self.accounts.agency_level(reader) if reader is not None and reader.is_staff else None
        return ReadContext(reader_agency_level=level, dossier_agency_id=dossier_agency_id, dossier_channel=dossier_channel)

    def prefill(self, proc: Procedure, applicant: Applicant, form: dict[str, Any], now: dt.datetime,
                reader: Actor | None = None, context: ReadContext | None = None, session: Any = None) -> PrefillOutcome:
        """The prefill as ``reader`` may see it (the applicant when None): see engine.rules.register_access.
        ``session``: a unit of work's session, which the local sources then read through (one connection
        and one transaction for the whole prefill)."""
        if self.prefiller is None or not applicant.personal_id:
            return PrefillOutcome()
        if reader is not None and context is None:
            context = self.read_context(reader)
        prefiller = self.prefiller if session is None else self.prefiller.with_sources(
            _InSession.wrap(self.prefiller.population, session), _InSession.wrap(self.prefiller.results, session))
        return prefiller.prefill(proc, applicant, form, now, reader, context, self.check_value)

    def log_reads(self, s: Any, reader: Actor, outcome: PrefillOutcome | None, shown: Any, purpose: Any, *,
                  procedure_id: str, dossier_id: str | None = None) -> None:
        """Log, in the caller's unit of work, the reads of others' data among the fields ``shown``."""
        reads = outcome.logged_reads(shown) if outcome is not None else {}
        if reads:
            self.access.log_register_reads(s, reader, reads, register_access.purpose_of(reader, purpose),
                                           procedure_id=procedure_id, dossier_id=dossier_id)

    def check_counter(self, proc: Procedure, actor: Actor) -> None:
        """Staff see a walk-in's register data only as the reception clerk of an agency that takes the
        procedure at its counter (the rule of Counter.counter_procedures)."""
        if not (actor.is_staff and actor.has_role("clerk")):
            raise PermissionDeniedError("Chỉ cán bộ tiếp nhận tra cứu dữ liệu dân cư khi nộp hồ sơ tại quầy / "
                                        "only reception clerks filing at the counter see register data")
        if not register_access.takes_at_counter(proc.channels, proc.authority, self.accounts.agency_level(actor)):
            raise PermissionDeniedError("Cơ quan không tiếp nhận thủ tục này tại quầy / "
                                        "your agency does not take this procedure at the counter")

    def prefill_for(self, procedure_id: str, actor: Actor, hints: dict[str, str] | None = None,
                    purpose: str | None = None) -> PrefillView:
        """What a citizen would find already filled in, and where each value comes from. Staff: only the
        reception clerk, for a procedure their agency takes at the counter. Every value shown about
        someone other than the reader is logged for that person (``purpose``: the stated one, else the
        counter filing for staff)."""
        hints = dict(hints or {})
        applicant_pid = hints.pop("applicant", None)
        if actor.is_staff:
            # at the counter: the clerk names the walk-in citizen the dossier is filed for
            if not self.personal_ids.matches(applicant_pid):
                raise ValidationError("applicant: a 12-digit personal id", fields={"applicant": ["12 chữ số / 12 digits"]})
        elif not actor.is_citizen:
            raise PermissionDeniedError("prefill is for citizens and for staff filing at the counter")
        proc = self.procedures.get_procedure(procedure_id)
        if actor.is_staff:
            self.check_counter(proc, actor)
        form: dict[str, Any] = {}
        for key, value in hints.items():
            f = proc.field(key)
            if f is not None and f.type == "personal_id":
                norm, problem = self.check_value(f, value)
                if problem:
                    raise ValidationError("invalid personal id", fields={key: [problem]})
                form[key] = norm
        now = self.clock()
        context = self.read_context(actor)
        with self.uow(write=False) as uow:  # every read of the prefill in one transaction
            applicant = self.applicant_for_actor(actor, applicant_pid if actor.is_staff else None, session=uow.session)
            outcome = self.prefill(proc, applicant, form, now, actor, context, session=uow.session)
            docs = {req: {"result_id": r.id, "number": r.number, "evidence": r.evidence_type}
                    for req, r in self.reusable_results(uow.session, proc, applicant.personal_id,
                                                        family=outcome.family).items()}
        _, provenance, _ = merge(proc, form, outcome, self.check_value)
        fields = {fid: PrefillField(p.value, p.source, p.record, p.label, p.label_en, p.editable)
                  for fid, p in outcome.values.items() if fid in provenance and not in_conflict(provenance[fid])}
        conflicts = {fid: PrefillConflict(e["conflict"]["value"], e["conflict"]["reason"], conflict_message(e),
                                          e["source"], e["record"], e["label"], e["label_en"], e["editable"])
                     for fid, e in provenance.items() if in_conflict(e)}
        counts = {"total": len(proc.fields), "prefilled": len(fields), "to_declare": len(proc.fields) - len(fields),
                  "conflicts": len(conflicts)}
        reads = outcome.logged_reads([*fields, *conflicts])  # a conflict shows the source's value too
        if reads:  # no write unit of work otherwise: one short write for the log
            self.access.record_register_reads(actor, reads, register_access.purpose_of(actor, purpose),
                                              procedure_id=proc.id)
        return PrefillView(proc.id, proc.version, fields, counts, outcome.failed_sources, outcome.withheld, docs,
                           conflicts)

    # ----------------------------------------------------------------- what an applicant still types

    def typing_left(self, procedure_id: str, personal_id: str, hints: dict[str, str] | None = None) -> TypingSample | None:
        """What ``personal_id``, filing ``procedure_id`` online for themself, would still type after the
        real prefill (the register, their family, the results store, the derivations), having typed the
        personal ids in ``hints`` (e.g. the other party of a marriage): the fields with no usable source
        value (left empty, or in conflict). None when the person is not in the register.

        A measurement: it reads as the applicant would, but only counts and field names leave it, nothing
        is shown to anyone, so no read is logged."""
        proc = self.procedures.get_procedure(procedure_id)
        with self.uow(write=False) as uow:
            s = uow.session
            person = s.execute(select(Person).where(Person.personal_id == personal_id)).scalar_one_or_none()
            if person is None:
                return None
            account = s.execute(select(Account).where(Account.username == personal_id)).scalar_one_or_none()
            applicant = Applicant(account.id if account else None, personal_id, personal_id,
                                  account.display_name if account else person.full_name, person.phone, person.email)
        form: dict[str, Any] = {}
        for key, value in (hints or {}).items():
            f = proc.field(key)
            if f is not None and f.type == "personal_id":
                norm, problem = self.check_value(f, value)
                if not problem:
                    form[key] = norm
        outcome = self.prefill(proc, applicant, form, self.clock())
        _, provenance, _ = merge(proc, form, outcome, self.check_value)
        typed = typed_fields(proc, provenance)
        return TypingSample(len(proc.fields), tuple(typed),
                            tuple(fid for fid in typed if in_conflict(provenance.get(fid))))

    # ----------------------------------------------------------------- the family and its stored results

    def family(self, personal_id: str | None, session: Any = None) -> set[str]:
        """The applicant and the people linked to them in the register (spouse, parents, children).

        Inside a transaction pass its ``session``: the local register then reads through it, so a
        request never holds two database connections at once."""
        if not personal_id:
            return set()
        population = self.prefiller.population if self.prefiller else None
        try:
            if population is None:
                record = None
            elif session is not None and getattr(population, "reads_through_session", False):
                record = population.person(personal_id, session=session)
            else:
                record = population.person(personal_id)
        except Exception:
            log.warning("population register unavailable while resolving linked persons", exc_info=True)
            record = None
        return {personal_id} | (record.linked() if record else set())

    def reusable_results(self, s: Any, proc: Procedure, personal_id: str | None,
                         family: Iterable[str] | None = None) -> dict[str, Any]:
        """For each requirement a stored result may replace: the newest valid one of the family (its
        ``id``, ``number``, ``evidence_type``). ``family``: the applicant and their linked people when the
        caller has already read them from the register."""
        wanted = {d.id: d.replaced_by for d in proc.documents if d.replaced_by}
        if not wanted or not personal_id:
            return {}
        family = set(family) if family else self.family(personal_id, session=s)
        now = self.clock()
        held = select(ResultHolder.result_id).where(ResultHolder.personal_id.in_(family))
        rows = s.execute(select(Result.id, Result.number, Result.evidence_type, Result.status, Result.valid_until)
                         .where(Result.id.in_(held), Result.evidence_type.in_(set(wanted.values())),
                                Result.status == "valid").order_by(Result.issued_at.desc())).all()
        out: dict[str, Result] = {}
        for req, evidence in wanted.items():
            match = next((r for r in rows if r.evidence_type == evidence
                          and result_rules.reusable(r.status, r.valid_until, now)), None)
            if match is not None:
                out[req] = match
        return out

    def auto_link(self, s: Any, d: Dossier, proc: Procedure, personal_id: str | None, actor: Actor,
                  now: dt.datetime) -> list[str]:
        """Link the family's valid stored results to the requirements they stand in for."""
        linked = []
        for req, result in self.reusable_results(s, proc, personal_id).items():
            s.add(Document(dossier_id=d.id, requirement_id=req, result_id=result.id,
                           added_by_account_id=actor.account_id, added_at=now))
            linked.append(req)
        return linked


class _InSession:
    """A source that reads through a unit of work's session (``reads_through_session``), bound to one
    session; any other source (a remote register) is used as it is."""

    def __init__(self, source: Any, session: Any):
        self.source, self.session = source, session

    @classmethod
    def wrap(cls, source: Any, session: Any) -> Any:
        return cls(source, session) if getattr(source, "reads_through_session", False) else source

    def person(self, personal_id: str) -> Any:
        return self.source.person(personal_id, session=self.session)

    def valid_results(self, personal_ids: Iterable[str], evidence_types: Iterable[str]) -> Any:
        return self.source.valid_results(personal_ids, evidence_types, session=self.session)
