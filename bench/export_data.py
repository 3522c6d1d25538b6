"""The export bench's database: a migrated SQLite file with machines and many tickets with
their status history, generated from a fixed seed and inserted through the driver."""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DEFECTS = [
    ("Spindle vibration", "Vibration above the alarm limit during roughing"),
    ("Coolant leak", "Coolant pooling under the table, pump keeps running"),
    ("Tool breakage", "Insert chipped and the tool snapped on the next pass"),
    ("Hydraulic pressure low", "Clamp pressure drops below 40 bar after warm-up"),
    ("Axis drift", "Y axis is 0,03 mm off after each tool change"),
    ("Chip conveyor jammed", 'Conveyor stalls, chips pile up in the "front" bay'),
    ("Door interlock fault", "Door switch reports open while closed; cycle will not start"),
]
SENTENCES = [
    "Operator noticed it at the start of the shift.",
    "Happened twice in the last hour, both times on part 4711-B.",
    "Checked the obvious: filters, hoses, fuses.",
    "Maintenance was informed by phone, waiting for a technician.",
    "Replaced the worn part; needs a test run, then sign-off.",
    "Spare parts ordered: seal kit, two bearings, one sensor.",
    "Noise like grinding metal, louder at high RPM.",
    "Scrap rate went up to 6 % on this machine since Monday.",
    'Display shows "E-204 axis following error".',
    "See photo in the shift book, page 12.",
]
PEOPLE = ["A. Novak", "B. Osei", "C. Müller", "D. Kowalski", "E. Sato", "F. Haddad"]
# status -> the moves after "open" that reach it
PATHS = {
    "open": [],
    "in_progress": ["in_progress"],
    "on_hold": ["in_progress", "on_hold"],
    "resolved": ["in_progress", "resolved"],
    "closed": ["in_progress", "resolved", "closed"],
    "cancelled": ["cancelled"],
}
STATUS_WEIGHTS = {"open": 12, "in_progress": 10, "on_hold": 5, "resolved": 10, "closed": 60}
STATUS_WEIGHTS["cancelled"] = 3


def _description(rng: random.Random) -> str:
    text = " ".join(rng.choices(SENTENCES, k=rng.randint(1, 9)))
    if rng.random() < 0.1:
        text = text.replace(". ", ".\n", 2)  # multi-line notes
    return text


def _ticket_rows(
    rng: random.Random, tid: int, machines: int, start: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    title, detail = rng.choice(DEFECTS)
    created = start + timedelta(seconds=rng.uniform(0, 730 * 86400))
    status = rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0]
    reporter, tech = rng.choice(PEOPLE), rng.choice(PEOPLE)
    row: dict[str, Any] = {
        "id": tid,
        "machine_id": 1 + tid % machines,
        "title": f"{title} on MILL-{1 + tid % machines:02d}",
        "description": f"{detail}. {_description(rng)}",
        "priority": rng.choices(["low", "medium", "high", "critical"], [3, 5, 3, 1])[0],
        "status": status,
        "assignee": None,
        "reported_by": reporter,
        "created_at": created,
        "updated_at": created,
        "first_response_at": None,
        "resolved_at": None,
        "closed_at": None,
    }
    if rng.random() < 0.01:  # would-be formulas
        row["description"] = rng.choice("=+-@") + row["description"]
    history = [_move(tid, None, "open", reporter, created)]
    at, old = created, "open"
    for new in PATHS[status]:
        at += timedelta(minutes=rng.uniform(5, 600))
        if row["first_response_at"] is None:
            row["first_response_at"] = at
        if new == "in_progress":
            row["assignee"] = tech
        if new in ("resolved", "closed"):
            row[f"{new}_at"] = at
        history.append(_move(tid, old, new, tech, at))
        old, row["updated_at"] = new, at
    return row, history


def _move(tid: int, old: str | None, new: str, by: str, at: datetime) -> dict[str, Any]:
    return dict(ticket_id=tid, field="status", from_value=old, to_value=new, changed_by=by,
                changed_at=at)  # fmt: skip


TICKET_COLS = ("id", "machine_id", "title", "description", "priority", "status", "assignee",
               "reported_by", "created_at", "updated_at", "first_response_at", "resolved_at",
               "closed_at")  # fmt: skip
HISTORY_COLS = ("ticket_id", "field", "from_value", "to_value", "changed_by", "changed_at")


def _sql_value(value: Any) -> Any:
    # SQLAlchemy's SQLite storage format of UTCDateTime (naive UTC, microseconds).
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _insert_sql(table: str, cols: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


def build_database(url: str, rows: int, machines: int = 24, chunk: int = 10_000) -> None:
    """A migrated SQLite database with `machines` machines and `rows` tickets with history.

    Rows go in through the driver's executemany with pre-formatted timestamps: the Core
    insert's per-value type processing made building take longer than the benchmark."""
    from sqlalchemy import insert
    from tqdm import tqdm

    from data.store.db import Database
    from data.store.models import Machine

    db = Database(url)
    db.migrate()
    rng = random.Random(6)
    start = datetime(2024, 11, 1, tzinfo=UTC)
    areas = ("Milling", "Turning", "Grinding")
    with db.write() as session:
        session.execute(
            insert(Machine),
            [
                dict(name=f"MILL-{i:02d}", area=areas[i % 3], kind="mill", status="running",
                     ideal_cycle_time_s=60.0, status_since=start, created_at=start)
                for i in range(1, machines + 1)
            ],
        )  # fmt: skip
    history_rows = 0
    ticket_sql = _insert_sql("tickets", TICKET_COLS)
    history_sql = _insert_sql("ticket_history", HISTORY_COLS)
    with tqdm(total=rows, unit="ticket", desc="Inserting", file=sys.stderr) as bar:
        for lo in range(1, rows + 1, chunk):
            tickets, history = [], []
            for tid in range(lo, min(lo + chunk, rows + 1)):
                ticket, moves = _ticket_rows(rng, tid, machines, start)
                tickets.append(tuple(_sql_value(ticket[c]) for c in TICKET_COLS))
                history += [tuple(_sql_value(m[c]) for c in HISTORY_COLS) for m in moves]
            with db.write() as session:
                conn = session.connection()
                conn.exec_driver_sql(ticket_sql, tickets)
                conn.exec_driver_sql(history_sql, history)
            history_rows += len(history)
            bar.update(len(tickets))
    db.dispose()
    size = Path(url.removeprefix("sqlite:///")).stat().st_size
    print(f"  {rows:,} tickets, {history_rows:,} history rows, {size / 1e6:.0f} MB", flush=True)
