"""Write-back: what a returned result establishes goes into the population register (vietnam-rules
§6.10), in the approval's transaction, where the result is recorded.

The rule (engine.rules.writeback) computes the plan; this use case issues the new personal ids the
plan asks for, applies the plan through the register's port and logs every person's part in
``register_writes``:

- the local register (``writes_in_session``) applies it in the use case's session: it commits with
  the approval or not at all, and later reads see it at once;
- a remote register gets a durable row per person (status ``pending``) in the same transaction,
  posted after the commit (``deliver_pending``: POST <base>/changes with the change's key as its
  idempotency key) and retried by ``motcua sweep`` until the register acknowledges it. A change
  is never lost (the row commits with the approval) and never applied twice (the register applies a
  key once; a row is marked acknowledged by compare-and-set).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, select, update

from engine.adapters.models import RegisterWrite
from engine.adapters.sources import RegisterLockedError
from engine.adapters.uow import UnitOfWork
from engine.rules import writeback as rules
from engine.rules.definitions.schema import WriteBackDef
from engine.rules.errors import ActionNotAllowedError
from engine.rules.prefill import PersonRecord

log = logging.getLogger(__name__)

UNAVAILABLE = ("Cơ sở dữ liệu dân cư không trả lời, chưa thể ghi kết quả; thử lại sau / "
               "the population register did not answer; the result cannot be recorded yet, try again")
ID_ATTEMPTS = 100


class RegisterWriter(Protocol):
    """The population register's port as the write-back uses it (LocalPopulationRegister applies a
    change in the caller's session; HttpPopulationRegister posts it)."""

    writes_in_session: bool

    def person(self, personal_id: str) -> PersonRecord | None: ...
    def personal_id_taken(self, personal_id: str, session: Any) -> bool: ...


class _Unavailable(Exception):
    pass


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    pending: int


@dataclass(frozen=True)
class RegisterWriteView:
    change_key: str
    dossier_id: str | None
    result_id: str | None
    rule: str
    personal_id: str
    change: dict
    status: str
    at: dt.datetime
    attempts: int
    sent_at: dt.datetime | None


class WriteBack:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime],
                 register: RegisterWriter | None, serial: Callable[[], int] | None = None):
        self.uow = uow
        self.clock = clock
        self.register = register
        self.serial = serial or (lambda: secrets.randbelow(10**6))

    @property
    def remote(self) -> bool:
        return self.register is not None and not self.register.writes_in_session

    # ----------------------------------------------------------------- in the approval's transaction

    def record(self, s: Any, spec: WriteBackDef, *, dossier_id: str | None, result_id: str,
               form: dict[str, Any], province_code: str | None, now: dt.datetime,
               data: dict[str, Any], holders: list[str]) -> tuple[dict[str, Any], list[str]]:
        """Compute the change ``spec`` names, issue new personal ids, apply or queue it, log it.
        Returns the result's data (with the issued ids) and its holders (with the new people).
        Raises ActionNotAllowedError, writing nothing, when the register refuses or cannot be reached."""
        if self.register is None:
            raise ActionNotAllowedError("Chưa kết nối Cơ sở dữ liệu dân cư / no population register is configured")
        ctx = rules.WriteBackContext(form=dict(form), issued_on=now.date(), province_code=province_code,
                                     person=lambda pid: self._person(s, pid))
        try:
            change = rules.WRITE_BACKS.get(spec.rule)(ctx, dict(spec.params))
            people = [self._with_id(s, pc) if pc.create else pc for pc in change.people]
        except rules.WriteBackRefused as exc:
            raise ActionNotAllowedError(str(exc)) from None
        except _Unavailable:
            raise ActionNotAllowedError(UNAVAILABLE) from None
        data, holders = dict(data), list(holders)
        for pc in people:
            if pc.create:
                data[pc.data_key] = pc.personal_id
                holders.append(pc.personal_id)
        ops = [pc.as_json() for pc in people]
        local = self.register.writes_in_session
        if local:
            try:
                self.register.apply_change(s, ops)  # type: ignore[attr-defined]
            except RegisterLockedError as exc:
                raise ActionNotAllowedError(f"Hồ sơ {exc} đã khóa do đã chết / the record of {exc} is locked: "
                                            "the person is deceased") from None
            except LookupError as exc:
                raise ActionNotAllowedError(f"Không có trong Cơ sở dữ liệu dân cư / not in the population register: {exc}") from None
        key = str(uuid.uuid4())
        for op in ops:
            s.add(RegisterWrite(change_key=key, dossier_id=dossier_id, result_id=result_id, rule=change.rule,
                                personal_id=op["personal_id"], change=op, status="applied" if local else "pending",
                                at=now, attempts=0, sent_at=now if local else None))
        s.flush()
        return data, holders

    def _person(self, s: Any, pid: str) -> PersonRecord | None:
        try:
            if getattr(self.register, "reads_through_session", False):
                return self.register.person(pid, session=s)  # type: ignore[call-arg]
            return self.register.person(pid)
        except Exception:  # a register that fails or times out: nothing is written
            log.warning("population register unavailable during a write-back", exc_info=True)
            raise _Unavailable() from None

    def _with_id(self, s: Any, pc: rules.PersonChange) -> rules.PersonChange:
        """The new person with a personal id: the prefix and six random digits, unique in the register
        and among the changes not yet acknowledged by a remote register."""
        for _ in range(ID_ATTEMPTS):
            pid = rules.compose_personal_id(pc.id_prefix or "", self.serial())
            try:
                taken = self.register.personal_id_taken(pid, s)
            except Exception:
                log.warning("population register unavailable while issuing a personal id", exc_info=True)
                raise _Unavailable() from None
            if not taken and s.execute(select(RegisterWrite.id).where(RegisterWrite.personal_id == pid)).first() is None:
                return dataclasses.replace(pc, personal_id=pid)
        raise rules.WriteBackRefused("Không cấp được số định danh mới; thử lại / no free personal id was found; try again")

    # ----------------------------------------------------------------- after the commit (remote register)

    def deliver_pending(self, *, dossier_id: str | None = None, limit: int = 100) -> DeliveryReport:
        """Post the pending changes, oldest first, each with its key; stop at the first failure (the
        register takes a person's changes in order), which stays pending for the next run."""
        if not self.remote:
            return DeliveryReport(0, 0, 0)
        with self.uow(write=False) as uow:
            q = (select(RegisterWrite.change_key, func.min(RegisterWrite.id).label("first"))
                 .where(RegisterWrite.status == "pending").group_by(RegisterWrite.change_key))
            if dossier_id is not None:
                q = q.where(RegisterWrite.dossier_id == dossier_id)
            keys = [k for k, _ in uow.session.execute(q.order_by("first").limit(limit)).all()]
        sent = failed = 0
        for key in keys:
            with self.uow(write=False) as uow:
                rows = uow.session.scalars(select(RegisterWrite).where(
                    RegisterWrite.change_key == key, RegisterWrite.status == "pending").order_by(RegisterWrite.id)).all()
                if not rows:
                    continue
                payload = {"key": key, "rule": rows[0].rule, "dossier_id": rows[0].dossier_id,
                           "result_id": rows[0].result_id, "at": rows[0].at.isoformat(),
                           "people": [dict(r.change) for r in rows]}
            try:
                self.register.post_change(key, payload)  # type: ignore[attr-defined]
            except Exception as exc:
                failed += 1
                log.warning("posting register change %s failed", key, exc_info=True)
                with self.uow() as uow:
                    uow.session.execute(update(RegisterWrite).where(RegisterWrite.change_key == key,
                                                                    RegisterWrite.status == "pending")
                                        .values(attempts=RegisterWrite.attempts + 1, error=type(exc).__name__[:300]))
                    uow.commit()
                break
            with self.uow() as uow:
                uow.session.execute(update(RegisterWrite).where(RegisterWrite.change_key == key,
                                                                RegisterWrite.status == "pending")
                                    .values(status="acknowledged", sent_at=self.clock(), error=None,
                                            attempts=RegisterWrite.attempts + 1))
                uow.commit()
            sent += 1
        return DeliveryReport(sent, failed, self.count_pending())

    def count_pending(self) -> int:
        with self.uow(write=False) as uow:
            return uow.session.execute(select(func.count(func.distinct(RegisterWrite.change_key)))
                                       .where(RegisterWrite.status == "pending")).scalar_one()

    def list_writes(self, *, dossier_id: str | None = None, personal_id: str | None = None) -> list[RegisterWriteView]:
        """The log of what results wrote into the register (for the CLI, staff tools and tests)."""
        with self.uow(write=False) as uow:
            q = select(RegisterWrite).order_by(RegisterWrite.id)
            if dossier_id is not None:
                q = q.where(RegisterWrite.dossier_id == dossier_id)
            if personal_id is not None:
                q = q.where(RegisterWrite.personal_id == personal_id)
            return [RegisterWriteView(r.change_key, r.dossier_id, r.result_id, r.rule, r.personal_id, dict(r.change),
                                      r.status, r.at, r.attempts, r.sent_at) for r in uow.session.scalars(q)]
