"""The read models the use cases return: plain dataclasses, no database objects, built for one answer.

They are not frozen: nothing keeps or shares them, and a frozen dataclass's ``__init__`` sets each field
through ``object.__setattr__``, four to five times slower; a dossier's answer builds some thirty of them
and a page of the queue fifty."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from engine.rules import results as result_rules
from engine.rules.definitions import Catalogue


@dataclass
class EventView:
    seq: int
    action: str
    actor: str
    role: str
    from_state: str | None
    to_state: str
    at: dt.datetime
    comment: str | None
    reason: str | None
    items: list[str] | None
    details: dict | None
    comment_public: bool = False  # whether the applicant sees the comment (staff see every comment)


@dataclass
class StoredDocument:
    """An uploaded file as stored: its blob's SHA-256, its type as sniffed at upload, its name."""

    sha256: str
    content_type: str
    filename: str


@dataclass
class DocumentPages:
    """The pages the viewer shows of a stored document: ``shown`` of its ``count`` pages (1 for an image)."""

    content_type: str
    count: int
    shown: int


@dataclass
class DocumentView:
    id: str
    requirement: str
    by: str  # upload | result
    filename: str | None
    content_type: str | None
    size: int | None
    sha256: str | None
    result_id: str | None
    added_at: dt.datetime
    verify_url: str | None = None  # a stored result standing in for paper: where anyone can check it


@dataclass
class RequirementView:
    id: str
    label: dict[str, str]
    required: bool
    satisfied: bool
    by: str | None
    accept: list[str]
    max_mb: float
    replaced_by: str | None


@dataclass
class ActionView:
    id: str
    to: str | None
    role: str
    inputs: list[str]


@dataclass
class ResultView:
    id: str
    number: str
    procedure: str
    evidence: str
    title: dict[str, str]
    holders: list[str]
    issuer: str
    issued_at: dt.datetime
    valid_until: dt.datetime | None
    status: str
    status_reason: str | None
    data: dict[str, Any]
    dossier_id: str | None
    sha256: str | None = None
    signers: list[dict] = field(default_factory=list)
    superseded_by: str | None = None
    supersedes: str | None = None


@dataclass
class SlipView:
    id: str
    form: str
    title: str
    number: str
    issued_at: dt.datetime
    status: str
    outcome: str | None = None  # "refusal": this slip is the dossier's result (engine.rules.slips)


@dataclass
class DossierView:
    id: str
    code: str | None
    procedure: str
    version: int
    title: dict[str, str]
    agency: str
    channel: str
    applicant: dict[str, Any]
    state: str
    status_code: int | None
    data: dict[str, Any]
    provenance: dict[str, Any]
    documents: list[DocumentView]
    requirements: list[RequirementView]
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    received_at: dt.datetime | None
    due_at: dt.datetime | None
    original_due_at: dt.datetime | None
    extended: bool
    time_limit_case: str | None  # the id of the time-limit case applied, if any
    supplement_rounds: int
    overdue: bool
    fee_paid: bool
    available_actions: list[ActionView]
    events: list[EventView]
    results: list[ResultView]
    slips: list[SlipView]
    version_counter: int
    # the last check of the conditions of eligibility an action relied on: checked_at, action, outcome and
    # the verdicts; staff see the data each verdict used, the applicant only the verdicts (None: no check)
    conditions: dict[str, Any] | None = None
    # what the dossier came to: {"type": "result", "results": [ids]} or {"type": "refusal", "slip": id,
    # "number": ...} (the refusal after appraisal is its result); None while nothing is issued
    outcome: dict[str, Any] | None = None
    log_entry: int | None = None  # the entry number in the agency's yearly log book (form 07)
    fees: list[dict[str, Any]] = field(default_factory=list)  # computed fee lines (e.g. extract copies)
    # until the code exists: when to expect it (Decree 61/2018 Art. 17(3), 26: given on reception)
    code_note: dict[str, str] | None = None
    # ``events`` holds the latest events only (engine.rules.paging.EVENTS_SHOWN, oldest first); when older ones
    # exist, the sequence number to page back from (``Dossiers.list_events(before=...)``), else None
    events_before: int | None = None


@dataclass
class EventPage:
    """A page of a dossier's events, oldest first: those just before ``before`` was asked (or the latest);
    ``next_before`` pages on to older ones (None: this page holds the first event)."""

    dossier_id: str
    events: list[EventView]
    next_before: int | None


@dataclass
class TransitionOutcome:
    """What one transition changed, for callers that do not need the dossier's whole view."""

    id: str
    state: str
    status_code: int | None
    code: str | None
    due_at: dt.datetime | None
    version_counter: int
    event_seq: int  # the audit event this transition appended


@dataclass
class QueueItem:
    id: str
    code: str | None
    procedure: str
    title: dict[str, str]
    applicant: str
    channel: str
    state: str
    status_code: int | None
    received_at: dt.datetime | None
    due_at: dt.datetime | None
    timeliness: str  # on_time | due_soon | overdue | none
    version_counter: int


@dataclass
class Page:
    items: list[Any]
    page: int
    page_size: int
    total: int
    next_cursor: str | None = None  # the next page by keyset (list_dossiers ``cursor``); None on the last page
    counts: dict[str, int] | None = None  # staff: the queue's dossiers by timeliness, as Desk.count_queue


def result_view(r: Any, agency: Any, catalogue: Catalogue, now: dt.datetime | None = None) -> ResultView:
    """A stored result (with its holders) as its readers see it, its standing as of ``now``."""
    ev = catalogue.evidence_types.get(r.evidence_type)
    st = (result_rules.standing(r.status, r.valid_until, now, r.status_reason) if now
          else result_rules.Standing(r.status, r.status_reason))
    title = {"vi": ev.title.vi, "en": ev.title.en} if ev else {"vi": r.evidence_type, "en": r.evidence_type}
    return ResultView(r.id, r.number, r.procedure_id, r.evidence_type, title, sorted(h.personal_id for h in r.holders),
                      agency.code, r.issued_at, r.valid_until, st.status, st.reason, dict(r.data or {}), r.dossier_id,
                      r.pdf_sha256, r.signers and [{"name": x["name"], "title": x["title"]} for x in r.signers] or [],
                      r.superseded_by, r.supersedes)
