"""Prefill: fill a form from what the state already holds, and say where each value came from.

Sources are plugins in a registry, named in procedure files:
  identity    the logged-in account
  population  a population-register adapter (the applicant, a linked person, or a person whose
              personal id the form holds)
  results     valid stored results of the applicant or of a linked person (spouse, father, mother)
  derived     named derivations of other fields (a date written in words, a copy)

Pure rules: the adapters that reach a database or a remote register implement the small
protocols below and live outside this module. A source that fails never blocks the form: its
fields are left to type and the failure is reported by source name only (no personal data).

A source value the field cannot hold (a marital status the form does not offer, a date that does
not parse, a text too long, a value of the wrong type) is never dropped and never replaced: it is a
:class:`Conflict` of the outcome, kept in the dossier's provenance for that field (``conflict``:
the source's value and why it cannot be used), shown to the applicant and to the staff. Whether
the applicant may then type a value of their own is :func:`may_type`'s rule; a conflict nobody may
type over stops the submission (:func:`standing_conflicts`).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.rules import forms, register_access, registration_periods
from engine.rules.access import Actor
from engine.rules.definitions.schema import FieldDef, Procedure
from engine.rules.register_access import ReadContext, SubjectRead
from engine.rules.registry import Registry

log = logging.getLogger(__name__)

LINKS = ("spouse", "father", "mother")
# The prefill sources a field may name, each with where its values come from in words the citizen
# reads (vi, en); Prefiller.prefill below implements them.
PREFILL_SOURCES: Registry[tuple[str, str]] = Registry("prefill source")
PREFILL_SOURCES.add("identity", ("tài khoản định danh của bạn", "your identity account"))
PREFILL_SOURCES.add("population", ("Cơ sở dữ liệu quốc gia về dân cư", "the national population database"))
PREFILL_SOURCES.add("results", ("kho dữ liệu kết quả", "the results store"))
PREFILL_SOURCES.add("derived", ("tính từ các trường khác", "derived from other fields"))


@dataclass(frozen=True)
class PersonRecord:
    """One person of the population register, as the prefill rules see it."""

    personal_id: str
    attributes: dict[str, Any]
    spouse: str | None = None
    father: str | None = None
    mother: str | None = None
    children: tuple[str, ...] = ()

    @property
    def sex(self) -> str | None:
        return self.attributes.get("sex")

    def linked(self) -> set[str]:
        return {p for p in (self.spouse, self.father, self.mother, *self.children) if p}


@dataclass(frozen=True)
class StoredResult:
    id: str
    evidence_type: str
    number: str
    title: str
    holders: tuple[str, ...]
    data: dict[str, Any]
    issued_at: dt.datetime


class PopulationRegister(Protocol):
    def person(self, personal_id: str) -> PersonRecord | None: ...


class ResultsStore(Protocol):
    def valid_results(self, personal_ids: Iterable[str], evidence_types: Iterable[str]) -> list[StoredResult]: ...


@dataclass(frozen=True)
class Applicant:
    account_id: int | None
    username: str
    personal_id: str | None
    full_name: str
    phone: str | None = None
    email: str | None = None
    # the logged-in account is not the applicant's (a counter filing): their identity fields come from
    # the register. Who may see register data is not decided here but by engine.rules.register_access.
    is_staff_filing: bool = False

    def as_reader(self) -> Actor:
        """The applicant reading their own form (the reader when none is given)."""
        return Actor(self.account_id, self.username, self.full_name, "citizen", personal_id=self.personal_id)


@dataclass(frozen=True)
class Prefilled:
    value: Any
    source: str
    record: str  # e.g. "person:001...", "result:<uuid>", "account:<username>", "derived:date_in_words"
    label: str  # where it came from, in words the citizen reads (Vietnamese)
    label_en: str
    editable: bool
    fetched_at: dt.datetime

    def provenance(self) -> dict[str, Any]:
        return {"source": self.source, "record": self.record, "label": self.label, "label_en": self.label_en,
                "editable": self.editable, "fetched_at": self.fetched_at.isoformat(), "declared": False}


# What a definition may say of a field whose source value it cannot hold (``prefill: {on_conflict: ...}``):
#   refuse   the default: the applicant may type a value only where the field is editable; a register
#            field that is not editable stays empty and the dossier cannot be submitted until the
#            register is corrected (the state's data is the truth, not what the applicant types)
#   declare  the applicant types the value even in a field that is not editable (e.g. a register code
#            list older than the form's); it is marked declared, with the source's value beside it for
#            the clerk to check
ON_CONFLICT = ("refuse", "declare")
MAX_CONFLICT_VALUE = 300  # characters of a source value kept and shown (a too-long text is cut, marked …)


def _kept(value: Any) -> Any:
    """The source's value as the provenance keeps it (JSON, bounded)."""
    if isinstance(value, (dt.date, dt.datetime)):
        value = value.isoformat()
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= MAX_CONFLICT_VALUE else text[:MAX_CONFLICT_VALUE] + "…"


@dataclass(frozen=True)
class Conflict:
    """A source holds a value for the field that the field cannot hold."""

    value: Any  # what the source holds (bounded: see _kept)
    reason: str  # why it cannot be used, "vi / en" (the form rule's message)
    source: str
    record: str
    label: str
    label_en: str
    editable: bool  # the applicant may type a value of their own (see may_type)
    fetched_at: dt.datetime

    def provenance(self) -> dict[str, Any]:
        return {"source": self.source, "record": self.record, "label": self.label, "label_en": self.label_en,
                "editable": self.editable, "fetched_at": self.fetched_at.isoformat(), "declared": False,
                "conflict": {"value": self.value, "reason": self.reason}}


def may_type(f: FieldDef) -> bool:
    """Whether the applicant may type a value into ``f`` when its source's value cannot be used: where
    the field is editable anyway, or where the definition says ``on_conflict: declare``."""
    return f.prefill is None or f.prefill.editable or f.prefill.on_conflict == "declare"


def conflict_of(f: FieldDef, pre: Prefilled, reason: str) -> Conflict:
    return Conflict(_kept(pre.value), reason, pre.source, pre.record, pre.label, pre.label_en, may_type(f),
                    pre.fetched_at)


def conflict_message(entry: dict[str, Any]) -> str:
    """What the applicant and the staff are told of a conflict (a provenance entry), "vi / en"."""
    c = entry.get("conflict") or {}
    vi_reason, _, en_reason = str(c.get("reason") or "").partition(" / ")
    label, label_en = entry.get("label") or "", entry.get("label_en") or entry.get("label") or ""
    return (f"{label[:1].upper() + label[1:]} ghi nhận “{c.get('value')}”; giá trị này không dùng được ở trường này "
            f"({vi_reason}) / {label_en[:1].upper() + label_en[1:]} records “{c.get('value')}”; this value cannot "
            f"be used in this field ({en_reason or vi_reason})")


def refusal_message(entry: dict[str, Any]) -> str:
    """Why a value typed over a conflict nobody may type over is refused, "vi / en"."""
    vi, _, en = conflict_message(entry).partition(" / ")
    return (f"{vi}; không nhập thay tại đây, cần điều chỉnh tại cơ sở dữ liệu / {en}; it cannot be typed here, "
            f"the register must be corrected")


def in_conflict(entry: Any) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("conflict"), dict)


def standing_conflicts(proc: Procedure, provenance: dict[str, Any] | None,
                       data: dict[str, Any] | None = None) -> dict[str, list[str]]:
    """The fields whose source value cannot be used and that the applicant may not fill themselves:
    a dossier with any of them is not complete (submission, filing at the counter and reception are
    refused, naming the field). A conflict the applicant may type over stops nothing by itself: the
    field is then required or not as the definition says."""
    provenance, data = provenance or {}, data or {}
    out = {}
    for f in proc.fields:
        entry = provenance.get(f.id)
        if in_conflict(entry) and not entry.get("editable", False) and data.get(f.id) in (None, ""):
            out[f.id] = [refusal_message(entry)]
    return out


@dataclass
class PrefillOutcome:
    values: dict[str, Prefilled] = field(default_factory=dict)
    conflicts: dict[str, Conflict] = field(default_factory=dict)  # source values the fields cannot hold
    failed_sources: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)  # fields about a person the reader may not look up
    reads: dict[str, SubjectRead] = field(default_factory=dict)  # field -> whose data it shows, on what basis
    # the applicant and the people the register links to them, as read for this prefill (None: not read)
    family: frozenset[str] | None = None

    def logged_reads(self, fields: Iterable[str] | None = None) -> dict[str, tuple[str, tuple[str, ...]]]:
        """The reads of others' data among ``fields`` (all values and conflicts when None: a conflict
        shows the source's value too), to log for each person."""
        shown = set(self.values) | set(self.conflicts)
        keep = shown if fields is None else set(fields) & shown
        return register_access.reads_by_subject(r for fid, r in self.reads.items() if fid in keep)

    def counts(self, proc: Procedure) -> dict[str, int]:
        total = len(proc.fields)
        return {"total": total, "prefilled": len(self.values), "to_declare": total - len(self.values),
                "conflicts": len(self.conflicts)}


# --------------------------------------------------------------------------- derivations

DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]
MONTHS = ["một", "hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười", "mười một", "mười hai"]


def _below_thousand(n: int, *, full: bool) -> str:
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens > 1:
        words += [DIGITS[tens], "mươi"]
        if units == 1:
            words.append("mốt")
        elif units == 5:
            words.append("lăm")
        elif units == 4:
            words.append("tư")
        elif units:
            words.append(DIGITS[units])
    elif tens == 1:
        words.append("mười")
        if units == 5:
            words.append("lăm")
        elif units:
            words.append(DIGITS[units])
    elif units:
        if hundreds or full:
            words.append("linh")
        words.append(DIGITS[units])
    return " ".join(words)


def number_in_words(n: int) -> str:
    """Vietnamese words for 0 <= n < 1,000,000 (enough for days and years)."""
    if n == 0:
        return "không"
    thousands, rest = divmod(n, 1000)
    parts = []
    if thousands:
        parts += [_below_thousand(thousands, full=False), "nghìn"]
    if rest:
        parts.append(_below_thousand(rest, full=bool(thousands)))
    return " ".join(p for p in parts if p)


def date_in_words(value: Any) -> str | None:
    """'2026-02-20' -> 'Ngày hai mươi, tháng hai, năm hai nghìn không trăm hai mươi sáu'."""
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        return None
    return f"Ngày {number_in_words(day.day)}, tháng {MONTHS[day.month - 1]}, năm {number_in_words(day.year)}"


# Named derivations for ``source: derived`` (``rule:``), each taking the values of the field's ``args``
# (registered with ``on_date=True``: followed by the filing date).
DERIVATIONS: Registry[Callable[[list[Any]], Any]] = Registry("derivation")


@DERIVATIONS.register("date_in_words")
def _date_in_words(args: list[Any]) -> Any:
    return date_in_words(args[0]) if args and args[0] else None


@DERIVATIONS.register("copy_of")
def _copy_of(args: list[Any]) -> Any:
    return args[0] if args else None


def _registration_type(period: str) -> Callable[[list[Any]], Any]:
    def derive(args: list[Any]) -> Any:
        event = _as_date(args[0]) if args else None
        return registration_periods.category(event, args[-1], period) if event else None
    return derive


# on_time or late, from the event's date and the filing date (Law on Civil Status 2014, Art. 15, 33)
DERIVATIONS.add("birth_registration_type", _registration_type("birth"), on_date=True)
DERIVATIONS.add("death_registration_type", _registration_type("death"), on_date=True)


def _as_date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


# --------------------------------------------------------------------------- the rules


def person_value(person: PersonRecord, path: str) -> Any:
    if path == "birth_year":
        born = person.attributes.get("date_of_birth")
        return int(str(born)[:4]) if born else None
    if path == "personal_id":
        return person.personal_id
    value = person.attributes.get(path)
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


# A results prefill path ``<evidence type>.number`` reads the result's own number (not a data key).
RESULT_NUMBER = "number"


class Prefiller:
    """Computes a procedure's prefill for one applicant from the registered sources."""

    def __init__(self, population: PopulationRegister, results: ResultsStore,
                 evidence_titles: dict[str, str] | None = None):
        self.population = population
        self.results = results
        self.evidence_titles = evidence_titles or {}

    def with_sources(self, population: PopulationRegister, results: ResultsStore) -> Prefiller:
        """The same prefiller over other sources (e.g. the same ones bound to one transaction)."""
        return Prefiller(population, results, self.evidence_titles)

    def prefill(self, proc: Procedure, applicant: Applicant, form: dict[str, Any], now: dt.datetime,
                reader: Actor | None = None, context: ReadContext | None = None,
                check: Callable[[FieldDef, Any], tuple[Any, str | None]] | None = None) -> PrefillOutcome:
        """The prefill of ``proc`` for ``applicant`` as ``reader`` may see it (the applicant when None):
        a value about a person is shown only when engine.rules.register_access allows it, whatever the
        dossier's channel; the others are listed in ``withheld``. A value its field cannot hold (by
        ``check``, the form rules by default) is a conflict of the outcome, not a value."""
        out = PrefillOutcome()
        fields = field_by_id(proc)
        check = check or forms.check_value

        def offer(fid: str, pre: Prefilled) -> None:
            _, problem = check(fields[fid], pre.value)
            if problem:
                out.conflicts[fid] = conflict_of(fields[fid], pre, problem)
            else:
                out.values[fid] = pre
        people: dict[str, PersonRecord | None] = {}
        failed: set[str] = set()

        def person(pid: str | None) -> PersonRecord | None:
            if not pid:
                return None
            if pid not in people:
                if "population" in failed:
                    return None
                try:
                    people[pid] = self.population.person(pid)
                except Exception:  # a register that fails or times out never blocks the form
                    log.warning("prefill source 'population' failed for procedure %s", proc.id, exc_info=True)
                    failed.add("population")
                    return None
            return people[pid]

        me = person(applicant.personal_id)

        def who(of: str) -> PersonRecord | None:
            if me is None:
                return None
            if of == "self":
                return me
            if of in LINKS:
                return person(getattr(me, of))
            if of in ("wife", "husband"):
                wanted = "female" if of == "wife" else "male"
                if me.sex == wanted:
                    return me
                spouse = person(me.spouse)
                return spouse if spouse is not None and spouse.sex == wanted else None
            return None

        if me is not None:
            out.family = frozenset({me.personal_id, *me.linked()})
        reader = reader or applicant.as_reader()
        ctx = dataclasses.replace(context or ReadContext(), applicant=applicant.personal_id,
                                  family=frozenset(me.linked()) if me else frozenset(),
                                  channels=tuple(proc.channels), authority=proc.authority)

        def basis(pid: str | None) -> str | None:
            return register_access.decide(reader, pid, ctx).basis

        label_pop = PREFILL_SOURCES.get("population")
        # identity and population first, then results, then derivations (which read the others)
        for f in proc.fields:
            spec = f.prefill
            if spec is None or spec.source not in ("identity", "population"):
                continue
            if spec.source == "identity" and applicant.is_staff_filing:
                # at the counter the logged-in account is the clerk's: the walk-in's data come from the register
                if me is None:
                    continue
                if (why := basis(me.personal_id)) is None:
                    out.withheld.append(f.id)
                    continue
                if (value := person_value(me, spec.path or "")) not in (None, ""):
                    offer(f.id, Prefilled(value, "population", f"person:{me.personal_id}", label_pop[0],
                                                 label_pop[1], spec.editable, now))
                    out.reads[f.id] = SubjectRead(me.personal_id, why, spec.path or "")
                continue
            if spec.source == "identity":
                value = {"full_name": applicant.full_name, "personal_id": applicant.personal_id,
                         "phone": applicant.phone, "email": applicant.email}.get(spec.path or "")
                if value not in (None, ""):
                    offer(f.id, Prefilled(value, "identity", f"account:{applicant.username}",
                                                 *PREFILL_SOURCES.get("identity"),
                                                 spec.editable, now))
                continue
            if spec.person:
                # the id the applicant typed, or one a source already filled in (e.g. their own)
                pid = form.get(spec.person) or (out.values[spec.person].value if spec.person in out.values else None)
                if not pid:
                    continue
                if basis(str(pid)) is None:
                    out.withheld.append(f.id)  # no basis to see this person's data: not revealed
                    continue
                target = person(str(pid))
            else:
                target = who(spec.of)
            if target is None:
                continue
            if (why := basis(target.personal_id)) is None:
                out.withheld.append(f.id)
                continue
            value = person_value(target, spec.path or "")
            if value not in (None, ""):
                offer(f.id, Prefilled(value, "population", f"person:{target.personal_id}", label_pop[0],
                                             label_pop[1], spec.editable, now))
                out.reads[f.id] = SubjectRead(target.personal_id, why, spec.path or "")
        self._from_results(proc, out, who, failed, now, form, basis, offer)
        self._derive(proc, out, form, now, offer)
        out.failed_sources = sorted(failed)
        return out

    def _from_results(self, proc: Procedure, out: PrefillOutcome, who: Callable[[str], PersonRecord | None],
                      failed: set[str], now: dt.datetime, form: dict[str, Any],
                      basis: Callable[[str | None], str | None], offer: Callable[[str, Prefilled], None]) -> None:
        wanted = [f for f in proc.fields if f.prefill and f.prefill.source == "results" and f.id not in out.values]
        if not wanted:
            return
        def owner_of(f: FieldDef) -> PersonRecord | None:
            if not f.prefill.person:
                owner = who(f.prefill.of)
            else:
                pid = form.get(f.prefill.person) or (out.values[f.prefill.person].value
                                                      if f.prefill.person in out.values else None)
                owner = PersonRecord(str(pid), {}) if pid else None
            if owner is not None and basis(owner.personal_id) is None:
                out.withheld.append(f.id)  # no basis to see this person's data: their results are not looked up
                return None
            return owner

        owners = {f.id: owner_of(f) for f in wanted}
        pids = {p.personal_id for p in owners.values() if p is not None}
        types = {f.prefill.path.split(".", 1)[0] for f in wanted}
        if not pids:
            return
        try:
            stored = self.results.valid_results(pids, types)
        except Exception:
            log.warning("prefill source 'results' failed for procedure %s", proc.id, exc_info=True)
            failed.add("results")
            return
        newest: dict[tuple[str, str], StoredResult] = {}
        for r in sorted(stored, key=lambda r: r.issued_at):
            for holder in r.holders:
                newest[(holder, r.evidence_type)] = r
        for f in wanted:
            owner = owners[f.id]
            evidence, _, key = f.prefill.path.partition(".")
            r = newest.get((owner.personal_id, evidence)) if owner else None
            value = (r.number if key == RESULT_NUMBER else r.data.get(key)) if r is not None else None
            if value in (None, ""):
                continue
            offer(f.id, Prefilled(value, "results", f"result:{r.id}", f"{r.title} số {r.number}",
                                  f"{r.title} no. {r.number}", f.prefill.editable, now))
            out.reads[f.id] = SubjectRead(owner.personal_id, basis(owner.personal_id) or "", f.prefill.path)

    def _derive(self, proc: Procedure, out: PrefillOutcome, form: dict[str, Any], now: dt.datetime,
                offer: Callable[[str, Prefilled], None]) -> None:
        label = PREFILL_SOURCES.get("derived")
        for f in proc.fields:
            spec = f.prefill
            if spec is None or spec.source != "derived" or f.id in out.values:
                continue
            args = [out.values[a].value if a in out.values else form.get(a) for a in spec.args]
            if any(a in (None, "") for a in args):
                continue
            if DERIVATIONS.info(spec.rule).get("on_date"):
                args.append(now.date())
            value = DERIVATIONS.get(spec.rule)(args)
            if value not in (None, ""):
                offer(f.id, Prefilled(value, "derived", f"derived:{spec.rule}", label[0], label[1],
                                      spec.editable, now))


def merge(proc: Procedure, given: dict[str, Any], outcome: PrefillOutcome,
          check: Callable[[FieldDef, Any], tuple[Any, str | None]],
          previous: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any], dict[str, list[str]]]:
    """Combine what the citizen sent with what the sources hold.

    Returns (data, provenance, errors). A prefilled value the citizen did not send is used; one
    they sent unchanged keeps its source; an editable one they changed is marked declared; a
    non-editable one they changed is an error (register data is corrected at the register).

    A source value the field cannot hold (e.g. a marital status the form does not offer) is never
    dropped: it is a conflict, kept in the provenance of the field with the source's value and the
    reason, and the field gets no value from it. A value the citizen sent for such a field is kept,
    marked declared, only where they may type one (:func:`may_type`); elsewhere it is an error. So
    every source value ends either in ``data`` (with its provenance) or as a conflict in
    ``provenance``. ``previous`` is the provenance already on the dossier.
    """
    data = dict(given)
    provenance = dict(previous or {})
    errors: dict[str, list[str]] = {}
    fields = field_by_id(proc)
    conflicts = dict(outcome.conflicts)
    for fid, pre in outcome.values.items():
        f = fields[fid]
        value, problem = check(f, pre.value)
        if problem:  # an outcome built without the form rules: the same conflict
            conflicts[fid] = conflict_of(f, pre, problem)
            continue
        if fid in given:
            if _same(given[fid], value):
                provenance[fid] = pre.provenance()
            elif not pre.editable:
                errors[fid] = [f"lấy từ {pre.label}, không sửa tại đây / comes from {pre.label_en} and cannot be changed here"]
            else:
                provenance[fid] = {**pre.provenance(), "declared": True}
        else:
            data[fid] = value
            provenance[fid] = pre.provenance()
    for fid, c in conflicts.items():
        entry = c.provenance()
        if given.get(fid) in (None, ""):
            data.pop(fid, None)
            provenance[fid] = entry
        elif c.editable:
            provenance[fid] = {**entry, "declared": True}  # typed by the applicant, the source's value beside it
        else:
            errors[fid] = [refusal_message(entry)]
    return data, provenance, errors


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip() == b.strip()
    return a == b or str(a) == str(b)


def declared_share(proc: Procedure, provenance: dict[str, Any]) -> float:
    """Share of the form's fields the citizen did not have to type (prefilled and kept; a conflict
    is not prefilled)."""
    if not proc.fields:
        return 0.0
    kept = sum(1 for f in proc.fields
               if (p := provenance.get(f.id)) and not p.get("declared") and not in_conflict(p))
    return kept / len(proc.fields)


def filled_by_system(f: FieldDef) -> bool:
    """A field nobody types: derived from other fields and not editable."""
    return f.prefill is not None and f.prefill.source == "derived" and not f.prefill.editable


def typed_fields(proc: Procedure, provenance: dict[str, Any]) -> list[str]:
    """The form's fields an applicant still has to type (or cannot fill at all) after the prefill whose
    ``provenance`` is given: no source value kept for them, or a source value in conflict; a field
    the system fills from the others is not typed."""
    return [f.id for f in proc.fields
            if not filled_by_system(f) and ((p := provenance.get(f.id)) is None or in_conflict(p))]


def definition_share(proc: Procedure) -> float:
    """Share of fields the definition can prefill: the ceiling a dossier can reach."""
    return sum(1 for f in proc.fields if f.prefill is not None) / len(proc.fields) if proc.fields else 0.0


def field_by_id(proc: Procedure) -> dict[str, FieldDef]:
    return {f.id: f for f in proc.fields}
