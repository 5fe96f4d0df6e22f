"""The counter: the procedures an agency takes there, a walk-in citizen looked up in the register,
and filing for them in one step."""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.adapters.models import Account, Person
from engine.adapters.uow import UnitOfWork
from engine.rules import register_access
from engine.rules.access import Actor
from engine.rules.definitions import Procedure
from engine.rules.errors import ConcurrencyError, NotFoundError, PermissionDeniedError, ValidationError
from engine.rules.forms import check_value, clean_form, missing_fields
from engine.rules.identity import PersonalIdRule
from engine.rules.prefill import merge as merge_prefill
from engine.rules.prefill import standing_conflicts
from engine.usecases.access import Access
from engine.usecases.accounts import Accounts
from engine.usecases.actions import Actions
from engine.usecases.catalogue import Procedures
from engine.usecases.dossiers import Dossiers
from engine.usecases.filing import Filing
from engine.usecases.prefill import Prefill
from engine.usecases.views import DossierView


@dataclass(frozen=True)
class PersonCard:
    """What the counter clerk sees of a walk-in citizen before filing for them."""

    personal_id: str
    full_name: str
    date_of_birth: dt.date
    sex: str
    permanent_address: str | None
    current_address: str | None
    phone: str | None
    has_account: bool


CARD_ATTRIBUTES = ("date_of_birth", "full_name", "current_address", "permanent_address", "phone", "sex")


class Counter:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], procedures: Procedures,
                 accounts: Accounts, prefill: Prefill, filing: Filing, actions: Actions, dossiers: Dossiers,
                 access: Access, personal_ids: PersonalIdRule):
        self.uow = uow
        self.clock = clock
        self.procedures = procedures
        self.accounts = accounts
        self.prefill = prefill
        self.filing = filing
        self.actions = actions
        self.dossiers = dossiers
        self.access = access
        self.personal_ids = personal_ids
        self.check_value = functools.partial(check_value, ids=personal_ids)  # the form rules, with the id rule

    def counter_procedures(self, actor: Actor) -> list[Procedure]:
        """The procedures this clerk's agency takes at the counter: filed at the counter, and of its level
        (the same rule as for an online filing: a commune handles commune procedures)."""
        if not actor.is_staff:
            raise PermissionDeniedError("Chỉ dành cho cán bộ / staff only")
        level = self.accounts.agency_level(actor)
        return [p for p in self.procedures.catalogue.current()
                if register_access.takes_at_counter(p.channels, p.authority, level)]

    def find_person(self, personal_id: Any, actor: Actor, *, purpose: str | None = None) -> PersonCard:
        """Counter filing: a reception clerk of an agency that takes procedures at its counter looks a
        walk-in citizen up by personal id in the register. The read is logged for the person."""
        if not actor.is_staff:
            raise PermissionDeniedError("Chỉ dành cho cán bộ / staff only")
        taken = self.counter_procedures(actor)
        # the one rule, for any procedure the agency takes at its counter: the clerk role, their own agency
        decision = register_access.decide(actor, "-", register_access.ReadContext(
            channels=taken[0].channels, authority=taken[0].authority, reader_agency_level=taken[0].authority,
        )) if taken else register_access.WITHHELD
        if not decision.allowed:
            raise PermissionDeniedError("Chỉ cán bộ tiếp nhận của cơ quan nhận hồ sơ tại quầy tra cứu công dân / "
                                        "only reception clerks of an agency with a counter look citizens up")
        pid = personal_id.strip() if isinstance(personal_id, str) else ""
        if not self.personal_ids.matches(pid):
            raise ValidationError("Số định danh cá nhân gồm 12 chữ số / a personal id has 12 digits",
                                  fields={"personal_id": ["12 chữ số / 12 digits"]})
        with self.uow() as uow:  # the read and its log entry, in one unit of work
            s = uow.session
            person = s.execute(select(Person).where(Person.personal_id == pid)).scalar_one_or_none()
            if person is None:
                raise NotFoundError("Không tìm thấy công dân trong cơ sở dữ liệu dân cư / no such person in the register")
            has_account = s.execute(select(Account.id).where(Account.username == pid)).first() is not None
            card = PersonCard(person.personal_id, person.full_name, person.date_of_birth, person.sex,
                              person.permanent_address, person.current_address, person.phone, has_account)
            self.access.log_register_reads(s, actor, {pid: (decision.basis, CARD_ATTRIBUTES)},
                                           register_access.purpose_of(actor, purpose))
            uow.commit()
            return card

    def file_for_walk_in(self, procedure_id: str, data: Any, actor: Actor, *, applicant: str,
                         idempotency_key: str | None = None) -> DossierView:
        """A clerk files at the counter for a walk-in citizen: the dossier is created with the register's
        data and filed (``file_at_counter``: submitted, awaiting reception).

        The form is checked first, with the same prefill the filing uses, so that an incomplete form
        creates nothing. A replay with the same idempotency key returns the dossier already filed. If
        filing fails after the creation (the register changed in between), the draft is returned:
        its page offers ``file_at_counter`` again."""
        if not (actor.is_staff and actor.has_role("clerk")):
            raise PermissionDeniedError("Chỉ cán bộ tiếp nhận nộp hồ sơ tại quầy / only reception clerks file at the counter")
        proc = self.procedures.catalogue.latest(procedure_id) if isinstance(procedure_id, str) else None
        if proc is None:
            raise NotFoundError(f"Không có thủ tục '{procedure_id}' / no procedure '{procedure_id}'")
        if "counter" not in proc.channels:
            raise ValidationError("Thủ tục này không nhận hồ sơ tại quầy / this procedure is not filed at the counter",
                                  fields={"procedure": ["không nộp trực tiếp / not at the counter"]})
        if proc.authority != self.accounts.agency_level(actor):
            raise ValidationError("Cơ quan không có thẩm quyền giải quyết thủ tục này / this agency does not handle the procedure",
                                  fields={"procedure": ["không có thẩm quyền / not competent for this procedure"]})
        if not self.personal_ids.matches(applicant):
            raise ValidationError("a personal id has 12 digits", fields={"applicant": ["12 chữ số / 12 digits"]})
        cleaned, errors = clean_form(proc, data if data is not None else {}, self.personal_ids)
        if errors:
            raise ValidationError("Tờ khai có trường không hợp lệ / some fields are invalid", fields=errors)
        who = self.prefill.applicant_for_actor(actor, applicant)
        if not who.full_name:
            raise ValidationError("Không tìm thấy công dân trong cơ sở dữ liệu dân cư / no such person in the population register",
                                  fields={"applicant": ["không tìm thấy / not found"]})
        outcome = self.prefill.prefill(proc, who, cleaned, self.clock(), actor)  # a check: the filing logs the reads
        merged, provenance, locked = merge_prefill(proc, cleaned, outcome, self.check_value)
        # a register value the form cannot hold stops the filing as it would stop the submission
        problems = {**missing_fields(proc, merged), **standing_conflicts(proc, provenance, merged), **locked}
        if problems:
            raise ValidationError("Tờ khai còn thiếu hoặc có trường không sửa được / the form is incomplete",
                                  fields=problems)
        view = self.filing.start_dossier(proc.id, data, actor, applicant=applicant, idempotency_key=idempotency_key)
        if view.state != proc.initial:
            return view  # a replay: filed already
        try:
            return self.actions.perform_action(view.id, "file_at_counter", actor, expected_version=view.version_counter)
        except ConcurrencyError:
            return self.dossiers.get_dossier(view.id, actor)  # the same form sent twice at once: the other one filed it
        except ValidationError:
            return self.dossiers.get_dossier(view.id, actor)
