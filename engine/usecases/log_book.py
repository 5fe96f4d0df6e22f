"""The log book of an agency (form 07, "Sổ theo dõi hồ sơ", Circular 01/2018 Art. 9-10): one entry per
dossier received, numbered continuously from 1 each year (``dossiers.log_entry``, given at reception),
with the columns of the form, for a day or a range of days; as rows, CSV or an A4 landscape PDF (not
signed: it grows every day). Reading it shows applicants' names, addresses and phones to staff, so each
read is logged for every person listed, as other reads of register data are (engine.usecases.access)."""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.adapters.models import Account, Agency, Dossier, DossierEvent, Slip
from engine.adapters.uow import UnitOfWork
from engine.rules.access import Actor
from engine.rules.errors import NotFoundError, ValidationError
from engine.rules.register_access import LOG_BOOK as LOG_BOOK_BASIS
from engine.rules.slips import LOG_BOOK, RECEIPT
from engine.usecases.access import Access
from engine.usecases.catalogue import Procedures
from engine.usecases.control_sheets import require_agency_staff

MAX_DAYS = 366
PURPOSE = "sổ theo dõi hồ sơ / log book"
SHOWN = ("current_address", "full_name", "phone")  # what an entry shows of the applicant (names, never values)
COLUMNS = (
    ("no", "Số thứ tự"), ("code", "Mã hồ sơ"), ("procedure", "Tên thủ tục hành chính"),
    ("sets", "Số lượng hồ sơ (bộ)"), ("applicant", "Tên cá nhân, tổ chức"), ("contact", "Địa chỉ, số điện thoại"),
    ("lead_agency", "Cơ quan chủ trì giải quyết"), ("received_at", "Ngày, giờ nhận hồ sơ"),
    ("appointment", "Ngày, giờ hẹn trả kết quả"), ("transferred_at", "Ngày chuyển hồ sơ"),
    ("result_at", "Ngày có kết quả"), ("returned_at", "Ngày trả kết quả"), ("note", "Ghi chú"),
)
FORMATS = ("pdf", "csv")


@dataclass(frozen=True)
class LogBookEntry:
    no: int | None
    year: int
    code: str | None
    procedure: str
    sets: int
    applicant: str
    address: str | None
    phone: str | None
    lead_agency: str
    received_at: dt.datetime
    appointment: dt.datetime | None
    transferred_at: dt.datetime | None
    result_at: dt.datetime | None
    returned_at: dt.datetime | None
    note: str | None
    dossier_id: str


@dataclass(frozen=True)
class LogBookView:
    agency: str
    agency_name: str
    start: dt.date
    end: dt.date
    entries: list[LogBookEntry]


def parse_day(value: Any, name: str, default: dt.date) -> dt.date:
    """A day of the range (YYYY-MM-DD), or ``default`` when absent; a bad value is a 422."""
    if value is None or value == "":
        return default
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(f"Ngày không hợp lệ / {name} must be a date (YYYY-MM-DD)",
                              fields={name: ["YYYY-MM-DD"]}) from None


class LogBook:
    def __init__(self, uow: Callable[..., UnitOfWork], clock: Callable[[], dt.datetime], procedures: Procedures,
                 access: Access, renderer: Any, slips_dir: Path | None):
        self.uow = uow
        self.clock = clock
        self.procedures = procedures
        self.access = access
        self.renderer = renderer  # the DocumentIssuer port (render_unsigned)
        self.slips_dir = slips_dir

    def log_book(self, actor: Actor, *, start: Any = None, end: Any = None, agency: str | None = None) -> LogBookView:
        """The entries of the days ``start``..``end`` (inclusive; default today) of the actor's agency, or,
        for the command line (a ``system`` actor), of the agency coded ``agency``. Logged for every
        applicant listed."""
        today = self.clock().date()
        first, last = parse_day(start, "from", today), parse_day(end, "to", parse_day(start, "from", today))
        if first > last:
            raise ValidationError("Ngày bắt đầu sau ngày kết thúc / from is after to", fields={"from": ["> to"]})
        if (last - first).days >= MAX_DAYS:
            raise ValidationError(f"Tối đa {MAX_DAYS} ngày / at most {MAX_DAYS} days", fields={"to": [f"<= {MAX_DAYS}"]})
        if actor.kind != "system":
            require_agency_staff(actor)
        with self.uow() as uow:
            s = uow.session
            if actor.kind == "system":
                ag = s.execute(select(Agency).where(Agency.code == (agency or ""))).scalar_one_or_none()
                if ag is None:
                    raise NotFoundError(f"Không có cơ quan {agency} / no agency {agency}")
            else:
                ag = s.get(Agency, actor.agency_id)
            lo = dt.datetime.combine(first, dt.time.min)
            hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min)
            rows = s.execute(
                select(Dossier, Account.display_name, Account.personal_id)
                .join(Account, Account.id == Dossier.applicant_account_id)
                .where(Dossier.agency_id == ag.id, Dossier.received_at.is_not(None),
                       Dossier.received_at >= lo, Dossier.received_at < hi)
                .order_by(Dossier.received_at, Dossier.log_entry)).all()
            ids = [d.id for d, _, _ in rows]
            contacts = {sid: (ctx or {}).get("applicant") or {} for sid, ctx in s.execute(
                select(Slip.dossier_id, Slip.context).where(Slip.dossier_id.in_(ids), Slip.form == RECEIPT))} if ids else {}
            events: dict[str, list[DossierEvent]] = {}
            if ids:
                for e in s.scalars(select(DossierEvent).where(DossierEvent.dossier_id.in_(ids))
                                   .order_by(DossierEvent.dossier_id, DossierEvent.seq)):
                    events.setdefault(e.dossier_id, []).append(e)
            entries = []
            for d, name, pid in rows:
                proc = self.procedures.procedure_version(d.procedure_id, d.procedure_version, s)
                contact = contacts.get(d.id, {})
                entries.append(_entry(d, proc, name, contact, ag.name_vi, events.get(d.id, [])))
            readers = {pid for _, _, pid in rows if pid}
            self.access.log_register_reads(s, actor, {pid: (LOG_BOOK_BASIS, SHOWN) for pid in readers}, PURPOSE)
            uow.commit()
            return LogBookView(ag.code, ag.name_vi, first, last, entries)

    def log_book_csv(self, actor: Actor, **kw: Any) -> tuple[bytes, str]:
        book = self.log_book(actor, **kw)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([label for _, label in COLUMNS])
        for row in entry_rows(book.entries):
            writer.writerow([row[key] for key, _ in COLUMNS])
        return ("\ufeff" + out.getvalue()).encode("utf-8"), f"so-theo-doi-{book.agency}-{book.start}-{book.end}.csv"

    def log_book_pdf(self, actor: Actor, **kw: Any) -> tuple[bytes, str]:
        if self.renderer is None or self.slips_dir is None:
            raise NotFoundError("Không có bộ dựng PDF / no PDF renderer configured")
        book = self.log_book(actor, **kw)
        form, title, template = LOG_BOOK
        with self.uow(write=False) as uow:
            place = uow.session.execute(select(Agency.place_name).where(Agency.code == book.agency)).scalar_one()
        context = {"form": form, "title": title, "now": self.clock().isoformat(), "place": place,
                   "agency": {"name": book.agency_name, "code": book.agency},
                   "start": book.start.isoformat(), "end": book.end.isoformat(),
                   "columns": [label for _, label in COLUMNS], "rows": entry_rows(book.entries)}
        pdf = self.renderer.render_unsigned(self.slips_dir / template, context, title=f"{title} {book.agency}")
        return pdf, f"so-theo-doi-{book.agency}-{book.start}-{book.end}.pdf"


def _entry(d: Dossier, proc: Any, name: str, contact: dict, agency_name: str, events: list[DossierEvent]) -> LogBookEntry:
    final = next((s for s in proc.states if s.id == d.state), None)
    # transferred: the dossier leaves the reception (the first hand-over after "received")
    transferred = next((e.at for e in events if e.from_state == "received" and e.to_state != "received"), None)
    note = None
    if final is not None and final.final and final.outcome in ("refusal", "rejection", "stop"):
        reason = next((e.reason for e in reversed(events) if e.to_state == d.state), None)
        note = {"refusal": "Từ chối tiếp nhận", "rejection": "Từ chối giải quyết", "stop": "Dừng giải quyết"}[
            final.outcome] + (f": {reason}" if reason else "")
    elif d.extended:
        note = "Gia hạn một lần"
    returned = d.closed_at if final is not None and final.final else None
    return LogBookEntry(d.log_entry, d.received_at.year, d.code, proc.title.vi, 1, name, contact.get("address"),
                        contact.get("phone"), agency_name, d.received_at, d.original_due_at or d.due_at, transferred,
                        d.decided_at, returned, note, d.id)


def _when(value: dt.datetime | None) -> str:
    return f"{value:%H:%M %d/%m/%Y}" if value is not None else ""


def entry_rows(entries: list[LogBookEntry]) -> list[dict[str, Any]]:
    """The entries as the form's columns (text), in order."""
    return [{
        "no": f"{e.no:02d}" if e.no else "", "code": e.code or "", "procedure": e.procedure, "sets": f"{e.sets:02d}",
        "applicant": e.applicant, "contact": "; ".join(x for x in (e.address, e.phone) if x),
        "lead_agency": e.lead_agency, "received_at": _when(e.received_at), "appointment": _when(e.appointment),
        "transferred_at": _when(e.transferred_at), "result_at": _when(e.result_at),
        "returned_at": _when(e.returned_at), "note": e.note or "",
    } for e in entries]
