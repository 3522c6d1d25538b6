"""What the calendar asks of a live demo machine in one tick of the simulator: a status to
set, or nothing (see the rules in data/demo/simulator.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from data.calendar.schedule import Calendar
from data.demo.machine_timeline import SHIFT_START
from data.demo.shift_windows import BREAK, NO_SHIFT, state_at, stop_reason

Move = tuple[str, str | None]  # (status, reason) to set
Asked = tuple[str | None, str | None]  # (status, reason) the calendar imposes; None: shift time


@dataclass(frozen=True, slots=True)
class PlantMachine:
    """A machine as the simulator sees it in one tick."""

    id: int
    name: str
    kind: str
    status: str
    status_since: datetime
    ideal_cycle_time_s: float
    reason: str | None


class CalendarView:
    """A calendar as read at `read_at`, with the reasons that tell which statuses it set."""

    def __init__(self, calendar: Calendar, stamp: tuple[Any, ...] | None, read_at: datetime):
        self.calendar = calendar
        self.stamp = stamp
        self.read_at = read_at
        stops = calendar.document.planned_stops
        # A machine offline for one of these reasons was sent home by the calendar.
        self.off_reasons = {NO_SHIFT} | {stop_reason(s) for s in stops if s.machine_id is None}
        self.machine_stops: dict[int, set[str]] = {}
        for stop in stops:
            if stop.machine_id is not None:
                self.machine_stops.setdefault(stop.machine_id, set()).add(stop_reason(stop))

    def asks(self, now: datetime, machine_ids: list[int]) -> dict[int, Asked]:
        """What the calendar asks of each machine at `now` (shift_windows.state_at)."""
        plant = state_at(self.calendar, now)
        return {
            i: state_at(self.calendar, now, i) if i in self.machine_stops else plant
            for i in machine_ids
        }

    def follow(self, m: PlantMachine, status: str | None, reason: str | None) -> Move | None:
        """The status the calendar's (status, reason) asks of machine `m` now, or None when it
        asks nothing: a down machine is repaired first; in shift time only what the calendar
        had set is undone; a break leaves maintenance and machines set offline by hand alone."""
        if m.status == "down" or (m.status, m.reason) == (status, reason):
            return None
        set_off = m.status == "offline" and m.reason in self.off_reasons
        if status is None:  # shift time
            own_stop = m.status == "maintenance" and m.reason in self.machine_stops.get(m.id, ())
            if set_off or own_stop:
                return "setup", SHIFT_START
            if m.status == "idle" and m.reason == BREAK:
                return "running", None
            return None
        if status == "idle" and not (set_off or m.status in ("running", "setup", "idle")):
            return None
        return status, reason
