"""The CSV export's rows built by SQLite itself: one finished CSV line per ticket, so that
Python only joins lines (docs/export.md, "How it is fast").

The lines are byte for byte those `csv.writer` makes of `ticket_export`'s Python rows:

- times as `datetime.isoformat()` in the export's zone: `YYYY-MM-DDTHH:MM:SS[.ffffff]+HH:MM`,
  the fraction only when it is not zero. The zone's offsets over the data's span are computed
  in Python (its transitions, found with zoneinfo) and written into the statement as a CASE on
  the stored text (which sorts as time); a time outside that span asks Python.
- `time_to_resolve_h` rounded from exact integer microseconds; a tie (an odd multiple of 18 s)
  is rounded by Python, as the float formatting does it.
- formula neutralisation: ASCII first characters are judged in SQL; any other first character
  (rare: spaces, tabs, non-ASCII) asks Python's `neutralise`.
- RFC 4180 minimal quoting: a cell with `"`, `,`, CR or LF is quoted, its quotes doubled.

The SQL functions that ask Python are registered on the connection as deterministic functions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import literal_column, text
from sqlalchemy.orm import Session

from data.store.models import Ticket

STORED = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy keeps a DateTime in SQLite
TRIGGER_CODES = (61, 43, 45, 64)  # = + - @ (tab and CR are below 33: Python judges them)
QUOTED = frozenset('",\r\n')  # a cell with one of these is quoted (RFC 4180, minimal)


def _iso_offset(seconds: int) -> str:
    """The offset as `isoformat` writes it: +HH:MM, or +HH:MM:SS when it has seconds."""
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _offset_at(zone: ZoneInfo, moment: datetime) -> int:
    offset = moment.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _first_change(zone: ZoneInfo, lo: datetime, hi: datetime) -> datetime:
    """The first second in (lo, hi] whose offset differs from lo's (one exists)."""
    start = _offset_at(zone, lo)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if mid <= lo:
            mid = lo + timedelta(seconds=1)
        if _offset_at(zone, mid) == start:
            lo = mid
        else:
            hi = mid
    return hi


@lru_cache(maxsize=64)
def offset_spans(zone_key: str, first: datetime, last: datetime) -> tuple[tuple[str, int], ...]:
    """(start as stored text, offset seconds) of each span of one offset from `first` to
    `last` (naive UTC), oldest first; the first span starts at `first`."""
    zone = ZoneInfo(zone_key)
    lo = first.replace(tzinfo=UTC)
    end = last.replace(tzinfo=UTC)
    spans = [(lo, _offset_at(zone, lo))]
    step = timedelta(hours=6)  # no zone changes its offset twice within 6 hours
    while lo < end:
        hi = min(lo + step, end)
        if _offset_at(zone, hi) != spans[-1][1]:
            change = _first_change(zone, lo, hi)
            spans.append((change, _offset_at(zone, change)))
            lo = change
        else:
            lo = hi
    return tuple((s.replace(tzinfo=None).strftime(STORED), off) for s, off in spans)


def _fraction(col: str) -> str:
    """`.ffffff`, or nothing for a whole second (as isoformat)."""
    return f"replace('.' || substr({col}, 21, 6), '.000000', '')"


def _ts_utc(col: str) -> str:
    """NULL stays NULL (and printf's %s writes NULL as nothing)."""
    return f"replace(replace({col} || '+00:00', ' ', 'T'), '.000000+', '+')"


def _ts_local(col: str, spans: tuple[tuple[str, int], ...], last: str) -> str:
    fraction = _fraction(col)
    cases = []
    for start, offset in reversed(spans):  # newest first: an export is newest first
        # Whole seconds only into SQLite's date functions: they round a fraction to the
        # millisecond, and .9996 s would become the next second.
        local = f"strftime('%Y-%m-%dT%H:%M:%S', substr({col}, 1, 19), '{offset:+d} seconds')"
        value = f"printf('%s%s{_iso_offset(offset)}', {local}, {fraction})"
        cases.append(f"WHEN {col} >= '{start}' THEN {value}")
    inside = f"CASE WHEN {col} > '{last}' THEN md_local_time({col}) " + " ".join(cases)
    return inside + f" ELSE md_local_time({col}) END"


def _timestamp(col: str, render: Callable[[str], str]) -> str:
    return f"CASE WHEN {col} IS NULL THEN '' ELSE {render(col)} END"


def _cell(col: str) -> str:
    """The common cell in SQL: a visible ASCII first character that is no formula trigger,
    quoted when it must be. Anything else (empty, a trigger, a space, non-ASCII) is rare and
    asks Python (`md_cell`)."""
    codes = ", ".join(map(str, TRIGGER_CODES))
    plain = f"unicode({col}) BETWEEN 33 AND 126 AND unicode({col}) NOT IN ({codes})"
    needs = (
        f"instr({col}, '\"') OR instr({col}, ',') OR instr({col}, char(10)) "
        f"OR instr({col}, char(13))"
    )
    quoted = f"printf('\"%w\"', {col})"  # %w doubles the double quotes
    return (
        f"CASE WHEN {col} IS NULL THEN '' WHEN {plain} THEN "
        f"(CASE WHEN {needs} THEN {quoted} ELSE {col} END) ELSE md_cell({col}) END"
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


def line_sql(spans: tuple[tuple[str, int], ...] | None, last: str = "") -> str:
    """The SQL expression of one CSV line (no line end); `spans` None: UTC."""

    def ts(col: str) -> str:
        if spans is None:
            return _ts_utc(col)
        return _timestamp(col, lambda c: _ts_local(c, spans, last))

    t, m = "tickets", "machines"
    parts = [
        f"CAST({t}.id AS TEXT)",
        ts(f"{t}.created_at"),
        _cell(f"{m}.name"),
        _cell(f"{m}.area"),
        *(_cell(f"{t}.{c}") for c in ("title", "description", "priority", "status")),
        *(_cell(f"{t}.{c}") for c in ("assignee", "reported_by")),
        ts(f"{t}.updated_at"),
        ts(f"{t}.first_response_at"),
        ts(f"{t}.resolved_at"),
        _hours(f"{t}.created_at", f"{t}.resolved_at"),
        ts(f"{t}.closed_at"),
    ]
    # One printf builds the line at once: `||` would copy the growing line once per cell.
    return f"printf('{','.join(['%s'] * len(parts))}', {', '.join(parts)})"


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


def register_functions(dbapi_connection: Any, zone: ZoneInfo, neutralise: Callable) -> None:
    """The Python fallbacks the statement calls (see the module's docstring)."""

    def local_time(stored: str) -> str:
        moment = datetime.fromisoformat(stored).replace(tzinfo=UTC)
        return moment.astimezone(zone).isoformat()

    def hours(created: str, resolved: str) -> str:
        spent = datetime.fromisoformat(resolved) - datetime.fromisoformat(created)
        return f"{spent.total_seconds() / 3600:.2f}"

    def cell(value: str) -> str:
        safe = neutralise(value) or ""
        if any(c in safe for c in QUOTED):
            return '"' + safe.replace('"', '""') + '"'
        return safe

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
    if zone.key == "UTC":
        return literal_column(line_sql(None))
    span = time_span(session)
    if span is None:
        return literal_column(line_sql(None))
    first, last = span
    spans = offset_spans(zone.key, first, last)
    return literal_column(line_sql(spans, last.strftime(STORED)))
