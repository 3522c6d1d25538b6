"""Statements compiled once per dialect and run straight on the driver's cursor.

For the few statements every new ticket and every API call runs before an alert can go out
(the token lookup, the ticket, its history row, the event log): through SQLAlchemy's
`Connection.execute` each pays for a compiled-cache lookup, an execution context and a result
object, several times the statement's own cost. A `Prepared` statement renders its SQL and
finds its types' bind and result processors once per dialect, then runs on the DBAPI cursor
of the caller's `Connection`, inside its transaction, converting values exactly as
SQLAlchemy would (the same processors: `UTCDateTime`, JSON, ...).

Only plain statements qualify: every parameter bound by name (no expanding `IN`, no
literal rendering), inserts given the same keys each time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

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

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """`values` (a dict by bind name) converted and in the driver's form; a bind that
        `values` does not name raises KeyError."""
        given = {**self.fixed, **values}
        for name, process in self.binds:
            given[name] = process(given[name])
        if self.positions is None:
            return given
        return [given[name] for name in self.positions]

    def row(self, raw: Sequence[Any] | None) -> tuple[Any, ...] | None:
        if raw is None:
            return None
        if not any(self.results):
            return tuple(raw)
        return tuple(v if p is None else p(v) for p, v in zip(self.results, raw, strict=True))


class Prepared:
    """`statement` (a Core select, insert or update), rendered once per dialect.

    `keys`: for an insert, the columns its values name (they are the bind names); the same
    for every call."""

    __slots__ = ("_plans", "keys", "statement")

    def __init__(self, statement: ClauseElement, keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.keys = list(keys) if keys is not None else None
        self._plans: dict[str, _Plan] = {}

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = _compile(self.statement, dialect, self.keys)
        return plan

    def execute(self, conn: Connection, values: Mapping[str, Any] | None = None) -> Any:
        """Run once with `values` on `conn`'s transaction; returns the driver's cursor (close
        it, or read it with `first`/`scalar`)."""
        plan = self._plan(conn.dialect)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(plan.sql, plan.parameters(values or {}))
        return cursor

    def execute_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per row of `rows` (one driver call)."""
        plan = self._plan(conn.dialect)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(plan.sql, [plan.parameters(row) for row in rows])
        finally:
            cursor.close()

    def first(self, conn: Connection, values: Mapping[str, Any] | None = None) -> Any:
        """The first row (a tuple, its values converted as SQLAlchemy would), or None."""
        plan = self._plan(conn.dialect)
        cursor = self.execute(conn, values)
        try:
            return plan.row(cursor.fetchone())
        finally:
            cursor.close()

    def scalar(self, conn: Connection, values: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        row = self.first(conn, values)
        return None if row is None else row[0]


def _compile(statement: ClauseElement, dialect: Dialect, keys: list[str] | None) -> _Plan:
    compiled = statement.compile(dialect=dialect, column_keys=keys)
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise ValueError("a Prepared statement binds every parameter by name")
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
    results = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    return _Plan(compiled.string, positions, tuple(binds), results, fixed)
