"""Statements compiled once per dialect and run straight on the driver's cursor.

For the few statements every new ticket and every API call runs before an alert can go out
(the token lookup, the ticket, its history row, the event log): through SQLAlchemy's
`Connection.execute` each pays for a compiled-cache lookup, an execution context and a result
object, several times the statement's own cost. A `Prepared` statement renders its SQL and
finds its types' bind and result processors once per dialect, then runs on the DBAPI cursor
of the caller's `Connection`, inside its transaction, converting values exactly as
SQLAlchemy would (the same processors: `UTCDateTime`, JSON, ...).

Only plain statements qualify, and others are refused when first run: every parameter bound
by name (no expanding `IN`, no literal rendering); inserts and updates given a value for every
column with a Python-side default; no Numeric or Float results. An insert is rendered for the
columns its values name (once per set of names).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Float, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement, Insert

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Plan:
    """What one dialect needs: the SQL, the parameter order (positional drivers) or None, the
    bind processors by name and the result processors by column."""

    sql: str
    positions: tuple[str, ...] | None
    binds: tuple[tuple[str, Processor], ...]
    results: tuple[Processor | None, ...]
    fixed: dict[str, Any]  # the statement's own values (a literal 0 becomes a bind)
    names: tuple[str, ...]  # every bind, as the SQL names it
    converts: bool  # some result column has a processor

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """`values` (a dict by bind name) converted and in the driver's form; a bind that
        `values` does not name raises KeyError."""
        given = {**self.fixed, **values}
        for name, process in self.binds:
            given[name] = process(given[name])
        if self.positions is None:
            return {name: given[name] for name in self.names}
        return [given[name] for name in self.positions]

    def row(self, raw: Sequence[Any] | None) -> tuple[Any, ...] | None:
        if raw is None:
            return None
        if not self.converts:
            return tuple(raw)
        return tuple(v if p is None else p(v) for p, v in zip(self.results, raw, strict=True))


class Prepared:
    """`statement` (a Core select, insert or update), rendered once per dialect.

    An insert's binds are its columns, named by the values given (the same names for every
    row of `execute_many`)."""

    __slots__ = ("_by_values", "_plans", "statement")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._by_values = isinstance(statement, Insert)
        self._plans: dict[tuple[str, tuple[str, ...] | None], _Plan] = {}

    def _plan(self, dialect: Dialect, values: Mapping[str, Any]) -> _Plan:
        key = (dialect.name, tuple(values) if self._by_values else None)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _compile(self.statement, dialect, key[1])
        return plan

    def execute(self, conn: Connection, values: Mapping[str, Any] | None = None) -> Any:
        """Run once with `values` on `conn`'s transaction; returns the driver's cursor (close
        it, or read it with `first`/`scalar`). The driver's errors come out as SQLAlchemy's
        (`sqlalchemy.exc.OperationalError`, ...), a lost connection invalidated, as
        `Connection.execute` raises them."""
        values = values or {}
        return _run(conn, self._plan(conn.dialect, values), values)

    def execute_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per row of `rows` (one driver call); errors as `execute` raises them."""
        if not rows:
            return
        plan = self._plan(conn.dialect, rows[0])
        params = [plan.parameters(row) for row in rows]
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(plan.sql, params)
        except Exception as exc:
            raise _closed_and_translated(conn, cursor, exc, plan.sql, params) from exc
        cursor.close()

    def first(self, conn: Connection, values: Mapping[str, Any] | None = None) -> Any:
        """The first row (a tuple, its values converted as SQLAlchemy would), or None."""
        values = values or {}
        plan = self._plan(conn.dialect, values)
        cursor = _run(conn, plan, values)
        try:
            return plan.row(cursor.fetchone())
        finally:
            cursor.close()

    def scalar(self, conn: Connection, values: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        row = self.first(conn, values)
        return None if row is None else row[0]


def _run(conn: Connection, plan: _Plan, values: Mapping[str, Any]) -> Any:
    """`plan` run with `values` on `conn`'s driver connection: the open cursor."""
    params = plan.parameters(values)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(plan.sql, params)
    except Exception as exc:
        raise _closed_and_translated(conn, cursor, exc, plan.sql, params) from exc
    return cursor


def _closed_and_translated(
    conn: Connection, cursor: Any, exc: Exception, sql: str, params: Any
) -> Exception:
    """Close `cursor`; return the error to raise for `exc`: a driver error as SQLAlchemy's
    (what `is_unreachable` and the outage handling recognise), invalidating `conn` when the
    database is gone; anything else as it is."""
    with contextlib.suppress(Exception):
        cursor.close()
    dialect = conn.dialect
    dbapi = dialect.loaded_dbapi
    if not isinstance(exc, dbapi.Error):
        return exc
    gone = dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
    if gone:
        conn.invalidate(exc)
    return DBAPIError.instance(
        sql, params, exc, dbapi.Error, connection_invalidated=gone, dialect=dialect
    )


def _compile(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...] | None) -> _Plan:
    compiled = statement.compile(dialect=dialect, column_keys=None if keys is None else list(keys))
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise ValueError("a Prepared statement binds every parameter by name")
    defaulted = [c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
    if defaulted:
        # SQLAlchemy computes such defaults per execution; here they would be NULL.
        raise ValueError(f"give the defaulted columns a value: {', '.join(defaulted)}")
    binds = []
    fixed = {}
    for bind, name in compiled.bind_names.items():  # each as the SQL names it
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds.append((name, process))
        if not bind.required:
            fixed[name] = bind.effective_value
    positions = tuple(compiled.positiontup or ()) if compiled.positional else None
    # A select's columns, or what an insert or update returns.
    columns = getattr(statement, "selected_columns", None) or statement.exported_columns
    if any(isinstance(column.type, (Numeric, Float)) for column in columns):
        # Their conversion depends on the type code the driver reports per result.
        raise ValueError("a Prepared statement reads no Numeric or Float columns")
    results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    names = tuple(compiled.bind_names.values())
    converts = any(process is not None for process in results)
    return _Plan(compiled.string, positions, tuple(binds), results, fixed, names, converts)
