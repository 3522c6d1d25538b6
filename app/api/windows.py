"""Time windows of the read endpoints: `from`/`to` query arguments (ISO 8601), clipped to now."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from data.calendar.schedule import Calendar
from data.errors import ValidationFailed
from data.read.records import iso
from data.store.sqltypes import UTC_MAX, UTC_MIN, as_utc

MAX_WINDOW = timedelta(days=400)
DEFAULT_SPAN = timedelta(hours=24)


def _times(args: Any) -> dict[str, datetime | None]:
    details: dict[str, str] = {}
    values: dict[str, datetime | None] = {}
    for key in ("from", "to"):
        raw = args.get(key)
        values[key] = None
        # Absent means the default; present but empty is a bad time (the OpenAPI document
        # says date-time, and a generated client never sends an empty one).
        if raw is not None:
            try:
                value = as_utc(datetime.fromisoformat(raw.replace("Z", "+00:00")))
                if not UTC_MIN <= value <= UTC_MAX:
                    raise ValueError(raw)
                values[key] = value
            except (ValueError, OverflowError):
                details[key] = "must be an ISO 8601 date or time, e.g. 2026-01-01T06:00:00Z"
    if details:
        raise ValidationFailed("Invalid time window.", details)
    return values


def _checked(lo: datetime, hi: datetime) -> tuple[datetime, datetime]:
    if lo >= hi:
        raise ValidationFailed("'from' must be before 'to'.", {"from": "must be before 'to'"})
    if hi - lo > MAX_WINDOW:
        raise ValidationFailed("The window may span at most 400 days.")
    return lo, hi


def parse_window(args: Any, now: datetime) -> tuple[datetime, datetime]:
    """`from`/`to` (ISO 8601); default: the 24 hours up to `to` or now."""
    values = _times(args)
    hi = values["to"] or now
    lo = values["from"] or max(UTC_MIN, hi - DEFAULT_SPAN)
    return _checked(lo, hi)


def analytics_window(args: Any, calendar: Calendar, now: datetime) -> tuple[datetime, datetime]:
    """`from`/`to` as CONTRACT §2b reads them: default the current shift (up to now), else the
    last 24 hours; the end is clipped to now (hours that have not happened count nothing)."""
    values = _times(args)
    if values["from"] is None and values["to"] is None:
        shift = calendar.current(now)
        lo = shift.start if shift else now - DEFAULT_SPAN
        return _checked(lo, now)
    hi = values["to"] or now
    lo = values["from"] or max(UTC_MIN, hi - DEFAULT_SPAN)
    _checked(lo, hi)
    if lo >= now:
        raise ValidationFailed(
            "The window starts after now: nothing has happened in it yet.",
            {"from": "must be before now"},
        )
    return lo, min(hi, now)


def window_facts(calendar: Calendar, now: datetime) -> dict[str, Any]:
    """What every analytics answer adds: the plant's zone and the shift running now."""
    shift = calendar.current(now)
    return {
        "timezone": calendar.document.timezone,
        "shift": None
        if shift is None
        else {"name": shift.name, "start": iso(shift.start), "end": iso(shift.end)},
    }
