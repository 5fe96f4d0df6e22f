"""Who may see a person's register data, and on what basis. Pure rules: one decision for every path
that puts population-register attributes (or a person's stored results) in front of someone.

- A citizen sees their own data (``self``), and, while filling in a dossier of their own, the data of
  the family the register links to them (spouse, parents, children: ``family``) or of a person who
  consented (``consent``). The dossier's channel does not matter: a citizen editing a dossier filed
  for them at the counter sees exactly what they would see online.
- Staff see a person's register data only as the reception clerk filing at the counter
  (``counter_filing``): the ``clerk`` role, in their own agency, for a procedure their agency takes at
  the counter (the procedure has the counter channel and is of the agency's level). Staff handling a
  dossier see what the dossier already holds; that is the dossier, not a register read.
- Nobody else (other staff roles, agency clients, the system) is shown register data here.

Every read by someone other than the person (every basis but ``self``) is to be logged for the
person, with the purpose: the callers do that in the unit of work of the read.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.rules.access import Actor

SELF = "self"
FAMILY = "family"
CONSENT = "consent"
COUNTER_FILING = "counter_filing"
LOG_BOOK = "log_book"  # the agency's log book (form 07) listed the person's dossier with their contact lines
BASES = (SELF, FAMILY, CONSENT, COUNTER_FILING, LOG_BOOK)

COUNTER_PURPOSE = "tiếp nhận hồ sơ tại quầy / counter filing"
FILING_PURPOSE = "kê khai hồ sơ của người nộp / the applicant filling in a dossier"
MAX_PURPOSE = 300


@dataclass(frozen=True)
class ReadContext:
    """What the decision needs besides the reader and the subject.

    ``applicant``: the personal id of the person the dossier is (or will be) filed for; ``family``: the
    people the register links to the applicant; ``consented``: people who consented to the reader
    seeing their register data; ``channels``/``authority``: the procedure's; ``reader_agency_level``:
    the level of the reader's agency (staff); ``dossier_agency_id``/``dossier_channel``: the dossier
    being edited, when there is one."""

    applicant: str | None = None
    family: frozenset[str] = frozenset()
    consented: frozenset[str] = frozenset()
    channels: tuple[str, ...] = ()
    authority: str | None = None
    reader_agency_level: str | None = None
    dossier_agency_id: int | None = None
    dossier_channel: str | None = None


@dataclass(frozen=True)
class Decision:
    basis: str | None  # None: withheld

    @property
    def allowed(self) -> bool:
        return self.basis is not None

    @property
    def logged(self) -> bool:
        """A read by someone other than the person lands in the person's access log."""
        return self.basis is not None and self.basis != SELF


WITHHELD = Decision(None)


def takes_at_counter(channels: Iterable[str], authority: str | None, agency_level: str | None) -> bool:
    """An agency takes a procedure at its counter: the procedure is filed at the counter and is of the
    agency's level (a commune handles commune procedures)."""
    return "counter" in tuple(channels) and authority is not None and authority == agency_level


def files_at_counter(reader: Actor, ctx: ReadContext) -> bool:
    """The reader is the reception clerk filing this procedure at their own agency's counter."""
    if not (reader.is_staff and reader.has_role("clerk") and reader.agency_id is not None):
        return False
    if not takes_at_counter(ctx.channels, ctx.authority, ctx.reader_agency_level):
        return False
    if ctx.dossier_agency_id is not None and ctx.dossier_agency_id != reader.agency_id:
        return False
    return ctx.dossier_channel in (None, "counter")


def decide(reader: Actor, subject: str | None, ctx: ReadContext) -> Decision:
    """May ``reader`` be shown the register attributes of ``subject``, and on what basis."""
    if not subject:
        return WITHHELD
    if reader.is_citizen:
        if not reader.personal_id:
            return WITHHELD
        if subject == reader.personal_id:
            return Decision(SELF)
        if ctx.applicant != reader.personal_id:
            return WITHHELD  # a citizen reads others' data only for a dossier of their own
        if subject in ctx.family:
            return Decision(FAMILY)
        if subject in ctx.consented:
            return Decision(CONSENT)
        return WITHHELD
    if reader.is_staff and files_at_counter(reader, ctx):
        return Decision(COUNTER_FILING)
    return WITHHELD


def purpose_of(reader: Actor, stated: object = None) -> str:
    """The purpose logged with a read: the one the reader stated (one line, bounded), else the
    counter filing for staff and the filing of one's own dossier for a citizen."""
    if isinstance(stated, str) and stated.strip():
        return " ".join(stated.split())[:MAX_PURPOSE]
    return COUNTER_PURPOSE if reader.is_staff else FILING_PURPOSE


@dataclass(frozen=True)
class SubjectRead:
    """One value shown about a person: whose, on what basis, which attribute (a name, never a value)."""

    subject: str
    basis: str
    attribute: str


def reads_by_subject(reads: Iterable[SubjectRead]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """The reads to log, one per person: {personal id: (basis, sorted attribute names)}. Reads of
    oneself are not logged."""
    out: dict[str, tuple[str, set[str]]] = {}
    for r in reads:
        if r.basis == SELF:
            continue
        basis, attrs = out.setdefault(r.subject, (r.basis, set()))
        attrs.add(r.attribute)
    return {pid: (basis, tuple(sorted(attrs))) for pid, (basis, attrs) in out.items()}
