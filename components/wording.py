"""How the UI says things to people: words for codes, durations with units, plurals, times
relative to now. Every page and the wall use these, so one thing is said one way."""

from __future__ import annotations

from datetime import UTC, datetime

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
