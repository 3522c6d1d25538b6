"""Per-machine sums over a window, in one SQL query, and what is computed from them:
utilization, OEE, MTTR/MTBF and the dashboard overview document.

Every window is half-open [lo, hi) of aware UTC datetimes (naive ones are taken as UTC). Status
periods count by their overlap with the window (a still-open period runs until hi); production
counts by lo <= ts < hi. The SQL is the same on SQLite and PostgreSQL (see data.store.sqltypes);
the KPI definitions and the arithmetic on aggregated rows live in data.read.kpis.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

import pandas as pd
from sqlalchemy import Select, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from data.calendar.schedule import Calendar
from data.read import kpi_days, kpis
from data.read.calendar_queries import load_calendar
from data.read.periods_by_end import SP, by_start
from data.read.planned_time import life_start, machine_times
from data.read.plant_counts import OPEN_TICKET_STATUSES, open_tickets_by_priority
from data.store.models import Machine, ProductionCount, StatusPeriod, Ticket
from data.store.sqltypes import UTCDateTime, epoch, overlap_seconds, utcnow
from data.vocabulary import TICKET_PRIORITIES

PC = ProductionCount


def machine_utilization(session: Session, machine_id: int, lo: datetime, hi: datetime) -> float:
    """Share of [lo, hi) the machine spent running (0..1)."""
    elapsed = (hi - lo).total_seconds()
    if elapsed <= 0:
        return 0.0
    running = session.scalar(
        select(
            func.coalesce(
                func.sum(overlap_seconds(StatusPeriod.started_at, StatusPeriod.ended_at, lo, hi)),
                0.0,
            )
        ).where(
            StatusPeriod.machine_id == machine_id,
            StatusPeriod.status == "running",
            StatusPeriod.started_at < hi,
            or_(StatusPeriod.ended_at.is_(None), StatusPeriod.ended_at > lo),
        )
    )
    return min(1.0, float(running or 0.0) / elapsed)


def _period_sums(lo: datetime, hi: datetime, SP: Any = SP) -> Select[Any]:
    """Per machine: running and offline overlap seconds, failures, repairs and repair time.

    `ended_at >= lo` (not `>`) keeps a down period that ended exactly at lo, which is a repair
    inside [lo, hi); its overlap is 0 so the time sums are unaffected."""
    overlap = overlap_seconds(SP.started_at, SP.ended_at, lo, hi)
    down = SP.status == "down"
    repaired = and_(down, SP.ended_at.is_not(None), SP.ended_at < hi)
    return (
        select(
            SP.machine_id.label("machine_id"),
            func.sum(case((SP.status == "running", overlap), else_=0.0)).label("running_s"),
            func.sum(case((SP.status == "offline", overlap), else_=0.0)).label("offline_s"),
            func.sum(case((and_(down, SP.started_at >= lo), 1), else_=0)).label("failures"),
            func.sum(case((repaired, 1), else_=0)).label("repairs"),
            func.sum(case((repaired, epoch(SP.ended_at) - epoch(SP.started_at)), else_=0.0)).label(
                "repair_s"
            ),
        )
        .where(
            SP.status.in_(("running", "offline", "down")),
            SP.started_at < hi,
            or_(SP.ended_at.is_(None), SP.ended_at >= lo),
        )
        .group_by(SP.machine_id)
    )


def _count_sums(lo: datetime, hi: datetime) -> Select[Any]:
    """Per machine: good and scrap parts reported in [lo, hi)."""
    return (
        select(
            PC.machine_id.label("machine_id"),
            func.sum(PC.good).label("good"),
            func.sum(PC.scrap).label("scrap"),
        )
        .where(PC.ts >= lo, PC.ts < hi)
        .group_by(PC.machine_id)
    )


# Per-machine sums and their value for a machine with no rows in the window.
_PERIOD_ZEROS = {"running_s": 0.0, "offline_s": 0.0, "failures": 0, "repairs": 0, "repair_s": 0.0}


@cache
def _machine_statement(old: bool = False) -> Select[Any]:
    """The per-machine sums statement, built once with `lo`/`hi` bound parameters: building a
    statement of this size costs more than running it on a day's window."""
    lo = bindparam("lo", type_=UTCDateTime())
    hi = bindparam("hi", type_=UTCDateTime())
    p = _period_sums(lo, hi, StatusPeriod.__table__.c if old else SP).subquery()
    c = _count_sums(lo, hi).subquery()
    good, scrap = func.coalesce(c.c.good, 0), func.coalesce(c.c.scrap, 0)
    return (
        select(
            Machine.id.label("machine_id"),
            *(getattr(Machine, col) for col in ("name", "area", "kind", "status")),
            Machine.ideal_cycle_time_s,
            *(func.coalesce(p.c[col], zero).label(col) for col, zero in _PERIOD_ZEROS.items()),
            good.label("good"),
            scrap.label("scrap"),
            (Machine.ideal_cycle_time_s * (good + scrap)).label("ideal_s"),
            life_start().label("life_start"),
            # Constant per row: the overview needs one round trip, not two.
            *(_open_tickets(priority).label(f"open_{priority}") for priority in TICKET_PRIORITIES),
        )
        .outerjoin(p, p.c.machine_id == Machine.id)
        .outerjoin(c, c.c.machine_id == Machine.id)
        .order_by(Machine.id)
    )


def _open_tickets(priority: str) -> Any:
    return (
        select(func.count())
        .where(Ticket.status.in_(OPEN_TICKET_STATUSES), Ticket.priority == priority)
        .scalar_subquery()
    )


def _exact(
    session: Session, lo: datetime, hi: datetime, calendar: Calendar, old: bool = False
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Per-machine sums with planned times over [lo, hi) from history, and the raw rows;
    `old`: read the periods by start (data.read.periods_by_end.by_start)."""
    rows = list(session.execute(_machine_statement(old), {"lo": lo, "hi": hi}).mappings())
    times = machine_times(
        session,
        calendar,
        {int(r["machine_id"]): r["life_start"] for r in rows},
        {int(r["machine_id"]): float(r["running_s"]) for r in rows},
        lo,
        hi,
        old,
    )
    elapsed = (hi - lo).total_seconds()
    return [kpis.machine_sums(r, elapsed, times[int(r["machine_id"])]) for r in rows], rows


def _machine_result(
    session: Session, lo: datetime, hi: datetime, calendar: Calendar | None = None
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Per-machine sums with planned times (see `machine_rows`) and the raw rows. Whole
    closed days of a long window come from their rollups (data.read.kpi_days)."""
    lo, hi, elapsed = kpis.window(lo, hi)
    calendar = calendar or load_calendar(session)
    days = kpi_days.closed_days(calendar, lo, hi, utcnow())
    if len(days) < kpi_days.MIN_DAYS:
        return _exact(session, lo, hi, calendar)
    now = utcnow()
    first = session.scalar(select(func.min(StatusPeriod.started_at)))

    def sums(a: datetime, b: datetime) -> list[dict[str, Any]]:
        return _exact(session, a, b, calendar, by_start(first, a, b, now))[0]

    machines, rows = _exact(session, days[-1][2], hi, calendar)
    if lo < days[0][1]:
        for machine, head in zip(machines, sums(lo, days[0][1]), strict=True):
            kpi_days.add(machine, head)
    rolled = kpi_days.rolled_up(session, days, sums)
    for machine in machines:
        if machine["machine_id"] in rolled:
            kpi_days.add(machine, rolled[machine["machine_id"]])
        machine["elapsed_s"] = elapsed
    return machines, rows


def machine_rows(
    session: Session, lo: datetime, hi: datetime, calendar: Calendar | None = None
) -> list[dict[str, Any]]:
    """Every machine (ordered by id) with its period and production sums in [lo, hi),
    `elapsed_s`, `planned_s`, `running_planned_s` and `calendar_s` (data.read.planned_time):
    the one query that utilization, OEE and the overview share. `calendar`: the stored one
    when not given."""
    return _machine_result(session, lo, hi, calendar)[0]


def machine_frame(
    session: Session, lo: datetime, hi: datetime, calendar: Calendar | None = None
) -> pd.DataFrame:
    """`machine_rows` as a DataFrame (columns as there)."""
    return pd.DataFrame(machine_rows(session, lo, hi, calendar), columns=kpis.MACHINE_COLUMNS)


def utilization_by_machine(session: Session, lo: datetime, hi: datetime) -> pd.DataFrame:
    """One row per machine: machine_id, name, area, kind, status, running_s, elapsed_s and
    utilization = running_s / elapsed_s (0..1; 0 for a machine without periods)."""
    df = machine_frame(session, lo, hi)
    df["utilization"] = (df["running_s"] / df["elapsed_s"]).clip(0.0, 1.0)
    cols = ["machine_id", "name", "area", "kind", "status", "running_s", "elapsed_s"]
    return df[[*cols, "utilization"]]


def oee_by_machine(
    session: Session, lo: datetime, hi: datetime, calendar: Calendar | None = None
) -> pd.DataFrame:
    """One row per machine: machine_id, name, area, the SUMS (running_s, planned_s, ideal_s,
    good, scrap, running_planned_s, calendar_s), availability, performance, quality, oee and
    teep (definitions in data.read.kpis)."""
    df = kpis.add_ratios(machine_frame(session, lo, hi, calendar))
    return df[["machine_id", "name", "area", *kpis.SUMS, *kpis.RATIOS, "teep"]]


def mttr_mtbf(
    session: Session, lo: datetime, hi: datetime, machine_id: int | None = None
) -> dict[str, Any]:
    """{"mttr_s", "mtbf_s", "failures", "repairs"} for one machine or the whole plant:
    MTTR = mean duration of `down` periods that ended in [lo, hi) (None if none);
    MTBF = running seconds in the window / `down` periods that started in it (None if none)."""
    lo, hi, _ = kpis.window(lo, hi)
    stmt = _period_sums(lo, hi)
    if machine_id is not None:
        stmt = stmt.where(SP.machine_id == machine_id)
    p = stmt.subquery()
    row = session.execute(
        select(
            func.coalesce(func.sum(p.c.running_s), 0.0),
            func.coalesce(func.sum(p.c.failures), 0),
            func.coalesce(func.sum(p.c.repairs), 0),
            func.coalesce(func.sum(p.c.repair_s), 0.0),
        )
    ).one()
    return kpis.reliability(float(row[0]), int(row[1]), int(row[2]), float(row[3]))


def overview(
    session: Session, lo: datetime, hi: datetime, calendar: Calendar | None = None
) -> dict[str, Any]:
    """The GET /api/v1/dashboard/overview document for [lo, hi): one query (per-machine sums
    with the open-ticket counts alongside) plus the planned times, shaped by
    data.read.kpis.overview_document; floats rounded to 4 decimals."""
    machines, rows = _machine_result(session, lo, hi, calendar)
    lo, hi, _ = kpis.window(lo, hi)
    if rows:
        tickets = {p: int(rows[0][f"open_{p}"]) for p in TICKET_PRIORITIES}
    else:
        tickets = open_tickets_by_priority(session)
    return kpis.overview_document(machines, tickets, lo, hi)
