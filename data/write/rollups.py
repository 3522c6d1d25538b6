"""Dropping daily KPI rollups (data.read.kpi_days) when what they summed changes: history
written inside a closed day, the calendar, or the plant's zone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from data.store.models import KpiDay


def forget_day(session: Session, machine_id: int, moment: datetime) -> None:
    """Drop the machine's rollup of the day that contains `moment` (if there is one)."""
    session.execute(
        delete(KpiDay).where(
            KpiDay.machine_id == machine_id, KpiDay.day_lo <= moment, KpiDay.day_hi > moment
        )
    )


def forget_all(session: Session) -> None:
    session.execute(delete(KpiDay))
