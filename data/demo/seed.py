"""A plausible demo plant with history: machines, status periods, hourly production, tickets.

History goes straight into the tables with bulk inserts and records no events: it is the
past, not live news. It is all ONE transaction, so a seed that fails half-way leaves an empty
database that can be seeded again, never a half plant that startup would take as seeded.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from data.demo.plant_catalog import (
    BREAKDOWNS,
    IDLE_REASONS,
    KINDS,
    MINOR_ISSUES,
    OPERATORS,
    PM_TASKS,
    PRIORITIES,
    SHIFT_LEADS,
    TECHNICIANS,
    Breakdown,
    Kind,
)
from data.store.db import Database
from data.store.models import Machine, ProductionCount, StatusPeriod, Ticket, TicketHistory
from data.store.sqltypes import as_utc, utcnow

CHUNK = 10_000  # rows per INSERT batch
HOUR = timedelta(hours=1)
Rows = tuple[dict[str, Any], list[dict[str, Any]]]  # a ticket row and its history rows


@dataclass(slots=True)
class _Seg:
    status: str
    reason: str | None
    start: datetime
    end: datetime | None
    breakdown: Breakdown | None = None


def is_empty(db: Database) -> bool:
    """True when the database has no machines yet."""
    with db.read() as session:
        return _empty(session)


def seed_plant(
    db: Database,
    machines: int = 24,
    days: int = 30,
    *,
    now: datetime | None = None,
    rng_seed: int = 7,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Write `machines` machines with `days` days of history up to `now` (default: the current
    time) and return the row counts. `progress(done, total)` is called per machine.

    Raises ValueError for sizes out of range and for a database that already has machines.
    """
    _check_size("machines", machines, 1, 500)
    _check_size("days", days, 1, 3650)
    now = as_utc(now) if now is not None else utcnow().replace(microsecond=0)
    start = now - timedelta(days=days)
    rng = random.Random(rng_seed)
    # Machines guaranteed a recent unfinished ticket, so the dashboard has open work to show.
    forced_open = set(rng.sample(range(machines), min(machines, max(3, machines // 6))))
    counts = {"machines": 0, "status_periods": 0, "production_counts": 0, "tickets": 0}
    with db.write() as session:
        if not _empty(session):
            raise ValueError(
                "database already has machines; seeding only fills an empty database "
                "(use a new database file or URL)"
            )
        out = _Buffer(session, counts)
        for i in range(machines):
            kind = KINDS[i % len(KINDS)]
            segs = _timeline(rng, kind, start, now)
            machine = Machine(
                name=f"{kind.prefix}-{i // len(KINDS) + 1:02d}",
                area=kind.area,
                kind=kind.kind,
                ideal_cycle_time_s=round(rng.uniform(*kind.cycle_s) * 2) / 2,
                status=segs[-1].status,
                status_since=segs[-1].start,
                created_at=start,
            )
            session.add(machine)
            session.flush()
            counts["machines"] += 1
            out.add_machine(rng, machine, segs, start, now, i in forced_open)
            if out.size() >= CHUNK:
                out.flush()
            if progress is not None:
                progress(i + 1, machines)
        out.flush()
    return counts


def _check_size(name: str, value: Any, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}")


def _empty(session: Session) -> bool:
    return session.scalar(select(Machine.id).limit(1)) is None


def _secs(seconds: float) -> timedelta:
    return timedelta(seconds=round(seconds))


def _minutes(rng: random.Random, lo: float, hi: float) -> timedelta:
    return _secs(rng.uniform(lo, hi) * 60)


def _timeline(rng: random.Random, kind: Kind, start: datetime, now: datetime) -> list[_Seg]:
    """Status periods of one machine that tile [start, now); the last one is open."""
    segs: list[_Seg] = []
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
            segs.append(_Seg(status, reason, t, end, bd))
        t = end

    while t < now:
        working, boundary = _window(t, night_runs)
        prev = segs[-1].status if segs else None
        if not working:
            add("offline", "no shift", boundary)
        elif prev in (None, "offline") and t >= next_pm and boundary - t >= 2 * HOUR:
            task = f"planned maintenance: {rng.choice(PM_TASKS)}"
            add("maintenance", task, min(t + _minutes(rng, 60, 240), boundary))
            next_pm = t + timedelta(days=rng.uniform(10, 20))
        elif prev in (None, "offline"):
            add("idle", "shift start", min(t + _minutes(rng, 5, 20), boundary))
        elif prev == "down":
            add("idle", "repaired", min(t + _minutes(rng, 3, 15), boundary))
        elif job_left < 60:  # job done (a last minute is not worth a run of its own)
            add("setup", "changeover", min(t + _minutes(rng, *kind.setup_min), boundary))
            job_left = round(rng.uniform(*kind.job_h) * 3600)
        elif prev == "running" and rng.random() < 0.35:
            add("idle", rng.choice(IDLE_REASONS), min(t + _minutes(rng, 3, 30), boundary))
        else:
            run_end = min(t + _minutes(rng, 20, 120), t + _secs(job_left), boundary)
            ran = round((run_end - t).total_seconds())
            if ran < to_failure:
                to_failure, job_left = to_failure - ran, job_left - ran
                add("running", None, run_end)
                continue
            job_left -= to_failure
            add("running", None, t + _secs(to_failure))
            to_failure = round(rng.expovariate(1 / mtbf_s))
            bd = rng.choices(breakdowns, weights)[0]
            add("down", bd.reason, t + _minutes(rng, *bd.minutes), bd)
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


class _Buffer:
    """Rows waiting for a bulk insert; tickets refer to their down period by buffer index."""

    def __init__(self, session: Session, counts: dict[str, int]) -> None:
        self.session = session
        self.counts = counts
        self.periods: list[dict[str, Any]] = []
        self.production: list[dict[str, Any]] = []
        self.tickets: list[tuple[dict[str, Any], int | None, list[dict[str, Any]]]] = []

    def size(self) -> int:
        return len(self.periods) + len(self.production) + 5 * len(self.tickets)

    def add_machine(
        self, rng: random.Random, machine: Machine, segs: list[_Seg], start: datetime,
        now: datetime, force_open: bool,
    ) -> None:  # fmt: skip
        mid, name = machine.id, machine.name
        running: dict[datetime, float] = {}  # hour -> running seconds in it
        for seg in segs:
            self.periods.append(dict(machine_id=mid, status=seg.status, reason=seg.reason,
                                     started_at=seg.start, ended_at=seg.end))  # fmt: skip
            if seg.breakdown is not None:
                ticket, trail = _breakdown_ticket(rng, name, seg, now)
                self.tickets.append((ticket | {"machine_id": mid}, len(self.periods) - 1, trail))
            if seg.status == "running":
                _spread_over_hours(running, seg.start, seg.end or now)
        base_perf = rng.uniform(0.8, 0.95)
        for hour, seconds in sorted(running.items()):
            perf = min(0.98, max(0.75, rng.gauss(base_perf, 0.04)))
            total = _round_random(rng, seconds / machine.ideal_cycle_time_s * perf)
            if total > 0:
                scrap = _round_random(rng, total * rng.uniform(0.005, 0.04))
                self.production.append(dict(machine_id=mid, ts=max(hour, start),
                                            good=total - scrap, scrap=scrap))  # fmt: skip
        span_s = (now - start).total_seconds()
        created = [(start + _secs(rng.uniform(0, span_s)), False)
                   for _ in range(_round_random(rng, span_s / (12 * 86400)))]  # fmt: skip
        if force_open:
            created.append((now - _secs(rng.uniform(1, 30) * 3600), True))
        for at, forced in sorted(created):
            if not 6 <= at.hour < 22:  # operators report defects during the shifts
                at -= timedelta(hours=8)
            at = max(at, start)
            recent = forced or at > now - 36 * HOUR
            ticket, trail = _minor_ticket(rng, name, at, now, recent)
            self.tickets.append((ticket | {"machine_id": mid}, None, trail))

    def flush(self) -> None:
        """Insert the buffered rows. Core inserts: the ORM's bulk path with RETURNING was
        measured 12-19x slower (SQLite and PostgreSQL, 10k rows)."""
        period_ids = self._insert(StatusPeriod, self.periods, returning=True)
        tickets = [t | {"down_period_id": None if i is None else period_ids[i]}
                   for t, i, _ in self.tickets]  # fmt: skip
        ticket_ids = self._insert(Ticket, tickets, returning=True)
        history = [h | {"ticket_id": tid}
                   for tid, (_, _, trail) in zip(ticket_ids, self.tickets, strict=True)
                   for h in trail]  # fmt: skip
        self._insert(TicketHistory, history)
        self._insert(ProductionCount, self.production)
        self.counts["status_periods"] += len(self.periods)
        self.counts["production_counts"] += len(self.production)
        self.counts["tickets"] += len(tickets)
        self.periods, self.production, self.tickets = [], [], []

    def _insert(self, model: Any, rows: list[dict[str, Any]], returning: bool = False) -> list[int]:
        """Insert in chunks; with `returning`, the new ids in the order of `rows`."""
        table = model.__table__
        stmt = insert(table)
        if returning:
            stmt = stmt.returning(table.c.id, sort_by_parameter_order=True)
        conn = self.session.connection()
        ids: list[int] = []
        for i in range(0, len(rows), CHUNK):
            result = conn.execute(stmt, rows[i : i + CHUNK])
            if returning:
                ids += result.scalars().all()
        return ids


def _spread_over_hours(acc: dict[datetime, float], lo: datetime, hi: datetime) -> None:
    while lo < hi:
        hour = lo.replace(minute=0, second=0, microsecond=0)
        step = min(hi, hour + HOUR)
        acc[hour] = acc.get(hour, 0.0) + (step - lo).total_seconds()
        lo = step


def _round_random(rng: random.Random, x: float) -> int:
    """Round up with probability equal to the fraction, so sums stay unbiased."""
    whole = int(x)
    return whole + (rng.random() < x - whole)


def _shift_priority(rng: random.Random, base: str) -> str:
    i = PRIORITIES.index(base) + rng.choices((-1, 0, 1), (0.15, 0.75, 0.1))[0]
    return PRIORITIES[min(len(PRIORITIES) - 1, max(0, i))]


def _history(field: str, old: str | None, new: str, by: str, at: datetime) -> dict[str, Any]:
    return dict(field=field, from_value=old, to_value=new, changed_by=by, changed_at=at)


def _ticket(
    title: str, description: str, priority: str, reporter: str, tech: str,
    moves: list[tuple[str, datetime, str]],
) -> Rows:  # fmt: skip
    """A ticket row and its history, from `moves` = [(new status, when, by)] after "open"."""
    created = moves[0][1]
    trail = [_history("status", None, "open", reporter, created)]
    row: dict[str, Any] = dict(
        title=title, description=description, priority=priority, status="open", assignee=None,
        reported_by=reporter, created_at=created, updated_at=created, first_response_at=None,
        resolved_at=None, closed_at=None,
    )  # fmt: skip
    for new, at, by in moves[1:]:
        if row["first_response_at"] is None:
            row["first_response_at"] = at
        if new == "in_progress" and row["assignee"] is None:
            trail.append(_history("assignee", None, tech, by, at))
            row["assignee"] = tech
        trail.append(_history("status", row["status"], new, by, at))
        row.update(status=new, updated_at=at)
        if new in ("resolved", "closed"):
            row[f"{new}_at"] = at
    return row, trail


def _breakdown_ticket(rng: random.Random, machine: str, seg: _Seg, now: datetime) -> Rows:
    """The ticket an operator opens when the machine breaks down; repaired = resolved."""
    bd = seg.breakdown
    assert bd is not None
    reporter, tech, lead = rng.choice(OPERATORS), rng.choice(TECHNICIANS), rng.choice(SHIFT_LEADS)
    respond = seg.start + _minutes(rng, 5, 40)
    if seg.end is not None:
        respond = min(respond, seg.start + _secs((seg.end - seg.start).total_seconds() / 2))
    moves = [("open", seg.start, reporter)]
    if respond <= now:
        moves.append(("in_progress", respond, tech))
    if seg.end is not None:
        moves.append(("resolved", seg.end, tech))
        closed = seg.end + _minutes(rng, 60, 600)
        if closed <= now:
            moves.append(("closed", closed, lead))
    description = f"{rng.choice(bd.descriptions)} Stopped at {seg.start:%H:%M} UTC."
    priority = _shift_priority(rng, bd.priority)
    return _ticket(f"{bd.title} on {machine}", description, priority, reporter, tech, moves)


def _minor_ticket(
    rng: random.Random, machine: str, created: datetime, now: datetime, recent: bool
) -> Rows:
    """A defect found while running; recent ones are still open, in progress or on hold."""
    title, description, priority = rng.choice(MINOR_ISSUES)
    reporter, tech, lead = rng.choice(OPERATORS), rng.choice(TECHNICIANS), rng.choice(SHIFT_LEADS)
    paths = (
        ["in_progress", "resolved", "closed"],
        ["in_progress", "on_hold", "in_progress", "resolved", "closed"],
        ["cancelled"],
    )
    path = rng.choices(paths, (0.75, 0.2, 0.05))[0]
    gap_h = 24.0
    if recent:  # stop early in the workflow, with steps that fit before now
        path = rng.choice((["in_progress", "on_hold"], ["in_progress"], []))
        gap_h = max(0.1, (now - created).total_seconds() / 3600 / 3)
    moves = [("open", created, reporter)]
    at = created
    for new in path:
        at += _secs(rng.uniform(0.05, 1) * gap_h * 3600)
        if at > now:
            break
        moves.append((new, at, lead if new in ("closed", "cancelled") else tech))
    return _ticket(f"{title} on {machine}", description, _shift_priority(rng, priority),
                   reporter, tech, moves)  # fmt: skip
