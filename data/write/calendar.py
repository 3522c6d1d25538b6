"""Replacing the plant's calendar (one transaction; every screen recomputes) and giving a new
database the configured time zone."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select

from data.calendar.document import CalendarDocument
from data.errors import Unprocessable
from data.events import DashboardRefresh
from data.store.db import Database
from data.store.models import Machine, PlannedStopRow, PlantCalendar, ShiftRow
from data.write.outbox import Transaction
from data.write.rollups import forget_all

REFRESH_REASON = "calendar_changed"


def replace_calendar(tx: Transaction, document: CalendarDocument) -> None:
    """Store `document` in place of the current calendar and emit `dashboard_refresh`."""
    session = tx.session
    wanted = {s.machine_id for s in document.planned_stops if s.machine_id is not None}
    if wanted:
        known = set(session.scalars(select(Machine.id).where(Machine.id.in_(wanted))))
        missing = sorted(wanted - known)
        if missing:
            raise Unprocessable(
                f"A planned stop names machine {missing[0]}, which does not exist.",
                {"planned_stops": f"unknown machine {missing[0]}"},
            )
    forget_all(session)
    session.execute(delete(ShiftRow))
    session.execute(delete(PlannedStopRow))
    head = session.get(PlantCalendar, 1)
    if head is None:
        head = PlantCalendar(id=1, timezone=document.timezone)
        session.add(head)
    head.timezone = document.timezone
    head.edited_at = tx.now
    head.stamp = uuid.uuid4().hex
    session.add_all(
        ShiftRow(
            position=i,
            name=s.name,
            start=s.start,
            end=s.end,
            days=",".join(s.days),
            breaks=[{"start": b.start, "end": b.end} for b in s.breaks],
        )
        for i, s in enumerate(document.shifts)
    )
    session.add_all(
        PlannedStopRow(machine_id=p.machine_id, start_at=p.start, end_at=p.end, reason=p.reason)
        for p in document.planned_stops
    )
    tx.emit(DashboardRefresh(reason=REFRESH_REASON, refresh_all=True))


def default_zone(db: Database, zone_name: str) -> None:
    """Give the plant `zone_name` unless an admin has chosen a zone (`edited_at` set)."""
    with db.write() as session:
        head = session.get(PlantCalendar, 1)
        if head is None:
            session.add(PlantCalendar(id=1, timezone=zone_name, stamp=uuid.uuid4().hex))
        elif head.edited_at is None and head.timezone != zone_name:
            head.timezone = zone_name
            head.stamp = uuid.uuid4().hex
            forget_all(session)
