"""Parts per UTC hour against the target rate, for the plant, an area or one machine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import BigInteger, Float, Select, cast, func, literal_column, select
from sqlalchemy.orm import Session

from data.read import kpis
from data.store.models import Machine, ProductionCount
from data.store.sqltypes import epoch

PC = ProductionCount


def _scope(stmt: Select[Any], machine_id: int | None, area: str | None) -> Select[Any]:
    if machine_id is not None:
        stmt = stmt.where(Machine.id == machine_id)
    if area is not None:
        stmt = stmt.where(Machine.area == area)
    return stmt


def output_by_hour(
    session: Session,
    lo: datetime,
    hi: datetime,
    machine_id: int | None = None,
    area: str | None = None,
) -> pd.DataFrame:
    """Parts per UTC hour for every hour touching [lo, hi), zero-filled: hour (aware UTC, start
    of the hour), good, scrap, target. target = sum over the machines in scope of
    3600 / ideal_cycle_time_s, prorated for an hour only partly inside the window."""
    lo, hi, _ = kpis.window(lo, hi)
    # Hour index = floor(epoch / 3600), from epoch rounded to the millisecond first: SQLite's
    # julianday() is off by up to ~50 us, enough to put 10:00:00 into the 09:00 bucket.
    hour = (
        cast(func.round(epoch(PC.ts) * literal_column("1000", Float)), BigInteger)
        // literal_column("3600000", BigInteger)
    ).label("hour")
    counts = select(hour, func.sum(PC.good), func.sum(PC.scrap)).where(PC.ts >= lo, PC.ts < hi)
    if machine_id is not None or area is not None:
        counts = _scope(counts.join(Machine, Machine.id == PC.machine_id), machine_id, area)
    rows = session.execute(counts.group_by(hour)).all()
    rate = _scope(
        select(func.coalesce(func.sum(3600.0 / func.nullif(Machine.ideal_cycle_time_s, 0)), 0.0)),
        machine_id,
        area,
    )
    per_hour = float(session.scalar(rate) or 0.0)
    return kpis.hourly_frame(rows, per_hour, lo, hi)
