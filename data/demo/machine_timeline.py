"""One demo machine's status history: periods that tile a time span, shaped by the plant's
calendar (data/demo/shift_windows.py: `offline` outside shifts and on holidays, `idle` in
breaks, `maintenance` in the machine's own planned stops) and, in shift time, by jobs and
changeovers, short stops, breakdowns at random running times and routine maintenance.

In shift time (the simulator's rates, data/demo/simulator.py, are set to match):

- a shift that follows time off starts with a warm-up (`setup`, "shift start", 5-15 min);
  after a break the machine runs again at once;
- a job is 1-8 h of running by machine kind (plant_catalog.KINDS), in runs of 20-120 min; a
  run is followed by a short stop (`idle`, 3-30 min, 35 % of runs, reasons in
  plant_catalog.IDLE_REASONS) or the next run; a finished job by a changeover (`setup`,
  5-75 min by kind);
- a breakdown comes after an exponential running time with a mean of 40-120 h (per machine);
  the machine is `down` for the repair (10-300 min by breakdown, plant_catalog.BREAKDOWNS),
  which may go on past the shift's end, then `idle` ("repaired", 3-15 min);
- every 10-20 days a shift starts with 1-4 h of `maintenance` (not a planned stop: it counts
  against availability).

Nothing runs outside planned time: no overtime.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from data.demo.plant_catalog import BREAKDOWNS, IDLE_REASONS, PM_TASKS, Breakdown, Kind
from data.demo.shift_windows import Window

HOUR = timedelta(hours=1)
SHIFT_START = "shift start"


@dataclass(slots=True)
class Segment:
    status: str
    reason: str | None
    start: datetime
    end: datetime | None
    breakdown: Breakdown | None = None


def secs(seconds: float) -> timedelta:
    return timedelta(seconds=round(seconds))


def minutes(rng: random.Random, lo: float, hi: float) -> timedelta:
    return secs(rng.uniform(lo, hi) * 60)


def status_timeline(
    rng: random.Random, kind: Kind, start: datetime, now: datetime, plan: Sequence[Window]
) -> list[Segment]:
    """Status periods of one machine that tile [start, now), following `plan` (windows that
    tile the same span); the last period is open."""
    segs: list[Segment] = []
    t = start
    at = 0  # the window of `plan` that holds t
    cold = True  # the machine starts after time off: warm-up first
    job_left = round(rng.uniform(*kind.job_h) * 3600 * rng.random())  # running seconds
    mtbf_s = rng.uniform(40, 120) * 3600  # running time between breakdowns
    to_failure = round(rng.expovariate(1 / mtbf_s))
    next_pm = start + timedelta(days=rng.uniform(0, 20))
    breakdowns = [b for b in BREAKDOWNS if kind.kind in b.kinds]
    weights = [b.weight for b in breakdowns]

    def add(status: str, reason: str | None, end: datetime, bd: Breakdown | None = None) -> None:
        nonlocal t
        end = min(end, now)
        if end <= t:
            return
        prev = segs[-1] if segs else None
        if (
            prev
            and not bd
            and not prev.breakdown
            and (prev.status, prev.reason) == (status, reason)
        ):
            prev.end = end
        else:
            segs.append(Segment(status, reason, t, end, bd))
        t = end

    while t < now:
        while plan[at].end <= t:  # a breakdown may have run past several windows
            at += 1
        window = plan[at]
        boundary = window.end
        prev = segs[-1].status if segs else None
        if window.status is not None:  # the calendar decides
            add(window.status, window.reason, boundary)
            cold = window.status != "idle"  # time off, not a break
        elif cold and t >= next_pm and boundary - t >= 2 * HOUR:
            task = f"planned maintenance: {rng.choice(PM_TASKS)}"
            add("maintenance", task, min(t + minutes(rng, 60, 240), boundary))
            next_pm = t + timedelta(days=rng.uniform(10, 20))
            cold = False
        elif cold:
            add("setup", SHIFT_START, min(t + minutes(rng, 5, 15), boundary))
            cold = False
        elif prev == "down":
            add("idle", "repaired", min(t + minutes(rng, 3, 15), boundary))
        elif job_left < 60:  # job done (a last minute is not worth a run of its own)
            add("setup", "changeover", min(t + minutes(rng, *kind.setup_min), boundary))
            job_left = round(rng.uniform(*kind.job_h) * 3600)
        elif prev == "running" and rng.random() < 0.35:
            add("idle", rng.choice(IDLE_REASONS), min(t + minutes(rng, 3, 30), boundary))
        else:
            run_end = min(t + minutes(rng, 20, 120), t + secs(job_left), boundary)
            ran = round((run_end - t).total_seconds())
            if ran < to_failure:
                to_failure, job_left = to_failure - ran, job_left - ran
                add("running", None, run_end)
                continue
            job_left -= to_failure
            add("running", None, t + secs(to_failure))
            to_failure = round(rng.expovariate(1 / mtbf_s))
            bd = rng.choices(breakdowns, weights)[0]
            add("down", bd.reason, t + minutes(rng, *bd.minutes), bd)
    segs[-1].end = None
    return segs
