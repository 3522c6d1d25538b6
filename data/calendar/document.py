"""The calendar document of GET/PUT /api/v1/calendar, checked field by field.

A shift is {"name", "start": "HH:MM", "end": "HH:MM", "days": ["mon", ...], "breaks"?: [...]}
in plant-local time; `end <= start` crosses midnight and the shift belongs to the day it starts.
A break is {"start", "end"} inside its shift (also local). A planned stop is {"start", "end",
"reason", "machine_id"} with ISO 8601 times (null machine = the whole plant).
"""

from __future__ import annotations

from datetime import datetime, time
from functools import cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from data.store.sqltypes import UTC_MAX, UTC_MIN, as_utc
from data.validation import refuse_nul

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MIN = 24 * 60
WEEK_MIN = 7 * DAY_MIN
MAX_SHIFTS = 50
MAX_STOPS = 5000
MAX_BREAKS = 10


@cache
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name` (ValueError when there is none)."""
    if name not in known_zones():
        raise ValueError(f"{name!r} is not an IANA time zone, e.g. Europe/Berlin or UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - listed but unreadable
        raise ValueError(f"{name!r} is not an IANA time zone") from exc


def parse_clock(value: Any) -> time:
    """'HH:MM' (24 h) as a time; anything else is a ValueError a person can read."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise ValueError("must be a time of day as HH:MM, e.g. 06:00")
    try:
        hour, minute = int(value[:2]), int(value[3:])
    except ValueError:
        raise ValueError("must be a time of day as HH:MM, e.g. 06:00") from None
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError("must be a time of day between 00:00 and 23:59")
    return time(hour, minute)


def minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def span(start: time, end: time) -> tuple[int, int]:
    """(start, end) in minutes after the start day's midnight; end <= start crosses midnight."""
    lo, hi = minutes(start), minutes(end)
    return lo, hi if hi > lo else hi + DAY_MIN


Clock = Annotated[str, Field(description="local time of day, HH:MM (24 h)", examples=["06:00"])]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)


class Break(_Strict):
    start: Clock
    end: Clock

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: Any) -> str:
        return parse_clock(value).strftime("%H:%M")


class Shift(_Strict):
    name: str = Field(min_length=1, max_length=40)
    start: Clock
    end: Clock
    days: list[str] = Field(min_length=1, max_length=7)
    breaks: list[Break] = Field(default_factory=list, max_length=MAX_BREAKS)

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: Any) -> str:
        return parse_clock(value).strftime("%H:%M")

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[Any]) -> list[str]:
        days = [str(d).strip().lower()[:3] for d in value]
        unknown = [str(d) for d, short in zip(value, days, strict=True) if short not in WEEKDAYS]
        if unknown:
            raise ValueError(f"unknown day {unknown[0]!r}; use {', '.join(WEEKDAYS)}")
        if len(set(days)) != len(days):
            raise ValueError("names a day twice")
        return sorted(days, key=WEEKDAYS.index)

    @model_validator(mode="after")
    def _breaks_inside(self) -> Shift:
        lo, hi = self.span()
        for item in self.breaks:
            b_lo, b_hi = self.break_span(item)
            if not (lo <= b_lo < b_hi <= hi):
                raise ValueError(
                    f"the break {item.start}-{item.end} must lie inside the shift "
                    f"{self.start}-{self.end}"
                )
        return self

    def span(self) -> tuple[int, int]:
        """(start, end) in minutes after the midnight of the day the shift starts."""
        return span(parse_clock(self.start), parse_clock(self.end))

    def break_span(self, item: Break) -> tuple[int, int]:
        """A break's (start, end) in minutes after the shift day's midnight."""
        lo, _ = self.span()
        b_lo, b_hi = span(parse_clock(item.start), parse_clock(item.end))
        if b_lo < lo:  # after midnight in a shift that crosses it
            b_lo, b_hi = b_lo + DAY_MIN, b_hi + DAY_MIN
        return b_lo, b_hi


class PlannedStop(_Strict):
    start: datetime
    end: datetime
    reason: str = Field(default="", max_length=200)
    machine_id: int | None = Field(default=None, ge=1, le=2**31 - 1)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        """ISO 8601 text only: a number would be read as a Unix time."""
        if not isinstance(value, str | datetime):
            raise ValueError("must be an ISO 8601 time with an offset, e.g. 2026-12-24T00:00:00Z")
        return value

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a UTC offset, e.g. 2026-12-24T00:00:00+01:00")
        value = as_utc(value)
        if not UTC_MIN <= value <= UTC_MAX:
            raise ValueError("is out of range")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> PlannedStop:
        if self.end <= self.start:
            raise ValueError("a planned stop must end after it starts")
        return self


class CalendarDocument(_Strict):
    timezone: str = "UTC"
    shifts: list[Shift] = Field(default_factory=list, max_length=MAX_SHIFTS)
    planned_stops: list[PlannedStop] = Field(default_factory=list, max_length=MAX_STOPS)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("shifts")
    @classmethod
    def _no_overlap(cls, shifts: list[Shift]) -> list[Shift]:
        clash = overlapping_shifts(shifts)
        if clash:
            raise ValueError(clash)
        names = [s.name for s in shifts]
        if len(set(names)) != len(names):
            raise ValueError("two shifts have the same name")
        return shifts


def overlapping_shifts(shifts: list[Shift]) -> str | None:
    """A sentence naming two shifts that overlap in the week (night shifts wrap into the next
    day, Sunday's into Monday), or None."""
    spans: list[tuple[int, int, str, str]] = []
    for shift in shifts:
        lo, hi = shift.span()
        for day in shift.days:
            base = WEEKDAYS.index(day) * DAY_MIN
            spans.append((base + lo, base + hi, shift.name, day))
    for i, (a_lo, a_hi, a_name, a_day) in enumerate(spans):
        for b_lo, b_hi, b_name, b_day in spans[i + 1 :]:
            for shift_by in (-WEEK_MIN, 0, WEEK_MIN):
                if a_lo < b_hi + shift_by and b_lo + shift_by < a_hi:
                    return f"the shifts {a_name!r} ({a_day}) and {b_name!r} ({b_day}) overlap"
    return None
