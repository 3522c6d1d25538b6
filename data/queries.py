"""Read side: aggregates computed in SQL, returned as plain records or DataFrames."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from data.models import StatusPeriod
from data.sqltypes import overlap_seconds


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
