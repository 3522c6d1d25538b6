"""The time window a page's range selector stands for, on the plant's calendar: the current
shift (the default when the calendar has shifts), today since plant-local midnight, or the
last 8 h to 30 days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from dash import html

from components.pages import RANGE_HOURS, SHIFT, TODAY, range_text
from components.plant_head import shift_badge, time_parts
from components.wording import PlantClock, shift_title
from data.calendar.schedule import Calendar, Occurrence
from data.read.calendar_queries import load_calendar
from data.store.db import Database
from data.store.sqltypes import as_utc, utcnow

# How far back "the last shift" is looked for when none is running (a long weekend fits).
LOOK_BACK = timedelta(days=8)
ONE_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class ShiftView:
    """The shift a page shows: the one running now, else the last one that ended."""

    occurrence: Occurrence
    running: bool
    progress: float  # the share of the shift gone by, 0..1

    @property
    def title(self) -> str:
        return shift_title(self.occurrence.name)


@dataclass(frozen=True)
class Window:
    """[lo, hi) in UTC, how a chart title says it ("last 24 h", "today", "Early shift"), and
    the shift it is (None unless the window is a shift)."""

    lo: datetime
    hi: datetime
    phrase: str
    shift: ShiftView | None = None


def plant_calendar(db: Database) -> Calendar:
    """The plant's calendar as stored (its zone, shifts and planned stops)."""
    with db.read() as session:
        return load_calendar(session)


def clock_of(calendar: Calendar) -> PlantClock:
    return PlantClock(calendar.zone)


def default_range(calendar: Calendar) -> str:
    """The window a page opens on: the current shift when there are shifts, else 24 h."""
    return SHIFT if calendar.has_shifts else "24h"


def shift_now(calendar: Calendar, now: datetime) -> ShiftView | None:
    """The shift running at `now`, else the last one that ended (None without shifts)."""
    occ = calendar.current(now)
    if occ is not None:
        length = (occ.end - occ.start).total_seconds()
        gone = (now - occ.start).total_seconds()
        return ShiftView(occ, True, min(1.0, max(0.0, gone / length)) if length > 0 else 0.0)
    if not calendar.has_shifts:
        return None
    ended = [o for o in calendar.occurrences(now - LOOK_BACK, now) if o.end <= now]
    return ShiftView(ended[-1], False, 1.0) if ended else None


def next_shift(calendar: Calendar, now: datetime) -> Occurrence | None:
    """The next shift to start after `now`, within a week and a day."""
    return next((o for o in calendar.occurrences(now, now + LOOK_BACK) if o.start > now), None)


def today(calendar: Calendar, now: datetime) -> tuple[datetime, datetime]:
    """[plant-local midnight, now); never empty, even at midnight on the dot (a day with a
    daylight-saving change is 23 or 25 hours long: its midnight comes from the zone)."""
    hi = as_utc(now)
    lo = calendar.at(calendar.local(hi).date(), time(0))
    return lo, max(hi, lo + ONE_SECOND)


def window(
    range_value: str | None, now: datetime | None = None, calendar: Calendar | None = None
) -> Window:
    """The window `range_value` stands for at `now`: a shift up to now (the last shift when
    none is running; today when there is none), today, or the last N hours (unknown: 24 h)."""
    hi = as_utc(now or utcnow())
    calendar = calendar or Calendar()
    if range_value == SHIFT:
        shift = shift_now(calendar, hi)
        if shift is not None:
            occ = shift.occurrence
            end = min(hi, occ.end)
            day = clock_of(calendar).day(occ.day)
            phrase = shift.title if shift.running else f"{shift.title}, {day}"
            return Window(occ.start, max(end, occ.start + ONE_SECOND), phrase, shift)
        range_value = TODAY
    if range_value == TODAY:
        return Window(*today(calendar, hi), "today")
    hours = RANGE_HOURS.get(range_value or "24h", 24)
    return Window(hi - timedelta(hours=hours), hi, f"last {range_text(range_value)}")


def shift_head(calendar: Calendar, now: datetime, with_next: bool = True) -> html.Div | None:
    """The shift badge of a page head (None when the plant has no shifts); between shifts it
    names the next one too, unless `with_next` is False (the wall's head has no room)."""
    shift = shift_now(calendar, now)
    if shift is None:
        return None
    occ = shift.occurrence
    upcoming = None
    if not shift.running and with_next:
        nxt = next_shift(calendar, now)
        upcoming = (nxt.name, nxt.start) if nxt is not None else None
    progress = shift.progress if shift.running else None
    return shift_badge(occ.name, occ.start, occ.end, progress, clock_of(calendar), upcoming)


def head_parts(calendar: Calendar, now: datetime) -> list[Any]:
    """The children of a page head's time line: the shift badge and the zone note."""
    return time_parts(clock_of(calendar), shift_head(calendar, now))
