"""One demo machine's status history: periods that tile a time span, shaped by shifts
(06:00-22:00 UTC, night shifts on most nights), jobs and changeovers, breakdowns at random
running times, and planned maintenance every 10-20 days."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from data.demo.plant_catalog import BREAKDOWNS, IDLE_REASONS, PM_TASKS, Breakdown, Kind

HOUR = timedelta(hours=1)


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
    rng: random.Random, kind: Kind, start: datetime, now: datetime
) -> list[Segment]:
    """Status periods of one machine that tile [start, now); the last one is open."""
    segs: list[Segment] = []
    night_runs = {  # a night shift runs on most nights; the rest are offline
        start.date() + timedelta(days=d)
        for d in range(-1, (now - start).days + 2)
        if rng.random() < 0.6
    }
    t = start
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
        working, boundary = _window(t, night_runs)
        prev = segs[-1].status if segs else None
        if not working:
            add("offline", "no shift", boundary)
        elif prev in (None, "offline") and t >= next_pm and boundary - t >= 2 * HOUR:
            task = f"planned maintenance: {rng.choice(PM_TASKS)}"
            add("maintenance", task, min(t + minutes(rng, 60, 240), boundary))
            next_pm = t + timedelta(days=rng.uniform(10, 20))
        elif prev in (None, "offline"):
            add("idle", "shift start", min(t + minutes(rng, 5, 20), boundary))
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


def _window(t: datetime, night_runs: set[date]) -> tuple[bool, datetime]:
    """Whether `t` is in working time (06:00-22:00 UTC, or a night shift) and when that ends."""
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    if day + timedelta(hours=6) <= t < day + timedelta(hours=22):
        return True, day + timedelta(hours=22)
    if t.hour >= 22:
        return day.date() in night_runs, day + timedelta(hours=30)
    return (day - timedelta(days=1)).date() in night_runs, day + timedelta(hours=6)
