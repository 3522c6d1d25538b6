"""The CSV lines SQLite builds (data/read/export_lines.py) are byte for byte what the Python rows
and `csv.writer` make (data/read/ticket_export.py `iter_rows`): hostile text, times on and off
whole seconds, exact rounding ties, a resolution before its creation, and zones with daylight
saving, half-hour offsets and a local mean time's odd seconds."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text as sql

from data.read import export_cells, export_lines, export_zones
from data.read.ticket_export import HEADER, ExportRequest, csv_chunks, iter_rows, neutralise
from data.read.ticket_queries import TicketFilter
from data.store.db import Database
from data.store.models import Ticket
from devtools.factories import add_machines

ZONES = (
    "UTC",
    "Europe/Berlin",
    "Asia/Kolkata",
    "America/St_Johns",
    "Australia/Lord_Howe",
    "Europe/Amsterdam",
)
HOSTILE = (
    "=1+1",
    "+41 55",
    "-dash",
    "@sum",
    "\tTab first",
    "\rCR first",
    " =spaced",
    "\ufeff=bom",
    "\uff1dfull width",
    "\u200b@zero width",
    'say "hi", then\nleave',
    "comma, inside",
    "cr\rinside",
    "",
    "plain",
    "ünïcode",
    "' quoted already",
    "%s %w %q printf",
)
# Any character but U+0000, which input validation refuses (PostgreSQL cannot store it), and
# lone surrogates, which are no text (UTF-8 cannot encode them; the driver refuses them).
TEXT = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
BASE = datetime(2026, 3, 29, 0, 30)  # Europe's spring change falls inside the rows
# The columns checked once per export (data/read/export_lines.py `plain_columns`).
ALL_PLAIN = {"machines.name", "machines.area", "tickets.status", "tickets.priority"}
ALL_PLAIN |= {"tickets.assignee", "tickets.reported_by"}


def python_csv(db: Database, zone: ZoneInfo) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    with db.read() as session:
        for rows in iter_rows(session, TicketFilter(), zone):
            writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def sqlite_csv(db: Database, zone: ZoneInfo) -> bytes:
    with db.read() as session:
        assert export_lines.available(session)
        return b"".join(csv_chunks(session, ExportRequest(zone=zone)))


def assert_same(db: Database, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    fast, slow = sqlite_csv(db, zone), python_csv(db, zone)
    if fast != slow:
        for ours, theirs in zip(fast.split(b"\r\n"), slow.split(b"\r\n"), strict=False):
            assert ours == theirs, zone_name
    assert fast == slow, zone_name


@pytest.fixture
def db(sqlite_db: Database) -> Database:
    return sqlite_db


def add_ticket(db: Database, machine: int, **fields: object) -> None:
    values = {"title": "Spindle", "priority": "high", "reported_by": "op-anna", **fields}
    with db.write() as session:
        session.add(Ticket(machine_id=machine, **values))


def test_hostile_text_times_and_ties_match_the_python_rows(db: Database) -> None:
    machine = add_machines(db, 1)[0]
    spans = [
        timedelta(seconds=450),  # 0.125 h: an exact tie, rounded to even
        timedelta(seconds=18),  # 0.005 h: a tie the float puts above
        timedelta(seconds=54),  # 0.015 h: a tie the float puts below
        timedelta(hours=3, microseconds=1),
        timedelta(hours=1, seconds=17, microseconds=999_999),
        timedelta(seconds=-30),  # resolved before created (a clock that was wrong)
        timedelta(microseconds=-1),
        timedelta(days=400, seconds=1),
    ]
    for i, text in enumerate(HOSTILE):
        created = BASE + timedelta(hours=i, microseconds=(i % 3) * 250_000)
        spent = spans[i % len(spans)]
        add_ticket(
            db,
            machine,
            title=text or "t",
            description=text,
            assignee=None if i % 4 == 0 else text,
            reported_by=text,
            created_at=created,
            updated_at=created + timedelta(seconds=0.9996),
            first_response_at=None if i % 2 else created + timedelta(minutes=5),
            resolved_at=None if i % 5 == 4 else created + spent,
            closed_at=created + spent + timedelta(days=1) if i % 3 == 0 else None,
        )
    add_ticket(db, machine, created_at=datetime(1890, 5, 1, 12), updated_at=datetime(1890, 5, 1))
    for zone in ZONES:
        assert_same(db, zone)


def test_offset_spans_find_each_change_to_the_second() -> None:
    spans = export_zones.offset_spans("Europe/Berlin", datetime(2026, 1, 1), datetime(2026, 12, 1))
    assert spans == (
        ("2026-01-01 00:00:00.000000", 3600),
        ("2026-03-29 01:00:00.000000", 7200),
        ("2026-10-25 01:00:00.000000", 3600),
    )
    assert export_zones.offset_spans("UTC", datetime(2026, 1, 1), datetime(2027, 1, 1)) == (
        ("2026-01-01 00:00:00.000000", 0),
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.text(TEXT, min_size=1, max_size=30),
            st.text(TEXT, max_size=40),
            st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
            st.one_of(st.none(), st.integers(min_value=-(10**9), max_value=10**13)),
        ),
        min_size=1,
        max_size=12,
    ),
    zone=st.sampled_from(ZONES),
)
def test_any_rows_match_the_python_rows(tmp_path_factory, rows, zone) -> None:
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('prop') / 'p.db'}")
    try:
        db.migrate()
        machine = add_machines(db, 1)[0]
        for title, description, created, spent_us in rows:
            created = created.replace(tzinfo=UTC).replace(tzinfo=None)
            resolved = None if spent_us is None else created + timedelta(microseconds=spent_us)
            add_ticket(
                db,
                machine,
                title=title,
                description=description,
                created_at=created,
                updated_at=created,
                resolved_at=resolved,
            )
        assert_same(db, zone)
    finally:
        db.dispose()


def test_the_first_character_check_is_the_python_rule() -> None:
    """FIRST_PLAIN, and `first_plain` (two comparisons, then that GLOB), let through exactly
    the visible ASCII characters that are no trigger."""
    import sqlite3

    with sqlite3.connect(":memory:") as conn:
        check = f"SELECT ? GLOB ?, {export_cells.first_plain('v')} FROM (SELECT ? AS v)"
        for code in range(1, 0x3000):
            char = chr(code)
            for value in (char, char + "x", char + "\x7f"):
                args = (value, export_cells.FIRST_PLAIN, value)
                glob, first = conn.execute(check, args).fetchone()
                plain = 33 <= code <= 126 and char not in "=+-@"
                assert bool(first) is plain, hex(code)
                assert bool(glob) is plain, hex(code)


def test_hours_near_a_tie_match_the_python_rows(db: Database) -> None:
    """`julianday` reads to the millisecond: a difference within TIE_BAND_US of a whole second
    goes to Python, one just outside it is rounded in SQL; both as Python rounds them."""
    machine = add_machines(db, 1)[0]
    band = export_cells.TIE_BAND_US
    offsets = (-band - 1, -band, -300, -1, 0, 1, band, band + 1, 500, -500, 999_999)
    for fraction in (400, 999_500):  # read as the millisecond below, and the one above
        created = BASE + timedelta(microseconds=fraction)
        for seconds in (18, 54, 450, 3600 * 24 * 365 * 90 + 18):
            for off in offsets:
                done = created + timedelta(seconds=seconds, microseconds=off)
                add_ticket(db, machine, created_at=created, updated_at=created, resolved_at=done)
    for zone in ("UTC", "Asia/Kolkata"):
        assert_same(db, zone)


@pytest.mark.parametrize("value", ["=cmd|' /C calc'!A0", "Mill, north", 'say "hi"', " pad", ""])
def test_hostile_machines_statuses_and_priorities_are_checked_per_row(db, value) -> None:
    """The columns checked once per export (machine name and area, status, priority,
    assignee, reporter) fall back to the per-row check when any value needs quotes or a `'`."""
    machine = add_machines(db, 2)[0]
    add_ticket(db, machine, description="plain", created_at=BASE, updated_at=BASE)
    with db.write() as session:
        people = {"assignee": value, "reported_by": value}
        session.execute(Ticket.__table__.update().values(status=value, priority=value, **people))
        session.execute(sql("UPDATE machines SET name = :v || id, area = :v"), {"v": value})
        # A leading space or an empty cell is written as it is (no quotes, no `'`) too.
        expected = set(export_lines.plain_columns(session, neutralise))
        assert expected == (ALL_PLAIN if value in (" pad", "") else set())
    for zone in ("UTC", "Europe/Berlin"):
        assert_same(db, zone)


def test_plain_columns_and_the_connection_after_an_export(db: Database) -> None:
    """Plain values are taken as they are; the pooled connection gets its text back as str."""
    machine = add_machines(db, 1)[0]
    add_ticket(db, machine, description="x", created_at=BASE, updated_at=BASE)
    with db.read() as session:
        assert export_lines.plain_columns(session, neutralise) == ALL_PLAIN
    assert sqlite_csv(db, ZoneInfo("UTC")).count(b"\r\n") == 2
    with db.read() as session:
        assert isinstance(session.execute(sql("SELECT title FROM tickets")).scalar(), str)


def test_distinct_names_are_read_from_their_indexes(db: Database, monkeypatch) -> None:
    """Each step of the once-per-export check is one seek in the column's index; the values
    come back distinct, in order, without NULL; past MAX_DISTINCT the column is checked per
    row, and the file is the same either way."""
    machine = add_machines(db, 1)[0]
    names = ["op-bea", "op-anna", "Mill, north", "op-anna", "=cmd", "op-cem"]
    for i, name in enumerate(names):
        when = BASE + timedelta(minutes=i)
        assignee = None if i % 2 else name
        add_ticket(
            db, machine, reported_by=name, assignee=assignee, created_at=when, updated_at=when
        )
    with db.read() as session:
        driver = session.connection().connection.driver_connection
        for index, (table, columns) in export_lines.INDEX_LED.items():
            cols = ", ".join(columns)
            plan = driver.execute(
                f"EXPLAIN QUERY PLAN SELECT {cols} FROM {table} "
                f"WHERE ({cols}) > ({', '.join('?' * len(columns))}) ORDER BY {cols} LIMIT 1",
                ("",) * len(columns),
            ).fetchall()
            assert f"COVERING INDEX {index} " in str(plan), plan
        found = export_lines.distinct_by_index(driver, "tickets", ("reported_by",))
        assert found == [(n,) for n in sorted(set(names))]
        assignees = export_lines.distinct_by_index(driver, "tickets", ("assignee",))
        assert assignees == [("=cmd",), ("Mill, north",), ("op-bea",)]
        assert export_lines.distinct_by_index(driver, "tickets", ("reported_by",), limit=4) is None
        exactly = export_lines.distinct_by_index(driver, "tickets", ("reported_by",), limit=5)
        assert exactly == found
        # Hostile names: both columns are checked per row.
        assert not {"tickets.assignee", "tickets.reported_by"} & export_lines.plain_columns(
            session, neutralise
        )
    for zone in ("UTC", "Europe/Berlin"):
        assert_same(db, zone)
    with db.write() as session:  # only plain names left, but more of them than the limit
        session.execute(sql("UPDATE tickets SET reported_by = 'op-' || id, assignee = NULL"))
    monkeypatch.setattr(export_lines, "MAX_DISTINCT", 3)
    with db.read() as session:
        assert "tickets.reported_by" not in export_lines.plain_columns(session, neutralise)
        assert "tickets.assignee" in export_lines.plain_columns(session, neutralise)
    assert_same(db, "UTC")


def test_index_groups_compare_as_row_values(db: Database) -> None:
    """A row value with a NULL compares to nothing: the columns after the first of each
    group must be NOT NULL, or values would be skipped (and go out unchecked)."""
    for table, columns in export_lines.INDEX_LED.values():
        for column in columns[1:]:
            assert f"{table}.{column}" in export_lines.NOT_NULL, column
    machine = add_machines(db, 1)[0]
    add_ticket(db, machine, reported_by="=cmd", created_at=BASE, updated_at=BASE)
    with db.write() as session:  # a database whose indexes are not there yet: checked per row
        session.execute(sql("DROP INDEX ix_tickets_reported_by"))
    with db.read() as session:
        plain = export_lines.plain_columns(session, neutralise)
    assert "tickets.reported_by" not in plain and "tickets.assignee" in plain
    assert_same(db, "UTC")
