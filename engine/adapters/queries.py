"""Prebuilt Core statements: the dossier a transition reads and writes, and the lists its view reads."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, bindparam, func, insert, or_, select, true, union, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, make_transient_to_detached

from engine.adapters.models import (Account, Agency, Document, Dossier, DossierCount, DossierEvent, EligibilityCheck,
                                    LoginThrottle, NotificationPreference, OutboxMessage, Person, Result, Slip)
from engine.adapters.fastsql import Prepared, insert_of
from engine.adapters.uow import STALE_MESSAGE
from engine.rules.errors import ConcurrencyError
from engine.rules.paging import EVENTS_SHOWN
from engine.rules.slips import ONCE_SLIPS, SLIPS_SHOWN
from engine.rules.timeliness import settled

# --------------------------------------------------------------------------- a transition's statements (Core)
#
# A workflow transition is the engine's hottest write. It reads one dossier row and writes it back with
# its audit event and an outbox row, so it uses prebuilt Core statements (compiled once per process,
# a few columns each: on PostgreSQL every column of a result costs the driver a description object)
# instead of the ORM's unit of work. Slips and results are still built as ORM objects by the code that
# records them, in the same transaction.

DOSSIERS = Dossier.__table__
EVENTS = DossierEvent.__table__
OUTBOX = OutboxMessage.__table__
DOCUMENTS = Document.__table__
RESULTS = Result.__table__
SLIPS = Slip.__table__
AGENCIES = Agency.__table__
ACCOUNTS = Account.__table__

DOSSIER_FIELDS: tuple[str, ...] = tuple(c.key for c in DOSSIERS.columns)  # attribute names = column names
_FIELD_INDEX = tuple(enumerate(DOSSIER_FIELDS))
_N_DOSSIER = len(DOSSIER_FIELDS)
_AGENCY_KEYS = tuple(AGENCIES.c.keys())
_ACCOUNT_KEYS = tuple(ACCOUNTS.c.keys())


ELIGIBILITY = EligibilityCheck.__table__
PEOPLE = Person.__table__
PREFERENCES = NotificationPreference.__table__
# what a transition may need besides the dossier and its parties, read with it rather than after it: the
# latest eligibility check (the view), the applicant's contacts in the local register (a slip's contact
# lines) and notification preferences (a notification), each NULL when there is none
_WITH = (ELIGIBILITY.c.at, ELIGIBILITY.c.action, ELIGIBILITY.c.outcome, ELIGIBILITY.c.verdicts,
         PEOPLE.c.current_address, PEOPLE.c.permanent_address, PEOPLE.c.phone, PEOPLE.c.email,
         PREFERENCES.c.email_enabled, PREFERENCES.c.sms_enabled, PREFERENCES.c.language,
         AGENCIES.c.name_vi, AGENCIES.c.name_en)
_N_WITH = len(_WITH)


class json_rows(FunctionElement):  # noqa: N801 - an SQL function's name
    """An aggregate: the rows of a subquery as one JSON array of arrays (NULL or [] when there is none);
    a JSON column stays JSON inside it."""

    type = JSON()
    name = "json_rows"
    inherit_cache = True


@compiles(json_rows, "postgresql")
def _json_rows_pg(element: Any, compiler: Any, **kw: Any) -> str:
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_rows, "sqlite")
def _json_rows_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    parts = [f"json({compiler.process(c, **kw)})" if isinstance(c.type, JSON) else compiler.process(c, **kw)
             for c in element.clauses]
    return f"json_group_array(json_array({', '.join(parts)}))"


def _rows_of(source: Any) -> Any:
    sub = source.subquery()
    return select(json_rows(*sub.c)).select_from(sub).scalar_subquery()


# What a dossier's page lists, each shape built once over the tables it is given: the tables themselves
# for the statements of their own (CURRENT_DOCUMENTS, EVENTS_LATEST, SLIP_LIST), short aliases inside
# the dossier's SELECT (``_view_columns``).
_EVENT_KEYS = ("seq", "action", "actor_name", "role", "from_state", "to_state", "at", "comment", "reason", "items",
               "details")
_SLIP_KEYS_LISTED = ("id", "form", "number", "issued_at", "status", "event_seq")


def _documents_of(doc: Any, used: Any, key: Any) -> Any:
    """The current documents of the dossier ``key`` (id, requirement_id, result_id, filename, content_type,
    size, sha256, added_at, and the number of a stored result standing in for paper)."""
    return (select(doc.c.id, doc.c.requirement_id, doc.c.result_id, doc.c.filename, doc.c.content_type, doc.c.size,
                   doc.c.sha256, doc.c.added_at, used.c.number)
            .select_from(doc.outerjoin(used, used.c.id == doc.c.result_id))
            .where(doc.c.dossier_id == key, doc.c.replaced_at.is_(None)))


def _events_of(ev: Any, key: Any) -> Any:
    """The events of the dossier ``key``, newest first (the unique index (dossier_id, seq) serves it)."""
    return select(*(ev.c[k] for k in _EVENT_KEYS)).where(ev.c.dossier_id == key).order_by(ev.c.seq.desc())


def _slips_of(latest: Any, once: Any, key: Any, name: str) -> Any:
    """The slips the dossier ``key`` lists, two index ranges: the latest ``SLIPS_SHOWN``, and every slip of
    a form that comes once (an OR, not an expanding IN: the statement is prepared once)."""
    newest = (select(*(latest.c[k] for k in _SLIP_KEYS_LISTED)).where(latest.c.dossier_id == key)
              .order_by(latest.c.event_seq.desc()).limit(SLIPS_SHOWN).subquery(name))
    return union(select(*newest.c), select(*(once.c[k] for k in _SLIP_KEYS_LISTED)).where(
        once.c.dossier_id == key, or_(*(once.c.form == form for form in ONCE_SLIPS))))


def _view_columns() -> tuple[Any, ...]:
    """What a dossier's view reads besides the row, as JSON in the same SELECT: its current documents, its
    latest events (one more than shown: whether older ones exist) and the slips it lists. Short table
    aliases keep the statement under psycopg's 4,096 characters, beyond which it parses the text again
    at every execution."""
    key = bindparam("dossier_id")
    documents = _documents_of(DOCUMENTS.alias("x"), RESULTS.alias("xr"), key)
    events = _events_of(EVENTS.alias("e"), key).limit(EVENTS_SHOWN + 1)
    slips = _slips_of(SLIPS.alias("s"), SLIPS.alias("o"), key, "sl")
    return (_rows_of(documents).label("view_documents"), _rows_of(events).label("view_events"),
            _rows_of(slips).label("view_slips"))


def _load_statement(parties: bool, view: bool = False) -> Any:
    """The dossier, whether it has results, and its agency's code and applicant; with ``parties`` the
    agency's and the applicant's whole rows (for the slips and results that ask the session for them);
    then the columns of ``_WITH``; with ``view`` then what the view reads (``_view_columns``). Tables go
    by one-letter aliases: the statement's text stays short (see ``_view_columns``)."""
    d, g, a = DOSSIERS.alias("d"), AGENCIES.alias("g"), ACCOUNTS.alias("a")
    c, p, n = ELIGIBILITY.alias("c"), PEOPLE.alias("p"), PREFERENCES.alias("n")
    named = {AGENCIES: g, ELIGIBILITY: c, PEOPLE: p, PREFERENCES: n}
    with_columns = [named[col.table].c[col.key] for col in _WITH]
    has_results = select(RESULTS.c.id).where(RESULTS.c.dossier_id == d.c.id).exists()
    checks = ELIGIBILITY.alias("k")
    latest_check = (select(checks.c.id).where(checks.c.dossier_id == d.c.id)
                    .order_by(checks.c.at.desc(), checks.c.id.desc()).limit(1).correlate(d).scalar_subquery())
    if parties:
        extra = [*g.c, *a.c]
    else:
        extra = [g.c.code, a.c.personal_id, a.c.display_name]
    return (
        select(*d.c, has_results.label("has_results"), *extra, *with_columns, *(_view_columns() if view else ()))
        .join_from(d, g, g.c.id == d.c.agency_id)
        .join(a, a.c.id == d.c.applicant_account_id)
        .outerjoin(c, c.c.id == latest_check)
        .outerjoin(p, p.c.personal_id == a.c.personal_id)
        .outerjoin(n, n.c.account_id == a.c.id)
        .where(d.c.id == bindparam("dossier_id"))
    )


PARTIES = (  # the agency's code and the applicant, for a dossier loaded some other way
    select(AGENCIES.c.code, ACCOUNTS.c.personal_id, ACCOUNTS.c.display_name)
    .select_from(AGENCIES.join(ACCOUNTS, true()))
    .where(AGENCIES.c.id == bindparam("agency_id"), ACCOUNTS.c.id == bindparam("account_id"))
)
CURRENT_DOCUMENTS = Prepared(_documents_of(DOCUMENTS, RESULTS, bindparam("dossier_id")).order_by(DOCUMENTS.c.added_at))


def current_documents(conn: Connection, d: Any) -> list[Any]:
    """The dossier's current documents, rows of CURRENT_DOCUMENTS (id, requirement_id, result_id, filename,
    content_type, size, sha256, added_at, result number) by date added. A transition's row (DossierRow)
    keeps them: read once per transition (no transition adds or replaces documents)."""
    cached = getattr(d, "documents", None) if isinstance(d, DossierRow) else None
    if cached is None:
        cached = CURRENT_DOCUMENTS.rows(conn, {"dossier_id": d.id})
        if isinstance(d, DossierRow):
            d.documents = cached
    return cached
CURRENT_REQUIREMENTS = select(DOCUMENTS.c.requirement_id).where(
    DOCUMENTS.c.dossier_id == bindparam("dossier_id"), DOCUMENTS.c.replaced_at.is_(None))
# a dossier's events, newest first, at most ``limit`` (the caller asks one more than it shows, to learn
# whether older ones exist): the latest ones, or those before the sequence number ``before``. The unique
# index (dossier_id, seq) serves both, so a read costs the same whatever the dossier's history.
EVENTS_LATEST = Prepared(_events_of(EVENTS, bindparam("dossier_id")).limit(bindparam("limit", type_=Integer)))
EVENTS_BEFORE = Prepared(_events_of(EVENTS, bindparam("dossier_id")).where(EVENTS.c.seq < bindparam("before"))
                         .limit(bindparam("limit", type_=Integer)))
RESULT_STATUSES = Prepared(
    select(RESULTS.c.id, RESULTS.c.status).where(RESULTS.c.dossier_id == bindparam("dossier_id"))
    .order_by(RESULTS.c.issued_at)
)
PENDING_RESULTS = select(func.count()).select_from(RESULTS).where(
    RESULTS.c.dossier_id == bindparam("dossier_id"), RESULTS.c.status == "pending")
_SHOWN_SLIPS = _slips_of(SLIPS, SLIPS, bindparam("dossier_id"), "latest").subquery("shown")
SLIP_LIST = Prepared(  # the latest SLIPS_SHOWN slips and every slip of a form a dossier gets at most once, in order
    select(_SHOWN_SLIPS.c.id, _SHOWN_SLIPS.c.form, _SHOWN_SLIPS.c.number, _SHOWN_SLIPS.c.issued_at,
           _SHOWN_SLIPS.c.status).order_by(_SHOWN_SLIPS.c.event_seq)
)


LATEST_ELIGIBILITY = Prepared(
    select(ELIGIBILITY.c.at, ELIGIBILITY.c.action, ELIGIBILITY.c.outcome, ELIGIBILITY.c.verdicts)
    .where(ELIGIBILITY.c.dossier_id == bindparam("dossier_id"))
    .order_by(ELIGIBILITY.c.at.desc(), ELIGIBILITY.c.id.desc()).limit(1)
)


_LOAD = {(parties, view): Prepared(_load_statement(parties, view)) for parties in (False, True) for view in (False, True)}


UNREAD = object()  # DossierRow.eligibility: to be read again (a check was recorded in this transaction)


class DossierRow:
    """One dossier as a transition sees it: every column as a plain attribute (the workflow machine
    and its effects set them as they would on the ORM object), plus what was read with it in the same
    SELECT: its agency's code, its applicant, whether it has results, and optionally the agency's and
    the applicant's whole rows. ``changes()`` tells what differs from what was read."""

    __slots__ = (*DOSSIER_FIELDS, "agency_code", "applicant_personal_id", "applicant_name", "has_results",
                 "documents", "eligibility", "contacts", "preferences", "agency_names", "events_read", "slips_read",
                 "_read", "_parties", "_attached")

    def __init__(self, row: Any, parties: bool, view: bool = False):
        values = tuple(row)
        # what the view reads, read with the row (``view``): the current documents, the latest events
        # (newest first) and the slips listed; the transition adds what it writes (``wrote_event``, ``wrote_slip``)
        self.events_read: list[tuple] | None = None
        self.slips_read: list[tuple] | None = None
        preloaded = None
        if view:
            values, preloaded = values[:-3], values[-3:]
        for i, name in _FIELD_INDEX:
            setattr(self, name, values[i])
        self._read = values[:_N_DOSSIER]
        self.has_results = bool(values[_N_DOSSIER])
        rest, (at, action, outcome, verdicts, current, permanent, phone, email, by_email, by_sms, language,
               name_vi, name_en) = values[_N_DOSSIER + 1:-_N_WITH], values[-_N_WITH:]
        # the latest eligibility check (at, action, outcome, verdicts), None when there is none; a
        # transition that records a check sets it to UNREAD, so the view reads the new one
        self.eligibility: Any = (at, action, outcome, verdicts) if at is not None else None
        # the applicant's contacts in the local register (None: not there) and preferences (None: none set)
        self.contacts: dict[str, Any] | None = (
            {"current_address": current, "permanent_address": permanent, "phone": phone, "email": email}
            if any(v is not None for v in (current, permanent, phone, email)) else None)
        self.preferences: tuple[Any, Any, Any] | None = (by_email, by_sms, language) if by_email is not None else None
        self.agency_names = (name_vi, name_en)
        if parties:
            agency = dict(zip(_AGENCY_KEYS, rest[:len(_AGENCY_KEYS)]))
            applicant = dict(zip(_ACCOUNT_KEYS, rest[len(_AGENCY_KEYS):]))
            self._parties: tuple[dict, dict] | None = (agency, applicant)
            self.agency_code, self.applicant_personal_id = agency["code"], applicant["personal_id"]
            self.applicant_name = applicant["display_name"]
        else:
            self._parties = None
            self.agency_code, self.applicant_personal_id, self.applicant_name = rest
        self.documents: list[Any] | None = None  # the current documents, once a guard or the view read them
        self._attached: list[Any] = []
        if preloaded is not None:
            documents, events, slips = (json_list or [] for json_list in preloaded)
            self.documents = sorted(((*r[:7], _when(r[7]), r[8]) for r in documents), key=lambda r: r[7])
            self.events_read = sorted(((*r[:6], _when(r[6]), *r[7:]) for r in events), key=lambda r: -r[0])
            self.slips_read = [(*r[:3], _when(r[3]), *r[4:]) for r in slips]

    def wrote_event(self, event: dict[str, Any]) -> None:
        """The audit event this transition wrote (its fields), for the view built in the same transaction."""
        if self.events_read is not None:
            self.events_read.insert(0, tuple(event[k] for k in _EVENT_KEYS))

    def wrote_slip(self, slip: dict[str, Any]) -> None:
        """The slip this transition recorded (its row), for the view built in the same transaction."""
        if self.slips_read is not None:
            self.slips_read.append((slip["id"], slip["form"], slip["number"], slip["issued_at"], slip["status"],
                                    slip["event_seq"]))

    def view_is_read(self) -> bool:
        """Whether the view can be built from what was read with the row and what the transition wrote,
        without a statement: read with ``view``, no results (their statuses are read), and no eligibility
        check recorded in this transaction."""
        return (self.events_read is not None and self.slips_read is not None and self.documents is not None
                and not self.has_results and self.eligibility is not UNREAD)

    def latest_events(self) -> list[tuple] | None:
        """The latest ``EVENTS_SHOWN + 1`` events, newest first, as ``EVENTS_LATEST`` reads them (None: not read)."""
        return None if self.events_read is None else self.events_read[:EVENTS_SHOWN + 1]

    def slip_list(self) -> list[tuple] | None:
        """The slips as ``SLIP_LIST`` lists them (None: not read): the latest ``SLIPS_SHOWN`` and every slip of
        a form that comes once, in order."""
        if self.slips_read is None:
            return None
        ordered = sorted(self.slips_read, key=lambda r: r[5])
        latest = {r[0] for r in ordered[-SLIPS_SHOWN:]}
        return [r[:5] for r in ordered if r[0] in latest or r[1] in ONCE_SLIPS]

    def changes(self) -> dict[str, Any]:
        """The columns whose value differs from the row as read (what the ORM would write)."""
        read = self._read
        return {name: getattr(self, name) for i, name in _FIELD_INDEX if getattr(self, name) != read[i]}

    def attach_parties(self, session: Session) -> None:
        """Put the agency and the applicant, if their rows were read with the dossier, into ``session`` as
        loaded objects, so that code asking the session for them (slips, results) does not read them again."""
        if self._parties is None:
            return
        for model, values in zip((Agency, Account), self._parties):
            if session.identity_map.get(session.identity_key(model, values["id"])) is None:
                obj = model(**values)
                make_transient_to_detached(obj)
                session.add(obj)
                self._attached.append(obj)  # the identity map holds clean objects weakly: keep them alive


_AGENCY_ROW = Prepared(select(AGENCIES).where(AGENCIES.c.id == bindparam("agency_id")), named_rows=True)
_ACCOUNT_ROW = Prepared(select(ACCOUNTS).where(ACCOUNTS.c.id == bindparam("account_id")), named_rows=True)


def parties(conn: Connection, d: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dossier's agency and applicant rows as dicts of their columns: those read with a ``DossierRow``
    (``parties=True``), else read now."""
    if isinstance(d, DossierRow) and d._parties is not None:
        return d._parties
    agency = _AGENCY_ROW.first(conn, {"agency_id": d.agency_id})
    account = _ACCOUNT_ROW.first(conn, {"account_id": d.applicant_account_id})
    return agency._asdict(), account._asdict()


def insert_slip(conn: Connection, row: dict[str, Any]) -> None:
    """INSERT a slip's row (``Issuance.queue_slip``), one prepared statement per set of columns."""
    insert_of(SLIPS, tuple(row)).execute(conn, row)


def _when(value: Any) -> Any:
    """A date and time read inside JSON (ISO text), as the column itself reads."""
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def load_dossier(conn: Connection, dossier_id: str, *, parties: bool = False, view: bool = False) -> DossierRow | None:
    """The dossier as a transition reads it (``DossierRow``), with what its view reads when ``view``."""
    row = _LOAD[(parties, view)].first(conn, {"dossier_id": dossier_id})
    return DossierRow(row, parties, view) if row is not None else None


def _versioned_update(fields: tuple[str, ...]) -> Any:
    return (
        update(DOSSIERS)
        .where(DOSSIERS.c.id == bindparam("w_id"), DOSSIERS.c.version_counter == bindparam("w_version"))
        .values({**{name: bindparam(f"v_{name}") for name in fields}, "version_counter": bindparam("v_version_counter")})
    )


def _all_in_one(fields: tuple[str, ...], event_keys: tuple[str, ...]) -> Any:
    """PostgreSQL: the versioned UPDATE, the event and the outbox row in one statement (data-modifying
    CTEs): the two INSERTs take their one row from the UPDATE's RETURNING, so they write nothing when
    the version check fails, and the transition costs one round trip instead of three."""
    moved = _versioned_update(fields).returning(DOSSIERS.c.id).cte("moved")
    logged = insert(EVENTS).from_select(
        list(event_keys), select(*[bindparam(f"e_{k}", type_=EVENTS.c[k].type) for k in event_keys]).select_from(moved)
    ).cte("logged")
    queued = insert(OUTBOX).from_select(
        list(_OUTBOX_KEYS), select(*[bindparam(f"o_{k}", type_=OUTBOX.c[k].type) for k in _OUTBOX_KEYS]).select_from(moved)
    ).cte("queued")
    return select(func.count()).select_from(moved).add_cte(logged, queued)


_OUTBOX_KEYS = ("topic", "dossier_id", "payload", "created_at", "sent_at", "attempts")
_UPDATES: dict[tuple[str, ...], Prepared] = {}
_ALL_IN_ONE: dict[tuple[tuple[str, ...], tuple[str, ...]], Prepared] = {}


_VERSION = Prepared(select(DOSSIERS.c.version_counter).where(DOSSIERS.c.id == bindparam("dossier_id")))


def dossier_version(conn: Connection, dossier_id: str) -> int | None:
    """The dossier's version now (None: no such dossier)."""
    return _VERSION.scalar(conn, {"dossier_id": dossier_id})


def write_transition(conn: Connection, d: DossierRow, event: dict[str, Any], outbox_topic: str,
                     outbox_payload: dict) -> None:
    """Persist a transition: write what changed in the dossier if the row still has the version that was
    read, bumping the version; add its audit event (``event``: its fields, ``hash`` included) and its
    outbox row. Raise ConcurrencyError, writing nothing, when the version moved. Nobody else's write is
    lost: on PostgreSQL a concurrent writer's UPDATE waits for ours and then matches no row; SQLite
    writers are serialised by ``BEGIN IMMEDIATE``."""
    changes = d.changes()
    changes.pop("version_counter", None)
    fields = tuple(changes)
    params = {f"v_{name}": value for name, value in changes.items()}
    params.update(w_id=d.id, w_version=d.version_counter, v_version_counter=d.version_counter + 1)
    outbox = {"topic": outbox_topic, "dossier_id": d.id, "payload": outbox_payload, "created_at": event["at"],
              "sent_at": None, "attempts": 0}
    if conn.dialect.name == "postgresql":
        key = (fields, tuple(event))
        stmt = _ALL_IN_ONE.get(key)
        if stmt is None:
            stmt = _ALL_IN_ONE[key] = Prepared(_all_in_one(*key))
        params.update({f"e_{k}": v for k, v in event.items()})
        params.update({f"o_{k}": v for k, v in outbox.items()})
        moved = stmt.scalar(conn, params)
    else:
        stmt = _UPDATES.get(fields)
        if stmt is None:
            stmt = _UPDATES[fields] = Prepared(_versioned_update(fields))
        moved = stmt.execute(conn, params)
        if moved == 1:
            insert_of(EVENTS, tuple(event)).execute(conn, event)
            insert_of(OUTBOX, _OUTBOX_KEYS).execute(conn, outbox)
    if moved != 1:
        raise ConcurrencyError(STALE_MESSAGE)
    _move_count(conn, d)
    d.version_counter += 1
    d._read = tuple(getattr(d, name) for name in DOSSIER_FIELDS)


# --------------------------------------------------------------------------- the settled dossiers' counts

COUNTS = DossierCount.__table__
_STATE, _DUE, _OVERDUE, _CLOSED, _DECIDED, _AGENCY, _PROCEDURE = (
    DOSSIER_FIELDS.index(n) for n in ("state", "due_at", "overdue", "closed_at", "decided_at", "agency_id",
                                      "procedure_id"))
_COUNT_DOWN = (update(COUNTS).where(COUNTS.c.agency_id == bindparam("k_agency"),
                                    COUNTS.c.procedure_id == bindparam("k_procedure"),
                                    COUNTS.c.state == bindparam("k_state"), COUNTS.c.timeliness == bindparam("k_when"))
               .values(n=COUNTS.c.n - 1))
_COUNT_UP = {
    name: make(COUNTS).values(agency_id=bindparam("k_agency"), procedure_id=bindparam("k_procedure"),
                              state=bindparam("k_state"), timeliness=bindparam("k_when"), n=1)
    .on_conflict_do_update(index_elements=["agency_id", "procedure_id", "state", "timeliness"],
                           set_={"n": COUNTS.c.n + 1})
    for name, make in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
SETTLED_TIMELINESS = ("CASE WHEN due_at IS NULL THEN 'none' WHEN overdue THEN 'overdue' ELSE 'on_time' END")


class _Read:
    """The row as it was read, for the rule that tells a settled dossier's timeliness."""

    __slots__ = ("due_at", "overdue", "closed_at", "decided_at")

    def __init__(self, values: tuple) -> None:
        self.due_at, self.overdue = values[_DUE], values[_OVERDUE]
        self.closed_at, self.decided_at = values[_CLOSED], values[_DECIDED]


def _move_count(conn: Connection, d: DossierRow) -> None:
    """Keep ``dossier_counts`` in step with a transition, in its transaction: take the dossier out of the
    bucket it was counted in when it was read settled, put it into its new one if it is settled now.
    Counter rows are touched in key order, so two transitions never wait for each other in a cycle; the
    increments are atomic (``n = n + 1`` under the row's lock), so concurrent transitions all count."""
    read = d._read
    before = settled(_Read(read))
    after = settled(d)
    old = (read[_AGENCY], read[_PROCEDURE], read[_STATE], before) if before else None
    new = (d.agency_id, d.procedure_id, d.state, after) if after else None
    if old == new:
        return
    moves = sorted([(key, -1) for key in (old,) if key] + [(key, 1) for key in (new,) if key])
    up = _COUNT_UP.get(conn.dialect.name, _COUNT_UP["sqlite"])
    for (agency, procedure, state, when), delta in moves:
        conn.execute(up if delta > 0 else _COUNT_DOWN,
                     {"k_agency": agency, "k_procedure": procedure, "k_state": state, "k_when": when})


def rebuild_counts(conn: Connection) -> int:
    """Count the settled dossiers again from the table (after a bulk load that bypassed the transitions);
    returns the number of counter rows."""
    conn.execute(COUNTS.delete())
    conn.exec_driver_sql(
        "INSERT INTO dossier_counts (agency_id, procedure_id, state, timeliness, n) "
        f"SELECT agency_id, procedure_id, state, {SETTLED_TIMELINESS}, count(*) FROM dossiers "
        "WHERE closed_at IS NOT NULL OR decided_at IS NOT NULL "
        f"GROUP BY agency_id, procedure_id, state, {SETTLED_TIMELINESS}")
    return conn.execute(select(func.count()).select_from(COUNTS)).scalar_one()


# --------------------------------------------------------------------------- sign-in failure counters

def locked_login_throttle(session: Session, key_sha256: str, scope: str, now: Any) -> Any:
    """The counter row for ``key_sha256``, created at zero when missing, locked for this transaction
    (``FOR UPDATE`` on PostgreSQL; SQLite's write transaction holds the whole database already), so
    that concurrent failures from several workers each count."""
    dialect = session.get_bind().dialect.name
    make_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(make_insert(LoginThrottle).values(key_sha256=key_sha256, scope=scope, failures=0,
                                                      last_failure_at=now).on_conflict_do_nothing())
    return session.execute(select(LoginThrottle).where(LoginThrottle.key_sha256 == key_sha256)
                           .with_for_update()).scalar_one()
