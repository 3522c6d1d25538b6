"""The analytics reads of CONTRACT §2b for people who pull numbers into a spreadsheet:
per-machine KPIs, machine state periods and the shift report. Windows arrive clipped to now
(app.api.windows); every KPI follows data.read.kpis."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.calendar.schedule import Calendar, Occurrence
from data.read import kpis
from data.read.calendar_queries import load_calendar
from data.read.downtime import downtime_by_reason
from data.read.machine_sums import machine_rows
from data.read.plant_queries import status_timeline
from data.read.records import iso
from data.store.models import Machine, Ticket

KPI_FIELDS = (
    "machine_id", "name", "area", "planned_s", "running_s", "availability", "performance",
    "quality", "oee", "teep", "good", "scrap", "mttr_s", "mtbf_s",
)  # fmt: skip


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), kpis.DECIMALS)


def machine_kpis(
    session: Session,
    lo: datetime,
    hi: datetime,
    area: str | None = None,
    calendar: Calendar | None = None,
) -> list[dict[str, Any]]:
    """GET /api/v1/kpis/machines items: one per machine (of `area`), ordered by id."""
    rows = [r for r in machine_rows(session, lo, hi, calendar) if area is None or r["area"] == area]
    out = []
    for row in rows:
        ratios = kpis.sum_ratios([row], rounded=False)
        rel = kpis.reliability(row["running_s"], row["failures"], row["repairs"], row["repair_s"])
        item = {
            **{k: row[k] for k in ("machine_id", "name", "area", "good", "scrap")},
            "planned_s": round(row["planned_s"], 3),
            "running_s": round(row["running_s"], 3),
            **{k: _round(ratios[k]) for k in kpis.RATIOS},
            "teep": kpis.teep([row]),
            "mttr_s": _round(rel["mttr_s"]),
            "mtbf_s": _round(rel["mtbf_s"]),
        }
        out.append({k: item[k] for k in KPI_FIELDS})
    return out


def machine_exists(session: Session, machine_id: int) -> bool:
    return session.get(Machine, machine_id) is not None


def machine_states(
    session: Session, machine_id: int, lo: datetime, hi: datetime
) -> list[dict[str, Any]] | None:
    """GET /api/v1/machines/<id>/states items (None for an unknown machine): the periods
    overlapping [lo, hi), clipped to it."""
    if not machine_exists(session, machine_id):
        return None
    frame = status_timeline(session, lo, hi, machine_id=machine_id)
    return [
        {
            "status": r.status,
            "reason": None if r.reason is None or r.reason != r.reason else r.reason,
            "start": iso(r.start.to_pydatetime()),
            "end": iso(r.end.to_pydatetime()),
        }
        for r in frame.itertuples()
    ]


def shift_report(
    session: Session,
    day: date,
    now: datetime,
    area: str | None = None,
    calendar: Calendar | None = None,
) -> list[dict[str, Any]]:
    """GET /api/v1/shifts/report items: every shift that starts on the plant-local `day`, in
    time order; a shift still running counts up to now, one that has not started is left out.
    Without shifts in the calendar the whole local day is one row named "Day"."""
    calendar = calendar or load_calendar(session)
    items = []
    for occ in day_shifts(calendar, day):
        hi = min(occ.end, now)
        if hi <= occ.start:
            continue
        items.append(_shift_row(session, calendar, occ, hi, area))
    return items


def day_shifts(calendar: Calendar, day: date) -> list[Occurrence]:
    """The shift occurrences that belong to the plant-local `day` (a shift belongs to the day
    it starts), or the whole day as one "Day" when the calendar has no shifts."""
    start = calendar.at(day, datetime.min.time())
    end = calendar.at(date.fromordinal(day.toordinal() + 1), datetime.min.time())
    if not calendar.has_shifts:
        return [Occurrence("Day", day, start, end)]
    return [o for o in calendar.occurrences(start, end) if o.day == day]


def _shift_row(
    session: Session, calendar: Calendar, occ: Occurrence, hi: datetime, area: str | None
) -> dict[str, Any]:
    rows = [
        r
        for r in machine_rows(session, occ.start, hi, calendar)
        if area is None or r["area"] == area
    ]
    ratios = kpis.sum_ratios(rows)
    ids = [r["machine_id"] for r in rows]
    down = downtime_by_reason(session, occ.start, hi, limit=100, machine_ids=ids)
    return {
        "shift": occ.name,
        "start": iso(occ.start),
        "end": iso(occ.end),
        "planned_s": round(sum(r["planned_s"] for r in rows), 3),
        **ratios,
        "good": int(sum(r["good"] for r in rows)),
        "scrap": int(sum(r["scrap"] for r in rows)),
        "target_good": round(sum(r["target_good"] for r in rows)),
        "downtime_by_reason": {r.reason: round(float(r.seconds), 3) for r in down.itertuples()},
        "tickets_opened": _ticket_count(session, Ticket.created_at, occ.start, hi, ids),
        "tickets_closed": _ticket_count(session, Ticket.closed_at, occ.start, hi, ids),
    }


def _ticket_count(
    session: Session, column: Any, lo: datetime, hi: datetime, machine_ids: list[int]
) -> int:
    stmt = select(func.count()).where(column >= lo, column < hi, Ticket.machine_id.in_(machine_ids))
    return int(session.scalar(stmt) or 0)
