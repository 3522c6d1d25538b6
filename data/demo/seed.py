"""A plausible demo plant with history: machines, its calendar (data/demo/demo_calendar.py),
status periods that follow the calendar, hourly production, tickets.

History goes straight into the tables with bulk inserts and records no events: it is the
past, not live news. It is all ONE transaction, calendar included, so a seed that fails
half-way leaves an empty database that can be seeded again, never a half plant that startup
would take as seeded.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.calendar.schedule import Calendar
from data.demo.demo_calendar import demo_calendar
from data.demo.machine_timeline import status_timeline
from data.demo.plant_catalog import KINDS
from data.demo.seed_rows import CHUNK, RowBuffer
from data.demo.shift_windows import windows
from data.store.db import Database
from data.store.models import Machine
from data.store.sqltypes import as_utc, utcnow
from data.write.calendar import replace_calendar
from data.write.outbox import Transaction

MAINTAINED = 1  # the index of the machine with a planned maintenance stop (LATHE-01)


def is_empty(db: Database) -> bool:
    """True when the database has no machines yet."""
    with db.read() as session:
        return _empty(session)


def seed_plant(
    db: Database,
    machines: int = 24,
    days: int = 30,
    *,
    now: datetime | None = None,
    rng_seed: int = 7,
    progress: Callable[[int, int], None] | None = None,
    timezone: str = "UTC",
) -> dict[str, int]:
    """Write `machines` machines with `days` days of history up to `now` (default: the current
    time) and the demo calendar in `timezone` (an IANA zone: the plant's), and return the row
    counts. `progress(done, total)` is called per machine.

    Raises ValueError for sizes out of range, an unknown zone and for a database that already
    has machines.
    """
    _check_size("machines", machines, 1, 500)
    _check_size("days", days, 1, 3650)
    now = as_utc(now) if now is not None else utcnow().replace(microsecond=0)
    start = now - timedelta(days=days)
    calendar = Calendar(demo_calendar(timezone, start, now))  # the plant's stops only
    plan = windows(calendar, start, now)
    maintained = MAINTAINED if machines > MAINTAINED else 0
    rng = random.Random(rng_seed)
    # Machines guaranteed a recent unfinished ticket, so the dashboard has open work to show.
    forced_open = set(rng.sample(range(machines), min(machines, max(3, machines // 6))))
    counts = {"machines": 0, "status_periods": 0, "production_counts": 0, "tickets": 0}
    with db.write() as session:
        if not _empty(session):
            raise ValueError(
                "database already has machines; seeding only fills an empty database "
                "(use a new database file or URL)"
            )
        out = RowBuffer(session, counts, calendar.zone)
        for i in range(machines):
            kind = KINDS[i % len(KINDS)]
            machine = Machine(
                name=f"{kind.prefix}-{i // len(KINDS) + 1:02d}",
                area=kind.area,
                kind=kind.kind,
                ideal_cycle_time_s=round(rng.uniform(*kind.cycle_s) * 2) / 2,
                status="offline",  # until its history is known, below
                status_since=start,
                created_at=start,
            )
            session.add(machine)
            session.flush()
            own_plan = plan
            if i == maintained:
                calendar = Calendar(demo_calendar(timezone, start, now, machine.id))
                own_plan = windows(calendar, start, now, machine.id)
            segs = status_timeline(rng, kind, start, now, own_plan)
            machine.status, machine.status_since = segs[-1].status, segs[-1].start
            counts["machines"] += 1
            out.add_machine(rng, machine, segs, start, now, i in forced_open, own_plan)
            if out.size() >= CHUNK:
                out.flush()
            if progress is not None:
                progress(i + 1, machines)
        out.flush()
        # In the seed's transaction; its dashboard_refresh is not recorded (nothing is live yet).
        replace_calendar(Transaction.in_session(session, now), calendar.document)
    return counts


def _check_size(name: str, value: Any, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}")


def _empty(session: Session) -> bool:
    return session.scalar(select(Machine.id).limit(1)) is None
