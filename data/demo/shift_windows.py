"""What the calendar asks of one demo machine over time: windows that tile a span, each either
working time (status None: the machine's own rates decide) or a status the calendar imposes.

| calendar                                  | status        | reason                    |
|-------------------------------------------|---------------|---------------------------|
| a plant-wide planned stop (holiday)       | `offline`     | the stop's reason         |
| a planned stop of this machine            | `maintenance` | the stop's reason         |
| no shift (nights, Sunday)                 | `offline`     | `no shift`                |
| a break inside a shift                    | `idle`        | `break`                   |
| shift time                                | None          | (the machine's own rates) |

The first row that applies wins. Shared by the seed (whole histories) and the simulator (one
instant per tick); pure, no database.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from data.calendar.document import PlannedStop
from data.calendar.schedule import Calendar, Occurrence

NO_SHIFT = "no shift"
BREAK = "break"
PLANT_STOP = "planned stop"  # the reason of a plant-wide stop that gives none
MACHINE_STOP = "planned maintenance"  # the same for a stop of one machine


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    status: str | None  # None: working time
    reason: str | None


def stop_reason(stop: PlannedStop) -> str:
    """The status reason a machine shows during `stop`."""
    return stop.reason or (PLANT_STOP if stop.machine_id is None else MACHINE_STOP)


def windows(
    calendar: Calendar, lo: datetime, hi: datetime, machine_id: int | None = None
) -> list[Window]:
    """Windows that tile [lo, hi) for `machine_id` (None: the plant's stops only), adjacent
    windows with the same status and reason merged."""
    occs = calendar.occurrences(lo, hi) if calendar.has_shifts else []
    stops = [
        s
        for s in calendar.document.planned_stops
        if (s.machine_id is None or s.machine_id == machine_id) and s.start < hi and s.end > lo
    ]
    cuts = {lo, hi}
    for occ in occs:
        cuts.update((occ.start, occ.end))
        cuts.update(t for pause in occ.breaks for t in pause)
    for stop in stops:
        cuts.update((stop.start, stop.end))
    starts = [o.start for o in occs]
    out: list[Window] = []
    for a, b in pairwise(sorted(t for t in cuts if lo <= t <= hi)):
        status, reason = _state(calendar.has_shifts, occs, starts, stops, a)
        if out and (out[-1].status, out[-1].reason) == (status, reason):
            out[-1] = Window(out[-1].start, b, status, reason)
        else:
            out.append(Window(a, b, status, reason))
    return out


def state_at(
    calendar: Calendar, at: datetime, machine_id: int | None = None
) -> tuple[str | None, str | None]:
    """(status, reason) the calendar imposes on `machine_id` at `at`; (None, None) in working
    time."""
    window = windows(calendar, at, at + timedelta(seconds=1), machine_id)[0]
    return window.status, window.reason


def _state(
    has_shifts: bool,
    occs: list[Occurrence],
    starts: list[datetime],
    stops: list[PlannedStop],
    at: datetime,
) -> tuple[str | None, str | None]:
    covering = [s for s in stops if s.start <= at < s.end]
    for stop in covering:
        if stop.machine_id is None:
            return "offline", stop_reason(stop)
    if covering:
        return "maintenance", stop_reason(covering[0])
    if not has_shifts:
        return None, None
    i = bisect_right(starts, at) - 1  # shifts never overlap: the latest start is the one
    if i < 0 or occs[i].end <= at:
        return "offline", NO_SHIFT
    if any(a <= at < b for a, b in occs[i].breaks):
        return "idle", BREAK
    return None, None
