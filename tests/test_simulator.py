"""The simulator: changes go through the services (events with gap-free seq), tickets of
broken machines get worked and resolved, production follows running time, the thread stops."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from data.calendar import intervals as iv
from data.demo.seed import seed_plant
from data.demo.simulator import MTBF_HOURS, Simulator
from data.events import RecordingPublisher
from data.read.calendar_queries import load_calendar
from data.store.db import Database
from data.store.models import EventLog, Machine, ProductionCount, StatusPeriod, Ticket
from data.write.services import Services
from tests.test_seed import assert_periods_tile
from tests.waiting import wait_until


def test_steps_change_the_plant_through_services(
    db: Database, services: Services, publisher: RecordingPublisher, clock
) -> None:
    seed_plant(db, 24, 2, now=clock())
    with db.read() as s:
        seeded_max_id = s.scalar(select(func.max(ProductionCount.id)))
    # A day of plant time in two-minute ticks, production reported hourly: at the demo's
    # rates (one breakdown in 80 running hours) a 24-machine day has several breakdowns.
    sim = Simulator(services, db, rng_seed=3, report_every_s=3600)
    done: list[str] = []
    for _ in range(720):
        clock.advance(seconds=120)
        done += sim.step()

    assert done
    seqs = [e.seq for e in publisher.events]
    assert seqs == list(range(1, len(seqs) + 1)), "one gap-free sequence, from the start"
    types = Counter(e.type for e in publisher.events)
    for etype in (
        "machine_status_update",
        "dashboard_refresh",
        "production_update",
        "maintenance_alert",
        "ticket_status_change",
    ):
        assert types[etype] > 0, etype
    with db.read() as s:
        assert list(s.scalars(select(EventLog.seq).order_by(EventLog.seq))) == seqs
        assert_periods_tile(s)
        new_rows = s.scalar(select(func.count()).where(ProductionCount.id > seeded_max_id))
        assert new_rows == types["production_update"]
        sim_tickets = (
            s.scalars(select(Ticket).where(Ticket.reported_by == "simulator")).unique().all()
        )
        assert sim_tickets
        for t in sim_tickets:
            period = s.get(StatusPeriod, t.down_period_id)
            assert period is not None and period.status == "down"
            if t.status == "resolved":
                assert period.ended_at == t.resolved_at
                assert [h.to_value for h in t.history if h.field == "status"] == [
                    "open",
                    "in_progress",
                    "resolved",
                ]
    produced = sum(
        e.data["good"] + e.data["scrap"] for e in publisher.events if e.type == "production_update"
    )
    assert produced > 0


def test_production_follows_running_time(
    db: Database, services: Services, publisher: RecordingPublisher, clock
) -> None:
    seed_plant(db, 1, 1, now=clock())
    with db.read() as s:
        machine = s.scalars(select(Machine)).one()
    sim = Simulator(services, db, rng_seed=1)
    sim.step()  # first tick only starts the watch
    services.report_status(machine.id, {"status": "running"})
    before = len(publisher.events)
    clock.advance(seconds=600)
    sim.step()
    made = [e.data for e in publisher.events[before:] if e.type == "production_update"]
    assert len(made) == 1
    parts = made[0]["good"] + made[0]["scrap"]
    ideal = 600 / machine.ideal_cycle_time_s
    assert int(0.75 * ideal) - 1 <= parts <= 0.98 * ideal + 1
    assert made[0]["scrap"] <= 0.04 * parts + 1


def test_a_broken_machine_gets_its_ticket_worked_and_resolved(
    db: Database, services: Services, publisher: RecordingPublisher, clock
) -> None:
    seed_plant(db, 1, 1, now=clock())
    with db.read() as s:
        machine_id = s.scalars(select(Machine.id)).one()
    services.report_status(machine_id, {"status": "down", "reason": "coolant pump"})
    ticket = services.create_ticket(
        {"machine_id": machine_id, "title": "Coolant pump failure", "priority": "medium"},
        actor="operator",
    )
    sim = Simulator(services, db, interval_s=3.0, rng_seed=5)
    for _ in range(60):  # five hours: a technician comes and repairs (about an hour)
        clock.advance(seconds=300)
        sim.step()
    moves = [
        (e.data["old_status"], e.data["new_status"])
        for e in publisher.events
        if e.type == "ticket_status_change" and e.data["ticket_id"] == ticket["id"]
    ]
    assert moves[:2] == [("open", "in_progress"), ("in_progress", "resolved")]
    with db.read() as s:
        t = s.get(Ticket, ticket["id"])
        assert t is not None and t.status == "resolved" and t.assignee
        period = s.get(StatusPeriod, t.down_period_id)
        assert period is not None and period.ended_at == t.resolved_at
        assert s.get(Machine, machine_id).status != "down"
        assert_periods_tile(s)


def test_the_plant_stays_plausible_shift_after_shift(
    db: Database, services: Services, publisher: RecordingPublisher, clock
) -> None:
    """Two days of plant time: about three machines in four run in every shift (after the
    calendar's breaks and time off, which stop them all), and breakdowns come at the
    documented rate, not one every few minutes."""
    seed_plant(db, 24, 1, now=clock())
    with db.read() as s:
        calendar = load_calendar(s)
    sim = Simulator(services, db, rng_seed=11, report_every_s=3600)
    sim.step()  # the first tick starts the watch
    by_shift: dict[tuple[str, date], list[float]] = defaultdict(list)
    planned_s = 0.0
    for _ in range(48 * 30):  # two-minute ticks
        since = clock()
        now = clock.advance(seconds=120)
        sim.step()
        with db.read() as s:
            share = s.scalar(select(func.count()).where(Machine.status == "running")) / 24
        planned_s += iv.total(calendar.planned(since, now))
        if iv.total(calendar.planned(now, now + timedelta(seconds=1))) == 0:
            assert share == 0, now  # a break or time off: this tick stopped them all
        else:
            shift = calendar.current(now)
            assert shift is not None
            by_shift[(shift.name, shift.day)].append(share)
    shares = [sum(v) / len(v) for v in by_shift.values() if len(v) >= 90]  # 3 h or more
    assert len(shares) >= 4, by_shift.keys()
    assert all(0.55 <= share <= 0.92 for share in shares), shares
    breakdowns = [e for e in publisher.events if e.type == "maintenance_alert"]
    expected = 24 * 0.75 * planned_s / 3600 / MTBF_HOURS  # running machines x hours / MTBF
    assert expected / 3 <= len(breakdowns) <= expected * 3, (len(breakdowns), expected)


def test_empty_plant_does_nothing(db: Database, services: Services) -> None:
    assert Simulator(services, db, rng_seed=1).step() == []


def test_start_and_stop_promptly(
    db: Database, services: Services, publisher: RecordingPublisher, clock
) -> None:
    seed_plant(db, 4, 1, now=clock())
    sim = Simulator(services, db, interval_s=0.02, rng_seed=2)
    sim.start()
    sim.start()  # a second start is a no-op

    def changed_something() -> bool:
        clock.advance(seconds=60)  # simulated time moves on while the thread runs
        return bool(publisher.events)

    wait_until(changed_something, timeout=5, interval=0.02, message="the thread changed nothing")
    t0 = time.monotonic()
    sim.stop()
    assert time.monotonic() - t0 < 1.0
    assert not sim.running
    assert not [t for t in threading.enumerate() if t.name == "milldash-simulator"]
    count = len(publisher.events)
    # The idle time is the subject: five step intervals pass without a step once stopped.
    time.sleep(0.1)
    assert len(publisher.events) == count


def test_a_failing_step_is_logged_and_the_thread_goes_on(
    db: Database, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    sim = Simulator(services, db, interval_s=0.01, rng_seed=1)
    calls: list[int] = []

    def flaky() -> list[str]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return []

    sim.step = flaky  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="data.demo.simulator"):
        sim.start()
        try:
            wait_until(lambda: len(calls) >= 3, timeout=5, interval=0.01)
        finally:
            sim.stop()
    assert len(calls) >= 3
    assert "simulator step failed" in caplog.text
