"""Small helpers that put rows in a test database."""

from __future__ import annotations

from typing import Any

from data.store.db import Database
from data.store.models import Machine


def add_machines(db: Database, count: int = 2, area: str = "Milling") -> list[int]:
    """Insert `count` idle machines; return their ids."""
    with db.write() as session:
        machines = [
            Machine(name=f"MILL-{i:02d}", area=area, kind="mill", ideal_cycle_time_s=60.0)
            for i in range(1, count + 1)
        ]
        session.add_all(machines)
        session.flush()
        return [m.id for m in machines]


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def shift(
    name: str,
    start: str,
    end: str,
    days: tuple[str, ...] = WEEKDAYS,
    breaks: tuple[tuple[str, str], ...] = (),
) -> dict[str, Any]:
    """One shift of a calendar document (docs/calendar.md), as `PUT /api/v1/calendar` takes it."""
    entry: dict[str, Any] = {"name": name, "start": start, "end": end, "days": list(days)}
    if breaks:
        entry["breaks"] = [{"start": b, "end": e} for b, e in breaks]
    return entry
