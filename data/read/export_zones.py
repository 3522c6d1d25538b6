"""The offsets of a time zone over a span of time, for the SQL that writes the export's local
times (data/read/export_lines.py): each change found to the second with zoneinfo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

STORED = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy keeps a DateTime in SQLite


def iso_offset(seconds: int) -> str:
    """The offset as `isoformat` writes it: +HH:MM, or +HH:MM:SS when it has seconds."""
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _offset_at(zone: ZoneInfo, moment: datetime) -> int:
    offset = moment.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _first_change(zone: ZoneInfo, lo: datetime, hi: datetime) -> datetime:
    """The first second in (lo, hi] whose offset differs from lo's (one exists)."""
    start = _offset_at(zone, lo)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if mid <= lo:
            mid = lo + timedelta(seconds=1)
        if _offset_at(zone, mid) == start:
            lo = mid
        else:
            hi = mid
    return hi


@lru_cache(maxsize=64)
def offset_spans(zone_key: str, first: datetime, last: datetime) -> tuple[tuple[str, int], ...]:
    """(start as stored text, offset seconds) of each span of one offset from `first` to
    `last` (naive UTC), oldest first; the first span starts at `first`."""
    zone = ZoneInfo(zone_key)
    lo = first.replace(tzinfo=UTC)
    end = last.replace(tzinfo=UTC)
    spans = [(lo, _offset_at(zone, lo))]
    step = timedelta(hours=6)  # no zone changes its offset twice within 6 hours
    while lo < end:
        hi = min(lo + step, end)
        if _offset_at(zone, hi) != spans[-1][1]:
            change = _first_change(zone, lo, hi)
            spans.append((change, _offset_at(zone, change)))
            lo = change
        else:
            lo = hi
    return tuple((s.replace(tzinfo=None).strftime(STORED), off) for s, off in spans)
