"""Use cases behind the clerk desk and the administration pages (part of Services): the counts at
the top of the work queue, a dossier as the desk shows it, and filing for a walk-in citizen at the
counter in one step."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from engine.rules.access import Actor
from engine.rules.definitions import Procedure
from engine.rules.errors import (
    ActionNotAllowedError,
    ConcurrencyError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from engine.rules.forms import check_value, clean_form, missing_fields
from engine.adapters.models import Agency, Dossier
from engine.rules.prefill import merge as merge_prefill

if TYPE_CHECKING:  # services imports this module: the view types are for annotations only
    from engine.usecases.services import DossierView

TIMELINESS = ("overdue", "due_soon", "on_time", "none")


@dataclass(frozen=True)
class EvidenceLink:
    """A stored result standing in for a paper document on a dossier."""

    document_id: str
    requirement: str
    result_id: str
    number: str | None
    title: dict[str, str]
    status: str  # valid | revoked | superseded | expired | pending | unreadable
    verify_url: str | None


@dataclass(frozen=True)
class DeskDossier:
    """A dossier as the desk shows it: the dossier's view, the procedure version it is pinned to,
    whether this staff member may add a scanned document now, and the stored results it reuses."""

    dossier: DossierView
    procedure: Procedure
    uploads_open: bool
    evidence: dict[str, EvidenceLink]  # by document id


class DeskMixin:
    uow: Any
    catalogue: Any
    clock: Any

    # ----------------------------------------------------------------- the work queue

    def count_queue(self, actor: Actor, *, states: list[str] | None = None, state: str | None = None,
                    procedure: str | None = None) -> dict[str, int]:
        """How many of the agency's dossiers in this part of the queue are overdue, due soon, on time or
        without a time limit yet (over every page; the same filters as ``list_dossiers`` but overdue)."""
        if not actor.is_staff:
            raise PermissionDeniedError("Chỉ dành cho cán bộ / staff only")
        from engine.usecases.services import queue_where, timeliness  # services imports this module

        now = self.clock()
        counts = dict.fromkeys(TIMELINESS, 0)
        with self.uow(write=False) as uow:
            s = uow.session
            q = queue_where(select(Dossier.procedure_id, Dossier.procedure_version, Dossier.due_at, Dossier.overdue,
                                   Dossier.closed_at, Dossier.decided_at), actor,
                            state=state, states=states, procedure=procedure)
            for row in s.execute(q):
                proc = self.procedure_version(row.procedure_id, row.procedure_version, s)
                counts[timeliness(row, proc, now, self.calendar(proc.calendar))] += 1
        return counts

    # ----------------------------------------------------------------- one dossier at the desk

    def get_desk_dossier(self, dossier_id: str, actor: Actor) -> DeskDossier:
        """The dossier page of the desk. Staff of another agency get NotFoundError, as everywhere."""
        if not actor.is_staff:
            raise PermissionDeniedError("Chỉ dành cho cán bộ / staff only")
        view = self.get_dossier(dossier_id, actor)
        proc = self.procedure_version(view.procedure, view.version)
        uploads_open = False
        if proc.documents:
            with self.uow(write=False) as uow:
                try:  # the same rule add_document applies (role on the dossier and state)
                    self._document_target(uow.session, view.id, proc.documents[0].id, actor)
                    uploads_open = True
                except (PermissionDeniedError, ActionNotAllowedError):
                    uploads_open = False
        evidence: dict[str, EvidenceLink] = {}
        for doc in view.documents:
            if not doc.result_id:
                continue
            try:  # every read of a result another agency issued is logged by get_result
                r = self.get_result(doc.result_id, actor)
                evidence[doc.id] = EvidenceLink(doc.id, doc.requirement, r.id, r.number, r.title, r.status,
                                                doc.verify_url)
            except NotFoundError:
                evidence[doc.id] = EvidenceLink(doc.id, doc.requirement, doc.result_id, None,
                                                {"vi": doc.requirement, "en": doc.requirement}, "unreadable",
                                                doc.verify_url)
        return DeskDossier(view, proc, uploads_open, evidence)

    # ----------------------------------------------------------------- counter filing

    def counter_procedures(self, actor: Actor) -> list[Procedure]:
        """The procedures this clerk's agency takes at the counter: filed at the counter, and of its level
        (the same rule as for an online filing: a commune handles commune procedures)."""
        if not actor.is_staff:
            raise PermissionDeniedError("Chỉ dành cho cán bộ / staff only")
        level = self._agency_level(actor)
        return [p for p in self.catalogue.current() if "counter" in p.channels and p.authority == level]

    def _agency_level(self, actor: Actor) -> str | None:
        with self.uow(write=False) as uow:
            agency = uow.session.get(Agency, actor.agency_id) if actor.agency_id is not None else None
            return agency.level if agency is not None else None

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
        proc = self.catalogue.latest(procedure_id) if isinstance(procedure_id, str) else None
        if proc is None:
            raise NotFoundError(f"Không có thủ tục '{procedure_id}' / no procedure '{procedure_id}'")
        if "counter" not in proc.channels:
            raise ValidationError("Thủ tục này không nhận hồ sơ tại quầy / this procedure is not filed at the counter",
                                  fields={"procedure": ["không nộp trực tiếp / not at the counter"]})
        if proc.authority != self._agency_level(actor):
            raise ValidationError("Cơ quan không có thẩm quyền giải quyết thủ tục này / this agency does not handle the procedure",
                                  fields={"procedure": ["không có thẩm quyền / not competent for this procedure"]})
        if not (isinstance(applicant, str) and applicant.isdigit() and len(applicant) == 12):
            raise ValidationError("a personal id has 12 digits", fields={"applicant": ["12 chữ số / 12 digits"]})
        cleaned, errors = clean_form(proc, data if data is not None else {})
        if errors:
            raise ValidationError("Tờ khai có trường không hợp lệ / some fields are invalid", fields=errors)
        who = self._applicant_for_actor(actor, applicant)
        if not who.full_name:
            raise ValidationError("Không tìm thấy công dân trong cơ sở dữ liệu dân cư / no such person in the population register",
                                  fields={"applicant": ["không tìm thấy / not found"]})
        outcome = self._prefill(proc, who, cleaned, self.clock())
        merged, _, locked = merge_prefill(proc, cleaned, outcome, check_value)
        problems = {**missing_fields(proc, merged), **locked}
        if problems:
            raise ValidationError("Tờ khai còn thiếu hoặc có trường không sửa được / the form is incomplete",
                                  fields=problems)
        view = self.start_dossier(proc.id, data, actor, applicant=applicant, idempotency_key=idempotency_key)
        if view.state != proc.initial:
            return view  # a replay: filed already
        try:
            return self.perform_action(view.id, "file_at_counter", actor, expected_version=view.version_counter)
        except ConcurrencyError:
            return self.get_dossier(view.id, actor)  # the same form sent twice at once: the other one filed it
        except ValidationError:
            return self.get_dossier(view.id, actor)


# --------------------------------------------------------------------------- a demo's working morning

# What the demo's citizens ask a certificate of marital status for, in their own words.
DEMO_PURPOSES = (
    "Để bổ sung hồ sơ vay vốn mua nhà tại ngân hàng",
    "Để làm thủ tục chuyển nhượng quyền sử dụng đất",
    "Để đăng ký kết hôn tại Ủy ban nhân dân phường Ba Đình",
    "Để hoàn thiện hồ sơ xin việc",
    "Để làm thủ tục nhận con nuôi",
    "Để bổ sung hồ sơ du học",
    "Để làm hồ sơ xuất khẩu lao động",
    "Để làm thủ tục thừa kế",
)

# How far each demo dossier has come, as the actions that brought it there (and by which staff role).
DEMO_STAGES = (
    (),
    (),
    (("request_supplement", "clerk"),),
    (("receive", "clerk"),),
    (("receive", "clerk"), ("assign", "leader")),
    (("receive", "clerk"), ("assign", "leader")),
    (("receive", "clerk"), ("assign", "leader"), ("appraise", "specialist")),
    (("receive", "clerk"), ("assign", "leader"), ("appraise", "specialist"), ("approve", "leader"),
     ("return_result", "clerk")),
)


class DemoQueueMixin:
    uow: Any

    def seed_demo_queue(self, summary: dict[str, Any]) -> int:
        """A working morning for the demo agency, so that every staff role finds work in its queue:
        certificates of marital status filed online by demo citizens (never the ones the login page
        offers), each carried to a different stage through the ordinary use cases. Does nothing when
        the agency already has dossiers. Returns how many it filed."""
        from engine.adapters.models import Account, Person

        svc: Any = self
        clerk = svc.actor_for("clerk")
        if svc.list_dossiers(clerk).total:
            return 0
        named = {str(v) for scenario in summary.get("scenarios", {}).values()
                 for v in (scenario.values() if isinstance(scenario, dict) else
                           [p.get("personal_id") for p in scenario if isinstance(p, dict)])}
        with self.uow(write=False) as uow:
            pids = uow.session.scalars(
                select(Account.username).join(Person, Person.personal_id == Account.personal_id)
                .where(Account.kind == "citizen", Person.date_of_death.is_(None))
                .order_by(Account.id)).all()
        applicants = [pid for pid in pids if pid not in named][:len(DEMO_STAGES)]
        staff = {role: svc.actor_for(role) for role in ("clerk", "leader", "specialist")}
        for i, (pid, stage) in enumerate(zip(applicants, DEMO_STAGES)):
            citizen = svc.actor_for(pid)
            form = {"requester_relationship": "self", "issuance_type": "first",
                    "purpose": DEMO_PURPOSES[i % len(DEMO_PURPOSES)], "copies_count": 1 + i % 2}
            d = svc.start_dossier("marital-status-certification", form, citizen, idempotency_key=f"demo-queue-{pid}")
            d = svc.perform_action(d.id, "submit", citizen)
            for action, role in stage:
                extra = {"items": ["Bản chụp Giấy chứng nhận kết hôn trước đây (nếu có)",
                                   "Ghi rõ người dự định kết hôn và nơi đăng ký"]} if action == "request_supplement" else {}
                d = svc.perform_action(d.id, action, staff[role], **extra)
        return len(applicants)
