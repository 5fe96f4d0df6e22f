"""Deadlines: the calendars (the files, and the database copy an administrator may edit), due-date
computation, and the sweep that flags overdue dossiers, alerts on those due soon and expires results."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, select, update

from engine.adapters.models import CalendarDayRecord, CalendarSetting, Dossier, OutboxMessage, Result
from engine.adapters.uow import UnitOfWork
from engine.rules import deadlines
from engine.rules.errors import NotFoundError, ValidationError
from engine.rules.timeliness import timeliness
from engine.usecases.catalogue import Procedures


@dataclass(frozen=True)
class SweepReport:
    newly_overdue: int
    due_soon: int
    expired_results: int


class Deadlines:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], procedures: Procedures,
                 calendars: dict[str, deadlines.Calendar]):
        self.uow = uow
        self.clock = clock
        self.procedures = procedures
        self.calendars = dict(calendars)

    def calendar(self, name: str) -> deadlines.Calendar:
        cal = self.calendars.get(name)
        if cal is None:
            raise NotFoundError(f"no calendar '{name}'")
        return cal

    def compute_due(self, start: dt.datetime, value: float, unit: str, procedure_id: str | None = None,
                    *, cutoff_applies: bool = False) -> dt.datetime:
        cal_name = self.procedures.get_procedure(procedure_id).calendar if procedure_id else "vn"
        try:
            return deadlines.compute_due(start, value, unit, self.calendar(cal_name), cutoff_applies=cutoff_applies)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def sync_calendars(self) -> int:
        """Copy the calendar files into the database (the editable copy); returns the days written."""
        n = 0
        with self.uow() as uow:
            s = uow.session
            for name, cal in self.calendars.items():
                setting = s.get(CalendarSetting, name)
                values = dict(
                    weekend=sorted(cal.weekend),
                    office_hours=[[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in cal.office_hours],
                    cutoff=cal.cutoff.strftime("%H:%M"), years=sorted(cal.years),
                    provisional_years=sorted(cal.provisional_years),
                )
                if setting is None:
                    s.add(CalendarSetting(calendar=name, **values))
                else:
                    for k, v in values.items():
                        setattr(setting, k, v)
                existing = {r.date: r for r in s.scalars(select(CalendarDayRecord).where(CalendarDayRecord.calendar == name))}
                for day in cal.entries:
                    if day.date not in existing:
                        s.add(CalendarDayRecord(calendar=name, date=day.date, kind=day.kind, working=day.working,
                                                name_vi=day.name_vi, name_en=day.name_en, source=day.source))
                        n += 1
            uow.commit()
        return n

    def load_calendars_from_db(self) -> None:
        """Use the database copy (which an administrator may have edited) where there is one."""
        with self.uow(write=False) as uow:
            s = uow.session
            for setting in s.scalars(select(CalendarSetting)):
                rows = s.scalars(select(CalendarDayRecord).where(CalendarDayRecord.calendar == setting.calendar))
                days = [deadlines.CalendarDay(r.date, r.kind, r.working, r.name_vi, r.name_en, r.source) for r in rows]
                self.calendars[setting.calendar] = deadlines.calendar_from_days(
                    setting.calendar, days,
                    weekend=frozenset(setting.weekend),
                    office_hours=tuple((dt.time.fromisoformat(a), dt.time.fromisoformat(b))
                                       for a, b in setting.office_hours),
                    cutoff=dt.time.fromisoformat(setting.cutoff), years=frozenset(setting.years),
                )

    def sweep_deadlines(self) -> SweepReport:
        """Flag overdue dossiers, count those due soon (an alert each, via the outbox), expire results."""
        now = self.clock()
        with self.uow() as uow:
            s = uow.session
            open_q = and_(Dossier.due_at.is_not(None), Dossier.closed_at.is_(None), Dossier.decided_at.is_(None))
            newly = s.execute(update(Dossier).where(open_q, Dossier.overdue.is_(False), Dossier.due_at < now)
                              .values(overdue=True).execution_options(synchronize_session=False)).rowcount
            soon = 0
            for d in s.scalars(select(Dossier).where(open_q, Dossier.overdue.is_(False), Dossier.due_at >= now)):
                proc = self.procedures.procedure_version(d.procedure_id, d.procedure_version, s)
                if timeliness(d, now, self.calendar(proc.calendar)) == "due_soon":
                    soon += 1
                    s.add(OutboxMessage(topic="dossier.due_soon", dossier_id=d.id, created_at=now, attempts=0,
                                        payload={"due_at": d.due_at.isoformat()}))
            expired = s.execute(update(Result).where(Result.status == "valid", Result.valid_until.is_not(None),
                                                     Result.valid_until < now)
                                .values(status="expired", status_changed_at=now, status_reason="validity ended")
                                .execution_options(synchronize_session=False)).rowcount
            uow.commit()
        return SweepReport(newly, soon, expired)
