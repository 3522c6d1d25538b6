"""Plant-local buckets: the UTC bounds of every local hour or local day touching a window
(a daylight-saving day is 23 or 25 hours long; a zone offset by 30 or 45 minutes has local
hours that straddle UTC hours)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

HOUR_S = 3600
DAY_S = 86400
QUARTER_S = 900


def hour_starts(zone: ZoneInfo, lo: datetime, hi: datetime) -> np.ndarray:
    """Epoch seconds of every local full hour's start from the one containing `lo` up to the
    first one at or after `hi` (bounds of len-1 buckets). Each local hour holds quarter hours
    of UTC whatever the zone's offset (even a local mean time's odd seconds): the hours are
    read off those, and each starts at its local :00 minus the offset in force."""
    lo_s, hi_s = lo.timestamp(), hi.timestamp()
    first = int(lo_s // QUARTER_S) * QUARTER_S - 8 * QUARTER_S
    last = int(-(-hi_s // QUARTER_S)) * QUARTER_S + 8 * QUARTER_S
    starts = set()
    for t in range(first, last + 1, QUARTER_S):
        local = datetime.fromtimestamp(t, UTC).astimezone(zone)
        offset = local.utcoffset() or timedelta(0)
        hour = local.replace(minute=0, second=0, microsecond=0, tzinfo=None)
        starts.add((hour - offset).replace(tzinfo=UTC).timestamp())
    return _around(np.asarray(sorted(starts), dtype=float), lo_s, hi_s)


def day_starts(zone: ZoneInfo, lo: datetime, hi: datetime) -> np.ndarray:
    """Epoch seconds of every local midnight from the day containing `lo` up to the first
    midnight at or after `hi`."""
    day = lo.astimezone(zone).date()
    end = hi.astimezone(zone).date() + timedelta(days=1)
    out = []
    while day <= end:
        out.append(datetime.combine(day, time(0), tzinfo=zone).timestamp())
        day += timedelta(days=1)
    return _around(np.asarray(out, dtype=float), lo.timestamp(), hi.timestamp())


def _around(starts: np.ndarray, lo_s: float, hi_s: float) -> np.ndarray:
    """The starts from the last one <= lo_s through the first one >= hi_s."""
    starts = np.asarray(starts, dtype=float)
    first = max(int(np.searchsorted(starts, lo_s, side="right")) - 1, 0)
    last = min(int(np.searchsorted(starts, hi_s, side="left")), len(starts) - 1)
    return starts[first : last + 1]


def whole_hour_offsets(zone: ZoneInfo, lo: datetime, hi: datetime) -> bool:
    """True when the zone's offset at both ends is a whole number of hours (local hours are
    then UTC hours, and a day is made of UTC hours)."""
    return all(
        (moment.astimezone(zone).utcoffset() or timedelta(0)).total_seconds() % HOUR_S == 0
        for moment in (lo, hi)
    )
