"""Properties of KPIs on planned time, for any calendar and any history (hypothesis): every ratio
is in 0..1, planned time never exceeds calendar time, and the per-area sums add up to the
plant's figures. One SQLite file per test run; each example replaces the rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from data.calendar.document import WEEKDAYS, CalendarDocument, Shift, overlapping_shifts
from data.calendar.schedule import Calendar
from data.read.kpis import oee_summary
from data.read.machine_sums import oee_by_machine, overview
from data.store.db import Database
from data.store.models import KpiDay, Machine, ProductionCount, StatusPeriod
from data.vocabulary import MACHINE_STATUSES

LO = datetime(2026, 3, 27, tzinfo=UTC)  # a week across Europe's spring clock change
HI = LO + timedelta(days=3)
ZONES = ("UTC", "Europe/Berlin", "America/Chicago", "Asia/Kolkata")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('props') / 'p.db'}")
    database.migrate()
    yield database
    database.dispose()


clock = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 30]))


@st.composite
def calendars(draw: Any) -> Calendar:
    shifts: list[Shift] = []
    for i in range(draw(st.integers(0, 3))):
        days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True))
        shift = Shift(name=f"S{i}", start=draw(clock), end=draw(clock), days=days)
        if overlapping_shifts([*shifts, shift]) is None:
            shifts.append(shift)
    stops = []
    for _ in range(draw(st.integers(0, 2))):
        start = LO + timedelta(hours=draw(st.integers(-12, 80)))
        stops.append(
            {
                "start": start,
                "end": start + timedelta(hours=draw(st.integers(1, 30))),
                "machine_id": draw(st.sampled_from([None, 1, 2, 3])),
            }
        )
    document = CalendarDocument.model_validate(
        {"timezone": draw(st.sampled_from(ZONES)), "shifts": [], "planned_stops": stops}
    )
    return Calendar(document.model_copy(update={"shifts": shifts}))


@st.composite
def histories(draw: Any) -> list[dict[str, Any]]:
    machines = []
    for machine_id in (1, 2, 3):
        created = LO + timedelta(hours=draw(st.integers(-48, 60)))
        cuts = sorted(draw(st.lists(st.integers(-24 * 60, 4 * 24 * 60), max_size=8, unique=True)))
        periods = []
        for i, minute in enumerate(cuts):
            end = cuts[i + 1] if i + 1 < len(cuts) else None
            periods.append(
                (
                    draw(st.sampled_from(MACHINE_STATUSES)),
                    LO + timedelta(minutes=minute),
                    None if end is None else LO + timedelta(minutes=end),
                )
            )
        counts = [
            (LO + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60))), g, s)
            for g, s in draw(
                st.lists(st.tuples(st.integers(0, 500), st.integers(0, 50)), max_size=4)
            )
        ]
        machines.append(
            {
                "id": machine_id,
                "area": "A" if machine_id < 3 else "B",
                "created": created,
                "ict": draw(st.sampled_from([5.0, 30.0, 90.0])),
                "periods": periods,
                "counts": counts,
            }
        )
    return machines


def store(db: Database, machines: list[dict[str, Any]]) -> None:
    with db.write() as session:
        for model in (KpiDay, ProductionCount, StatusPeriod, Machine):
            session.execute(delete(model))
        for m in machines:
            session.add(Machine(id=m["id"], name=f"M{m['id']}", area=m["area"], kind="mill",
                                ideal_cycle_time_s=m["ict"], created_at=m["created"]))  # fmt: skip
        session.flush()
        for m in machines:
            session.add_all(
                StatusPeriod(machine_id=m["id"], status=s, started_at=a, ended_at=b)
                for s, a, b in m["periods"]
            )
            session.add_all(
                ProductionCount(machine_id=m["id"], ts=ts, good=g, scrap=x)
                for ts, g, x in m["counts"]
            )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(calendar=calendars(), machines=histories(), hours=st.integers(1, 72))
def test_planned_kpis_stay_in_bounds_and_add_up(
    db: Database, calendar: Calendar, machines: list[dict[str, Any]], hours: int
) -> None:
    store(db, machines)
    hi = LO + timedelta(hours=hours)
    with db.read() as session:
        df = oee_by_machine(session, LO, hi, calendar)
        doc = overview(session, LO, hi, calendar)
    for column in ("availability", "performance", "quality", "oee", "teep"):
        assert df[column].between(0.0, 1.0).all(), column
    assert (df["planned_s"] <= df["calendar_s"] + 1e-6).all()
    assert (df["calendar_s"] <= (hi - LO).total_seconds() + 1e-6).all()
    assert (df["running_planned_s"] <= df["planned_s"] + 1e-6).all()
    plant = oee_summary(df).iloc[0]
    areas = oee_summary(df, by="area")
    for column in ("planned_s", "running_planned_s", "running_s", "good", "scrap", "ideal_s"):
        assert areas[column].sum() == pytest.approx(plant[column], abs=1e-6)
    assert doc["planned_s"] == pytest.approx(df["planned_s"].sum(), abs=1e-3)
    assert doc["oee"]["availability"] == round(plant["availability"], 4)
    assert 0.0 <= doc["teep"] <= doc["oee"]["oee"] + 1e-4
