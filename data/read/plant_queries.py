"""Machine listings, state timelines and machine details for the API and the UI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from data.read import machine_sums
from data.read.records import machine_record, ticket_record
from data.store.models import Machine, StatusPeriod, Ticket
from data.store.sqltypes import as_utc


def machine_list(session: Session, lo: datetime, hi: datetime) -> list[dict[str, Any]]:
    """Every machine with its utilization over [lo, hi), ordered by area then name."""
    frame = machine_sums.utilization_by_machine(session, lo, hi)
    utilization = dict(zip(frame["machine_id"], frame["utilization"], strict=True))
    machines = session.scalars(select(Machine).order_by(Machine.area, Machine.name))
    return [machine_record(m, float(utilization.get(m.id, 0.0))) for m in machines]


def areas(session: Session) -> list[str]:
    return list(session.scalars(select(Machine.area).distinct().order_by(Machine.area)))


def status_timeline(
    session: Session, lo: datetime, hi: datetime, machine_id: int | None = None
) -> pd.DataFrame:
    """Status periods overlapping [lo, hi), clipped to it: machine, status, reason, start, end."""
    stmt = (
        select(
            Machine.id.label("machine_id"),
            Machine.name,
            Machine.area,
            StatusPeriod.status,
            StatusPeriod.reason,
            StatusPeriod.started_at,
            StatusPeriod.ended_at,
        )
        .join(Machine, Machine.id == StatusPeriod.machine_id)
        .where(
            StatusPeriod.started_at < hi,
            or_(StatusPeriod.ended_at.is_(None), StatusPeriod.ended_at > lo),
        )
        .order_by(Machine.area, Machine.name, StatusPeriod.started_at)
    )
    if machine_id is not None:
        stmt = stmt.where(StatusPeriod.machine_id == machine_id)
    rows = session.execute(stmt).all()
    columns = ["machine_id", "name", "area", "status", "reason", "start", "end"]
    frame = pd.DataFrame(
        [
            (
                r.machine_id,
                r.name,
                r.area,
                r.status,
                r.reason,
                max(r.started_at, lo),
                min(r.ended_at or hi, hi),
            )
            for r in rows
        ],
        columns=columns,
    )
    return frame


def machine_detail(session: Session, machine_id: int, lo: datetime, hi: datetime) -> dict | None:
    """One machine: record, reliability over the window and its latest tickets."""
    machine = session.get(Machine, machine_id)
    if machine is None:
        return None
    util = machine_sums.machine_utilization(session, machine_id, lo, hi)
    tickets = session.scalars(
        select(Ticket).where(Ticket.machine_id == machine_id).order_by(Ticket.id.desc()).limit(10)
    )
    oee = machine_sums.oee_by_machine(session, lo, hi)
    row = oee[oee["machine_id"] == machine_id]
    return {
        "machine": machine_record(machine, util),
        "reliability": machine_sums.mttr_mtbf(session, lo, hi, machine_id=machine_id),
        "oee": row.iloc[0].to_dict() if not row.empty else None,
        "tickets": [ticket_record(t) for t in tickets],
        "ideal_cycle_time_s": machine.ideal_cycle_time_s,
        "window": (as_utc(lo), as_utc(hi)),
    }
