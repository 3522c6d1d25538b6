"""Time each machine spent in each status per plant-local day, summed in SQL: the plant's state
chart for windows longer than two days (a month of status periods is some 15,000 rows; by day it is
at most machines x days x 6)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from data.read import kpis
from data.read.calendar_queries import load_calendar
from data.read.periods_by_end import SP
from data.store.models import Machine
from data.store.sqltypes import UTCDateTime, overlap_seconds

COLUMNS = ["machine_id", "name", "area", "day", "status", "seconds"]


def day_bounds(
    lo: datetime, hi: datetime, zone: ZoneInfo | None = None
) -> list[tuple[datetime, datetime]]:
    """[start, end) in UTC of every day of `zone` (UTC by default) touching [lo, hi), clipped
    to it: a daylight-saving day is 23 or 25 hours long."""
    zone = zone or ZoneInfo("UTC")
    day = lo.astimezone(zone).date()
    bounds = []
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    while start < hi:
        day += timedelta(days=1)
        nxt = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        bounds.append((max(start, lo), min(nxt, hi)))
        start = nxt
    return bounds


def state_time_by_day(
    session: Session,
    lo: datetime,
    hi: datetime,
    machine_id: int | None = None,
    zone: ZoneInfo | None = None,
) -> pd.DataFrame:
    """Seconds per machine, day of `zone` (default: the plant's) and status inside [lo, hi):
    machine_id, name, area, day (aware UTC, the local day's start or lo), status, seconds;
    ordered by area, name, day."""
    lo, hi, _ = kpis.window(lo, hi)
    zone = zone or load_calendar(session).zone
    # A small table of the days, portable to SQLite and PostgreSQL (no VALUES aliases there).
    days = union_all(
        *(
            select(
                literal(a, UTCDateTime()).label("day_lo"), literal(b, UTCDateTime()).label("day_hi")
            )
            for a, b in day_bounds(lo, hi, zone)
        )
    ).subquery("days")
    seconds = func.sum(overlap_seconds(SP.started_at, SP.ended_at, days.c.day_lo, days.c.day_hi))
    stmt = (
        select(
            Machine.id,
            Machine.name,
            Machine.area,
            days.c.day_lo,
            SP.status,
            seconds.label("seconds"),
        )
        .select_from(SP.id.table)
        .join(Machine, Machine.id == SP.machine_id)
        .join(
            days,
            and_(
                SP.started_at < days.c.day_hi,
                or_(SP.ended_at.is_(None), SP.ended_at > days.c.day_lo),
            ),
        )
        .where(SP.started_at < hi, or_(SP.ended_at.is_(None), SP.ended_at > lo))
        .group_by(Machine.id, Machine.name, Machine.area, days.c.day_lo, SP.status)
        .order_by(Machine.area, Machine.name, days.c.day_lo, SP.status)
    )
    if machine_id is not None:
        stmt = stmt.where(SP.machine_id == machine_id)
    rows = [
        (r[0], r[1], r[2], r[3], r[4], float(r[5]))
        for r in session.execute(stmt)
        if float(r[5]) > 0
    ]
    return pd.DataFrame(rows, columns=COLUMNS)
