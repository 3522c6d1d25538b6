"""Parts per plant-local hour (or per plant-local day, for long windows) against the target,
for the plant, an area or one machine. Counts are summed in SQL per UTC hour (or quarter hour,
for zones offset by 30 or 45 minutes) and then put into the local buckets: a 30-day window reads
720 rows at most, not every count.

The target of a bucket is each machine's ideal rate (3600 / ideal cycle time, parts per hour)
times its planned production time inside the bucket (data.read.planned_time): 0 outside shifts,
during breaks and planned stops, before the machine's life starts and after now."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Float, Select, cast, func, literal_column, select
from sqlalchemy.orm import Session

from data.calendar import buckets
from data.calendar import intervals as iv
from data.calendar.schedule import Calendar
from data.read import kpis
from data.read.calendar_queries import load_calendar
from data.read.planned_time import life_start, planned_spans
from data.store.models import Machine, ProductionCount
from data.store.sqltypes import epoch

PC = ProductionCount
HOUR_S = buckets.HOUR_S
DAY_S = buckets.DAY_S
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
    step_s: int,
    machine_id: int | None,
    area: str | None,
) -> list[Any]:
    """(step index, good, scrap) rows: parts per `step_s` seconds of UTC."""
    # Step index = floor(epoch / step), from epoch rounded to the millisecond first: SQLite's
    # julianday() is off by up to ~50 us, enough to put 10:00:00 into the 09:00 step.
    step = (
        cast(func.round(epoch(PC.ts) * literal_column("1000", Float)), BigInteger)
        // literal_column(str(step_s * 1000), BigInteger)
    ).label("step")
    counts = select(step, func.sum(PC.good), func.sum(PC.scrap)).where(PC.ts >= lo, PC.ts < hi)
    if machine_id is not None or area is not None:
        counts = _scope(counts.join(Machine, Machine.id == PC.machine_id), machine_id, area)
    return list(session.execute(counts.group_by(step)).all())


def _targets(
    session: Session,
    calendar: Calendar,
    lo: datetime,
    hi: datetime,
    edges: np.ndarray,
    machine_id: int | None,
    area: str | None,
) -> np.ndarray:
    """Parts the machines in scope would make at their ideal rate in their planned time in
    each bucket [edges[i], edges[i+1])."""
    machines = session.execute(
        _scope(
            select(Machine.id, Machine.ideal_cycle_time_s, life_start().label("life")),
            machine_id,
            area,
        )
    ).all()
    spans = planned_spans(calendar, {m.id: m.life for m in machines}, lo, hi)
    target = np.zeros(len(edges) - 1)
    for m in machines:
        if m.ideal_cycle_time_s and m.ideal_cycle_time_s > 0:
            seconds = iv.covered(spans[m.id], edges[:-1], edges[1:])
            target += seconds / float(m.ideal_cycle_time_s)
    return target


def output_by_hour(
    session: Session,
    lo: datetime,
    hi: datetime,
    machine_id: int | None = None,
    area: str | None = None,
    calendar: Calendar | None = None,
) -> pd.DataFrame:
    """Parts per plant-local hour for every hour touching [lo, hi), zero-filled: hour (aware,
    plant-local start of the hour), good, scrap, target (see the module)."""
    return output_by_bucket(session, lo, hi, HOUR_S, machine_id, area, calendar)


def output_by_bucket(
    session: Session,
    lo: datetime,
    hi: datetime,
    bucket_s: int | None = None,
    machine_id: int | None = None,
    area: str | None = None,
    calendar: Calendar | None = None,
) -> pd.DataFrame:
    """Like `output_by_hour`, per plant-local hour or day (`bucket_s` HOUR_S or DAY_S; default:
    `bucket_seconds`): columns hour (the bucket's local start), good, scrap, target, and the
    frame's `attrs["bucket_s"]`."""
    lo, hi, _ = kpis.window(lo, hi)
    size = bucket_s or bucket_seconds(lo, hi)
    calendar = calendar or load_calendar(session)
    zone = calendar.zone
    starts = buckets.day_starts if size == DAY_S else buckets.hour_starts
    edges = starts(zone, lo, hi)
    whole = buckets.whole_hour_offsets(zone, lo, hi)
    step = HOUR_S if whole else buckets.QUARTER_S
    rows = _counts(session, lo, hi, step, machine_id, area)
    frame = bucket_frame(rows, step, edges)
    frame["target"] = _targets(session, calendar, lo, hi, edges, machine_id, area)
    frame["hour"] = frame["hour"].dt.tz_convert(zone)
    frame.attrs["bucket_s"] = size
    return frame


def bucket_frame(rows: list[Any], step_s: int, edges: np.ndarray) -> pd.DataFrame:
    """Zero-filled hour (UTC start), good, scrap per bucket [edges[i], edges[i+1]) from
    (step index, good, scrap) rows of `step_s`-second steps."""
    got = pd.DataFrame(rows, columns=["step", "good", "scrap"]).astype("int64")
    # The bucket each step starts in; a step rounded past the last edge stays in the last.
    where = np.searchsorted(edges, got["step"].to_numpy() * step_s, side="right") - 1
    got["bucket"] = np.clip(where, 0, len(edges) - 2)
    sums = (
        got.groupby("bucket")[["good", "scrap"]].sum().reindex(range(len(edges) - 1), fill_value=0)
    )
    return pd.DataFrame(
        {
            "hour": pd.to_datetime(edges[:-1].astype("int64"), unit="s", utc=True),
            "good": sums["good"].to_numpy(),
            "scrap": sums["scrap"].to_numpy(),
        }
    )
