"""Times on the plant's clock and the shift views, as plain functions against a real database
(SQLite, and PostgreSQL when configured) with a fake clock: the formatting helpers on
daylight-saving days, the windows (current shift, today), the shift badge, the production
page's shift table in calendar order with its CSV link, and the wall on the current shift
with its planned target."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from callbacks import Deps
from callbacks.dashboard import render as render_dashboard
from callbacks.machines import detail
from callbacks.production import production_content, shift_section
from callbacks.production import render as render_production
from callbacks.wall import render_wall, wall_head
from callbacks.windows import Window, head_parts, today, window
from components.figures import output_figure
from components.time_axis import local_ticks
from components.wording import PlantClock
from data.accounts.tokens import Principal
from data.calendar.document import CalendarDocument
from data.calendar.schedule import Calendar
from data.read.analytics import shift_report
from data.read.machine_sums import overview
from data.store.models import Machine
from devtools.dash_tree import texts, walk

BERLIN = PlantClock(ZoneInfo("Europe/Berlin"))
CHICAGO = PlantClock(ZoneInfo("America/Chicago"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def text_of(component: Any) -> str:
    return "".join(texts(component))


# -- the formatting helpers on daylight-saving days -----------------------------------------


@pytest.mark.parametrize(
    ("clock", "instant", "time", "day"),
    [
        # Berlin springs forward on Sun 29 Mar 2026 at 02:00 CET (01:00 UTC) to 03:00 CEST.
        (BERLIN, utc(2026, 3, 29, 0, 59), "01:59", "Sun 29 Mar"),
        (BERLIN, utc(2026, 3, 29, 1, 0), "03:00", "Sun 29 Mar"),
        # ... and falls back on Sun 25 Oct 2026: 02:00-03:00 happens twice.
        (BERLIN, utc(2026, 10, 25, 0, 30), "02:30 CEST", "Sun 25 Oct"),
        (BERLIN, utc(2026, 10, 25, 1, 30), "02:30 CET", "Sun 25 Oct"),
        (BERLIN, utc(2026, 10, 25, 2, 30), "03:30", "Sun 25 Oct"),
        # Chicago springs forward on Sun 8 Mar 2026 at 02:00 CST (08:00 UTC).
        (CHICAGO, utc(2026, 3, 8, 7, 59), "01:59", "Sun 8 Mar"),
        (CHICAGO, utc(2026, 3, 8, 8, 0), "03:00", "Sun 8 Mar"),
        # ... and falls back on Sun 1 Nov 2026: 01:00-02:00 happens twice.
        (CHICAGO, utc(2026, 11, 1, 6, 30), "01:30 CDT", "Sun 1 Nov"),
        (CHICAGO, utc(2026, 11, 1, 7, 30), "01:30 CST", "Sun 1 Nov"),
        # Late evening local is the next day in UTC.
        (CHICAGO, utc(2026, 11, 2, 5, 15), "23:15", "Sun 1 Nov"),
    ],
)
def test_the_plant_clock_reads_daylight_saving_days(clock, instant, time, day):
    assert clock.time(instant) == time
    assert clock.day(instant) == day
    assert clock.when(instant) == f"{day} {time}"


def test_stamps_spans_and_the_zone_note():
    assert CHICAGO.stamp(utc(2026, 11, 2, 5, 15)) == "2026-11-01 23:15"
    assert BERLIN.stamp(utc(2026, 3, 29, 1, 0)) == "2026-03-29 03:00"
    assert CHICAGO.span(utc(2026, 3, 2, 20), utc(2026, 3, 3, 4)) == "14:00–22:00"
    assert CHICAGO.note == "Times in America/Chicago"
    assert CHICAGO.today(utc(2026, 3, 3, 3)) == date(2026, 3, 2)
    # Naive datetimes are UTC (the data layer's).
    assert BERLIN.time(datetime(2026, 7, 1, 12, 0)) == "14:00"
    assert PlantClock().time(utc(2026, 7, 1, 12, 0)) == "12:00"


@pytest.mark.parametrize(
    ("zone", "now", "hours"),
    [
        ("Europe/Berlin", utc(2026, 3, 29, 21, 59), 22 + 59 / 60),  # 23:59 CEST, a 23-h day
        ("Europe/Berlin", utc(2026, 10, 25, 22, 59), 24 + 59 / 60),  # 23:59 CET, a 25-h day
        ("America/Chicago", utc(2026, 3, 9, 4, 59), 22 + 59 / 60),  # 23:59 CDT, a 23-h day
        ("America/Chicago", utc(2026, 11, 2, 5, 59), 24 + 59 / 60),  # 23:59 CST, a 25-h day
    ],
)
def test_today_starts_at_plant_local_midnight(zone, now, hours):
    lo, hi = today(Calendar(CalendarDocument(timezone=zone)), now)
    assert hi == now
    assert (hi - lo).total_seconds() / 3600 == pytest.approx(hours)
    assert PlantClock(ZoneInfo(zone)).time(lo) == "00:00"


def test_an_hourly_chart_of_a_25_hour_day_has_25_bars_on_the_plant_clock():
    start = utc(2026, 11, 1, 5)  # 00:00 CDT
    hours = pd.Series(pd.date_range(start, periods=25, freq="h", tz="UTC"))
    frame = pd.DataFrame({"hour": hours.dt.tz_convert("America/Chicago"), "good": 1,
                          "scrap": 0, "target": 2.0})  # fmt: skip
    fig = json.loads(output_figure(frame, "t", "hour", CHICAGO).to_json())
    good = fig["data"][0]
    assert len(set(good["x"])) == 25  # every hour at its own instant
    assert good["customdata"][1] == "Sun 1 Nov 01:00 CDT–01:00 CST"
    assert good["customdata"][2] == "Sun 1 Nov 01:00 CST–02:00"
    assert good["customdata"][-1] == "Sun 1 Nov 23:00–00:00"
    axis = fig["layout"]["xaxis"]
    assert axis["ticktext"][0] == "00:00<br>Sun 1 Nov"
    assert "T05:00:00" in axis["tickvals"][0]  # local midnight, placed at its UTC instant


def test_axis_ticks_fall_on_round_local_hours_and_days():
    ticks, labels = local_ticks(BERLIN, utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))
    assert labels == ["00:00<br>Sun 29 Mar", "04:00", "08:00", "12:00", "16:00", "20:00",
                      "00:00<br>Mon 30 Mar"]  # fmt: skip
    assert ticks[1] == utc(2026, 3, 29, 2)  # 04:00 CEST, two hours after 00:00 CET
    _, days = local_ticks(CHICAGO, utc(2026, 10, 20, 5), utc(2026, 11, 19, 12))
    assert days[0] == "Tue 20 Oct" and len(days) <= 8


# -- windows and the shift badge --------------------------------------------------------------

SHIFTS = [  # listed out of time order on purpose: the views go by the clock
    {"name": "Late", "start": "14:00", "end": "22:00", "days": ["mon", "tue", "wed", "thu", "fri"]},
    {"name": "Night shift", "start": "22:00", "end": "06:00", "days": ["mon", "tue", "wed", "thu", "fri"]},  # noqa: E501
    {"name": "Early", "start": "06:00", "end": "14:00", "days": ["mon", "tue", "wed", "thu", "fri"],
     "breaks": [{"start": "10:00", "end": "10:30"}]},
]  # fmt: skip
DAY_SHIFTS = [s for s in SHIFTS if s["name"] != "Night shift"]


def chicago(shifts: list[dict[str, Any]]) -> Calendar:
    return Calendar(CalendarDocument.model_validate({"timezone": "America/Chicago",
                                                     "shifts": shifts}))  # fmt: skip


def test_the_current_shift_window_and_badge():
    cal = chicago(SHIFTS)
    now = utc(2026, 3, 2, 23)  # Mon 17:00 CST: 3 h into Late, 14:00-22:00
    span = window("shift", now, cal)
    assert (span.lo, span.hi) == (utc(2026, 3, 2, 20), now)
    assert span.phrase == "Late shift" and span.shift is not None and span.shift.running
    assert span.shift.progress == pytest.approx(3 / 8)
    badge, note = head_parts(cal, now)
    assert text_of(badge) == "Late shift · 14:00–22:00 · 38 %"
    assert next(walk(badge))["data-shift"] == "Late"
    assert texts(note) == ["Times in America/Chicago"]
    assert next(walk(note))["data-plant-zone"] == "America/Chicago"
    # A shift named "... shift" is not a "shift shift".
    assert window("shift", utc(2026, 3, 3, 5), cal).phrase == "Night shift"


def test_between_shifts_the_window_is_the_last_shift_and_the_badge_names_the_next():
    cal = chicago(DAY_SHIFTS)
    now = utc(2026, 3, 7, 15)  # Sat 09:00: the last shift was Friday's Late
    span = window("shift", now, cal)
    assert (span.lo, span.hi) == (utc(2026, 3, 6, 20), utc(2026, 3, 7, 4))
    assert span.shift is not None and not span.shift.running
    assert span.phrase == "Late shift, Fri 6 Mar"
    badge, _note = head_parts(cal, now)
    # Monday 06:00 is CST; the clocks change on Sunday 8 March only.
    assert text_of(badge) == (
        "Late shift · Fri 6 Mar 14:00–22:00 · ended · next: Early shift Mon 9 Mar 06:00"
    )


def test_other_ranges_and_a_plant_without_shifts():
    cal = chicago([])
    now = utc(2026, 3, 2, 23)
    assert window("shift", now, cal) == Window(utc(2026, 3, 2, 6), now, "today")  # no shifts
    assert window("today", now, cal).lo == utc(2026, 3, 2, 6)  # 00:00 CST
    assert window("8h", now, cal) == Window(now - timedelta(hours=8), now, "last 8 h")
    assert window(None, now, cal).phrase == "last 24 h"
    assert len(head_parts(cal, now)) == 1  # the zone note only


# -- pages against a database -----------------------------------------------------------------


def viewer() -> Principal:
    return Principal(name="tv-1", role="display", token_id=1)


@pytest.fixture
def plant(db, services, clock) -> dict[str, Any]:
    """Chicago, three shifts (Mon-Fri); two presses and a mill running since Sunday evening,
    output through Monday 2 March, a down spell and a ticket in its Late shift."""
    services.replace_calendar({"timezone": "America/Chicago", "shifts": SHIFTS})
    clock.now = utc(2026, 3, 2, 0)  # Sun 18:00 local
    with db.write() as session:
        rows = [
            Machine(name=name, area=area, kind="press", ideal_cycle_time_s=36.0,
                    created_at=clock.now)
            for name, area in (("P1", "Press"), ("P2", "Press"), ("M1", "Mill"))
        ]  # fmt: skip
        session.add_all(rows)
        session.flush()
        ids = [m.id for m in rows]
    for machine_id in ids:
        services.report_status(machine_id, {"status": "running"})
    while clock.now < utc(2026, 3, 3, 8):  # until Tue 02:00 local
        clock.advance(hours=1)
        for machine_id in ids:
            services.record_production({"machine_id": machine_id, "good": 80, "scrap": 2})
        if clock.now == utc(2026, 3, 2, 21):  # 15:00 local, Late shift
            services.report_status(ids[0], {"status": "down", "reason": "hydraulic leak"})
            services.create_ticket({"machine_id": ids[0], "title": "Leak", "priority": "high"},
                                   "op")  # fmt: skip
        if clock.now == utc(2026, 3, 2, 22):
            services.report_status(ids[0], {"status": "running"})
    clock.now = utc(2026, 3, 3, 9)  # Tue 03:00 local, the Night shift of Monday runs
    return {"ids": ids}


def test_the_shift_table_lists_the_day_in_calendar_order_and_links_its_csv(db, clock, plant):
    table, href = shift_section(db, "2026-03-02", None, clock.now)
    rows = [p for p in walk(table) if "data-shift" in p]
    assert [r["data-shift"] for r in rows] == ["Early", "Late", "Night shift"]
    starts = [r["data-start"] for r in rows]
    assert starts == ["2026-03-02T12:00:00Z", "2026-03-02T20:00:00Z", "2026-03-03T04:00:00Z"]
    assert href == "/api/v1/shifts/report.csv?date=2026-03-02"
    with db.read() as session:
        items = shift_report(session, date(2026, 3, 2), clock.now)
    words = texts(table)
    for item in items:  # every number the API has for the shift, on the plant's clock
        assert f"{item['target_good']:,}" in words and f"{item['good']:,}" in words
    assert "06:00–14:00" in words and "14:00–22:00" in words and "22:00–06:00" in words
    assert "running" in words  # the Night shift is still on
    late = items[1]
    assert late["tickets_opened"] == 1 and "hydraulic leak 1 h" in words
    assert late["downtime_by_reason"] == {"hydraulic leak": 3600.0}
    assert "1 / 0" in words
    # Output against the planned target: the Early shift has a 30-minute break.
    early = items[0]
    assert early["target_good"] == 3 * 100 * 7.5


def test_another_day_an_area_and_a_day_without_shifts(db, clock, plant):
    _table, href = shift_section(db, "2026-03-02", "Press", clock.now)
    assert href == "/api/v1/shifts/report.csv?date=2026-03-02&area=Press"
    table, href = shift_section(db, None, None, clock.now)  # today: Tue, nothing started yet
    assert href == "/api/v1/shifts/report.csv?date=2026-03-03"
    assert texts(table) == ["No shift has started yet today."]
    table, _ = shift_section(db, "2026-03-01", None, clock.now)  # a Sunday
    assert texts(table) == ["No shift on Sun 1 Mar."]
    _table, href = shift_section(db, "2026-04-01", None, clock.now)  # never after today
    assert href.endswith("date=2026-03-03")


def test_pages_open_on_the_current_shift(db, services, clock, plant, monkeypatch):
    monkeypatch.setattr("callbacks.dashboard.utcnow", lambda: clock.now)
    deps = Deps(db=db, services=services, principal=viewer)
    for page, selector in ((render_dashboard(deps), "dash-range"),
                           (render_production(deps), "production-range")):  # fmt: skip
        radios = next(p for p in walk(page) if p.get("id") == selector)
        assert radios["value"] == "shift"
        assert [o["label"] for o in radios["options"]][:2] == ["Current shift", "Today"]
        assert "Times in America/Chicago" in texts(page)


def test_production_output_is_on_the_plant_clock_with_the_planned_target(db, clock, plant):
    _summary, output, _m, _a = production_content(db, None, "shift", clock.now)
    fig = json.loads(output.to_json())
    assert fig["layout"]["title"]["text"] == "Output vs target by hour, Night shift"
    assert fig["layout"]["xaxis"]["ticktext"][0] == "22:00<br>Mon 2 Mar"
    # An hour outside every shift asks for nothing: Sunday evening, before the first shift.
    summary, sunday, _m, _a = production_content(db, None, "today", utc(2026, 3, 2, 5))
    assert sum(sunday.data[2].y) == 0  # the target line
    assert "–" in texts(summary)  # no output-vs-target share, so nothing red


def test_the_wall_opens_on_the_current_shift_with_its_planned_target(db, services, clock, plant):
    deps = Deps(db=db, services=services, principal=viewer)
    clock.now = utc(2026, 3, 2, 23)  # Mon 17:00 local: Late shift, 3 h in
    body, _ticker, _title = render_wall(deps, "", 0, now=clock.now)
    props = next(walk(body))
    assert props["data-from"] == "2026-03-02T20:00:00Z"
    assert props["data-to"] == "2026-03-02T23:00:00Z"
    labels = [p["children"] for p in walk(body) if p.get("className") == "tile-label"]
    assert "OEE this shift" in labels and "Downtime this shift" in labels
    with db.read() as session:
        api = overview(session, utc(2026, 3, 2, 20), clock.now)
    target = next(p for p in walk(body) if p.get("data-metric") == "output-target")
    assert target["data-value"] == str(api["target_good"]) == str(3 * 100 * 3)
    window_line, zone = wall_head(deps, "", clock.now)
    assert text_of(window_line) == "Late shift · 14:00–22:00 · 38 %"
    assert next(walk(zone))["data-plant-zone"] == "America/Chicago"
    # `?window=today`: since plant-local midnight.
    body, _t, _n = render_wall(deps, "?window=today", 0, now=clock.now)
    assert next(walk(body))["data-from"] == "2026-03-02T06:00:00Z"
    window_line, _zone = wall_head(deps, "?window=today", clock.now)
    assert window_line == "today since 00:00"


def test_the_wall_at_night_asks_nothing_of_an_offline_night(db, services, clock, plant):
    services.replace_calendar({"timezone": "America/Chicago", "shifts": DAY_SHIFTS})
    deps = Deps(db=db, services=services, principal=viewer)
    night = utc(2026, 3, 3, 9)  # Tue 03:00 local: no shift since Monday 22:00
    body, _t, _n = render_wall(deps, "?window=today", 0, now=night)
    target = next(p for p in walk(body) if p.get("data-metric") == "output-target")
    progress = next(p for p in walk(body) if p.get("className") == "progress-fill")
    assert target["data-value"] == "0" and progress["data-band"] == ""
    assert "no planned time · target " in texts(body)
    # The default window between shifts is the last shift, with the next one named.
    body, _t, _n = render_wall(deps, "", 0, now=night)
    assert next(walk(body))["data-from"] == "2026-03-02T20:00:00Z"
    assert "OEE last shift" in texts(body)
    window_line, _zone = wall_head(deps, "", night)
    assert text_of(window_line) == "Late shift · Mon 2 Mar 14:00–22:00 · ended"


def test_a_machines_detail_says_its_window_once_on_the_plant_clock(db, clock, plant):
    out = detail(db, f"?id={plant['ids'][0]}", "shift", utc(2026, 3, 2, 23))
    kpis = " ".join(texts(out[4]))
    assert "running, Late shift" in kpis and "last" not in kpis
    timeline = json.loads(out[5].to_json())
    assert timeline["layout"]["title"]["text"] == "State history, Late shift"
    assert timeline["layout"]["xaxis"]["ticktext"][0] == "14:00<br>Mon 2 Mar"
    hover = [row[1] for trace in timeline["data"] for row in trace["customdata"]]
    assert "Mon 2 Mar 15:00" in hover  # the leak began at 21:00 UTC
    out = detail(db, f"?id={plant['ids'][0]}", "24h", utc(2026, 3, 2, 23))
    assert "running, last 24 h" in " ".join(texts(out[4]))
