"""The control sheet of a dossier (form 06, "Phiếu kiểm soát quá trình giải quyết hồ sơ"): its
hand-overs since reception with their verdicts (engine.rules.handovers), drawn on demand from the event
history for the staff of the agency that handles it, and rendered to PDF (not signed: it grows with
every hand-over)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.adapters.models import Account, Agency, DossierEvent
from engine.adapters.uow import UnitOfWork
from engine.rules.access import Actor
from engine.rules.errors import NotFoundError, PermissionDeniedError
from engine.rules.handovers import VERDICT_TEXT, Handover, handovers
from engine.rules.slips import CONTROL_SHEET
from engine.usecases.catalogue import Procedures
from engine.usecases.deadlines import Deadlines
from engine.usecases.dossiers import Dossiers

STAFF_READERS = frozenset({"clerk", "specialist", "leader", "records"})  # who keeps the agency's papers


@dataclass(frozen=True)
class ControlSheetView:
    dossier_id: str
    code: str | None
    procedure_title: str
    applicant: str
    agency: str
    received_at: dt.datetime | None
    due_at: dt.datetime | None
    rows: list[Handover]


def require_agency_staff(actor: Actor) -> None:
    """The agency's papers (forms 06, 07) are for its staff who handle dossiers: 403 for anyone else."""
    if not (actor.is_staff and actor.agency_id is not None and STAFF_READERS & set(actor.roles)):
        raise PermissionDeniedError("Chỉ dành cho công chức của cơ quan / for the agency's staff only")


class ControlSheets:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], procedures: Procedures,
                 deadlines: Deadlines, dossiers: Dossiers, renderer: Any, slips_dir: Path | None):
        self.uow = uow
        self.clock = clock
        self.procedures = procedures
        self.deadlines = deadlines
        self.dossiers = dossiers
        self.renderer = renderer  # the DocumentIssuer port (render_unsigned)
        self.slips_dir = slips_dir

    def control_sheet(self, dossier_id: str, actor: Actor) -> ControlSheetView:
        require_agency_staff(actor)
        with self.uow(write=False) as uow:
            s = uow.session
            d = self.dossiers.load_visible(s, dossier_id, actor)
            proc = self.procedures.procedure_version(d.procedure_id, d.procedure_version, s)
            events = s.scalars(select(DossierEvent).where(DossierEvent.dossier_id == d.id)
                               .order_by(DossierEvent.seq)).all()
            rows = handovers(proc, [_Event(e) for e in events], received_at=d.received_at,
                             clock_started_at=d.clock_started_at, due_at=d.due_at,
                             cal=self.deadlines.calendar(proc.calendar))
            applicant = s.get(Account, d.applicant_account_id)
            agency = s.get(Agency, d.agency_id)
            return ControlSheetView(d.id, d.code, proc.title.vi, applicant.display_name, agency.name_vi,
                                    d.received_at, d.due_at, rows)

    def control_sheet_pdf(self, dossier_id: str, actor: Actor) -> tuple[bytes, str]:
        sheet = self.control_sheet(dossier_id, actor)
        if self.renderer is None or self.slips_dir is None:
            raise NotFoundError("Không có bộ dựng PDF / no PDF renderer configured")
        form, title, template = CONTROL_SHEET
        with self.uow(write=False) as uow:
            agency = uow.session.get(Agency, actor.agency_id)
            place = agency.place_name if agency else None
        context = {
            "form": form, "title": title, "now": self.clock().isoformat(), "place": place,
            "agency": {"name": sheet.agency},
            "dossier": {"code": sheet.code, "procedure_title": sheet.procedure_title, "applicant": sheet.applicant,
                        "received_at": sheet.received_at, "due_at": sheet.due_at},
            "rows": [{"no": r.no, "from_unit": r.from_unit, "from_name": r.from_name, "to_unit": r.to_unit,
                      "at": r.at, "due": r.due,
                      "verdict": VERDICT_TEXT.get(r.verdict or "", ""), "note": r.note}
                     for r in sheet.rows],
        }
        pdf = self.renderer.render_unsigned(self.slips_dir / template, context, title=f"{title} {sheet.code or ''}")
        return pdf, f"mau-06-{(sheet.code or sheet.dossier_id)}.pdf"


class _Event:
    """An audit event as engine.rules.handovers reads it."""

    __slots__ = ("action", "role", "actor", "from_state", "to_state", "at", "reason")

    def __init__(self, e: DossierEvent):
        self.action, self.role, self.actor = e.action, e.role, e.actor_name
        self.from_state, self.to_state, self.at, self.reason = e.from_state, e.to_state, e.at, e.reason

