"""Date axes on the plant's clock.

Plotly has no time zones: it draws a datetime where its digits say. So figures place every bar
at its real instant (UTC, as plain datetimes) and write the axis labels and the hover text in
plant-local time. An hourly chart of a daylight-saving day then has 23 or 25 bars, the 01:00
that happens twice is labelled twice ("01:00 CDT", "01:00 CST"), and a state period across the
change keeps its real length."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd

from components.wording import PlantClock

HOUR_STEPS = (1, 2, 3, 4, 6, 12)
DAY_STEPS = (1, 2, 7, 14)
MAX_TICKS = 8
QUARTER = timedelta(minutes=15)


def positions(values: pd.Series) -> pd.Series:
    """Where plotly puts each time: its UTC instant as a plain datetime (naive values are UTC)."""
    values = pd.to_datetime(values)
    if values.dt.tz is None:
        return values
    return values.dt.tz_convert("UTC").dt.tz_localize(None)


def at(when: datetime) -> datetime:
    """One instant as `positions` places it."""
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).replace(tzinfo=None)


def _local_hours(clock: PlantClock, lo: datetime, hi: datetime) -> list[datetime]:
    """Every instant in [lo, hi] at which the plant's clock shows a full hour."""
    start = datetime.fromtimestamp(lo.timestamp() // 900 * 900, UTC)
    found, moment = [], start
    while moment <= hi:
        if moment >= lo and clock.local(moment).minute == 0:
            found.append(moment)
        moment += QUARTER
    return found


def _local_midnights(clock: PlantClock, lo: datetime, hi: datetime) -> list[datetime]:
    day: date = clock.today(lo)
    found = []
    while True:
        moment = datetime.combine(day, time(0), tzinfo=clock.zone).astimezone(UTC)
        if moment > hi:
            return found
        if moment >= lo:
            found.append(moment)
        day += timedelta(days=1)


def local_ticks(clock: PlantClock, lo: datetime, hi: datetime) -> tuple[list[datetime], list[str]]:
    """Tick instants and their plant-local labels for an axis over [lo, hi]: full hours
    ("14:00", the date under the first one and under midnight) up to two days, else midnights
    ("Tue 1 Dec"); at most MAX_TICKS of them, on round local hours or days."""
    lo, hi = lo.astimezone(UTC), hi.astimezone(UTC)
    if hi - lo <= timedelta(hours=49):
        hours = _local_hours(clock, lo, hi)
        for step in HOUR_STEPS:
            picked = [h for h in hours if clock.local(h).hour % step == 0]
            if len(picked) <= MAX_TICKS:
                break
        texts = [
            clock.time(h) + (f"<br>{clock.day(h)}" if i == 0 or clock.local(h).hour == 0 else "")
            for i, h in enumerate(picked)
        ]
        return picked, texts
    days = _local_midnights(clock, lo, hi)
    step = next((s for s in DAY_STEPS if len(days[::s]) <= MAX_TICKS), DAY_STEPS[-1])
    picked = days[::step]
    return picked, [clock.day(d) for d in picked]


def local_axis(clock: PlantClock, lo: datetime, hi: datetime) -> dict[str, Any]:
    """A plotly x axis over [lo, hi] labelled on the plant's clock."""
    ticks, texts = local_ticks(clock, lo, hi)
    return {
        "type": "date",
        "tickmode": "array",
        "tickvals": [at(t) for t in ticks],
        "ticktext": texts,
        "range": [at(lo), at(hi)],
    }


def bounds(values: pd.Series) -> tuple[datetime, datetime]:
    """The first and last time of a series, as aware UTC datetimes."""
    stamps = pd.to_datetime(values)
    if stamps.dt.tz is None:
        stamps = stamps.dt.tz_localize("UTC")
    return stamps.min().to_pydatetime(warn=False), stamps.max().to_pydatetime(warn=False)
