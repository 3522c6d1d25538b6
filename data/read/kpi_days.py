"""Daily KPI rollups: a long window is its partial first and last day, computed from history,
plus the whole closed plant-local days between, summed from `kpi_days` rows. A day missing
there is computed from history once and stored (in its own short write transaction); writers
drop the rows that history or the calendar make stale (data.write.rollups).

Every sum in a row is additive over a partition of time (running seconds, parts, failures =
down periods started in the day, repairs = down periods ended in it), so a window's sums are
the sums of its days' sums."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data.calendar.schedule import Calendar
from data.store.models import KpiDay, Machine

ADDITIVE = (
    "running_s", "offline_s", "failures", "repairs", "repair_s", "good", "scrap", "ideal_s",
    "planned_s", "running_planned_s", "calendar_s", "target_good",
)  # fmt: skip
COUNTS = frozenset({"failures", "repairs", "good", "scrap"})
# Windows with fewer whole closed days than this are computed from history alone.
MIN_DAYS = 3

Day = tuple[date, datetime, datetime]
Exact = Callable[[datetime, datetime], list[dict[str, Any]]]


def closed_days(calendar: Calendar, lo: datetime, hi: datetime, now: datetime) -> list[Day]:
    """The whole plant-local days inside [lo, min(hi, now)): (day, UTC start, UTC end)."""
    end = min(hi, now)
    day = calendar.local(lo).date()
    out: list[Day] = []
    while True:
        start = calendar.at(day, time(0))
        stop = calendar.at(day + timedelta(days=1), time(0))
        if stop > end:
            return out
        if start >= lo:
            out.append((day, start, stop))
        day += timedelta(days=1)


def rolled_up(session: Session, days: list[Day], exact: Exact) -> dict[int, dict[str, float]]:
    """Per machine, the ADDITIVE sums over `days` (consecutive): stored rows where every
    machine has one, the rest computed with `exact(day_lo, day_hi)` and stored."""
    first, last = days[0][0].isoformat(), days[-1][0].isoformat()
    machines = int(session.scalar(select(func.count()).select_from(Machine)) or 0)
    per_day = dict(
        session.execute(
            select(KpiDay.day, func.count())
            .where(KpiDay.day >= first, KpiDay.day <= last)
            .group_by(KpiDay.day)
        ).all()
    )
    missing = [d for d in days if per_day.get(d[0].isoformat(), 0) < machines]
    skip = [d[0].isoformat() for d in missing]
    sums: dict[int, dict[str, float]] = {}
    if len(missing) < len(days):
        stmt = (
            select(KpiDay.machine_id, *(func.sum(getattr(KpiDay, k)).label(k) for k in ADDITIVE))
            .where(KpiDay.day >= first, KpiDay.day <= last, KpiDay.day.not_in(skip))
            .group_by(KpiDay.machine_id)
        )
        for row in session.execute(stmt).mappings():
            sums[int(row["machine_id"])] = {k: float(row[k]) for k in ADDITIVE}
    fresh: list[dict[str, Any]] = []
    for day, day_lo, day_hi in missing:
        for machine in exact(day_lo, day_hi):
            values = {k: float(machine[k]) for k in ADDITIVE}
            add(sums.setdefault(int(machine["machine_id"]), dict.fromkeys(ADDITIVE, 0.0)), values)
            fresh.append({"machine_id": machine["machine_id"], "day": day.isoformat(),
                          "day_lo": day_lo, "day_hi": day_hi, **values})  # fmt: skip
    if fresh:
        _store(session, skip, fresh)
    return sums


def add(total: dict[str, Any], more: dict[str, Any]) -> None:
    """`total` += `more` on the ADDITIVE keys; counts stay whole numbers."""
    for key in ADDITIVE:
        value = total[key] + float(more[key])
        total[key] = round(value) if key in COUNTS else value


def _store(session: Session, days: list[str], rows: list[dict[str, Any]]) -> None:
    """Store computed days in a write transaction of their own (the caller's is a read)."""
    engine = session.get_bind().execution_options(immediate=True)
    try:
        with engine.begin() as conn:
            conn.execute(delete(KpiDay).where(KpiDay.day.in_(days)))
            conn.execute(insert(KpiDay), rows)
    except IntegrityError:
        pass  # another request stored the same days first
