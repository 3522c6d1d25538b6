"""The demo plant lives by its shift calendar: the seed stores the calendar in the plant's zone,
its history runs only in planned time (offline at night and on Sundays, idle in breaks), and
the simulator sends machines home at a shift's end and back at the next start, following the
calendar stored in the database."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from data.calendar import intervals as iv
from data.calendar.schedule import Calendar
from data.demo.seed import is_empty, seed_plant
from data.demo.simulator import Simulator
from data.events import RecordingPublisher
from data.read.calendar_queries import calendar_json, load_calendar
from data.store.db import Database
from data.store.models import EventLog, Machine, ProductionCount, StatusPeriod
from data.write.services import Services
from tests.test_seed import assert_periods_tile

BERLIN = "Europe/Berlin"  # UTC+1 in the winter weeks used here
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
DEMO_SHIFTS = [
    {"name": "Early", "start": "06:00", "end": "14:00", "days": WEEKDAYS,
     "breaks": [{"start": "10:00", "end": "10:30"}]},
    {"name": "Late", "start": "14:00", "end": "22:00", "days": WEEKDAYS,
     "breaks": [{"start": "18:00", "end": "18:30"}]},
    {"name": "Saturday", "start": "06:00", "end": "12:00", "days": ["sat"], "breaks": []},
]  # fmt: skip


def _periods(db: Database, now: datetime) -> list[tuple[int, str, str | None, float, float]]:
    """(machine id, status, reason, start, end) of every status period, in epoch seconds."""
    with db.read() as s:
        rows = s.execute(
            select(StatusPeriod.machine_id, StatusPeriod.status, StatusPeriod.reason,
                   StatusPeriod.started_at, StatusPeriod.ended_at)
        ).all()  # fmt: skip
    return [(m, st, r, a.timestamp(), (b or now).timestamp()) for m, st, r, a, b in rows]


def _stored(db: Database) -> Calendar:
    with db.read() as s:
        return load_calendar(s)


# -- the seed ----------------------------------------------------------------------------------


def test_the_seed_stores_the_demo_calendar_in_the_plants_zone(db: Database, clock) -> None:
    now = clock()  # Monday 2 March 2026, 08:00 UTC = 09:00 in Berlin
    seed_plant(db, 6, 10, now=now, timezone=BERLIN)
    with db.read() as s:
        doc = calendar_json(load_calendar(s))
        lathe = s.scalar(select(Machine.id).where(Machine.name == "LATHE-01"))
        events = s.scalar(select(EventLog.seq).limit(1))
    assert events is None  # the seed is history, not news
    assert doc["timezone"] == BERLIN
    assert doc["shifts"] == DEMO_SHIFTS
    holiday, maintenance = sorted(doc["planned_stops"], key=lambda p: p["machine_id"] or 0)
    # The next 25 December, a whole plant-local day; the maintenance was on the last weekday
    # before the seed's day (Friday 27 February), 07:00-11:00 local.
    assert holiday == {
        "start": "2026-12-24T23:00:00Z",
        "end": "2026-12-25T23:00:00Z",
        "reason": "Christmas Day",
        "machine_id": None,
    }
    assert maintenance["machine_id"] == lathe
    assert (maintenance["start"], maintenance["end"]) == (
        "2026-02-27T06:00:00Z",
        "2026-02-27T10:00:00Z",
    )
    assert maintenance["reason"].startswith("planned maintenance")
    # The machine is in maintenance exactly then.
    lo = datetime(2026, 2, 27, 6, tzinfo=UTC).timestamp()
    hi = datetime(2026, 2, 27, 10, tzinfo=UTC).timestamp()
    during = {(st, r) for m, st, r, a, b in _periods(db, now) if m == lathe and a < hi and b > lo}
    assert during == {("maintenance", maintenance["reason"])}


def test_the_default_zone_is_utc_and_an_unknown_zone_seeds_nothing(
    db: Database, db_url: str, clock, tmp_path
) -> None:
    with pytest.raises(ValueError, match="IANA time zone"):
        seed_plant(db, 2, 1, now=clock(), timezone="Mars/Olympus_Mons")
    assert is_empty(db)
    seed_plant(db, 2, 1, now=clock())
    calendar = _stored(db)
    assert calendar.document.timezone == "UTC"
    assert [s.name for s in calendar.document.shifts] == ["Early", "Late", "Saturday"]
    # A stored calendar: a database seeded in one zone keeps it (its history follows it).
    occ = calendar.current(clock())
    assert occ is not None and occ.name == "Early" and occ.start.hour == 6


def test_the_history_runs_only_in_planned_time(db: Database, clock) -> None:
    now = clock()
    seed_plant(db, 8, 21, now=now, timezone=BERLIN)
    calendar = _stored(db)
    start = now - timedelta(days=21)
    periods = _periods(db, now)
    seconds: Counter[str] = Counter()
    planned_total = 0.0
    for machine_id in sorted({p[0] for p in periods}):
        planned = calendar.planned(start, now, machine_id)
        planned_total += iv.total(planned)
        mine = [p for p in periods if p[0] == machine_id]
        inside = iv.covered(planned, np.array([p[3] for p in mine]), np.array([p[4] for p in mine]))
        for (_, status, reason, a, b), covered in zip(mine, inside, strict=True):
            seconds[status] += covered
            if status == "running":
                assert covered == pytest.approx(b - a), ("runs outside planned time", a, b)
            if status == "offline":
                assert covered == 0, ("offline in planned time", reason, a, b)
            if reason == "break":
                assert covered == 0
        with db.read() as s:
            stamps = s.scalars(
                select(ProductionCount.ts).where(ProductionCount.machine_id == machine_id)
            ).all()
        assert stamps
        counted = iv.covered(planned, np.array([t.timestamp() for t in stamps]),
                             np.array([t.timestamp() + 1 for t in stamps]))  # fmt: skip
        assert (counted == 1).all(), "production is stamped in planned time"
    # Planned time is mostly running (the rest: changeovers, short stops, breakdowns).
    assert 0.65 <= seconds["running"] / planned_total <= 0.9, seconds
    assert seconds["offline"] == 0
    # 15 planned hours a day Mon-Fri, 6 on Saturdays: 81 h a week per machine, minus the
    # maintenance stop of one machine (07:00-11:00 holds the 30-minute break).
    assert planned_total == pytest.approx(8 * 3 * 81 * 3600 - 3.5 * 3600)
    with db.read() as s:
        assert_periods_tile(s, start=start)


def test_weekends_and_nights_are_offline(db: Database, clock) -> None:
    now = clock()
    seed_plant(db, 8, 14, now=now, timezone=BERLIN)
    periods = _periods(db, now)
    # Sundays 22 Feb and 1 Mar, plant-local (00:00 Berlin = 23:00 UTC the day before).
    for sunday in (datetime(2026, 2, 21, 23, tzinfo=UTC), datetime(2026, 2, 28, 23, tzinfo=UTC)):
        lo, hi = sunday.timestamp(), (sunday + timedelta(days=1)).timestamp()
        seen = {(st, r) for _, st, r, a, b in periods if a < hi and b > lo}
        assert seen == {("offline", "no shift")}, seen
    # Saturday afternoon after 12:00 local and every night 22:00-06:00 local: nothing runs.
    quiet = [(datetime(2026, 2, 28, 13, tzinfo=UTC), 17 * 3600)]
    quiet += [(datetime(2026, 2, d, 21, 30, tzinfo=UTC), 7 * 3600) for d in range(16, 20)]
    for begin, length in quiet:
        lo, hi = begin.timestamp(), begin.timestamp() + length
        seen = {st for _, st, _, a, b in periods if a < hi and b > lo}
        assert "running" not in seen and "setup" not in seen, (begin, seen)
    # In a working day every machine runs.
    lo = datetime(2026, 2, 25, 5, tzinfo=UTC).timestamp()
    hi = lo + 16 * 3600
    ran = {m for m, st, _, a, b in periods if st == "running" and a < hi and b > lo}
    assert len(ran) == 8


# -- the simulator ----------------------------------------------------------------------------


def _states(db: Database) -> dict[int, tuple[str, str | None]]:
    with db.read() as s:
        rows = s.execute(
            select(Machine.id, Machine.status, StatusPeriod.reason).join(
                StatusPeriod,
                (StatusPeriod.machine_id == Machine.id) & StatusPeriod.ended_at.is_(None),
            )
        ).all()
    return {m: (status, reason) for m, status, reason in rows}


def _run_until(sim: Simulator, clock, db: Database, until: datetime, tick_s: float) -> list:
    """Step every `tick_s` up to `until`; the machines' states after each tick."""
    seen = []
    while clock() + timedelta(seconds=tick_s) <= until:
        clock.advance(seconds=tick_s)
        sim.step()
        seen.append((clock(), _states(db)))
    return seen


def test_the_simulator_sends_machines_home_at_a_shift_end_and_back_at_the_start(
    db: Database, services: Services, publisher: RecordingPublisher, clock
) -> None:
    # Friday 6 March 2026, 20:00 Berlin: the Late shift runs until 22:00.
    clock.now = datetime(2026, 3, 6, 19, 0, tzinfo=UTC)
    seed_plant(db, 6, 2, now=clock(), timezone=BERLIN)
    sim = Simulator(services, db, rng_seed=4, report_every_s=600)
    sim.step()  # the first tick starts the watch
    tick = 300.0

    # Until the shift ends most machines run; the tick at 22:00 local sends them home.
    before_end = _run_until(sim, clock, db, datetime(2026, 3, 6, 20, 55, tzinfo=UTC), tick)
    assert max(sum(st == "running" for st, _ in states.values()) for _, states in before_end) >= 3
    night = _run_until(sim, clock, db, datetime(2026, 3, 7, 4, 55, tzinfo=UTC), tick)
    for at, states in night:
        assert all(st != "running" for st, _ in states.values()), at
        if at >= datetime(2026, 3, 6, 21, 0, tzinfo=UTC):
            # a down machine stays down until repaired, then goes home in the same tick
            assert {s for s in states.values() if s[0] != "down"} <= {("offline", "no shift")}
    assert night[-1][1] and all(s == ("offline", "no shift") for s in night[-1][1].values())

    # Saturday 06:00 local: a warm-up, then they run.
    saturday = _run_until(sim, clock, db, datetime(2026, 3, 7, 7, 0, tzinfo=UTC), tick)
    first = saturday[0][1]  # the tick at 06:00 local
    assert saturday[0][0] == datetime(2026, 3, 7, 5, 0, tzinfo=UTC)
    assert set(first.values()) == {("setup", "shift start")}
    assert sum(st == "running" for st, _ in saturday[-1][1].values()) >= 4

    # Saturday's shift ends at 12:00 local; Sunday stays off until an admin adds a shift.
    weekend = _run_until(sim, clock, db, datetime(2026, 3, 8, 12, 0, tzinfo=UTC), tick)
    sunday = [states for at, states in weekend if at >= datetime(2026, 3, 7, 23, tzinfo=UTC)]
    assert sunday
    for states in sunday:
        assert all(st in ("offline", "down") for st, _ in states.values())

    # The simulator reads the calendar from the database: a Sunday shift from 13:00 local
    # brings the machines back at once.
    doc = calendar_json(_stored(db))
    doc["shifts"].append({"name": "Sunday", "start": "13:00", "end": "17:00", "days": ["sun"]})
    services.replace_calendar(doc)
    extra = _run_until(sim, clock, db, datetime(2026, 3, 8, 12, 5, tzinfo=UTC), tick)
    extra_window = [at for at, _ in extra]
    assert {st for st, _ in extra[-1][1].values()} <= {"setup", "down"}
    assert any(st == "setup" for st, _ in extra[-1][1].values())

    # Monday: the break at 10:00-10:30 local makes the machines idle, then they run again.
    doc["shifts"].pop()
    services.replace_calendar(doc)
    monday = _run_until(sim, clock, db, datetime(2026, 3, 9, 9, 40, tzinfo=UTC), tick)
    by_time = dict(monday)
    in_break = by_time[datetime(2026, 3, 9, 9, 15, tzinfo=UTC)]
    assert all(st in ("idle", "down", "maintenance") for st, _ in in_break.values())
    assert ("idle", "break") in set(in_break.values())
    after = by_time[datetime(2026, 3, 9, 9, 30, tzinfo=UTC)]
    assert ("idle", "break") not in set(after.values())
    assert sum(st == "running" for st, _ in after.values()) >= 3

    # No breakdown outside shift time: every down period starts in a shift.
    calendar = _stored(db)
    with db.read() as s:
        downs = s.scalars(
            select(StatusPeriod.started_at).where(
                StatusPeriod.status == "down", StatusPeriod.started_at >= before_end[0][0]
            )
        ).all()
    for started in downs:
        assert calendar.current(started) is not None or started in extra_window, started
    with db.read() as s:
        assert_periods_tile(s)
