"""Tickets as CSV: one row generator shared by the API download, the CLI and the benchmark.

Rows stream from the database in batches (plain column rows, no ORM objects, no
`unique()` buffering), so memory stays flat however many tickets match. See docs/export.md.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import DateTime, Select, type_coerce
from sqlalchemy.orm import Session

from data.errors import ValidationFailed
from data.read.export_lines import available as lines_available
from data.read.export_lines import line_chunks
from data.read.ticket_queries import TicketFilter, parse_ticket_filter, select_matching
from data.store.models import Machine, Ticket

HEADER = (
    "id",
    "created_at",
    "machine",
    "area",
    "title",
    "description",
    "priority",
    "status",
    "assignee",
    "reported_by",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "time_to_resolve_h",
    "closed_at",
)


def _naive_utc(column: Any) -> Any:
    """A UTCDateTime column read as the naive UTC value it is stored as: skipping the
    TypeDecorator's per-value work nearly halves the cost of reading a row (bench/export.py)."""
    return type_coerce(column, DateTime()).label(column.key)


# The columns read from the database, in the order `_row_formatter` unpacks them.
COLUMNS = (
    Ticket.id,
    _naive_utc(Ticket.created_at),
    Machine.name,
    Machine.area,
    Ticket.title,
    Ticket.description,
    Ticket.priority,
    Ticket.status,
    Ticket.assignee,
    Ticket.reported_by,
    _naive_utc(Ticket.updated_at),
    _naive_utc(Ticket.first_response_at),
    _naive_utc(Ticket.resolved_at),
    _naive_utc(Ticket.closed_at),
)
# OWASP CSV injection: a cell starting with one of these may be run as a formula.
FORMULA_TRIGGERS = frozenset("=+-@\t\r")
BOM = "\ufeff"
DEFAULT_BATCH = 250  # rows per fetch and per chunk (~135 KB); measured a bit faster than 1000
# Query arguments of GET /tickets that make no sense for an export: every row is exported.
_IGNORED_ARGS = ("limit", "offset")
_EXPORT_ARGS = ("tz", "bom")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class ExportRequest:
    """What to export (the ticket filter and sort) and how (time zone, byte-order mark)."""

    filter: TicketFilter = field(default_factory=TicketFilter)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    bom: bool = False


def parse_zone(name: str | None) -> ZoneInfo:
    """An IANA time zone by name (UTC when empty), or ValueError saying why not."""
    if not name:
        return ZoneInfo("UTC")
    try:
        if len(name) > 64:
            raise ValueError
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {name[:64]!r}; use an IANA name such as UTC or Europe/Berlin"
        ) from None


def parse_export_args(args: Mapping[str, str], default_zone: str = "UTC") -> ExportRequest:
    """Query-string arguments (those of GET /tickets plus `tz` and `bom`) into an
    ExportRequest; `tz` absent: `default_zone` (the plant's). Every bad value is reported at
    once as ValidationFailed."""
    details: dict[str, Any] = {}
    filter_args = {k: v for k, v in args.items() if k not in _IGNORED_ARGS + _EXPORT_ARGS}
    flt = TicketFilter()
    try:
        flt = parse_ticket_filter(filter_args)
    except ValidationFailed as exc:
        details.update(exc.details if isinstance(exc.details, dict) else {"query": exc.message})
    zone = ZoneInfo("UTC")
    try:
        zone = parse_zone(args.get("tz") or default_zone)
    except ValueError as exc:
        details["tz"] = str(exc)
    raw_bom = (args.get("bom") or "0").strip().lower()
    if raw_bom not in _TRUE + _FALSE:
        details["bom"] = "use 1 (add a UTF-8 byte-order mark) or 0"
    if details:
        raise ValidationFailed(f"Invalid input: {', '.join(sorted(details))}.", details)
    return ExportRequest(filter=flt, zone=zone, bom=raw_bom in _TRUE)


def export_statement(flt: TicketFilter) -> Select[Any]:
    """The export's query: COLUMNS of every matching ticket joined to its machine, sorted."""
    return select_matching(flt, *COLUMNS)


def export_filename(zone: ZoneInfo, now: datetime | None = None) -> str:
    """`tickets-YYYY-MM-DD.csv`, dated today in the export's time zone."""
    return f"tickets-{(now or datetime.now(UTC)).astimezone(zone):%Y-%m-%d}.csv"


def neutralise(value: str | None) -> str | None:
    """Prefix a text cell that a spreadsheet would read as a formula with `'` (OWASP).

    The first character a reader sees decides: after NFKC normalisation (a full-width equals
    sign, U+FF1D, is `=`) and past invisible characters (a BOM, zero-width spaces, other
    format and control characters, whitespace), since spreadsheet programs fold or drop those
    on import. Only the prefix is added; the text itself is kept as stored.
    """
    if not value:
        return value
    first = value[0]
    if first in _PLAIN_ASCII:
        return value  # nearly every cell: one set lookup
    if first in FORMULA_TRIGGERS:
        return "'" + value
    return "'" + value if _first_visible(value) in FORMULA_TRIGGERS else value


# Visible ASCII characters that are no trigger: NFKC leaves them alone and nothing precedes
# them, so they decide at once.
_PLAIN_ASCII = frozenset(map(chr, range(0x21, 0x7F))) - FORMULA_TRIGGERS
# Invisible but neither a format (Cf), control (Cc) nor space character: the combining
# grapheme joiner, Hangul fillers, variation selectors.
_INVISIBLE = frozenset("\u034f\u115f\u1160\u3164\uffa0") | frozenset(
    map(chr, range(0xFE00, 0xFE10))
)
_SKIPPED_CATEGORIES = frozenset(("Cf", "Cc", "Zs", "Zl", "Zp"))


def _first_visible(value: str) -> str:
    """The first character of `value` that is shown, after NFKC; "" if there is none.

    Each character is normalised on its own, so no lookahead window can be outrun by a long
    run of invisible characters; the loop stops at the first visible one."""
    for raw in value:
        for char in unicodedata.normalize("NFKC", raw):
            if char.isspace() or char in _INVISIBLE or 0xE0100 <= ord(char) <= 0xE01EF:
                continue  # 0xE0100..: the variation selectors supplement
            if unicodedata.category(char) in _SKIPPED_CATEGORIES:
                continue
            return char
    return ""


def _row_formatter(zone: ZoneInfo) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function from one database row (COLUMNS, times naive UTC) to one CSV row (HEADER)."""
    utc = zone.key == "UTC"

    def ts(value: datetime | None) -> str | None:
        if value is None:
            return None
        if utc:
            return value.isoformat() + "+00:00"
        return value.replace(tzinfo=UTC).astimezone(zone).isoformat()

    safe = neutralise

    def fmt(row: Sequence[Any]) -> tuple[Any, ...]:
        (tid, created, machine, area, title, description, priority, status, assignee,
         reporter, updated, first, resolved, closed) = row  # fmt: skip
        hours = None
        if resolved is not None:
            hours = f"{(resolved - created).total_seconds() / 3600:.2f}"
        return (
            tid, ts(created), safe(machine), safe(area), safe(title), safe(description),
            safe(priority), safe(status), safe(assignee), safe(reporter), ts(updated),
            ts(first), ts(resolved), hours, ts(closed),
        )  # fmt: skip

    return fmt


def iter_rows(
    session: Session, flt: TicketFilter, zone: ZoneInfo, batch: int = DEFAULT_BATCH
) -> Iterator[list[tuple[Any, ...]]]:
    """Formatted CSV rows (no header) of every matching ticket, one list per database batch.

    `yield_per` fetches `batch` rows at a time (a server-side cursor on PostgreSQL); the
    statement runs on the session's connection as plain Core rows: no ORM loading, nothing
    accumulates in the session.
    """
    fmt = _row_formatter(zone)
    result = session.connection().execute(
        export_statement(flt), execution_options={"yield_per": batch}
    )
    for part in result.partitions():
        yield [fmt(row) for row in part]


def csv_chunks(
    session: Session,
    request: ExportRequest,
    batch: int = DEFAULT_BATCH,
    on_rows: Callable[[int], object] | None = None,
) -> Iterator[bytes]:
    """The whole export as UTF-8 bytes, one chunk per batch of rows (the first chunk carries
    the BOM if asked and the header). RFC 4180: minimal quoting, CRLF line ends.

    `on_rows(n)` is called after each chunk with the number of rows in it (progress bars).
    """
    buffer = io.StringIO()
    if request.bom:
        buffer.write(BOM)
    csv.writer(buffer, lineterminator="\r\n").writerow(HEADER)
    if lines_available(session):
        head = buffer.getvalue().encode("utf-8")
        yield from _sqlite_chunks(session, request, head, batch, on_rows)
        return
    for rows in iter_rows(session, request.filter, request.zone, batch):
        # A fresh StringIO per chunk stays in CPython's fast append mode (measured ~15%).
        csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n").writerows(rows)
        yield buffer.getvalue().encode("utf-8")
        buffer = io.StringIO()
        if on_rows is not None:
            on_rows(len(rows))
    rest = buffer.getvalue()
    if rest:  # the header alone: nothing matched
        yield rest.encode("utf-8")


def _sqlite_chunks(
    session: Session,
    request: ExportRequest,
    head: bytes,
    batch: int,
    on_rows: Callable[[int], object] | None,
) -> Iterator[bytes]:
    """`csv_chunks` on SQLite: finished lines built by the database (data/read/export_lines.py),
    byte for byte what `iter_rows` and `csv.writer` make; `head` goes before the first."""
    statement = partial(select_matching, request.filter)
    for chunk, rows in line_chunks(session, statement, request.zone, neutralise, batch):
        yield head + chunk if head else chunk
        head = b""
        if on_rows is not None:
            on_rows(rows)
    if head:  # the header alone: nothing matched
        yield head
