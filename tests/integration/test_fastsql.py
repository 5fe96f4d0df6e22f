"""The prepared statements of the transition's hot path (engine/adapters/fastsql.py) give what
``Connection.execute`` gives, on the configured database: the same values of the same types, the
same errors (wrapped as SQLAlchemy's), the same listeners called; and none of them falls back."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, exc, select

from engine.adapters import feed, queries, sequences
from engine.adapters.fastsql import Prepared, insert_of, insert_rows
from engine.adapters.models import Dossier
from engine.usecases.notifications import _NOTIFICATION_KEYS, NOTIFICATIONS
from tests.web.test_lifecycle_api import in_appraisal

pytestmark = pytest.mark.database


def _dossier_in_appraisal(services, demo) -> str:
    d, _citizen, specialist = in_appraisal(services, demo)
    services.actions.perform_action(d.id, "request_supplement", specialist, items=["Giấy chứng sinh"])
    return d.id


HOT = [queries.CURRENT_DOCUMENTS, queries.EVENTS_LATEST, queries.EVENTS_BEFORE, queries.RESULT_STATUSES,
       queries.SLIP_LIST, queries.LATEST_ELIGIBILITY, *queries._LOAD.values()]


def test_every_hot_statement_is_prepared_on_this_database(services):
    dialect = services.engine.dialect
    fixed = [*HOT, sequences._NEXT_NOW, feed._TAKE_NOW, feed._FOLLOWED,
             insert_of(queries.OUTBOX, queries._OUTBOX_KEYS),
             insert_rows(NOTIFICATIONS, _NOTIFICATION_KEYS, 3, (NOTIFICATIONS.c.id, NOTIFICATIONS.c.status))]
    assert [p.plan(dialect) is not None for p in fixed] == [True] * len(fixed)


def test_prepared_reads_equal_the_orm_connection_reads(services, demo):
    did = _dossier_in_appraisal(services, demo)
    params = {"dossier_id": did, "limit": 21, "before": 5}
    with services.uow(write=False) as uow:
        conn = uow.session.connection()
        for prepared in HOT:
            names = {b.key for b in prepared.statement.compile(dialect=conn.dialect).binds.values() if b.required}
            given = {k: v for k, v in params.items() if k in names}
            expected = [tuple(r) for r in conn.execute(prepared.statement, given).all()]
            got = prepared.rows(conn, given)
            assert got == expected
            assert [[type(v) for v in row] for row in got] == [[type(v) for v in row] for row in expected]
        events = queries.EVENTS_LATEST.rows(conn, {"dossier_id": did, "limit": 21})
    assert [e[1] for e in events] == ["request_supplement", "assign", "receive", "submit", "create"]
    assert isinstance(events[0][6], dt.datetime) and events[0][9] == ["Giấy chứng sinh"]  # a date and a JSON list


def test_listeners_see_each_prepared_statement(services, demo):
    did = _dossier_in_appraisal(services, demo)
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(services.engine, "before_cursor_execute", record)
    try:
        with services.uow(write=False) as uow:
            queries.SLIP_LIST.rows(uow.session.connection(), {"dossier_id": did})
    finally:
        event.remove(services.engine, "before_cursor_execute", record)
    assert [s.split()[0] for s in seen if "slips" in s] == ["SELECT"]


def test_driver_errors_come_back_as_sqlalchemy_errors_and_commit_nothing(services, demo):
    did = _dossier_in_appraisal(services, demo)
    with services.uow(write=False) as uow:
        row = queries.EVENTS_LATEST.first(uow.session.connection(), {"dossier_id": did, "limit": 1})
    seq = row[0]
    duplicate = {"dossier_id": did, "seq": seq, "action": "x", "actor_account_id": None, "actor_name": "x",
                 "role": "x", "agency_id": None, "from_state": None, "to_state": "x", "at": dt.datetime(2026, 3, 2),
                 "comment": None, "reason": None, "items": None, "details": None, "prev_hash": None, "hash": "0" * 64}
    with pytest.raises(exc.IntegrityError):  # (dossier_id, seq) is unique
        with services.uow() as uow:
            insert_of(queries.EVENTS, tuple(duplicate)).execute(uow.session.connection(), duplicate)
            uow.commit()
    with services.uow(write=False) as uow:
        count = uow.session.execute(select(Dossier.event_count).where(Dossier.id == did)).scalar_one()
        assert queries.EVENTS_LATEST.first(uow.session.connection(), {"dossier_id": did, "limit": 1})[0] == seq == count


def test_a_missing_parameter_is_an_error_not_a_null(services, demo):
    did = _dossier_in_appraisal(services, demo)
    with services.uow(write=False) as uow:
        with pytest.raises(KeyError):
            queries.EVENTS_LATEST.rows(uow.session.connection(), {"dossier_id": did})


def test_outside_a_transaction_the_connection_executes_it(services, demo):
    did = _dossier_in_appraisal(services, demo)
    with services.engine.connect() as conn:
        conn.commit()  # nothing begun: Prepared hands the statement to the connection
        assert [r[1] for r in queries.SLIP_LIST.rows(conn, {"dossier_id": did})] == ["01", "02"]


def test_a_statement_with_an_expanding_list_falls_back(services):
    from engine.adapters.models import Slip

    prepared = Prepared(select(Slip.id).where(Slip.form.in_(["01", "02"])))
    assert prepared.plan(services.engine.dialect) is None
    with services.uow(write=False) as uow:
        assert prepared.rows(uow.session.connection(), {}) == []


def test_the_hot_statements_stay_within_psycopgs_parse_cache():
    """psycopg converts a query's text to PostgreSQL's placeholders once and caches it, for a text of
    at most 4,096 characters; a longer one is parsed again at every execution (8 % of a transition)."""
    from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH
    from sqlalchemy.dialects.postgresql.psycopg import dialect

    pg = dialect()
    assert max(len(p.plan(pg).sql) for p in HOT) <= MAX_CACHED_STATEMENT_LENGTH
