"""Daily rollups give exactly what history gives, and follow every change of history or the
calendar (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from data.read import machine_sums
from data.read.calendar_queries import load_calendar
from data.read.machine_sums import overview
from data.store.db import Database
from data.store.models import KpiDay, Machine, ProductionCount, StatusPeriod
from data.write.services import Services

START = datetime(2026, 3, 20, tzinfo=UTC)  # ten days across Europe's spring clock change
END = START + timedelta(days=10, hours=7)
STATUSES = ("running", "idle", "down", "running", "setup", "offline", "running")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
CALENDAR = {
    "timezone": "Europe/Berlin",
    "shifts": [
        {"name": "Early", "start": "06:00", "end": "14:00", "days": WEEKDAYS,
         "breaks": [{"start": "10:00", "end": "10:30"}]},
        {"name": "Night", "start": "22:00", "end": "06:00", "days": ["mon", "tue", "sat"]},
    ],
    "planned_stops": [{"start": "2026-03-24T12:00:00Z", "end": "2026-03-25T03:00:00Z",
                       "reason": "service", "machine_id": 2}],
}  # fmt: skip


@pytest.fixture
def plant(db: Database, services: Services) -> list[int]:
    with db.write() as session:
        machines = [
            Machine(name=f"M{i}", area="A" if i < 3 else "B", kind="mill",
                    ideal_cycle_time_s=20.0 * i, created_at=START + timedelta(days=i - 1))
            for i in (1, 2, 3)
        ]  # fmt: skip
        session.add_all(machines)
        session.flush()
        ids = [m.id for m in machines]
        for n, machine_id in enumerate(ids):
            t = START + timedelta(hours=n)
            step = 0
            while t < END:
                span = timedelta(minutes=37 + 53 * ((step + n) % 7))
                session.add(StatusPeriod(machine_id=machine_id, status=STATUSES[step % 7],
                                         started_at=t, ended_at=min(t + span, END)))  # fmt: skip
                session.add(ProductionCount(machine_id=machine_id, ts=t, good=10 + step % 5,
                                            scrap=step % 3))  # fmt: skip
                t += span
                step += 1
    services.replace_calendar(CALENDAR)
    return ids


def exact(db: Database, lo: datetime, hi: datetime) -> dict[str, Any]:
    with db.read() as session:
        cal = load_calendar(session)
        machines, _ = machine_sums._exact(session, lo, hi, cal)
    return {m["machine_id"]: m for m in machines}


def rolled(db: Database, lo: datetime, hi: datetime) -> dict[str, Any]:
    with db.read() as session:
        return {m["machine_id"]: m for m in machine_sums.machine_rows(session, lo, hi)}


def stored(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(KpiDay)))


KEYS = ("running_s", "planned_s", "running_planned_s", "calendar_s", "good", "scrap",
        "failures", "repairs", "repair_s", "ideal_s", "target_good")  # fmt: skip


def assert_same(a: dict[int, Any], b: dict[int, Any]) -> None:
    assert a.keys() == b.keys()
    for machine_id in a:
        for key in KEYS:
            assert a[machine_id][key] == pytest.approx(b[machine_id][key], abs=1e-3), key
        assert type(a[machine_id]["good"]) is int


def test_rollups_equal_history(db: Database, plant: list[int]) -> None:
    lo, hi = START + timedelta(hours=5, minutes=13), END - timedelta(hours=2)
    assert stored(db) == 0
    first = rolled(db, lo, hi)  # computes and stores the whole days
    assert stored(db) == 3 * 9  # Berlin's 21 to 29 March lie wholly inside, 3 machines
    again = rolled(db, lo, hi)  # reads them
    truth = exact(db, lo, hi)
    assert_same(first, truth)
    assert_same(again, truth)
    with db.read() as session:
        assert overview(session, lo, hi) == overview(session, lo, hi)


def test_history_written_into_a_closed_day_is_counted(
    db: Database, plant: list[int], services: Services
) -> None:
    lo, hi = START, END
    rolled(db, lo, hi)
    before = stored(db)
    services.record_production(
        {"machine_id": plant[0], "good": 1000, "scrap": 7, "ts": "2026-03-25T09:00:00Z"}
    )
    assert stored(db) == before - 1  # that machine's day is dropped, nothing else
    after = rolled(db, lo, hi)
    assert_same(after, exact(db, lo, hi))
    assert stored(db) == before


def test_a_new_calendar_drops_every_rollup(
    db: Database, plant: list[int], services: Services
) -> None:
    rolled(db, START, END)
    assert stored(db) > 0
    services.replace_calendar({**CALENDAR, "timezone": "America/Chicago", "planned_stops": []})
    assert stored(db) == 0
    assert_same(rolled(db, START, END), exact(db, START, END))
