"""How the UI says things to people: words for codes, durations with units, plurals, times
relative to now and times on the plant's clock (`PlantClock`). Every page and the wall use
these, so one thing is said one way."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

# Codes the API uses, as a person reads them.
_LABELS = {"in_progress": "in progress", "on_hold": "on hold"}


def label(code: str | None) -> str:
    """`in_progress` -> "in progress"; other codes as they are (they are words already)."""
    if not code:
        return "–"
    return _LABELS.get(code, code.replace("_", " "))


def plural(count: int, word: str, many: str | None = None) -> str:
    """`plural(1, "repair")` -> "1 repair"; `plural(3, "repair")` -> "3 repairs"."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def duration(seconds: float | None) -> str:
    """A length of time with units, at most two of them: "45 s", "23 min", "3 h 42 min",
    "2 d 5 h"."""
    if seconds is None:
        return "–"
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} s"
    minutes = total // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """How long ago: "just now", "5 min ago", "3 h 42 min ago"."""
    if when is None:
        return "–"
    now = now or datetime.now(UTC)
    seconds = (now - when).total_seconds()
    return "just now" if seconds < 30 else f"{duration(seconds)} ago"


def instant(text: str | None) -> datetime | None:
    """An ISO 8601 time from the API ("…Z" or with an offset) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def shift_title(name: str) -> str:
    """ "Early" -> "Early shift"; a name that says "shift" already stays as it is."""
    return name if "shift" in name.casefold() else f"{name} shift"


@dataclass(frozen=True)
class PlantClock:
    """Times as people at the plant read them: on the wall clock of its IANA zone, whatever
    zone the server or the browser runs in. A page says the zone once (`note`); the times
    themselves carry no zone. Naive datetimes are taken as UTC (the data layer's)."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    @property
    def name(self) -> str:
        return self.zone.key

    @property
    def note(self) -> str:
        """What a page says once: "Times in America/Chicago"."""
        return f"Times in {self.name}"

    def local(self, when: datetime) -> datetime:
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(self.zone)

    def today(self, now: datetime) -> date:
        """The plant-local day `now` falls on."""
        return self.local(now).date()

    def time(self, when: datetime) -> str:
        """ "14:05"; in the hour a daylight-saving change repeats, with the zone's abbreviation
        ("01:30 CDT", then "01:30 CST"), so the two are told apart."""
        local = self.local(when)
        twin = local.replace(fold=1 - local.fold)
        if twin.utcoffset() != local.utcoffset():
            return f"{local:%H:%M %Z}"
        return f"{local:%H:%M}"

    def stamp(self, when: datetime) -> str:
        """ "2026-03-08 14:05": exact, for tooltips and tables."""
        return f"{self.local(when):%Y-%m-%d %H:%M}"

    def day(self, when: datetime | date) -> str:
        """ "Sun 8 Mar" (a datetime is put on the plant's calendar first)."""
        day = self.local(when) if isinstance(when, datetime) else when
        return f"{day:%a} {day.day} {day:%b}"

    def when(self, when: datetime) -> str:
        """ "Sun 8 Mar 14:05": a moment as a person says it."""
        return f"{self.day(when)} {self.time(when)}"

    def span(self, lo: datetime, hi: datetime) -> str:
        """ "14:00–22:00" (an en dash between the times)."""  # noqa: RUF002
        return f"{self.time(lo)}–{self.time(hi)}"


UTC_CLOCK = PlantClock()
