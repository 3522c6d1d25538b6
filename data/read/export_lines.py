"""The CSV export's rows built by SQLite itself: one finished CSV line per ticket, so that
Python only joins lines (docs/export.md, "SQLite builds the lines").

The lines are byte for byte those `csv.writer` makes of `ticket_export`'s Python rows:

- times as `datetime.isoformat()` in the export's zone: `YYYY-MM-DDTHH:MM:SS[.ffffff]+HH:MM`,
  the fraction only when it is not zero. The zone's offsets over the data's span are computed
  in Python (its transitions, found with zoneinfo) and written into the statement as a CASE on
  the stored text (which sorts as time); a time outside that span asks Python. In UTC the
  times after the last text cell are rewritten together, once per row.
- `time_to_resolve_h` rounded from exact integer microseconds; a tie (an odd multiple of 18 s)
  is rounded by Python, as the float formatting does it.
- formula neutralisation: ASCII first characters are judged in SQL (one GLOB); any other
  first character (rare: spaces, tabs, non-ASCII) asks Python's `neutralise`.
- RFC 4180 minimal quoting: a cell with `"`, `,`, CR or LF is quoted, its quotes doubled.
- the columns whose values are few and cheap to read (machine name and area, status,
  priority) are checked once per export, in its transaction: when every value is written as
  it is, the line takes the column with no check per row.

The SQL functions that ask Python are registered on the connection as deterministic functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Executable, literal_column, text
from sqlalchemy.orm import Session

from data.read.export_zones import STORED, iso_offset, offset_spans
from data.store.models import Ticket

TRIGGER_CODES = (61, 43, 45, 64)  # = + - @ (tab and CR are below 33: Python judges them)
QUOTED = frozenset('",\r\n')  # a cell with one of these is quoted (RFC 4180, minimal)


def _fraction(col: str) -> str:
    """`.ffffff`, or nothing for a whole second (as isoformat)."""
    return f"replace('.' || substr({col}, 21, 6), '.000000', '')"


def _utc_times(expr: str) -> str:
    """The stored UTC times in the text `expr`, each followed by `+00:00` and nothing else in
    it holding a space or `.000000+`, as isoformat writes them: `T` for the space, no fraction
    on a whole second. NULL stays NULL (and printf's %s writes NULL as nothing)."""
    return f"replace(replace({expr}, ' ', 'T'), '.000000+', '+')"


def _utc_tail(times: list[str], hours: str) -> str:
    """The line's last cells in UTC (updated_at, first_response_at, resolved_at, the hours,
    closed_at: no free text among them) as one expression, so that the two replaces run once
    per row rather than once per time."""
    *before, closed = (f"ifnull({col} || '+00:00', '')" for col in times)
    return _utc_times(" || ',' || ".join([*before, hours, closed]))


def _ts_local(col: str, spans: tuple[tuple[str, int], ...], last: str) -> str:
    fraction = _fraction(col)
    cases = []
    for start, offset in reversed(spans):  # newest first: an export is newest first
        # Whole seconds only into SQLite's date functions: they round a fraction to the
        # millisecond, and .9996 s would become the next second.
        local = f"strftime('%Y-%m-%dT%H:%M:%S', substr({col}, 1, 19), '{offset:+d} seconds')"
        value = f"printf('%s%s{iso_offset(offset)}', {local}, {fraction})"
        cases.append(f"WHEN {col} >= '{start}' THEN {value}")
    inside = f"CASE WHEN {col} > '{last}' THEN md_local_time({col}) " + " ".join(cases)
    return inside + f" ELSE md_local_time({col}) END"


def _timestamp(col: str, render: Callable[[str], str]) -> str:
    return f"CASE WHEN {col} IS NULL THEN '' ELSE {render(col)} END"


def _glob_class(codes: frozenset[int]) -> str:
    """A GLOB character class (`[a-c...]`) of the printable ASCII `codes`, written as runs."""
    runs: list[list[int]] = []
    for code in sorted(codes):
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "[" + "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in runs) + "]"


# GLOB: a text starting with a visible ASCII character that is no formula trigger. The class
# reads `[!-*,.-<>-?A-~]`: `]`, `^` and `-` fall inside runs, where they mean nothing special.
FIRST_PLAIN = _glob_class(frozenset(range(33, 127)) - frozenset(TRIGGER_CODES)) + "*"


def _needs_quotes(col: str) -> str:
    """Whether the text `col` holds a character that makes its cell quoted. `,` first: the
    most common, and OR stops at the first hit."""
    return " OR ".join(f"instr({col}, {c})" for c in ("','", "'\"'", "char(10)", "char(13)"))


def _first_plain(col: str, then: str) -> str:
    """`then` when `col` starts with a visible ASCII character that is no formula trigger
    (one GLOB); '' for NULL; anything else (empty, a trigger, a space, non-ASCII) is rare and
    asks Python (`md_cell`)."""
    return (
        f"CASE WHEN {col} GLOB '{FIRST_PLAIN}' THEN {then} "
        f"WHEN {col} IS NULL THEN '' ELSE md_cell({col}) END"
    )


def _cell(col: str) -> str:
    """The common cell in SQL, quoted when it must be (%w doubles the double quotes)."""
    return _first_plain(
        col, f"(CASE WHEN {_needs_quotes(col)} THEN printf('\"%w\"', {col}) ELSE {col} END)"
    )


def _hours(created: str, resolved: str) -> str:
    """Hundredths of an hour from exact microseconds, rounded half up, evaluated once per
    row. Rows where Python's float rounding could differ go to Python (`md_hours`): equal
    fractions of a second (an exact tie needs them) and a resolution before creation."""
    seconds = f"(unixepoch(substr({resolved}, 1, 19)) - unixepoch(substr({created}, 1, 19)))"
    micros = (
        f"({seconds} * 1000000 + CAST(substr({resolved}, 21, 6) AS INTEGER)"
        f" - CAST(substr({created}, 21, 6) AS INTEGER))"
    )
    hundredths = f"(({micros} * 2 + 36000000) / 72000000)"
    return (
        f"CASE WHEN {resolved} IS NULL THEN '' "
        f"WHEN {resolved} < {created} OR substr({resolved}, 20) = substr({created}, 20) "
        f"THEN md_hours({created}, {resolved}) "
        f"ELSE printf('%.2f', {hundredths} / 100.0) END"
    )


def line_sql(
    spans: tuple[tuple[str, int], ...] | None, last: str = "", plain: frozenset[str] = frozenset()
) -> str:
    """The SQL expression of one CSV line (no line end); `spans` None: UTC. The columns in
    `plain` (see `plain_columns`) are written as they are, with no check per row."""

    def ts(col: str) -> str:
        if spans is None:
            return _utc_times(f"{col} || '+00:00'")
        return _timestamp(col, lambda c: _ts_local(c, spans, last))

    t, m = "tickets", "machines"
    times = [f"{t}.{c}" for c in ("updated_at", "first_response_at", "resolved_at", "closed_at")]
    hours = _hours(f"{t}.created_at", f"{t}.resolved_at")
    if spans is None:
        tail = [_utc_tail(times, hours)]
    else:
        *before, closed = map(ts, times)
        tail = [*before, hours, closed]
    cells = [f"{m}.name", f"{m}.area", f"{t}.title", f"{t}.description", f"{t}.priority"]
    cells += [f"{t}.status", f"{t}.assignee", f"{t}.reported_by"]
    description = f"{t}.description"

    def line(described: tuple[str, str]) -> str:
        """The printf of the line, with `described` (format, argument) for the description."""
        specs = [("%s", f"{t}.id"), ("%s", ts(f"{t}.created_at"))]
        for col in cells:
            specs.append(described if col == description else ("%s", _plain_or_cell(col, plain)))
        specs += [("%s", part) for part in tail]
        # One printf builds the line at once: `||` would copy the growing line once per cell.
        fmt, args = ",".join(f for f, _ in specs), ", ".join(a for _, a in specs)
        return f"printf('{fmt}', {args})"

    if description in plain:
        return line(("%s", description))
    # The description, the long cell, is quoted by the line's own printf (`%w`) rather than
    # copied once more through a printf of its own.
    quoted = line(('"%w"', description))
    as_is = line(("%s", _first_plain(description, description)))
    first = f"{description} GLOB '{FIRST_PLAIN}'"
    return f"CASE WHEN {first} AND ({_needs_quotes(description)}) THEN {quoted} ELSE {as_is} END"


def _plain_or_cell(col: str, plain: frozenset[str]) -> str:
    return col if col in plain else _cell(col)


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


# Text columns whose distinct values are cheap to read: a small table, or a covering index
# (ix_tickets_status_priority). All together ~20 ms for 200,000 tickets.
CHECKED_ONCE = {"machines": ("name", "area"), "tickets": ("status", "priority")}


def plain_columns(session: Session, neutralise: Callable) -> frozenset[str]:
    """The columns of CHECKED_ONCE whose every stored value is written as it is (no quotes,
    no `'`): the line then takes them with no check per row. Read in the export's own
    transaction, so the lines see the same values."""
    plain: set[str] = set()
    for table, columns in CHECKED_ONCE.items():
        rows = session.execute(text(f"SELECT DISTINCT {', '.join(columns)} FROM {table}")).all()
        for i, column in enumerate(columns):
            values = {row[i] for row in rows}
            if all(v is not None and csv_cell(v, neutralise) == v for v in values):
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
