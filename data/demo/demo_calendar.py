"""The demo plant's calendar, stored by the seed in the plant's time zone (plant-local times):

| shift    | days    | time        | break       | planned time |
|----------|---------|-------------|-------------|--------------|
| Early    | Mon-Fri | 06:00-14:00 | 10:00-10:30 | 7.5 h        |
| Late     | Mon-Fri | 14:00-22:00 | 18:00-18:30 | 7.5 h        |
| Saturday | Sat     | 06:00-12:00 | none        | 6 h          |

Sunday and the nights are off: 81 planned hours a week. Two planned stops: the plant is closed
all of the next 25 December (plant-local day), and one machine had planned maintenance
(MAINTENANCE_REASON) for MAINTENANCE_HOURS in its Early shift of the last weekday of the seeded
history before the day the seed runs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from data.calendar.document import Break, CalendarDocument, PlannedStop, Shift, zone

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
DEMO_SHIFTS: tuple[Shift, ...] = (
    Shift(name="Early", start="06:00", end="14:00", days=WEEKDAYS,
          breaks=[Break(start="10:00", end="10:30")]),
    Shift(name="Late", start="14:00", end="22:00", days=WEEKDAYS,
          breaks=[Break(start="18:00", end="18:30")]),
    Shift(name="Saturday", start="06:00", end="12:00", days=["sat"]),
)  # fmt: skip
HOLIDAY_REASON = "Christmas Day"
MAINTENANCE_REASON = "planned maintenance: annual inspection"
MAINTENANCE_START = time(7, 0)  # plant-local, inside the Early shift
MAINTENANCE_HOURS = 4


def demo_calendar(
    timezone: str, start: datetime, now: datetime, maintained_machine_id: int | None = None
) -> CalendarDocument:
    """The demo calendar for a history of [start, now) in `timezone` (ValueError for an unknown
    zone); the maintenance stop only with the id of the machine it is for."""
    tz = zone(timezone)
    closed_from, closed_to = holiday(tz, now)
    stops = [PlannedStop(start=closed_from, end=closed_to, reason=HOLIDAY_REASON)]
    if maintained_machine_id is not None:
        lo, hi = maintenance_span(timezone, start, now)
        stops.append(
            PlannedStop(start=lo, end=hi, reason=MAINTENANCE_REASON,
                        machine_id=maintained_machine_id)
        )  # fmt: skip
    return CalendarDocument(timezone=timezone, shifts=list(DEMO_SHIFTS), planned_stops=stops)


def holiday(tz: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """The whole plant-local 25 December that has not ended yet at `now`, in UTC."""
    local = now.astimezone(tz)
    year = local.year if local.date() <= date(local.year, 12, 25) else local.year + 1
    day = date(year, 12, 25)
    return _utc(day, time(0), tz), _utc(day + timedelta(days=1), time(0), tz)


def maintenance_span(timezone: str, start: datetime, now: datetime) -> tuple[datetime, datetime]:
    """MAINTENANCE_HOURS from MAINTENANCE_START on the last weekday (Mon-Fri) before today
    that lies in [start, now); a history too short for one gets them at its start."""
    tz = zone(timezone)
    length = timedelta(hours=MAINTENANCE_HOURS)
    day = now.astimezone(tz).date() - timedelta(days=1)
    while (lo := _utc(day, MAINTENANCE_START, tz)) >= start:
        if day.weekday() < 5 and lo + length <= now:
            return lo, lo + length
        day -= timedelta(days=1)
    return start, start + min(length, (now - start) / 2)


def _utc(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)
