"""Read units of work on PostgreSQL: READ ONLY transactions that end with COMMIT, so that psycopg keeps the
connection's prepared statements (it drops them all at a ROLLBACK); a write in one is an error, not a
silent loss; a one-statement read runs without BEGIN and COMMIT. On SQLite a read unit is a deferred
transaction rolled back, as before (a read statement runs prepared there too), and a one-statement read
runs in SQLite's autocommit, without BEGIN."""
from __future__ import annotations

import pytest
from sqlalchemy import event, exc, text

from engine.adapters import queries
from tests.integration.test_fastsql import _dossier_in_appraisal

pytestmark = pytest.mark.database


def _pg(services) -> None:
    if services.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's transactions and psycopg's prepared statements")


def test_a_read_unit_keeps_the_prepared_statements(services, demo):
    _pg(services)
    clerk = services.accounts.actor_for("clerk")
    dossier_id = _dossier_in_appraisal(services, demo)
    services.engine.dispose()  # one fresh connection, reused by every unit below (one at a time)
    for _ in range(8):  # psycopg prepares a statement at its fifth execution on a connection
        services.dossiers.get_dossier(dossier_id, clerk)
    with services.engine.connect() as conn:
        names = [row[0] for row in conn.exec_driver_sql(
            "SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")]
    assert any("FROM dossiers" in s and "json_agg" in s for s in names), names


def test_a_write_in_a_read_unit_is_refused(services, demo):
    _pg(services)
    with pytest.raises(exc.InternalError, match="read-only transaction"):
        with services.uow(write=False) as uow:
            uow.connection.execute(text("UPDATE feed_counter SET value = value WHERE id = 1"))


def test_a_one_statement_read_sends_no_begin_or_commit(services, demo):
    token = services.accounts.issue_token("clerk")
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        sent.append(statement.split()[0].upper())

    services.accounts.authenticate_token(token)
    event.listen(services.engine, "before_cursor_execute", record)
    try:
        actor = services.accounts.authenticate_token(token)
    finally:
        event.remove(services.engine, "before_cursor_execute", record)
    assert actor.username == "clerk" and sent == ["SELECT"]
    if services.engine.dialect.name == "sqlite":  # the next unit on that connection begins as usual
        with services.uow(write=False) as uow:
            uow.connection.exec_driver_sql("SELECT 1")
            assert uow.connection.connection.dbapi_connection.in_transaction
        return
    with services.engine.connect() as conn:  # the pooled connection is back to transactions
        conn.exec_driver_sql("SELECT 1")
        assert conn.connection.dbapi_connection.autocommit is False
        assert conn.connection.dbapi_connection.read_only in (None, False)


def test_the_view_statement_is_prepared_on_every_backend(services):
    assert queries._LOAD[(False, True)].plan(services.engine.dialect) is not None


def test_a_dossier_whose_view_is_its_row_is_read_in_one_statement_outside_a_transaction(services, demo):
    clerk = services.accounts.actor_for("clerk")
    dossier_id = _dossier_in_appraisal(services, demo)
    services.dossiers.get_dossier(dossier_id, clerk)  # the procedure is in memory
    sent: list[tuple[str, bool]] = []

    def record(conn, _cursor, statement, *_args):
        dbapi = conn.connection.dbapi_connection
        in_transaction = (dbapi.in_transaction if services.engine.dialect.name == "sqlite"
                          else dbapi.info.transaction_status != dbapi.info.transaction_status.IDLE)
        sent.append((statement.split()[0].upper(), in_transaction))

    event.listen(services.engine, "after_cursor_execute", record)
    try:
        view = services.dossiers.get_dossier(dossier_id, clerk)
    finally:
        event.remove(services.engine, "after_cursor_execute", record)
    assert sent == [("SELECT", False)]
    assert view.id == dossier_id and view.events and view.results == []
