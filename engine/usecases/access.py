"""Access to the results store: who may read a result and on what basis (holder, issuing agency, the
law, the holder's consent, a dossier it stands in), every read logged for its holder, and consents.
Reads of a person's register data by someone else (decided by engine.rules.register_access) are
logged here too, and the person's access log lists both."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from engine.adapters.models import (
    Account,
    Agency,
    Consent,
    Document,
    Dossier,
    RegisterRead,
    Result,
    ResultAccess,
    ResultHolder,
)
from engine.adapters.uow import UnitOfWork
from engine.rules.access import Actor
from engine.rules.definitions import Catalogue
from engine.rules.errors import NotFoundError, PermissionDeniedError, ValidationError

MAX_PURPOSE = 300
MAX_ID = 2**31 - 1  # integer keys: a larger number names nothing (and overflows SQLite's binding)
STAFF_PURPOSE = "giải quyết hồ sơ / handling a dossier"


@dataclass(frozen=True)
class AccessEntry:
    """One read of my data: of a result (``kind="result"``) or of my register record (``kind="register"``:
    no result, ``what`` is ``register``, ``attributes`` names what was shown)."""

    result_id: str | None
    result_number: str | None
    evidence_type: str | None
    reader: str
    reader_agency: str | None
    purpose: str
    basis: str
    what: str
    at: dt.datetime
    kind: str = "result"
    attributes: tuple[str, ...] = ()
    procedure: str | None = None
    dossier_id: str | None = None


@dataclass(frozen=True)
class ConsentView:
    id: int
    agency: str
    agency_name: str
    evidence_type: str
    granted_at: dt.datetime
    withdrawn_at: dt.datetime | None


def clean_purpose(value: Any) -> str:
    """An agency client's stated purpose (the X-Purpose header): required, one line, bounded."""
    if not isinstance(value, str) or not value.strip():
        raise PermissionDeniedError("Phải nêu mục đích khai thác (X-Purpose) / state a purpose (X-Purpose header)")
    value = " ".join(value.split())
    if len(value) > MAX_PURPOSE:
        raise ValidationError("purpose is too long", fields={"X-Purpose": [f"at most {MAX_PURPOSE} characters"]})
    return value


def may_read_result(actor: Actor, r: Result) -> bool:
    """Its holders and the issuing agency's staff read a result without a basis to log."""
    holders = {h.personal_id for h in r.holders}
    return bool((actor.is_citizen and actor.personal_id in holders)
                or (actor.is_staff and actor.agency_id == r.issuer_agency_id))


def _citizen_only(actor: Actor) -> None:
    if not actor.is_citizen:
        raise PermissionDeniedError("Chỉ dành cho công dân / citizens only")


class Access:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], catalogue: Catalogue):
        self.uow = uow
        self.clock = clock
        self.catalogue = catalogue

    # ----------------------------------------------------------------- reads by others, logged

    def read_basis(self, s: Any, actor: Actor, result: Result) -> str | None:
        """Why this reader may read this result, or None. Holders and the issuing agency need no basis."""
        if actor.kind == "agency_client":
            account = s.get(Account, actor.account_id)
            if result.evidence_type in set(account.allowed_evidence or []):
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

    def log_read(self, s: Any, actor: Actor, result: Result, purpose: str, basis: str, what: str) -> None:
        s.add(ResultAccess(result_id=result.id, reader_account_id=actor.account_id, reader_name=actor.display_name,
                           reader_agency_id=actor.agency_id, purpose=purpose, basis=basis, what=what, at=self.clock()))

    def check_read(self, s: Any, actor: Actor, r: Result, purpose: Any, what: str) -> bool:
        """Whether ``actor`` may read ``r``; a read that needs a basis is logged in ``s`` (the caller
        commits). Returns True when something was logged. NotFoundError when there is no basis."""
        if may_read_result(actor, r):
            return False
        basis = self.read_basis(s, actor, r) if (actor.kind == "agency_client" or actor.is_staff) else None
        if basis is None:
            raise NotFoundError("Không tìm thấy kết quả / result not found")
        self.log_read(s, actor, r, clean_purpose(purpose) if actor.kind == "agency_client"
                      else (purpose or STAFF_PURPOSE), basis, what)
        return True

    def log_register_reads(self, s: Any, reader: Actor, reads: dict[str, tuple[str, tuple[str, ...]]],
                           purpose: str, *, procedure_id: str | None = None, dossier_id: str | None = None) -> int:
        """Log, in the caller's unit of work ``s``, that ``reader`` was shown register data of each person
        in ``reads`` ({personal id: (basis, attribute names)}). Returns how many rows were added."""
        now = self.clock()
        for pid, (basis, attributes) in sorted(reads.items()):
            s.add(RegisterRead(personal_id=pid, reader_account_id=reader.account_id, reader_name=reader.display_name,
                               reader_agency_id=reader.agency_id, purpose=purpose, basis=basis,
                               attributes=list(attributes), procedure_id=procedure_id, dossier_id=dossier_id, at=now))
        return len(reads)

    def record_register_reads(self, reader: Actor, reads: dict[str, tuple[str, tuple[str, ...]]], purpose: str,
                              *, procedure_id: str | None = None) -> None:
        """The same for a read that opened no write unit of work (a prefill, a look-up): one short write."""
        if not reads:
            return
        with self.uow() as uow:
            self.log_register_reads(uow.session, reader, reads, purpose, procedure_id=procedure_id)
            uow.commit()

    def access_log(self, actor: Actor) -> list[AccessEntry]:
        """Who read which of my results, and who was shown my register data, when and why (newest first)."""
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
            entries = [(a.at, 0, a.id, AccessEntry(r.id, r.number, r.evidence_type, a.reader_name,
                                                   ag.name_vi if ag else None, a.purpose, a.basis, a.what, a.at))
                       for a, r, ag in rows]
            if actor.personal_id:
                reads = s.execute(
                    select(RegisterRead, Agency).outerjoin(Agency, Agency.id == RegisterRead.reader_agency_id)
                    .where(RegisterRead.personal_id == actor.personal_id)
                ).all()
                entries += [(x.at, 1, x.id, AccessEntry(None, None, None, x.reader_name, ag.name_vi if ag else None,
                                                        x.purpose, x.basis, "register", x.at, kind="register",
                                                        attributes=tuple(x.attributes or ()), procedure=x.procedure_id,
                                                        dossier_id=x.dossier_id))
                            for x, ag in reads]
            entries.sort(key=lambda e: (e[0], e[1], e[2]), reverse=True)
            return [e[3] for e in entries]

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
            in_range = isinstance(consent_id, int) and not isinstance(consent_id, bool) and 0 < consent_id <= MAX_ID
            c = s.get(Consent, consent_id) if in_range else None
            if c is None or c.personal_id != actor.personal_id:
                raise NotFoundError("no such consent")
            if c.withdrawn_at is None:
                c.withdrawn_at = now
            agency = s.get(Agency, c.agency_id)
            uow.commit()
            return ConsentView(c.id, agency.code, agency.name_vi, c.evidence_type, c.granted_at, c.withdrawn_at)
