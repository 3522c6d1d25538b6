"""Which instants are planned production time, from a calendar: shift occurrences in UTC
(daylight-saving days have 23 or 25 hours), minus breaks and planned stops, clipped to a window
and to a machine's life. Everything here is pure: no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from data.calendar import intervals as iv
from data.calendar.document import WEEKDAYS, CalendarDocument, Shift, parse_clock, zone


@dataclass(frozen=True)
class Occurrence:
    """One shift on one plant-local day: its UTC bounds, and its breaks in UTC."""

    name: str
    day: date
    start: datetime
    end: datetime
    breaks: tuple[tuple[datetime, datetime], ...] = ()

    @property
    def planned_s(self) -> float:
        worked = (self.end - self.start).total_seconds()
        return worked - sum((b - a).total_seconds() for a, b in self.breaks)


@dataclass(frozen=True)
class Calendar:
    """A checked calendar document, ready for arithmetic."""

    document: CalendarDocument = field(default_factory=CalendarDocument)

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.document.timezone)

    @property
    def has_shifts(self) -> bool:
        return bool(self.document.shifts)

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone)

    def at(self, day: date, clock: time) -> datetime:
        """The UTC instant of plant-local `clock` on `day` (a time skipped by a daylight-saving
        change counts with the offset before it, as zoneinfo does)."""
        return datetime.combine(day, clock, tzinfo=self.zone).astimezone(UTC)

    def occurrences(self, lo: datetime, hi: datetime) -> list[Occurrence]:
        """Every shift occurrence that overlaps [lo, hi), in time order."""
        first = self.local(lo).date() - timedelta(days=1)
        last = self.local(hi).date()
        found: list[Occurrence] = []
        day = first
        while day <= last:
            weekday = WEEKDAYS[day.weekday()]
            for shift in self.document.shifts:
                if weekday in shift.days:
                    occ = self._occurrence(shift, day)
                    if occ.start < hi and occ.end > lo:
                        found.append(occ)
            day += timedelta(days=1)
        return sorted(found, key=lambda o: o.start)

    def _occurrence(self, shift: Shift, day: date) -> Occurrence:
        lo, hi = shift.span()
        breaks = tuple(
            (self._at_minute(day, b_lo), self._at_minute(day, b_hi))
            for b_lo, b_hi in (shift.break_span(b) for b in shift.breaks)
        )
        return Occurrence(
            shift.name, day, self._at_minute(day, lo), self._at_minute(day, hi), breaks
        )

    def _at_minute(self, day: date, minute: int) -> datetime:
        """The UTC instant `minute` minutes of wall clock after `day`'s local midnight (1440 is
        the next day's midnight)."""
        days, rest = divmod(minute, 24 * 60)
        return self.at(day + timedelta(days=days), time(rest // 60, rest % 60))

    def current(self, now: datetime) -> Occurrence | None:
        """The shift occurrence `now` falls in, or None."""
        for occ in self.occurrences(now, now + timedelta(seconds=1)):
            if occ.start <= now < occ.end:
                return occ
        return None

    def shift_clock(self, name: str) -> tuple[time, time] | None:
        for shift in self.document.shifts:
            if shift.name == name:
                return parse_clock(shift.start), parse_clock(shift.end)
        return None

    def planned(self, lo: datetime, hi: datetime, machine_id: int | None = None) -> iv.Intervals:
        """Planned production time in [lo, hi) as epoch-second intervals: shift time minus
        breaks (every instant when there is no shift), minus the plant's planned stops and,
        with `machine_id`, that machine's."""
        lo_s, hi_s = lo.timestamp(), hi.timestamp()
        if self.has_shifts:
            occs = self.occurrences(lo, hi)
            spans = iv.normalise((o.start.timestamp(), o.end.timestamp()) for o in occs)
            pauses = iv.normalise((a.timestamp(), b.timestamp()) for o in occs for a, b in o.breaks)
            spans = iv.subtract(spans, pauses)
        else:
            spans = iv.normalise([(lo_s, hi_s)])
        stops = iv.normalise(
            (s.start.timestamp(), s.end.timestamp())
            for s in self.document.planned_stops
            if s.machine_id is None or s.machine_id == machine_id
        )
        return iv.clip(iv.subtract(spans, stops), lo_s, hi_s)

    def machine_stop_ids(self) -> set[int]:
        """Machines with planned stops of their own."""
        return {s.machine_id for s in self.document.planned_stops if s.machine_id is not None}
