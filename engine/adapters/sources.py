"""Adapters of the prefill sources: the local population table, a remote population register over
HTTP (with timeouts), and the results store. They implement the protocols of engine.rules.prefill."""
from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select

from engine.adapters.models import Person, Result, ResultHolder
from engine.rules.identity import PERSONAL_ID, PersonalIdRule
from engine.rules.prefill import PersonRecord, StoredResult
from engine.adapters.uow import UnitOfWork

PERSON_FIELDS = ("full_name", "date_of_birth", "sex", "ethnicity", "nationality", "religion", "home_town",
                 "place_of_birth", "permanent_address", "current_address", "permanent_unit", "current_unit", "phone", "email", "marital_status",
                 "id_issued_on", "id_issued_by", "date_of_death")
PERSON_COLUMNS = tuple(getattr(Person, name) for name in PERSON_FIELDS)
DATE_FIELDS = frozenset({"date_of_birth", "date_of_death", "id_issued_on"})
LINK_COLUMNS = {"father": "father_id", "mother": "mother_id", "spouse": "spouse_id"}


class RegisterLockedError(Exception):
    """A change would touch a deceased person's record, which is locked (Law on Civil Status Art. 34(2))."""


class LocalPopulationRegister:
    """The default adapter: the people table seeded with synthetic people (demo) or a local copy."""

    reads_through_session = True  # a use case may pass its own session (one connection per request)

    def __init__(self, uow: Callable[..., UnitOfWork]):
        self.uow = uow

    def person(self, personal_id: str, session: Any = None) -> PersonRecord | None:
        """Look a person up; inside a use case's transaction pass its ``session`` so that one request
        never holds two connections (a pool of N connections must serve N concurrent requests)."""
        if session is not None:
            return self._person(session, personal_id)
        with self.uow(write=False) as u:
            return self._person(u.session, personal_id)

    def _person(self, s: Any, personal_id: str) -> PersonRecord | None:
        p = s.execute(select(Person.id, Person.personal_id, Person.spouse_id, Person.father_id, Person.mother_id,
                             *PERSON_COLUMNS).where(Person.personal_id == personal_id)).first()
        if p is None:
            return None
        # the linked people and the children in one statement
        ids = [i for i in (p.spouse_id, p.father_id, p.mother_id) if i]
        related = s.execute(select(Person.id, Person.personal_id, Person.father_id, Person.mother_id).where(
            Person.id.in_(ids) | (Person.father_id == p.id) | (Person.mother_id == p.id)).order_by(Person.id)).all()
        by_id = {r.id: r.personal_id for r in related}
        children = tuple(r.personal_id for r in related if p.id in (r.father_id, r.mother_id))
        return PersonRecord(
            personal_id=p.personal_id,
            attributes={name: getattr(p, name) for name in PERSON_FIELDS},
            spouse=by_id.get(p.spouse_id), father=by_id.get(p.father_id), mother=by_id.get(p.mother_id),
            children=children,
        )

    def contacts(self, personal_id: str, session: Any) -> dict[str, Any] | None:
        """The person's addresses, phone and e-mail (one statement; a slip's contact lines), or None."""
        row = session.execute(select(Person.current_address, Person.permanent_address, Person.phone, Person.email)
                              .where(Person.personal_id == personal_id)).first()
        return dict(row._mapping) if row is not None else None

    # ------------------------------------------------------------------ writing back (in the caller's session)

    writes_in_session = True  # a change is applied in the use case's transaction, committed with it

    def personal_id_taken(self, personal_id: str, session: Any) -> bool:
        return session.execute(select(Person.id).where(Person.personal_id == personal_id)).first() is not None

    def apply_change(self, session: Any, people: list[dict[str, Any]]) -> None:
        """Apply the people of one change (``{personal_id, create, set, links}`` each) in ``session``.
        A deceased person's record is locked: changing it raises RegisterLockedError."""
        for op in people:
            values = {k: (dt.date.fromisoformat(v) if k in DATE_FIELDS and isinstance(v, str) else v)
                      for k, v in (op.get("set") or {}).items() if k in PERSON_FIELDS}
            for name, pid in (op.get("links") or {}).items():
                values[LINK_COLUMNS[name]] = self._row_id(session, pid) if pid else None
            if op.get("create"):
                session.add(Person(personal_id=op["personal_id"], **values))
                session.flush()
                continue
            person = session.execute(select(Person).where(Person.personal_id == op["personal_id"])).scalar_one_or_none()
            if person is None:
                raise LookupError(f"{op['personal_id']} is not in the register")
            if person.date_of_death is not None:
                raise RegisterLockedError(op["personal_id"])
            for key, value in values.items():
                setattr(person, key, value)
        session.flush()

    @staticmethod
    def _row_id(session: Any, personal_id: str) -> int:
        row = session.execute(select(Person.id).where(Person.personal_id == personal_id)).scalar_one_or_none()
        if row is None:
            raise LookupError(f"{personal_id} is not in the register")
        return row


class HttpPopulationRegister:
    """A remote register: GET <base>/<personal id> returns the person as JSON (404: unknown).

    The JSON carries the attribute names of PERSON_FIELDS plus ``spouse``, ``father``,
    ``mother`` (personal ids) and ``children`` (a list). Every call has a timeout; a slow or
    failing register raises, and the prefill leaves its fields to type.
    """

    def __init__(self, base_url: str, *, timeout: float = 3.0, token: str | None = None,
                 personal_ids: PersonalIdRule = PERSONAL_ID):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("the population register URL must be http(s)")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token = token
        self.personal_ids = personal_ids

    def person(self, personal_id: str) -> PersonRecord | None:
        if not self.personal_ids.matches(personal_id):
            return None
        request = urllib.request.Request(f"{self.base_url}/{urllib.parse.quote(personal_id)}",
                                         headers={"Accept": "application/json"})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured URL
                body = json.loads(response.read(1_000_000))
        except urllib.error.HTTPError as exc:
            exc.close()  # the error holds the register's open answer
            if exc.code == 404:
                return None
            raise
        if not isinstance(body, dict):
            raise ValueError("the population register answered with something other than a JSON object")
        return PersonRecord(
            personal_id=personal_id,
            attributes={name: body.get(name) for name in PERSON_FIELDS},
            spouse=body.get("spouse"), father=body.get("father"), mother=body.get("mother"),
            children=tuple(body.get("children") or ()),
        )

    # ------------------------------------------------------------------ writing back (after the commit)

    writes_in_session = False  # a change is kept as a durable row and posted after the commit

    def personal_id_taken(self, personal_id: str, session: Any = None) -> bool:
        return self.person(personal_id) is not None

    def post_change(self, key: str, payload: dict[str, Any]) -> None:
        """POST <base>/changes with the idempotency key: the register applies a key once and answers a
        replay with success. Anything but a 2xx raises, and the change stays pending for the next run."""
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        request = urllib.request.Request(f"{self.base_url}/changes", data=body, method="POST", headers={
            "Content-Type": "application/json", "Accept": "application/json", "Idempotency-Key": key})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured URL
                response.read(100_000)
        except urllib.error.HTTPError as exc:
            exc.close()  # the error holds the register's open answer; the change stays pending
            raise


class DatabaseResults:
    """Valid results of given holders from the results store."""

    def __init__(self, uow: Callable[..., UnitOfWork], titles: dict[str, str], clock: Callable[[], dt.datetime]):
        self.uow = uow
        self.titles = titles
        self.clock = clock

    reads_through_session = True  # a use case may pass its own session

    def valid_results(self, personal_ids: Iterable[str], evidence_types: Iterable[str],
                      session: Any = None) -> list[StoredResult]:
        pids, types = list(personal_ids), list(evidence_types)
        if not pids or not types:
            return []
        if session is not None:
            return self._valid_results(session, pids, types)
        with self.uow(write=False) as u:
            return self._valid_results(u.session, pids, types)

    def _valid_results(self, s: Any, pids: list[str], types: list[str]) -> list[StoredResult]:
        now = self.clock()
        held = select(ResultHolder.result_id).where(ResultHolder.personal_id.in_(pids))
        rows = s.execute(
            select(Result.id, Result.evidence_type, Result.number, Result.data, Result.issued_at).where(
                Result.id.in_(held), Result.evidence_type.in_(types), Result.status == "valid",
                (Result.valid_until.is_(None)) | (Result.valid_until > now),
            )
        ).all()
        if not rows:
            return []
        holders: dict[int, list[str]] = {}
        for result_id, personal_id in s.execute(select(ResultHolder.result_id, ResultHolder.personal_id).where(
                ResultHolder.result_id.in_([r.id for r in rows]))):
            holders.setdefault(result_id, []).append(personal_id)
        return [StoredResult(r.id, r.evidence_type, r.number, self.titles.get(r.evidence_type, r.evidence_type),
                             tuple(holders.get(r.id, ())), dict(r.data or {}), r.issued_at)
                for r in rows]


def person_payload(record: PersonRecord) -> dict[str, Any]:
    """The JSON a remote register would send for this person (used by tests and tools)."""
    out = {k: (v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v) for k, v in record.attributes.items()}
    out.update(spouse=record.spouse, father=record.father, mother=record.mother, children=list(record.children))
    return out
