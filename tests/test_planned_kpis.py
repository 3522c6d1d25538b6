"""KPIs on planned production time against figures worked out by hand, on SQLite and PostgreSQL.

Plant (zone UTC unless a test says otherwise), Monday 2026-03-02:

    calendar  Early 06:00-14:00 (break 10:00-10:30), Late 14:00-22:00, Mon-Fri
              holiday Tue 2026-03-03 (whole plant); M1 planned maintenance Mon 18:00-20:00
    M1  ict 30 s, exists since February
        running 05-12 | down 12-16 "jam" | running 16-23
    M2  ict 60 s, created Mon 12:00 (mid-shift)
        running 12-22

Planned time on Monday: plant 7.5 h + 8 h = 15.5 h; M1 15.5 - 2 (its maintenance) = 13.5 h;
M2 from 12:00: 2 h + 8 h = 10 h. Running inside planned time: M1 06-10 + 10:30-12 + 16-18 +
20-22 = 9.5 h; M2 10 h.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from data.calendar.document import CalendarDocument
from data.calendar.schedule import Calendar
from data.read.analytics import machine_kpis, shift_report
from data.read.calendar_queries import load_calendar
from data.read.hourly_output import output_by_hour
from data.read.kpis import overview_raw_sql
from data.read.machine_sums import oee_by_machine, overview
from data.store.db import Database
from data.store.models import Machine, ProductionCount, StatusPeriod
from data.write.services import Services
from devtools.factories import shift

H = 3600.0
MON = datetime(2026, 3, 2, tzinfo=UTC)


def at(hour: float, day: datetime = MON) -> datetime:
    return day + timedelta(hours=hour)


CALENDAR: dict[str, Any] = {
    "timezone": "UTC",
    "shifts": [
        shift("Early", "06:00", "14:00", breaks=(("10:00", "10:30"),)),
        shift("Late", "14:00", "22:00"),
    ],
    "planned_stops": [
        {"start": "2026-03-03T00:00:00Z", "end": "2026-03-04T00:00:00Z", "reason": "holiday"},
        {
            "start": "2026-03-02T18:00:00Z",
            "end": "2026-03-02T20:00:00Z",
            "reason": "planned maintenance",
            "machine_id": 1,
        },
    ],
}


def add_machine(db: Database, name: str, ict: float, created: datetime, periods: list[Any]) -> int:
    with db.write() as session:
        machine = Machine(name=name, area="Shop", kind="mill", ideal_cycle_time_s=ict,
                          created_at=created)  # fmt: skip
        session.add(machine)
        session.flush()
        session.add_all(
            StatusPeriod(machine_id=machine.id, status=s, reason=r, started_at=a, ended_at=b)
            for s, r, a, b in periods
        )
        return machine.id


@pytest.fixture
def plant(db: Database, services: Services) -> dict[str, int]:
    m1 = add_machine(db, "M1", 30.0, datetime(2026, 2, 1, tzinfo=UTC), [
        ("running", None, at(5), at(12)),
        ("down", "jam", at(12), at(16)),
        ("running", None, at(16), at(23)),
        ("idle", None, at(23), None),
    ])  # fmt: skip
    m2 = add_machine(db, "M2", 60.0, at(12), [("running", None, at(12), at(22)),
                                              ("idle", None, at(22), None)])  # fmt: skip
    with db.write() as session:
        # M1: 600 good + 30 scrap in the Early shift, 100 good at 23:00 (no shift)
        session.add_all([
            ProductionCount(machine_id=m1, ts=at(9), good=600, scrap=30),
            ProductionCount(machine_id=m1, ts=at(23), good=100, scrap=0),
            ProductionCount(machine_id=m2, ts=at(13), good=100, scrap=20),
        ])  # fmt: skip
    services.replace_calendar(CALENDAR)
    return {"M1": m1, "M2": m2}


def test_availability_teep_and_target_on_planned_time(db: Database, plant: dict[str, int]) -> None:
    with db.read() as session:
        df = oee_by_machine(session, MON, at(24)).set_index("name")
    m1, m2 = df.loc["M1"], df.loc["M2"]
    assert m1["planned_s"] == pytest.approx(13.5 * H)
    assert m1["running_planned_s"] == pytest.approx(9.5 * H)
    assert m1["running_s"] == pytest.approx(14 * H)  # 05-12 and 16-23, shifts or not
    assert m1["availability"] == pytest.approx(9.5 / 13.5)
    assert m1["calendar_s"] == pytest.approx(24 * H)
    assert m1["teep"] == pytest.approx(m1["oee"] * 13.5 / 24)
    assert m2["planned_s"] == pytest.approx(10 * H)
    assert m2["calendar_s"] == pytest.approx(12 * H)  # a machine added mid-window
    assert m2["availability"] == pytest.approx(1.0)
    assert m2["teep"] == pytest.approx(m2["oee"] * 10 / 12)
    # Performance and quality as before: every part and all running time in the window.
    assert m1["performance"] == pytest.approx(30.0 * 730 / (14 * H))
    assert m1["quality"] == pytest.approx(700 / 730)


def test_overview_sums_the_machines(db: Database, plant: dict[str, int]) -> None:
    with db.read() as session:
        doc = overview(session, MON, at(24))
    assert doc["planned_s"] == pytest.approx(23.5 * H)
    assert doc["oee"]["availability"] == round(19.5 / 23.5, 4)
    # Target: ideal parts in planned time, 13.5 h at 30 s and 10 h at 60 s.
    assert doc["target_good"] == round(13.5 * H / 30 + 10 * H / 60)


def test_the_raw_sql_floor_counts_running_time_in_the_plant_planned_time(
    db: Database, plant: dict[str, int]
) -> None:
    with db.read() as session:
        spans = load_calendar(session).planned(MON, at(24))
        raw = overview_raw_sql(session, MON, at(24), spans)
    # M1 06-10, 10:30-12 and 16-22 (its own maintenance is not the plant's); M2 12-22
    assert raw["running_planned_s"] == pytest.approx((4 + 1.5 + 6 + 10) * H)
    assert raw["running_s"] == pytest.approx((14 + 10) * H)


def test_a_holiday_plans_nothing(db: Database, plant: dict[str, int]) -> None:
    tue = at(24)
    with db.read() as session:
        items = machine_kpis(session, tue, at(24, tue))
    assert [i["planned_s"] for i in items] == [0.0, 0.0]
    assert [i["availability"] for i in items] == [0.0, 0.0]
    assert [i["teep"] for i in items] == [0.0, 0.0]


def test_hourly_target_follows_shifts_breaks_and_stops(db: Database, plant: dict[str, int]) -> None:
    with db.read() as session:
        df = output_by_hour(session, MON, at(24))
    target = dict(zip([h.hour for h in df["hour"]], df["target"], strict=True))
    assert len(target) == 24
    assert target[5] == 0.0  # before the first shift: M1 runs, nothing is planned
    assert target[6] == pytest.approx(120.0)  # M1 only (M2 does not exist yet)
    assert target[10] == pytest.approx(60.0)  # the break halves M1's hour
    assert target[12] == pytest.approx(120.0 + 60.0)  # M2 from 12:00
    assert target[18] == pytest.approx(60.0)  # M1 in planned maintenance
    assert target[22] == 0.0 and target[23] == 0.0
    assert df["good"].sum() == 800


def test_shift_report_by_hand(db: Database, plant: dict[str, int]) -> None:
    with db.read() as session:
        rows = shift_report(session, date(2026, 3, 2), now=at(30))
    assert [r["shift"] for r in rows] == ["Early", "Late"]
    early, late = rows
    assert (early["start"], early["end"]) == ("2026-03-02T06:00:00Z", "2026-03-02T14:00:00Z")
    assert early["planned_s"] == pytest.approx(7.5 * H + 2 * H)  # M1 7.5 h, M2 12-14
    assert early["availability"] == round((5.5 + 2) / 9.5, 4)
    assert early["target_good"] == round(7.5 * H / 30 + 2 * H / 60)
    assert (early["good"], early["scrap"]) == (700, 50)
    assert early["downtime_by_reason"] == {"jam": 2 * H}
    assert late["planned_s"] == pytest.approx(6 * H + 8 * H)
    assert late["availability"] == round((4 + 8) / 14, 4)
    assert late["downtime_by_reason"] == {"jam": 2 * H}


def test_a_shift_that_has_not_started_is_not_reported(db: Database, plant: dict[str, int]) -> None:
    with db.read() as session:
        rows = shift_report(session, date(2026, 3, 2), now=at(15))
    assert [r["shift"] for r in rows] == ["Early", "Late"]
    assert rows[1]["planned_s"] == pytest.approx(2 * 1 * H)  # 14-15 for both machines
    with db.read() as session:
        assert shift_report(session, date(2026, 3, 2), now=at(5)) == []


# -- time zones and daylight saving -------------------------------------------------------


def calendar(zone: str, shifts: list[dict[str, Any]]) -> Calendar:
    return Calendar(CalendarDocument.model_validate({"timezone": zone, "shifts": shifts}))


NIGHT = {"name": "Night", "start": "22:00", "end": "06:00", "days": ["sat"]}


@pytest.mark.parametrize(
    ("zone", "saturday", "hours"),
    [
        ("Europe/Berlin", date(2026, 3, 28), 7),  # clocks go forward at 02:00 on Sunday
        ("Europe/Berlin", date(2026, 10, 24), 9),  # and back at 03:00
        ("America/Chicago", date(2026, 3, 7), 7),
        ("America/Chicago", date(2026, 10, 31), 9),
        ("America/Chicago", date(2026, 3, 14), 8),  # an ordinary weekend
    ],
)
def test_a_night_shift_across_a_daylight_saving_change(
    zone: str, saturday: date, hours: int
) -> None:
    cal = calendar(zone, [NIGHT])
    lo = cal.at(saturday, datetime.min.time())
    occs = cal.occurrences(lo, lo + timedelta(days=2))
    assert [(o.name, o.day) for o in occs] == [("Night", saturday)]
    assert occs[0].planned_s == hours * H
    planned = cal.planned(lo, lo + timedelta(days=2))
    assert float(sum(planned[1] - planned[0])) == hours * H


def test_a_night_shift_belongs_to_the_day_it_starts() -> None:
    from data.read.analytics import day_shifts

    cal = calendar("Europe/Berlin", [{**NIGHT, "days": ["mon"]}])
    assert [o.name for o in day_shifts(cal, date(2026, 3, 2))] == ["Night"]  # Monday
    assert day_shifts(cal, date(2026, 3, 3)) == []  # Tuesday: Monday's night is not its own
    night = day_shifts(cal, date(2026, 3, 2))[0]
    assert night.start == datetime(2026, 3, 2, 21, tzinfo=UTC)
    assert night.end == datetime(2026, 3, 3, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "hours"), [(date(2026, 3, 8), 23), (date(2026, 11, 1), 25), (date(2026, 6, 1), 24)]
)
def test_plant_local_days_have_23_24_or_25_hours(
    db: Database, services: Services, day: date, hours: int
) -> None:
    add_machine(db, "M1", 36.0, datetime(2026, 1, 1, tzinfo=UTC), [])
    services.replace_calendar({"timezone": "America/Chicago"})
    with db.read() as session:
        cal = load_calendar(session)
        lo = cal.at(day, datetime.min.time())
        hi = cal.at(day + timedelta(days=1), datetime.min.time())
        df = output_by_hour(session, lo, hi)
        report = shift_report(session, day, now=hi + timedelta(days=1))
    assert len(df) == hours
    assert df["hour"].iloc[0].hour == 0 and df["hour"].iloc[-1].hour == 23
    assert str(df["hour"].dt.tz) == "America/Chicago"
    assert df["target"].sum() == pytest.approx(hours * 100.0)  # 100 parts an hour
    assert [(r["shift"], r["planned_s"]) for r in report] == [("Day", hours * H)]


def test_hours_of_a_zone_offset_by_odd_seconds(db: Database, services: Services) -> None:
    """Before 1912 Abidjan kept local mean time, 16 min 8 s behind UTC: its hours start at
    :16:08 UTC, and a day still has 24 of them."""
    add_machine(db, "M1", 36.0, datetime(1300, 1, 1, tzinfo=UTC), [])
    services.replace_calendar({"timezone": "Africa/Abidjan"})
    lo = datetime(1336, 8, 31, 0, 16, 8, tzinfo=UTC)
    with db.read() as session:
        df = output_by_hour(session, lo, lo + timedelta(days=1))
    assert len(df) == 24
    assert [h.minute for h in df["hour"]] == [0] * 24
    assert df["target"].sum() == pytest.approx(24 * 100.0)
