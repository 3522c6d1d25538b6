"""The CSV export's rows built by SQLite itself: one finished CSV line per ticket, so that
Python only joins lines (docs/export.md, "SQLite builds the lines"). The SQL of each cell is
in data/read/export_cells.py.

The lines are byte for byte those `csv.writer` makes of `ticket_export`'s Python rows:

- times as `datetime.isoformat()` in the export's zone: `YYYY-MM-DDTHH:MM:SS[.ffffff]+HH:MM`,
  the fraction only when it is not zero. In UTC the line's own format rewrites the stored
  text. In another zone the offsets over the data's span are computed in Python (its
  transitions, found with zoneinfo) and written into the statement as a CASE on the stored
  text (which sorts as time); a time outside that span asks Python.
- `time_to_resolve_h` from `julianday` (read to the millisecond) and `%.2f`; a difference near
  a rounding tie (its fraction of a second within 2 ms of a whole second) or negative is
  rounded by Python, as the float formatting does it.
- formula neutralisation: ASCII first characters are judged in SQL (two comparisons, then one
  GLOB); any other first character (rare: spaces, tabs, non-ASCII) asks Python's
  `neutralise`.
- RFC 4180 minimal quoting: a cell with `"`, `,`, CR or LF is quoted, its quotes doubled.
- the columns whose values are few and cheap to read (machine name and area, status,
  priority, assignee, reported_by: a small table, or an index read from one value to the
  next) are checked once per export, in its transaction: when every value is written as it
  is, the line takes the column with no check per row.

The SQL functions that ask Python are registered on the connection as deterministic functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Executable, literal_column, text
from sqlalchemy.orm import Session

from data.read import export_cells as cells
from data.read.export_zones import STORED, offset_spans
from data.store.models import Ticket

QUOTED = frozenset('",\r\n')  # a cell with one of these is quoted (RFC 4180, minimal)
TEXT_CELLS = ("machines.name", "machines.area", "tickets.title", "tickets.description")
TEXT_CELLS += ("tickets.priority", "tickets.status", "tickets.assignee", "tickets.reported_by")
TIMES = ("tickets.updated_at", "tickets.first_response_at", "tickets.resolved_at")
# Columns that are never NULL: their cells need no NULL case.
NOT_NULL = frozenset(f"tickets.{c.name}" for c in Ticket.__table__.columns if not c.nullable)


def line_sql(
    spans: tuple[tuple[str, int], ...] | None, last: str = "", plain: frozenset[str] = frozenset()
) -> str:
    """The SQL expression of one CSV line (no line end); `spans` None: UTC. The columns in
    `plain` (see `plain_columns`) are written as they are, with no check per row."""

    def ts(col: str) -> tuple[str, list[str]]:
        if spans is None:
            return cells.utc_time(col, nullable=col not in NOT_NULL)
        return "%s", [cells.local_time(col, spans, last)]

    description = "tickets.description"

    def line(described: tuple[str, list[str]]) -> str:
        """The printf of the line, with `described` (format, arguments) for the description."""
        specs = [("%s", ["tickets.id"]), ts("tickets.created_at")]
        for col in TEXT_CELLS:
            text = col if col in plain else cells.cell(col)
            specs.append(described if col == description else ("%s", [text]))
        specs += [ts(col) for col in TIMES]
        specs.append(("%s", [cells.hours("tickets.created_at", "tickets.resolved_at")]))
        specs.append(ts("tickets.closed_at"))
        # One printf builds the line at once: `||` would copy the growing line once per cell.
        fmt = ",".join(f for f, _ in specs)
        return f"printf('{fmt}', {', '.join(a for _, args in specs for a in args)})"

    if description in plain:
        return line(("%s", [description]))
    # The description, the long cell, is quoted by the line's own printf rather than copied
    # once more through a printf of its own: `"%w"` (doubling its quotes) when it holds a
    # double quote, else `"%s"` (a plain copy).
    doubled = line(('"%w"', [description]))
    quoted = line(('"%s"', [description]))
    as_is = line(("%s", [cells.guarded(description, description)]))
    with_quote = f"{description} GLOB '*\"*'"
    needs = f"{cells.first_plain(description)} AND ({cells.needs_quotes(description)})"
    return (
        f"CASE WHEN {needs} THEN (CASE WHEN {with_quote} THEN {doubled} ELSE {quoted} END) "
        f"ELSE {as_is} END"
    )


def time_span(session: Session) -> tuple[datetime, datetime] | None:
    """The oldest and newest time any exported column holds (naive UTC), or None."""
    columns = [Ticket.created_at, Ticket.updated_at, Ticket.first_response_at]
    columns += [Ticket.resolved_at, Ticket.closed_at]
    names = [c.key for c in columns]
    lows = ", ".join(f"min({n})" for n in names)
    highs = ", ".join(f"max({n})" for n in names)
    row = session.execute(text(f"SELECT {lows}, {highs} FROM tickets")).one()
    found = [v for v in row if v is not None]
    if not found:
        return None
    parsed = [datetime.fromisoformat(v) if isinstance(v, str) else v for v in found]
    return min(parsed), max(parsed)


# Text columns checked once per export. A small table's columns are read whole; the others
# each lead an index, and their distinct values are read by skipping from one value to the
# next (one index seek per value), whatever the number of tickets. The columns after the
# first of a group are NOT NULL: a row value with a NULL compares to nothing.
SMALL_TABLES = {"machines": ("name", "area")}
INDEX_LED = {
    "ix_tickets_status_priority": ("tickets", ("status", "priority")),
    "ix_tickets_assignee": ("tickets", ("assignee",)),
    "ix_tickets_reported_by": ("tickets", ("reported_by",)),
}
# Past this many distinct values a group is not read to its end: its columns are then
# checked per row, as before.
MAX_DISTINCT = 500


def distinct_by_index(
    driver: Any, table: str, columns: tuple[str, ...], limit: int | None = None
) -> list[tuple[Any, ...]] | None:
    """The distinct non-NULL values of `columns` (which lead an index), in order, or None when
    there are more than `limit` (MAX_DISTINCT). Each step asks for the first entry past the
    last one found."""
    limit = MAX_DISTINCT if limit is None else limit
    cols = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    first = f"SELECT {cols} FROM {table} WHERE {columns[0]} IS NOT NULL ORDER BY {cols} LIMIT 1"
    after = f"SELECT {cols} FROM {table} WHERE ({cols}) > ({marks}) ORDER BY {cols} LIMIT 1"
    found: list[tuple[Any, ...]] = []
    row = driver.execute(first).fetchone()
    while row is not None:
        if len(found) == limit:
            return None
        found.append(tuple(row))
        row = driver.execute(after, row).fetchone()
    return found


def plain_columns(session: Session, neutralise: Callable) -> frozenset[str]:
    """The columns of SMALL_TABLES and INDEX_LED whose every stored value is written as it is
    (no quotes, no `'`; NULL is an empty cell either way): the line then takes them with no
    check per row. Read in the export's own transaction, so the lines see the same values."""
    driver = session.connection().connection.driver_connection
    groups: list[tuple[str, tuple[str, ...], list[tuple[Any, ...]] | None]] = []
    for table, columns in SMALL_TABLES.items():
        rows = driver.execute(f"SELECT DISTINCT {', '.join(columns)} FROM {table}").fetchall()
        groups.append((table, columns, rows))
    indexes = {
        table: {row[1] for row in driver.execute(f"PRAGMA index_list({table})")}
        for table in {table for table, _ in INDEX_LED.values()}
    }
    for index, (table, columns) in INDEX_LED.items():
        if index in indexes[table]:  # without it every step would scan the table
            groups.append((table, columns, distinct_by_index(driver, table, columns)))
    plain: set[str] = set()
    for table, columns, rows in groups:
        if rows is None:  # too many values: checked per row
            continue
        for i, column in enumerate(columns):
            values = {row[i] for row in rows}
            if all(v is None or csv_cell(v, neutralise) == v for v in values):
                plain.add(f"{table}.{column}")
    return frozenset(plain)


def csv_cell(value: str, neutralise: Callable) -> str:
    """One text cell as `csv.writer` writes it after `neutralise`."""
    safe = neutralise(value) or ""
    if any(c in safe for c in QUOTED):
        return '"' + safe.replace('"', '""') + '"'
    return safe


def register_functions(dbapi_connection: Any, zone: ZoneInfo, neutralise: Callable) -> None:
    """The Python fallbacks the statement calls (see the module's docstring)."""

    def local_time(stored: str) -> str:
        moment = datetime.fromisoformat(stored).replace(tzinfo=UTC)
        return moment.astimezone(zone).isoformat()

    def hours(created: str, resolved: str) -> str:
        spent = datetime.fromisoformat(resolved) - datetime.fromisoformat(created)
        return f"{spent.total_seconds() / 3600:.2f}"

    def cell(value: str) -> str:
        return csv_cell(value, neutralise)

    dbapi_connection.create_function("md_local_time", 1, local_time, deterministic=True)
    dbapi_connection.create_function("md_hours", 2, hours, deterministic=True)
    dbapi_connection.create_function("md_cell", 1, cell, deterministic=True)


def available(session: Session) -> bool:
    """Whether the session's database can build the lines: SQLite 3.38 or later
    (`unixepoch`)."""
    if session.get_bind().dialect.name != "sqlite":
        return False
    import sqlite3

    return sqlite3.sqlite_version_info >= (3, 38)


def line_column(session: Session, zone: ZoneInfo, neutralise: Callable) -> Any:
    """The column of finished CSV lines for `select_matching`, with its SQL functions
    registered on the session's connection."""
    connection = session.connection()
    register_functions(connection.connection.driver_connection, zone, neutralise)
    plain = plain_columns(session, neutralise)
    span = None if zone.key == "UTC" else time_span(session)
    if span is None:
        return literal_column(line_sql(None, plain=plain))
    first, last = span
    spans = offset_spans(zone.key, first, last)
    return literal_column(line_sql(spans, last.strftime(STORED), plain))


def line_chunks(
    session: Session,
    statement: Callable[[Any], Executable],
    zone: ZoneInfo,
    neutralise: Callable,
    batch: int,
) -> Iterator[tuple[bytes, int]]:
    """The lines of `statement(line column)`, `batch` at a time, as one UTF-8 chunk (CRLF after
    each line) and the number of lines in it.

    SQLAlchemy compiles and binds the statement; the lines are then read from the driver's
    cursor itself (no Row per line), as bytes (the connection's `text_factory`, for this
    statement only): SQLite's text is UTF-8 already, so nothing is decoded and encoded again.
    """
    column = line_column(session, zone, neutralise)
    connection = session.connection()
    driver = connection.connection.driver_connection
    previous = driver.text_factory
    driver.text_factory = bytes
    result = None
    try:
        result = connection.execute(statement(column))
        while rows := result.cursor.fetchmany(batch):
            lines = [row[0] for row in rows]
            lines.append(b"")  # the last line's CRLF
            yield b"\r\n".join(lines), len(rows)
    finally:
        driver.text_factory = previous
        if result is not None:
            result.close()
