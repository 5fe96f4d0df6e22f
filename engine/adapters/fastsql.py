"""Prebuilt statements run on the driver's cursor: the transition's hot path without SQLAlchemy's
per-execution machinery.

A ``Prepared`` statement is a Core statement compiled once per dialect into its SQL text, the order of
its parameters with the type processors each one needs, and the result processors of its columns.
``run`` then executes it on the DB-API cursor of the caller's connection, inside the connection's
transaction, and returns plain tuples. It does what ``Connection.execute`` does for such a statement,
and no more: the same SQL, the same bind and result conversions (taken from the statement's own
types), the connection's ``before_cursor_execute`` / ``after_cursor_execute`` listeners called, the
driver's errors wrapped as SQLAlchemy's (``IntegrityError`` stays ``IntegrityError``; a lost connection
invalidates it). It does not compute column defaults: every parameter a statement names must be given
(a missing one is a ``KeyError``, not a NULL). A connection outside a transaction, or a statement that
cannot be prepared, goes through ``Connection.execute``.

Measured (``python -m bench transitions``): SQLAlchemy's execution context costs 60-100 us a statement
in this process, and psycopg's ``cursor.description`` builds a column object per column of each
result, which a raw cursor fetching tuples never asks for.
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect

_NO_VALUE = object()


class _Plan:
    __slots__ = ("sql", "binds", "named", "results", "processed", "row")
    # ``processed``: (column index, result processor) of the columns that have one, so that a row's other
    # columns are taken as the driver gave them (a dossier's load: 28 of 71 columns)

    def __init__(self, sql: str, binds: tuple, named: bool, results: tuple[Callable | None, ...],
                 row: Callable[[Any], tuple] | None):
        self.sql = sql
        self.binds = binds  # (parameter name, caller's key or None, fixed value, processor)
        self.named = named  # pyformat (a dict) or qmark / numeric (a sequence)
        self.results = results
        self.processed = tuple((i, p) for i, p in enumerate(results) if p is not None)
        self.row = row  # a named tuple's maker, when the rows are asked for by column name


class Prepared:
    """A Core statement compiled once per dialect, executed on the driver's cursor by ``run``."""

    __slots__ = ("statement", "named_rows", "_plans")

    def __init__(self, statement: Any, *, named_rows: bool = False):
        """``named_rows``: rows are named tuples (``row.username``), as SQLAlchemy's rows are."""
        self.statement = statement
        self.named_rows = named_rows
        self._plans: dict[str, _Plan | None] = {}

    def plan(self, dialect: Dialect) -> _Plan | None:
        try:
            return self._plans[dialect.name]
        except KeyError:
            plan = self._plans[dialect.name] = _compile(self.statement, dialect, self.named_rows)
            return plan

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple]:
        """Every row of the result, as tuples."""
        return run(conn, self, params, fetch=True)

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple | None:
        rows = run(conn, self, params, fetch=True)
        return rows[0] if rows else None

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        rows = run(conn, self, params, fetch=True)
        return rows[0][0] if rows else None

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run a statement that returns no rows; the driver's row count."""
        return run(conn, self, params, fetch=False)


def _compile(statement: Any, dialect: Dialect, named_rows: bool = False) -> _Plan | None:
    compiled = statement.compile(dialect=dialect)
    if getattr(compiled, "literal_execute_params", None) or getattr(compiled, "post_compile_params", None):
        return None  # expanding IN lists and the like are rendered per execution: leave them to SQLAlchemy
    if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
        return None  # column defaults computed in Python for each execution: SQLAlchemy's to compute
    escaped = getattr(compiled, "escaped_bind_names", None) or {}
    by_name: dict[str, tuple] = {}
    for bind, name in compiled.bind_names.items():
        if bind.callable is not None:
            return None
        impl = bind.type.dialect_impl(dialect)
        processor = impl.bind_processor(dialect)
        key = bind.key if bind.required or bind.value is None else None
        fixed = _NO_VALUE if key is not None else (processor(bind.value) if processor else bind.value)
        by_name[name] = (escaped.get(name, name), bind.key, fixed, processor)
    named = not dialect.positional
    if named:
        binds = tuple(by_name.values())
    else:
        binds = tuple(by_name[name] for name in compiled.positiontup)
    columns = _result_columns(statement)
    results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
    row = namedtuple("Row", [c.key for c in columns])._make if named_rows else None  # type: ignore[misc]
    return _Plan(compiled.string, binds, named, results, row)


def _result_columns(statement: Any) -> list[Any]:
    if getattr(statement, "is_select", False):
        return list(statement.selected_columns)
    return list(getattr(statement, "exported_columns", ()) or ())


DIRECT = "motcua_direct"  # Connection.info: a one-statement read unit, run without a transaction (see UnitOfWork)


def run(conn: Connection, prepared: Prepared, params: Mapping[str, Any], *, fetch: bool) -> Any:
    plan = prepared.plan(conn.dialect)
    if plan is None or not (conn.in_transaction() or conn.info.get(DIRECT)):
        result = conn.execute(prepared.statement, dict(params))
        if not fetch:
            return result.rowcount
        if not result.returns_rows:
            return []
        return list(result.all()) if prepared.named_rows else [tuple(r) for r in result.all()]
    rows = _on_cursor(conn, plan.sql, _parameters(plan, params), fetch)
    if not fetch:
        return rows  # the row count
    make = plan.row or tuple
    processed = plan.processed
    if not processed:
        return [make(row) for row in rows]
    out = []
    for row in rows:
        values = list(row)
        for i, p in processed:
            values[i] = p(values[i])
        out.append(make(values))
    return out


def send(conn: Connection, sql: str) -> None:
    """Send a statement without parameters or rows (``BEGIN IMMEDIATE``) on the driver's cursor, as ``run``
    does: the listeners called, the driver's errors wrapped. For the connection's ``begin`` event, where
    ``Connection.exec_driver_sql`` would cost a whole execution context for four words."""
    _on_cursor(conn, sql, (), False)


def _on_cursor(conn: Connection, sql: str, values: Any, fetch: bool) -> Any:
    """Execute ``sql`` with ``values`` on a new cursor of ``conn``'s driver connection: the fetched rows,
    or the row count when not ``fetch``."""
    dialect = conn.dialect
    dbapi_conn = conn.connection.dbapi_connection
    cursor = dbapi_conn.cursor()
    dispatch = conn.dispatch
    try:
        if dispatch.before_cursor_execute:
            for listener in dispatch.before_cursor_execute:
                listener(conn, cursor, sql, values, None, False)
        cursor.execute(sql, values)
        if dispatch.after_cursor_execute:
            for listener in dispatch.after_cursor_execute:
                listener(conn, cursor, sql, values, None, False)
        return cursor.fetchall() if fetch else cursor.rowcount
    except dialect.loaded_dbapi.Error as err:
        invalidated = dialect.is_disconnect(err, dbapi_conn, cursor)
        if invalidated:
            conn.invalidate(err)
        raise exc.DBAPIError.instance(sql, values, err, dialect.loaded_dbapi.Error, connection_invalidated=invalidated,
                                      dialect=dialect) from err
    finally:
        cursor.close()


def _parameters(plan: _Plan, params: Mapping[str, Any]) -> Any:
    if plan.named:
        out = {}
        for name, key, fixed, processor in plan.binds:
            value = params[key] if fixed is _NO_VALUE else fixed
            out[name] = processor(value) if processor is not None and fixed is _NO_VALUE else value
        return out
    values = []
    for _name, key, fixed, processor in plan.binds:
        if fixed is _NO_VALUE:
            value = params[key]
            values.append(processor(value) if processor is not None else value)
        else:
            values.append(fixed)
    return values


_INSERTS: dict[tuple[Any, tuple[str, ...]], Prepared] = {}


def insert_of(table: Any, keys: tuple[str, ...]) -> Prepared:
    """``INSERT INTO table (keys...) VALUES (...)``, prepared once per table and set of columns (a
    column left out takes its server default, or NULL)."""
    prepared = _INSERTS.get((table, keys))
    if prepared is None:
        from sqlalchemy import bindparam, insert

        prepared = _INSERTS[(table, keys)] = Prepared(
            insert(table).values({k: bindparam(k, type_=table.c[k].type) for k in keys}))
    return prepared


_MULTI: dict[tuple[Any, tuple[str, ...], int, tuple[Any, ...]], Prepared] = {}


def insert_rows(table: Any, keys: tuple[str, ...], n: int, returning: tuple[Any, ...] = ()) -> Prepared:
    """One ``INSERT`` of ``n`` rows (a multi-row ``VALUES``; the parameter of row ``i``'s column ``k`` is
    named ``k_i``), optionally ``RETURNING`` some columns (one row each, in no promised order)."""
    key = (table, keys, n, returning)
    prepared = _MULTI.get(key)
    if prepared is None:
        from sqlalchemy import bindparam, insert

        stmt = insert(table).values([{k: bindparam(f"{k}_{i}", type_=table.c[k].type) for k in keys} for i in range(n)])
        prepared = _MULTI[key] = Prepared(stmt.returning(*returning) if returning else stmt)
    return prepared
