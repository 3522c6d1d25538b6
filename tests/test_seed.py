"""The demo plant seed: shape of the history, ticket links, production, refusals."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.demo.plant_catalog import KINDS
from data.demo.seed import is_empty, seed_plant
from data.store.db import Database
from data.store.models import EventLog, Machine, ProductionCount, StatusPeriod, Ticket

HOUR = timedelta(hours=1)


def assert_periods_tile(session: Session, start: datetime | None = None) -> None:
    """Each machine's periods follow each other without gap or overlap, only the last is
    open, and it matches the machine's status and status_since."""
    for machine in session.scalars(select(Machine)):
        periods = session.scalars(
            select(StatusPeriod)
            .where(StatusPeriod.machine_id == machine.id)
            .order_by(StatusPeriod.started_at, StatusPeriod.id)
        ).all()
        assert periods, machine.name
        if start is not None:
            assert periods[0].started_at == start
        for prev, nxt in pairwise(periods):
            assert prev.ended_at == nxt.started_at, (machine.name, prev.id, nxt.id)
            assert prev.started_at <= prev.ended_at
        last = periods[-1]
        assert last.ended_at is None
        assert (last.status, last.started_at) == (machine.status, machine.status_since)


def _running(session: Session) -> dict[int, list[tuple[datetime, datetime | None]]]:
    spans: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    rows = session.execute(
        select(StatusPeriod.machine_id, StatusPeriod.started_at, StatusPeriod.ended_at).where(
            StatusPeriod.status == "running"
        )
    )
    for machine_id, started, ended in rows:
        spans[machine_id].append((started, ended))
    return spans


def test_seed_writes_a_consistent_plant(db: Database, clock) -> None:
    now = clock()
    calls: list[tuple[int, int]] = []
    counts = seed_plant(db, 6, 3, now=now, progress=lambda d, t: calls.append((d, t)))

    assert calls == [(i, 6) for i in range(1, 7)]
    assert counts["machines"] == 6
    assert all(counts[k] > 0 for k in ("status_periods", "production_counts", "tickets"))
    with db.read() as s:
        for model, key in (
            (Machine, "machines"),
            (StatusPeriod, "status_periods"),
            (ProductionCount, "production_counts"),
            (Ticket, "tickets"),
        ):
            assert s.scalar(select(func.count()).select_from(model)) == counts[key]
        assert s.scalar(select(func.count()).select_from(EventLog)) == 0  # history is not news

        machines = s.scalars(select(Machine).order_by(Machine.id)).all()
        names = [m.name for m in machines]
        assert names == ["MILL-01", "LATHE-01", "SAW-01", "PRESS-01", "MILL-02", "LATHE-02"]
        assert {m.area for m in machines} == {"Milling", "Turning", "Cutting", "Forming"}
        ranges = {k.kind: k.cycle_s for k in KINDS}
        for m in machines:
            lo, hi = ranges[m.kind]
            assert lo <= m.ideal_cycle_time_s <= hi

        assert_periods_tile(s, start=now - timedelta(days=3))
        statuses = set(s.scalars(select(StatusPeriod.status).distinct()))
        assert {"running", "idle", "setup", "offline"} <= statuses
        assert s.scalar(select(func.max(StatusPeriod.started_at))) <= now


def test_seeded_tickets_follow_their_down_periods(db: Database, clock) -> None:
    now = clock()
    seed_plant(db, 6, 3, now=now)
    with db.read() as s:
        tickets = s.scalars(select(Ticket)).unique().all()
        linked = [t for t in tickets if t.down_period_id is not None]
        assert linked, "breakdowns should open tickets"
        for t in linked:
            period = s.get(StatusPeriod, t.down_period_id)
            assert period is not None and period.status == "down"
            assert period.machine_id == t.machine_id
            assert t.created_at == period.started_at
            if t.status in ("resolved", "closed"):
                assert t.resolved_at == period.ended_at
                assert t.first_response_at is not None
                assert t.created_at <= t.first_response_at <= t.resolved_at
            else:
                assert period.ended_at is None and t.resolved_at is None
            if t.status == "closed":
                assert t.closed_at is not None and t.resolved_at < t.closed_at <= now
                trail = [h.to_value for h in t.history if h.field == "status"]
                assert trail == ["open", "in_progress", "resolved", "closed"]
                assert t.assignee and t.reported_by and t.title and t.description
        for t in tickets:
            assert t.created_at <= t.updated_at <= now
            assert t.history[0].to_value == "open" and t.history[-1].changed_at == t.updated_at
        unfinished = [t for t in tickets if t.status in ("open", "in_progress", "on_hold")]
        assert len(unfinished) >= 3


def test_production_only_in_hours_the_machine_ran(db: Database, clock) -> None:
    seed_plant(db, 6, 3, now=clock())
    with db.read() as s:
        running = _running(s)
        ideal = dict(s.execute(select(Machine.id, Machine.ideal_cycle_time_s)).all())
        rows = s.scalars(select(ProductionCount)).all()
        hours = [(r.machine_id, r.ts.replace(minute=0, second=0)) for r in rows]
        assert len(hours) == len(set(hours)), "one row per machine per hour"
        total = scrap = 0
        for row in rows:
            lo = row.ts.replace(minute=0, second=0)
            hi = lo + HOUR
            ran = sum(
                max(0.0, (min(end or clock(), hi) - max(start, lo)).total_seconds())
                for start, end in running[row.machine_id]
            )
            assert ran > 0, f"production at {row.ts} but machine {row.machine_id} did not run"
            assert row.good + row.scrap <= ran / ideal[row.machine_id] * 0.98 + 1
            total += row.good + row.scrap
            scrap += row.scrap
        assert 0.005 <= scrap / total <= 0.04


def test_fifty_machines_spread_round_robin(db: Database, clock) -> None:
    counts = seed_plant(db, 50, 1, now=clock())
    assert counts["machines"] == 50
    with db.read() as s:
        by_area = dict(s.execute(select(Machine.area, func.count()).group_by(Machine.area)).all())
        names = set(s.scalars(select(Machine.name)))
        assert_periods_tile(s)
    assert by_area == {"Milling": 13, "Turning": 13, "Cutting": 12, "Forming": 12}
    assert {"MILL-13", "LATHE-13", "SAW-12", "PRESS-12"} <= names


def test_second_seed_is_refused(db: Database, clock) -> None:
    assert is_empty(db)
    first = seed_plant(db, 2, 1, now=clock())
    assert not is_empty(db)
    with pytest.raises(ValueError, match="already has machines"):
        seed_plant(db, 2, 1, now=clock())
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Machine)) == first["machines"]
        assert s.scalar(select(func.count()).select_from(Ticket)) == first["tickets"]


@pytest.mark.parametrize(
    ("machines", "days", "message"),
    [
        (0, 1, "machines"),
        (501, 1, "machines"),
        (True, 1, "machines"),
        (2.5, 1, "machines"),
        ("3", 1, "machines"),
        (1, 0, "days"),
        (1, 3651, "days"),
        (1, -2, "days"),
    ],
)
def test_bad_arguments_are_refused(db: Database, machines, days, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        seed_plant(db, machines, days)
    assert is_empty(db)
