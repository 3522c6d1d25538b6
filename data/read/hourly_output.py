"""Parts per UTC hour (or per UTC day, for long windows) against the target rate, for the plant,
an area or one machine. The bucketing runs in SQL: a 30-day window is 30 rows, not 720."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Float, Select, cast, func, literal_column, select
from sqlalchemy.orm import Session

from data.read import kpis
from data.store.models import Machine, ProductionCount
from data.store.sqltypes import epoch

PC = ProductionCount
HOUR_S = 3600
DAY_S = 86400
# Windows up to this long are shown by hour; longer ones by day.
HOURLY_UP_TO = timedelta(hours=48)


def bucket_seconds(lo: datetime, hi: datetime) -> int:
    """The bucket a chart of [lo, hi) uses: an hour up to 48 h, else a day."""
    return HOUR_S if hi - lo <= HOURLY_UP_TO else DAY_S


def _scope(stmt: Select[Any], machine_id: int | None, area: str | None) -> Select[Any]:
    if machine_id is not None:
        stmt = stmt.where(Machine.id == machine_id)
    if area is not None:
        stmt = stmt.where(Machine.area == area)
    return stmt


def _counts(
    session: Session,
    lo: datetime,
    hi: datetime,
    bucket_s: int,
    machine_id: int | None,
    area: str | None,
) -> tuple[list[Any], float]:
    """(bucket index, good, scrap) rows and the target rate in parts per hour."""
    # Bucket index = floor(epoch / bucket), from epoch rounded to the millisecond first:
    # SQLite's julianday() is off by up to ~50 us, enough to put 10:00:00 into the 09:00 bucket.
    bucket = (
        cast(func.round(epoch(PC.ts) * literal_column("1000", Float)), BigInteger)
        // literal_column(str(bucket_s * 1000), BigInteger)
    ).label("bucket")
    counts = select(bucket, func.sum(PC.good), func.sum(PC.scrap)).where(PC.ts >= lo, PC.ts < hi)
    if machine_id is not None or area is not None:
        counts = _scope(counts.join(Machine, Machine.id == PC.machine_id), machine_id, area)
    rows = session.execute(counts.group_by(bucket)).all()
    rate = _scope(
        select(func.coalesce(func.sum(3600.0 / func.nullif(Machine.ideal_cycle_time_s, 0)), 0.0)),
        machine_id,
        area,
    )
    return rows, float(session.scalar(rate) or 0.0)


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
    rows, per_hour = _counts(session, lo, hi, HOUR_S, machine_id, area)
    return kpis.hourly_frame(rows, per_hour, lo, hi)


def output_by_bucket(
    session: Session,
    lo: datetime,
    hi: datetime,
    bucket_s: int | None = None,
    machine_id: int | None = None,
    area: str | None = None,
) -> pd.DataFrame:
    """Like `output_by_hour`, per `bucket_s` seconds (default: `bucket_seconds`; UTC days for a
    day): columns hour (the bucket's start), good, scrap, target (prorated to the part of the
    bucket inside the window), and the frame's `attrs["bucket_s"]`."""
    lo, hi, _ = kpis.window(lo, hi)
    size = bucket_s or bucket_seconds(lo, hi)
    rows, per_hour = _counts(session, lo, hi, size, machine_id, area)
    frame = bucket_frame(rows, per_hour, lo, hi, size)
    frame.attrs["bucket_s"] = size
    return frame


def bucket_frame(
    rows: list[Any], per_hour: float, lo: datetime, hi: datetime, bucket_s: int
) -> pd.DataFrame:
    """Zero-filled hour, good, scrap, target for every bucket touching [lo, hi) from
    (bucket index, good, scrap) rows."""
    lo_s, hi_s = lo.timestamp(), hi.timestamp()
    grid = np.arange(int(lo_s // bucket_s), int(-(-hi_s // bucket_s)), dtype="int64")
    got = pd.DataFrame(rows, columns=["bucket", "good", "scrap"]).astype("int64")
    # A ts a fraction of a millisecond before hi can round into the next bucket: keep it inside.
    got["bucket"] = got["bucket"].clip(grid[0], grid[-1])
    got = got.groupby("bucket").sum().reindex(grid, fill_value=0)
    size = float(bucket_s)
    inside = np.minimum((grid + 1) * size, hi_s) - np.maximum(grid * size, lo_s)
    return pd.DataFrame(
        {
            "hour": pd.to_datetime(grid * bucket_s, unit="s", utc=True),
            "good": got["good"].to_numpy(),
            "scrap": got["scrap"].to_numpy(),
            "target": per_hour * inside / 3600.0,
        }
    )
