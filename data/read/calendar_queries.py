"""The stored calendar as a `Calendar` (an empty one in the default zone when none is stored)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.calendar.document import Break, CalendarDocument, PlannedStop, Shift
from data.calendar.schedule import Calendar
from data.read.records import iso
from data.store.models import PlannedStopRow, PlantCalendar, ShiftRow

DEFAULT_ZONE = "UTC"


# Parsed calendars by their stamp (random, new at every change): a reader reads one row.
_CACHE: dict[str, Calendar] = {}
_CACHE_SIZE = 16


def load_calendar(session: Session) -> Calendar:
    """The plant's calendar as stored (rows were checked when written)."""
    head = session.execute(
        select(PlantCalendar.timezone, PlantCalendar.stamp).where(PlantCalendar.id == 1)
    ).first()
    if head is None:
        return _load(session, DEFAULT_ZONE)
    found = _CACHE.get(head.stamp)
    if found is None or found.document.timezone != head.timezone:
        found = _load(session, head.timezone)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[head.stamp] = found
    return found


def _load(session: Session, timezone: str) -> Calendar:
    shifts = session.scalars(select(ShiftRow).order_by(ShiftRow.position, ShiftRow.id)).all()
    stops = session.scalars(
        select(PlannedStopRow).order_by(PlannedStopRow.start_at, PlannedStopRow.id)
    ).all()
    document = CalendarDocument.model_construct(
        timezone=timezone,
        shifts=[_shift(row) for row in shifts],
        planned_stops=[_stop(row) for row in stops],
    )
    return Calendar(document)


def _shift(row: ShiftRow) -> Shift:
    return Shift.model_construct(
        name=row.name,
        start=row.start,
        end=row.end,
        days=row.days.split(",") if row.days else [],
        breaks=[Break.model_construct(**b) for b in row.breaks or []],
    )


def _stop(row: PlannedStopRow) -> PlannedStop:
    return PlannedStop.model_construct(
        start=row.start_at, end=row.end_at, reason=row.reason, machine_id=row.machine_id
    )


def calendar_json(calendar: Calendar) -> dict[str, Any]:
    """The GET /api/v1/calendar document."""
    doc = calendar.document
    return {
        "timezone": doc.timezone,
        "shifts": [
            {
                "name": s.name,
                "start": s.start,
                "end": s.end,
                "days": list(s.days),
                "breaks": [{"start": b.start, "end": b.end} for b in s.breaks],
            }
            for s in doc.shifts
        ],
        "planned_stops": [
            {
                "start": iso(p.start),
                "end": iso(p.end),
                "reason": p.reason,
                "machine_id": p.machine_id,
            }
            for p in doc.planned_stops
        ],
    }
