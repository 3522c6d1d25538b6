"""The seed's rows for one machine after another (status periods, hourly production while it
runs, tickets with history: minor defects are reported in shift time), written in bulk Core
inserts of CHUNK rows."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from data.demo.machine_timeline import HOUR, Segment, secs
from data.demo.seed_tickets import breakdown_ticket, minor_ticket
from data.demo.shift_windows import Window
from data.store.models import Machine, ProductionCount, StatusPeriod, Ticket, TicketHistory

CHUNK = 10_000  # rows per INSERT batch


class RowBuffer:
    """Rows waiting for a bulk insert; tickets refer to their down period by buffer index."""

    def __init__(self, session: Session, counts: dict[str, int], zone: tzinfo = UTC) -> None:
        self.session = session
        self.counts = counts
        self.zone = zone  # the plant's, for the local times in ticket texts
        self.periods: list[dict[str, Any]] = []
        self.production: list[dict[str, Any]] = []
        self.tickets: list[tuple[dict[str, Any], int | None, list[dict[str, Any]]]] = []

    def size(self) -> int:
        return len(self.periods) + len(self.production) + 5 * len(self.tickets)

    def add_machine(
        self, rng: random.Random, machine: Machine, segs: list[Segment], start: datetime,
        now: datetime, force_open: bool, plan: Sequence[Window],
    ) -> None:  # fmt: skip
        mid, name = machine.id, machine.name
        running: dict[datetime, list[Any]] = {}  # hour -> [running seconds, first running time]
        for seg in segs:
            self.periods.append(dict(machine_id=mid, status=seg.status, reason=seg.reason,
                                     started_at=seg.start, ended_at=seg.end))  # fmt: skip
            if seg.breakdown is not None:
                ticket, trail = breakdown_ticket(rng, name, seg, now, self.zone)
                self.tickets.append((ticket | {"machine_id": mid}, len(self.periods) - 1, trail))
            if seg.status == "running":
                _spread_over_hours(running, seg.start, seg.end or now)
        base_perf = rng.uniform(0.8, 0.95)
        for _hour, (seconds, first) in sorted(running.items()):
            perf = min(0.98, max(0.75, rng.gauss(base_perf, 0.04)))
            total = _round_random(rng, seconds / machine.ideal_cycle_time_s * perf)
            if total > 0:
                scrap = _round_random(rng, total * rng.uniform(0.005, 0.04))
                self.production.append(dict(machine_id=mid, ts=first,
                                            good=total - scrap, scrap=scrap))  # fmt: skip
        span_s = (now - start).total_seconds()
        created = [(start + secs(rng.uniform(0, span_s)), False)
                   for _ in range(_round_random(rng, span_s / (12 * 86400)))]  # fmt: skip
        if force_open:
            created.append((now - secs(rng.uniform(1, 30) * 3600), True))
        for at, forced in sorted(created):
            at = max(_in_shift(rng, plan, at), start)  # operators report defects in shifts
            recent = forced or at > now - 36 * HOUR
            ticket, trail = minor_ticket(rng, name, at, now, recent)
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


def _spread_over_hours(acc: dict[datetime, list[Any]], lo: datetime, hi: datetime) -> None:
    """Add [lo, hi) to the running seconds of the hours it touches; an hour's row is stamped
    with its first running moment (in shift time even where the zone's hours are not UTC's)."""
    while lo < hi:
        hour = lo.replace(minute=0, second=0, microsecond=0)
        step = min(hi, hour + HOUR)
        slot = acc.setdefault(hour, [0.0, lo])
        slot[0] += (step - lo).total_seconds()
        lo = step


def _in_shift(rng: random.Random, plan: Sequence[Window], at: datetime) -> datetime:
    """`at` when it is working time, else a moment in the last hour of the working window
    before it (`at` itself when there is none)."""
    i = bisect_right([w.start for w in plan], at) - 1
    while i >= 0 and plan[i].status is not None:
        i -= 1
    if i < 0 or plan[i].end > at:
        return at
    window = plan[i]
    back = min(3600.0, (window.end - window.start).total_seconds())
    return window.end - secs(rng.uniform(1, back))


def _round_random(rng: random.Random, x: float) -> int:
    """Round up with probability equal to the fraction, so sums stay unbiased."""
    whole = int(x)
    return whole + (rng.random() < x - whole)
