"""The read side against a hand-built plant, on SQLite and PostgreSQL: every KPI is checked
against arithmetic written out in the test.

The window is 2026-03-02 08:00 -> 16:00 UTC (8 h = 28800 s). The plant:

    M1 Press 1  Assembly   ict 30 s  status offline
       running 05-07 (outside) | down 07-08 "jam" (ends exactly at lo) | running 08-10
       down 10:00-10:30 "jam" | running 10:30-14 | offline 14-open
    M2 Lathe 2  Assembly   ict 60 s  status down
       running 04-06 (outside) | down 06-09 reason NULL | running 09-12 | down 12-open "hydraulics"
    M3 Mill 3   Machining  ict 20 s  status running
       offline 00-09 | running 09-13 | down 13:00-13:30 "jam" | offline 13:30-15 | running 15-open
    M4 Spare 4  Machining  ict 45 s  status idle, no periods, no output

Every machine exists from 2026-03-01 and the calendar is empty, so every hour of the window is
planned production time and offline time is an availability loss (tests/test_planned_kpis.py
covers shifts, stops and machines added mid-window).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

from data.errors import ValidationFailed
from data.read.downtime import downtime_by_reason
from data.read.hourly_output import output_by_hour
from data.read.kpis import oee_summary, overview_raw_sql
from data.read.machine_sums import mttr_mtbf, oee_by_machine, overview, utilization_by_machine
from data.read.plant_counts import machines_by_status, open_tickets_by_priority
from data.store.db import Database
from data.store.models import Machine, ProductionCount, StatusPeriod, Ticket

H = 3600.0
ELAPSED = 8 * H
LO = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
HI = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
CREATED = datetime(2026, 3, 1, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 2, hour, minute, tzinfo=UTC)


# name -> (area, kind, ideal cycle time, status, periods, counts)
PLANT: dict[str, tuple[str, str, float, str, list[tuple[Any, ...]], list[tuple[Any, ...]]]] = {
    "Press 1": (
        "Assembly",
        "press",
        30.0,
        "offline",
        [
            ("running", None, at(5), at(7)),
            ("down", "jam", at(7), at(8)),
            ("running", None, at(8), at(10)),
            ("down", "jam", at(10), at(10, 30)),
            ("running", None, at(10, 30), at(14)),
            ("offline", None, at(14), None),
        ],
        # (ts, good, scrap): 07:30 is before lo, 16:00 is hi itself (excluded)
        [
            (at(7, 30), 100, 5),
            (at(8), 50, 2),
            (at(9, 15), 100, 3),
            (at(12, 30), 200, 5),
            (at(16), 999, 9),
        ],
    ),
    "Lathe 2": (
        "Assembly",
        "lathe",
        60.0,
        "down",
        [
            ("running", None, at(4), at(6)),
            ("down", None, at(6), at(9)),
            ("running", None, at(9), at(12)),
            ("down", "hydraulics", at(12), None),
        ],
        [(at(10), 120, 0), (at(11), 60, 10)],
    ),
    "Mill 3": (
        "Machining",
        "mill",
        20.0,
        "running",
        [
            ("offline", None, at(0), at(9)),
            ("running", None, at(9), at(13)),
            ("down", "jam", at(13), at(13, 30)),
            ("offline", None, at(13, 30), at(15)),
            ("running", None, at(15), None),
        ],
        [(at(9, 30), 500, 20), (at(14), 200, 30), (at(17), 1000, 0)],
    ),
    "Spare 4": ("Machining", "spare", 45.0, "idle", [], []),
}

# (machine, priority, status): only open, in_progress and on_hold count as open
TICKETS = [
    ("Press 1", "low", "open"),
    ("Press 1", "high", "in_progress"),
    ("Lathe 2", "high", "on_hold"),
    ("Lathe 2", "critical", "open"),
    ("Mill 3", "medium", "resolved"),
    ("Mill 3", "low", "closed"),
    ("Mill 3", "critical", "cancelled"),
]

# By hand, per machine, inside the window
RUNNING = {"Press 1": 2 * H + 3.5 * H, "Lathe 2": 3 * H, "Mill 3": 4 * H + 1 * H, "Spare 4": 0.0}
OFFLINE = {"Press 1": 2 * H, "Lathe 2": 0.0, "Mill 3": 1 * H + 1.5 * H, "Spare 4": 0.0}
GOOD = {"Press 1": 50 + 100 + 200, "Lathe 2": 120 + 60, "Mill 3": 500 + 200, "Spare 4": 0}
SCRAP = {"Press 1": 2 + 3 + 5, "Lathe 2": 0 + 10, "Mill 3": 20 + 30, "Spare 4": 0}
IDEAL = {
    "Press 1": 30.0 * (350 + 10),
    "Lathe 2": 60.0 * (180 + 10),
    "Mill 3": 20.0 * (700 + 50),
    "Spare 4": 0.0,
}


@pytest.fixture
def plant(db: Database) -> dict[str, int]:
    """Insert PLANT and TICKETS; return machine ids by name."""
    with db.write() as session:
        machines = {}
        for name, (area, kind, ict, status, _, _) in PLANT.items():
            machines[name] = Machine(
                name=name,
                area=area,
                kind=kind,
                ideal_cycle_time_s=ict,
                status=status,
                created_at=CREATED,
            )
        session.add_all(machines.values())
        session.flush()
        for name, (_, _, _, _, periods, counts) in PLANT.items():
            mid = machines[name].id
            session.add_all(
                StatusPeriod(machine_id=mid, status=s, reason=r, started_at=a, ended_at=b)
                for s, r, a, b in periods
            )
            session.add_all(
                ProductionCount(machine_id=mid, ts=ts, good=g, scrap=x) for ts, g, x in counts
            )
        session.add_all(
            Ticket(
                machine_id=machines[name].id,
                title=f"{priority} issue",
                priority=priority,
                status=status,
                reported_by="test",
            )
            for name, priority, status in TICKETS
        )
        return {name: m.id for name, m in machines.items()}


def rounded(value: float) -> Any:
    """A KPI the overview rounded to 4 decimals: within half a unit of the 4th decimal (and a
    tie like 0.421875 may round either way once SQLite's float seconds are involved)."""
    return pytest.approx(value, abs=0.51e-4)


def floats(doc: Any) -> list[float]:
    if isinstance(doc, dict):
        return [f for v in doc.values() for f in floats(v)]
    if isinstance(doc, list):
        return [f for v in doc for f in floats(v)]
    return [doc] if isinstance(doc, float) else []


def by_name(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return df.set_index("name").to_dict("index")


def test_utilization_by_machine(db: Database, plant: dict[str, int]) -> None:
    with db.read() as s:
        df = utilization_by_machine(s, LO, HI)
    assert list(df.columns) == [
        "machine_id", "name", "area", "kind", "status", "running_s", "elapsed_s", "utilization",
    ]  # fmt: skip
    rows = by_name(df)
    assert set(rows) == set(PLANT)
    assert rows["Press 1"]["running_s"] == pytest.approx(2 * H + 3.5 * H)
    assert rows["Press 1"]["elapsed_s"] == pytest.approx(8 * H)
    assert rows["Press 1"]["utilization"] == pytest.approx((2 * H + 3.5 * H) / (8 * H))
    assert rows["Lathe 2"]["utilization"] == pytest.approx((3 * H) / (8 * H))
    assert rows["Mill 3"]["utilization"] == pytest.approx((4 * H + 1 * H) / (8 * H))
    assert rows["Spare 4"]["utilization"] == 0.0
    assert rows["Mill 3"]["status"] == "running" and rows["Mill 3"]["kind"] == "mill"


def test_oee_by_machine(db: Database, plant: dict[str, int]) -> None:
    with db.read() as s:
        df = oee_by_machine(s, LO, HI)
    assert list(df.columns) == [
        "machine_id", "name", "area", "running_s", "planned_s", "ideal_s", "good", "scrap",
        "running_planned_s", "calendar_s", "availability", "performance", "quality", "oee",
        "teep",
    ]  # fmt: skip
    rows = by_name(df)
    press = rows["Press 1"]
    assert press["planned_s"] == pytest.approx(8 * H)
    assert press["calendar_s"] == pytest.approx(8 * H)
    assert press["ideal_s"] == pytest.approx(30.0 * (350 + 10))
    assert (press["good"], press["scrap"]) == (50 + 100 + 200, 2 + 3 + 5)
    a, p, q = (5.5 * H) / (8 * H), (30.0 * 360) / (5.5 * H), 350 / (350 + 10)
    assert press["availability"] == pytest.approx(a)
    assert press["performance"] == pytest.approx(p)
    assert press["quality"] == pytest.approx(q)
    assert press["oee"] == pytest.approx(a * p * q)
    assert press["teep"] == pytest.approx(a * p * q)  # every hour planned: TEEP = OEE

    lathe = rows["Lathe 2"]  # ideal 60 * 190 = 11400 s > 3 h running: performance capped
    assert lathe["availability"] == pytest.approx((3 * H) / (8 * H))
    assert 60.0 * 190 / (3 * H) > 1.0
    assert lathe["performance"] == 1.0
    assert lathe["quality"] == pytest.approx(180 / 190)
    assert lathe["oee"] == pytest.approx((3 * H) / (8 * H) * 1.0 * 180 / 190)

    mill = rows["Mill 3"]
    a, p, q = (5 * H) / (8 * H), (20.0 * 750) / (5 * H), 700 / 750
    assert (mill["availability"], mill["performance"], mill["quality"]) == (
        pytest.approx(a),
        pytest.approx(p),
        pytest.approx(q),
    )
    assert mill["oee"] == pytest.approx(a * p * q)

    spare = rows["Spare 4"]  # no output, no running time: all zeros
    assert spare["planned_s"] == pytest.approx(8 * H)
    assert [spare[k] for k in ("availability", "performance", "quality", "oee")] == [0.0] * 4


def test_oee_summary_is_computed_from_sums(db: Database, plant: dict[str, int]) -> None:
    with db.read() as s:
        df = oee_by_machine(s, LO, HI)
    plant_row = oee_summary(df).iloc[0]
    running = 5.5 * H + 3 * H + 5 * H + 0
    planned = 4 * 8 * H
    ideal = 30.0 * 360 + 60.0 * 190 + 20.0 * 750 + 0
    good, total = 350 + 180 + 700, 360 + 190 + 750
    assert plant_row["availability"] == pytest.approx(running / planned)
    assert plant_row["performance"] == pytest.approx(ideal / running)
    assert plant_row["quality"] == pytest.approx(good / total)
    assert plant_row["oee"] == pytest.approx(running / planned * ideal / running * good / total)
    # not the mean of the machines' ratios
    assert plant_row["performance"] != pytest.approx(df["performance"].mean())

    areas = oee_summary(df, by="area").set_index("area")
    assert list(areas.index) == ["Assembly", "Machining"]
    asm, mach = areas.loc["Assembly"], areas.loc["Machining"]
    assert asm["availability"] == pytest.approx((5.5 * H + 3 * H) / (16 * H))
    assert asm["performance"] == pytest.approx((30.0 * 360 + 60.0 * 190) / (5.5 * H + 3 * H))
    assert asm["quality"] == pytest.approx((350 + 180) / (360 + 190))
    assert mach["availability"] == pytest.approx((5 * H + 0) / (16 * H))
    assert mach["performance"] == pytest.approx((20.0 * 750) / (5 * H))
    assert mach["quality"] == pytest.approx(700 / 750)
    assert mach["oee"] == pytest.approx((5 * H) / (16 * H) * (20.0 * 750) / (5 * H) * 700 / 750)


def test_mttr_mtbf(db: Database, plant: dict[str, int]) -> None:
    with db.read() as s:
        whole = mttr_mtbf(s, LO, HI)
        press = mttr_mtbf(s, LO, HI, machine_id=plant["Press 1"])
        spare = mttr_mtbf(s, LO, HI, machine_id=plant["Spare 4"])
    # repairs = down periods that ended in [lo, hi): M1 07-08 (ends at lo) and 10:00-10:30,
    # M2 06-09, M3 13:00-13:30. failures = down periods that started in it: M1 10:00,
    # M2 12:00 (still open), M3 13:00.
    assert whole["repairs"] == 4 and whole["failures"] == 3
    assert whole["mttr_s"] == pytest.approx((1 * H + 0.5 * H + 3 * H + 0.5 * H) / 4)
    assert whole["mtbf_s"] == pytest.approx((5.5 * H + 3 * H + 5 * H) / 3)
    assert press == {
        "mttr_s": pytest.approx((1 * H + 0.5 * H) / 2),
        "mtbf_s": pytest.approx(5.5 * H / 1),
        "failures": 1,
        "repairs": 2,
    }
    assert spare == {"mttr_s": None, "mtbf_s": None, "failures": 0, "repairs": 0}


def test_open_tickets_and_machines_by_status(db: Database, plant: dict[str, int]) -> None:
    with db.read() as s:
        tickets = open_tickets_by_priority(s)
        statuses = machines_by_status(s)
    assert tickets == {"low": 1, "medium": 0, "high": 1 + 1, "critical": 1}
    assert statuses == {
        "running": 1, "idle": 1, "setup": 0, "down": 1, "maintenance": 0, "offline": 1,
    }  # fmt: skip


def test_counts_on_an_empty_database(db: Database) -> None:
    with db.read() as s:
        assert open_tickets_by_priority(s) == dict.fromkeys(
            ("low", "medium", "high", "critical"), 0
        )
        assert sum(machines_by_status(s).values()) == 0
        assert len(machines_by_status(s)) == 6


def test_downtime_by_reason(db: Database, plant: dict[str, int]) -> None:
    with db.read() as s:
        df = downtime_by_reason(s, LO, HI)
        top2 = downtime_by_reason(s, LO, HI, limit=2)
    assert list(df.columns) == ["reason", "seconds", "count"]
    # hydraulics: M2 12:00-open, 4 h; jam: M1 10:00-10:30 + M3 13:00-13:30 (M1 07-08 ends at
    # lo: no overlap); unspecified: M2 06-09, 1 h inside. Ties ordered by reason.
    assert df["reason"].tolist() == ["hydraulics", "jam", "unspecified"]
    assert df["seconds"].tolist() == pytest.approx([4 * H, 0.5 * H + 0.5 * H, 1 * H])
    assert df["count"].tolist() == [1, 2, 1]
    assert top2["reason"].tolist() == ["hydraulics", "jam"]


def test_output_by_hour(db: Database, plant: dict[str, int]) -> None:
    with db.read() as s:
        df = output_by_hour(s, LO, HI)
        assembly = output_by_hour(s, LO, HI, area="Assembly")
        mill = output_by_hour(s, LO, HI, machine_id=plant["Mill 3"])
    assert list(df.columns) == ["hour", "good", "scrap", "target"]
    assert df["hour"].tolist() == [pd.Timestamp(at(h)) for h in range(8, 16)]
    assert str(df["hour"].dt.tz) == "UTC"
    # 08: M1 08:00 | 09: M1 09:15 + M3 09:30 | 10: M2 10:00 | 11: M2 11:00 | 12: M1 12:30
    # 13: - | 14: M3 14:00 | 15: -
    assert df["good"].tolist() == [50, 100 + 500, 120, 60, 200, 0, 200, 0]
    assert df["scrap"].tolist() == [2, 3 + 20, 0, 10, 5, 0, 30, 0]
    all_rate = 3600 / 30 + 3600 / 60 + 3600 / 20 + 3600 / 45
    assert df["target"].tolist() == pytest.approx([all_rate] * 8)

    assert assembly["good"].tolist() == [50, 100, 120, 60, 200, 0, 0, 0]
    assert assembly["target"].tolist() == pytest.approx([3600 / 30 + 3600 / 60] * 8)
    assert mill["good"].tolist() == [0, 500, 0, 0, 0, 0, 200, 0]
    assert mill["scrap"].tolist() == [0, 20, 0, 0, 0, 0, 30, 0]
    assert mill["target"].tolist() == pytest.approx([3600 / 20] * 8)


def test_output_by_hour_partial_hours(db: Database, plant: dict[str, int]) -> None:
    with db.read() as s:
        df = output_by_hour(s, at(8, 30), at(10, 15))
    assert df["hour"].tolist() == [pd.Timestamp(at(h)) for h in (8, 9, 10)]
    assert df["good"].tolist() == [0, 100 + 500, 120]  # M1's 08:00 is before 08:30
    rate = 3600 / 30 + 3600 / 60 + 3600 / 20 + 3600 / 45
    assert df["target"].tolist() == pytest.approx([rate * 30 / 60, rate, rate * 15 / 60])


def test_overview(db: Database, plant: dict[str, int]) -> None:
    with db.read() as s:
        doc = overview(s, LO, HI)
    assert set(doc) == {
        "from", "to", "machines", "utilization", "oee", "oee_by_area", "open_tickets",
        "mttr_hours", "mtbf_hours", "output", "planned_s", "teep", "target_good",
    }  # fmt: skip
    assert (doc["from"], doc["to"]) == ("2026-03-02T08:00:00Z", "2026-03-02T16:00:00Z")
    assert doc["machines"] == {
        "total": 4,
        "by_status": {
            "running": 1, "idle": 1, "setup": 0, "down": 1, "maintenance": 0, "offline": 1,
        },
    }  # fmt: skip
    running, planned = 5.5 * H + 3 * H + 5 * H, 4 * 8 * H
    ideal, good, total = 30.0 * 360 + 60.0 * 190 + 20.0 * 750, 1230, 1300
    assert doc["utilization"] == rounded(running / (4 * 8 * H))
    assert doc["oee"] == {
        "availability": rounded(running / planned),
        "performance": rounded(ideal / running),
        "quality": rounded(good / total),
        "oee": rounded(running / planned * ideal / running * good / total),
    }
    assert [a["area"] for a in doc["oee_by_area"]] == ["Assembly", "Machining"]
    assert doc["oee_by_area"][1] == {
        "area": "Machining",
        "availability": rounded(5 * H / (16 * H)),
        "performance": rounded(20.0 * 750 / (5 * H)),
        "quality": rounded(700 / 750),
        "oee": rounded(5 * H / (16 * H) * (20.0 * 750) / (5 * H) * 700 / 750),
    }
    assert doc["open_tickets"] == {
        "total": 4,
        "by_priority": {"low": 1, "medium": 0, "high": 2, "critical": 1},
    }
    assert doc["mttr_hours"] == rounded((1 + 0.5 + 3 + 0.5) / 4)
    assert doc["mtbf_hours"] == rounded((5.5 + 3 + 5) / 3)
    assert doc["output"] == {"good": 1230, "scrap": 70}
    assert doc["planned_s"] == planned
    assert doc["teep"] == doc["oee"]["oee"]  # every hour planned
    # 8 h at 30, 60, 20 and 45 s per part
    assert doc["target_good"] == round(8 * H / 30 + 8 * H / 60 + 8 * H / 20 + 8 * H / 45)
    assert all(round(f, 4) == f for f in floats(doc))


def test_overview_raw_sql_agrees_with_overview(db: Database, plant: dict[str, int]) -> None:
    with db.read() as s:
        raw = overview_raw_sql(s, LO, HI)
        doc = overview(s, LO, HI)
    assert raw == {
        "machines": 4,
        "running_s": pytest.approx(5.5 * H + 3 * H + 5 * H),
        "offline_s": pytest.approx(2 * H + 0 + 2.5 * H),
        "good": 1230,
        "scrap": 70,
        "ideal_s": pytest.approx(30.0 * 360 + 60.0 * 190 + 20.0 * 750),
        "running_planned_s": pytest.approx(5.5 * H + 3 * H + 5 * H),  # no calendar: all of it
    }
    elapsed = raw["machines"] * ELAPSED
    planned = elapsed  # an empty calendar plans every hour
    assert doc["utilization"] == rounded(raw["running_s"] / elapsed)
    assert doc["oee"]["availability"] == rounded(raw["running_s"] / planned)
    assert doc["oee"]["performance"] == rounded(raw["ideal_s"] / raw["running_s"])
    assert doc["oee"]["quality"] == rounded(raw["good"] / (raw["good"] + raw["scrap"]))
    assert doc["output"] == {"good": raw["good"], "scrap": raw["scrap"]}


def test_empty_plant_overview(db: Database) -> None:
    with db.read() as s:
        doc = overview(s, LO, HI)
        raw = overview_raw_sql(s, LO, HI)
    assert doc["machines"]["total"] == 0 and doc["oee_by_area"] == []
    assert doc["utilization"] == 0.0 and doc["oee"]["oee"] == 0.0
    assert doc["mttr_hours"] is None and doc["mtbf_hours"] is None
    assert raw == {
        "machines": 0, "running_s": 0.0, "offline_s": 0.0, "good": 0, "scrap": 0, "ideal_s": 0.0,
        "running_planned_s": 0.0,
    }  # fmt: skip


def test_a_reversed_window_is_refused(db: Database) -> None:
    with db.read() as s, pytest.raises(ValidationFailed, match="end must be after"):
        overview(s, HI, LO)
