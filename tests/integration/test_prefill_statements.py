"""The prefill's work does not grow with what the store holds: one read transaction, the same
statements for a family with many stored results as with few (bench/README.md, ``prefill``)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select

from engine.adapters.models import Agency, Person, Result, ResultHolder

pytestmark = pytest.mark.database

PROCEDURE = "birth-registration"


def _statements(services, actor) -> list[str]:
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(services.engine, "before_cursor_execute", record)
    try:
        view = services.prefill.prefill_for(PROCEDURE, actor)
    finally:
        event.remove(services.engine, "before_cursor_execute", record)
    assert view.counts["prefilled"] >= 15
    return seen


def _store_results(services, personal_id: str, n: int) -> None:
    with services.uow() as uow:
        s = uow.session
        agency = s.scalars(select(Agency)).first()
        kinds = ["marriage-certificate", "birth-certificate", "marital-status-certificate"]
        for i in range(n):
            r = Result(number=f"{i + 1}/2020/T", procedure_id="marriage-registration", procedure_version=1,
                       result_key="test", evidence_type=kinds[i % len(kinds)], issuer_agency_id=agency.id,
                       issued_at=dt.datetime(2020, 1, 1) + dt.timedelta(days=i), status="valid",
                       data={"note": str(i)}, issue_attempts=0)
            r.holders = [ResultHolder(personal_id=personal_id)]
            s.add(r)
        uow.commit()


def test_the_prefill_sends_the_same_statements_with_forty_more_stored_results_and_two_more_children(services, demo):
    couple = demo["scenarios"]["married_couple"]
    wife = services.accounts.actor_for(couple["wife"])
    services.prefill.prefill_for(PROCEDURE, wife)  # warm-up (caches of the definitions)
    before = _statements(services, wife)

    _store_results(services, couple["wife"], 40)
    with services.uow() as uow:
        s = uow.session
        mother, husband = (s.execute(select(Person).where(Person.personal_id == pid)).scalar_one()
                           for pid in (couple["wife"], couple["husband"]))
        others = s.scalars(select(Person).where(Person.personal_id.notin_(couple.values()),
                                                Person.father_id.is_(None), Person.mother_id.is_(None))
                           .limit(2)).all()
        for child in others:
            child.father_id, child.mother_id = husband.id, mother.id
        uow.commit()
    after = _statements(services, wife)

    assert after == before
    # one read transaction for every read, then the log of the reads of the husband's data
    reads = [s for s in after if s not in ("INSERT", "BEGIN", "COMMIT")]
    assert reads and set(reads) == {"SELECT"}
    assert after.count("INSERT") <= 1
    assert len(after) <= 12
