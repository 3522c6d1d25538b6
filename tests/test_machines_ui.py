"""The supervisor's machine views as plain functions, against a real database (SQLite, and
PostgreSQL when configured) with a fake clock: why and since when each machine is in its state
(one query for the machines page and the wall), charts that follow the page's range (by day
above 48 h, summed in SQL), utilization coloured by the measure, and the wording."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from callbacks import Deps
from callbacks.dashboard import dashboard_content
from callbacks.machines import board, detail
from callbacks.production import production_content
from callbacks.wall import render_wall
from components.figures import utilization_figure
from components.machine_status import status_line
from components.machines import machine_detail_layout, machine_tile, ticket_list
from components.theme import BAND_COLORS, UTILIZATION_BANDS
from data.accounts.tokens import Principal
from data.read.hourly_output import output_by_bucket, output_by_hour
from data.read.machine_board import machine_states
from data.read.state_days import state_time_by_day
from data.store.models import Machine
from devtools.dash_tree import texts, walk

ROOT = Path(__file__).resolve().parent.parent


def with_class(component: Any, name: str) -> list[dict[str, Any]]:
    return [p for p in walk(component) if name in (p.get("className") or "").split()]


@pytest.fixture
def plant(db, services, clock) -> dict[str, int]:
    """Four machines, 40 days of history on M1; tickets of every kind on M1-M3.

    M1 Press   down "hydraulic leak" since 07:37 (23 min before 08:00), ticket #t1 high
               assigned to dora, an older critical one closed
    M2 Lathe   idle since 07:55, an open critical ticket (unassigned) and a newer low one
    M3 Mill    running, one ticket in progress
    M4 Spare   no history, no tickets
    """
    with db.write() as session:
        rows = [
            Machine(
                name=name,
                area=area,
                kind="mill",
                ideal_cycle_time_s=36.0,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
            for name, area in [("M1", "Press"), ("M2", "Press"), ("M3", "Mill"), ("M4", "Mill")]
        ]
        session.add_all(rows)
        session.flush()
        m1, m2, m3, m4 = (m.id for m in rows)
    start = datetime(2026, 1, 20, 0, tzinfo=UTC)
    clock.now = start
    for machine_id in (m1, m2, m3):
        services.report_status(machine_id, {"status": "running"})
    # 40 days of output on M1, one report every 6 hours.
    while clock.now < datetime(2026, 3, 2, 7, tzinfo=UTC):
        clock.advance(hours=6)
        services.record_production({"machine_id": m1, "good": 100, "scrap": 2})
    clock.now = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    old = services.create_ticket(
        {"machine_id": m1, "title": "Old fault", "priority": "critical"}, "op"
    )
    services.update_ticket(old["id"], {"status": "cancelled"}, "op")
    clock.now = datetime(2026, 3, 2, 7, 37, tzinfo=UTC)
    services.report_status(m1, {"status": "down", "reason": "hydraulic leak"})
    t1 = services.create_ticket(
        {"machine_id": m1, "title": "Leak", "priority": "high", "assignee": "dora"}, "op"
    )
    clock.now = datetime(2026, 3, 2, 7, 50, tzinfo=UTC)
    crit = services.create_ticket(
        {"machine_id": m2, "title": "Guard", "priority": "critical"}, "op"
    )
    services.report_status(m2, {"status": "idle"})  # 07:50 -> idle, then a newer low ticket
    clock.now = datetime(2026, 3, 2, 7, 55, tzinfo=UTC)
    services.create_ticket({"machine_id": m2, "title": "Lamp", "priority": "low"}, "op")
    t3 = services.create_ticket({"machine_id": m3, "title": "Chips", "priority": "medium"}, "op")
    services.update_ticket(t3["id"], {"status": "in_progress"}, "op")
    clock.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    return {
        "m1": m1,
        "m2": m2,
        "m3": m3,
        "m4": m4,
        "t1": t1["id"],
        "crit": crit["id"],
        "t3": t3["id"],
    }


NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


# -- the one query: why and since when ------------------------------------------------------


def test_machine_states_say_why_since_when_and_the_lead_ticket(db, plant):
    with db.read() as session:
        rows = {r["name"]: r for r in machine_states(session)}
    m1, m2, m3, m4 = rows["M1"], rows["M2"], rows["M3"], rows["M4"]
    assert (m1["status"], m1["reason"], m1["since"]) == (
        "down",
        "hydraulic leak",
        "2026-03-02T07:37:00Z",
    )
    # The cancelled critical ticket does not count.
    assert (m1["open_tickets"], m1["top_priority"], m1["ticket_id"], m1["assignee"]) == (
        1,
        "high",
        plant["t1"],
        "dora",
    )
    # The older critical ticket leads over the newer low one.
    assert (m2["status"], m2["open_tickets"], m2["top_priority"], m2["ticket_id"]) == (
        "idle",
        2,
        "critical",
        plant["crit"],
    )
    assert m2["assignee"] is None
    # A ticket in progress is open.
    assert (m3["open_tickets"], m3["ticket_id"]) == (1, plant["t3"])
    assert (m4["open_tickets"], m4["top_priority"], m4["ticket_id"], m4["reason"]) == (
        0,
        None,
        None,
        None,
    )
    with db.read() as session:
        assert [r["name"] for r in machine_states(session, "Mill")] == ["M3", "M4"]


def test_status_line_says_why_and_since_when(db, plant):
    with db.read() as session:
        rows = {r["name"]: r for r in machine_states(session)}
    assert status_line(rows["M1"], NOW) == f"DOWN 23 min · hydraulic leak · #{plant['t1']} · dora"
    # Never a plain IDLE with a critical ticket open.
    assert status_line(rows["M2"], NOW) == (
        f"IDLE 10 min · critical ticket #{plant['crit']} open · unassigned"
    )
    assert status_line(rows["M4"], NOW).startswith("IDLE ")


def test_machine_card_carries_status_badge_and_critical_outline(db, plant):
    with db.read() as session:
        rows = {r["name"]: r | {"utilization_24h": 0.8} for r in machine_states(session)}
    card = machine_tile(rows["M2"], NOW).children
    classes = card.className.split()
    assert {"machine-card", "status-idle", "has-critical"} <= set(classes)
    assert getattr(card, "data-status") == "idle"
    (badge,) = with_class(card, "ticket-badge")
    assert badge["data-count"] == "2" and badge["data-priority"] == "critical"
    assert "2 tickets · critical" in texts(card)
    assert any("critical ticket" in t for t in texts(card))
    plain = machine_tile(rows["M4"], NOW).children
    assert with_class(plain, "ticket-badge") == [] and "has-critical" not in plain.className
    assert "80.0% running, last 24 h" in texts(plain)


def test_board_and_wall_show_the_same_words(db, services, plant):
    cards = board(db, None, NOW)
    wall, _ticker, _title = render_wall(
        Deps(db=db, services=services, principal=lambda: Principal("tv", "display", 1)), "", 0, NOW
    )
    for component in (cards, wall):
        words = " ".join(texts(component))
        assert "hydraulic leak" in words and "dora" in words
        assert f"critical ticket #{plant['crit']} open" in words
        badges = with_class(component, "ticket-badge")
        assert sorted(b["data-count"] for b in badges) == ["1", "1", "2"]
    cells = {c["data-machine-id"]: c for c in with_class(wall, "machine-cell")}
    assert "has-critical" in cells[str(plant["m2"])]["className"]
    assert cells[str(plant["m1"])]["title"].startswith("DOWN 23 min · hydraulic leak")


# -- charts follow the page's range ---------------------------------------------------------


def figure_of(value: Any) -> dict[str, Any]:
    return json.loads(value.to_json()) if hasattr(value, "to_json") else value


def title_of(fig: Any) -> str:
    return figure_of(fig)["layout"]["title"]["text"]


def test_machine_detail_opens_on_the_cards_24_h():
    radios = [p for p in walk(machine_detail_layout()) if p.get("id") == "machine-range"]
    assert radios[0]["value"] == "24h"


@pytest.mark.parametrize(
    ("range_value", "text", "bars"),
    [("24h", "24 h", 24), ("7d", "7 days", 8), ("30d", "30 days", 31)],
)
def test_machine_detail_charts_follow_the_range(db, plant, range_value, text, bars):
    out = detail(db, f"?id={plant['m1']}", range_value, NOW)
    timeline, output = figure_of(out[5]), figure_of(out[6])
    assert title_of(timeline).endswith(f"last {text}")
    assert title_of(output).endswith(f"last {text}")
    assert len(output["data"][0]["x"]) == bars  # hourly up to 48 h, by day above
    assert ("by day" in title_of(output)) == (bars != 24)
    kpis = " ".join(texts(out[4]))
    assert f"last {text}" in kpis and "0 repairs" in kpis


def test_dashboard_charts_follow_the_range(db, plant):
    for range_value, text in (("8h", "8 h"), ("7d", "7 days"), ("30d", "30 days")):
        _kpis, util, states = dashboard_content(db, range_value, NOW)
        assert title_of(util).endswith(f"last {text}")
        assert title_of(states).endswith(f"last {text}")
    # 30 days: one bar per machine, day and state, not one per status period.
    _kpis, _util, states = dashboard_content(db, "30d", NOW)
    m1 = [x for trace in figure_of(states)["data"] for x in trace["y"] if x == "M1"]
    assert 30 <= len(m1) <= 31 * 2


def test_production_output_is_by_day_above_48_h(db, plant):
    _summary, output, by_machine, _by_area = production_content(db, None, "30d", NOW)
    assert title_of(output) == "Output vs target by day, last 30 days"
    assert len(figure_of(output)["data"][0]["x"]) == 31
    assert title_of(by_machine).endswith("last 30 days")
    _summary, output, *_ = production_content(db, None, "24h", NOW)
    assert len(figure_of(output)["data"][0]["x"]) == 24


def test_output_by_day_sums_the_hours_in_sql(db, plant):
    lo, hi = NOW - timedelta(days=30), NOW
    with db.read() as session:
        days = output_by_bucket(session, lo, hi)
        hours = output_by_hour(session, lo, hi)
    assert days.attrs["bucket_s"] == 86400 and len(days) == 31
    assert days["good"].sum() == hours["good"].sum() > 0
    assert days["target"].sum() == pytest.approx(hours["target"].sum())
    by_day = hours.groupby(hours["hour"].dt.floor("D"))["good"].sum()
    assert list(days["good"]) == list(by_day.reindex(days["hour"], fill_value=0))


def test_state_time_by_day_covers_each_day(db, plant):
    with db.read() as session:
        frame = state_time_by_day(session, NOW - timedelta(days=3), NOW)
    m1 = frame[frame["name"] == "M1"].groupby("day")["seconds"].sum()
    # The window starts at 08:00 three days ago (16 h of that day), full days, then 8 h today.
    assert list(m1.round()) == [16 * 3600.0, 86400.0, 86400.0, 8 * 3600.0]
    down = frame[(frame["name"] == "M1") & (frame["status"] == "down")]
    assert down["seconds"].sum() == pytest.approx(23 * 60)


def test_state_days_are_plant_local_days(db, plant):
    chicago = ZoneInfo("America/Chicago")
    lo = datetime(2026, 3, 7, tzinfo=chicago)  # clocks go forward on Sunday 8 March
    hi = datetime(2026, 3, 10, tzinfo=chicago)
    with db.read() as session:
        frame = state_time_by_day(session, lo, hi, zone=chicago)
    m1 = frame[frame["name"] == "M1"].groupby("day")["seconds"].sum()  # down all along
    assert list(m1.round()) == [24 * 3600.0, 23 * 3600.0, 24 * 3600.0]
    assert [d.astimezone(chicago).hour for d in m1.index] == [0, 0, 0]


# -- empty states, colours by measure, wording ----------------------------------------------


def test_unknown_machine_and_machine_without_history(db, plant):
    out = detail(db, "?id=999", "24h", NOW)
    assert out[0] is False and out[1] == "No machine 999" and out[3] is True
    assert "No machine 999" in texts(out[2])
    assert [p["href"] for p in walk(out[2]) if "href" in p] == ["/machines"]
    out = detail(db, f"?id={plant['m4']}", "24h", NOW)
    timeline, output = figure_of(out[5]), figure_of(out[6])
    assert timeline["layout"]["height"] >= 300 and output["layout"]["height"] >= 300
    assert [a["text"] for a in timeline["layout"]["annotations"]] == ["No data in this window"]
    # No parts, but a target: the output chart shows the target against zero.
    assert sum(out[6].data[0].y) + sum(out[6].data[1].y) == 0


def test_utilization_is_coloured_by_the_measure_with_a_legend():
    frame = pd.DataFrame(
        {
            "machine_id": [1, 2, 3],
            "name": ["A", "B", "C"],
            "area": ["X"] * 3,
            "status": ["down", "running", "idle"],
            "utilization": [0.8, 0.3, 0.6],
        }
    )
    fig = figure_of(utilization_figure(frame))
    bars = fig["data"][0]
    colours = dict(zip(bars["y"], bars["marker"]["color"], strict=True))
    # An 80 % bar of a machine that is down now is green: the colour is the measure's.
    assert colours == {"A": BAND_COLORS["good"], "B": BAND_COLORS["poor"], "C": BAND_COLORS["fair"]}
    legend = [t["name"] for t in fig["data"][1:]]
    green, amber = round(UTILIZATION_BANDS.green * 100), round(UTILIZATION_BANDS.amber * 100)
    assert legend == [f"≥ {green} %", f"{amber}–{green} %", f"< {amber} %"]
    assert "% of the time" in bars["hovertemplate"]


def test_thresholds_come_from_the_environment():
    env = {
        **os.environ,
        "MILLDASH_OEE_GREEN": "80",
        "MILLDASH_OEE_AMBER": "50%",
        "MILLDASH_TARGET_GREEN": "bogus",
    }
    code = (
        "from components.theme import OEE_BANDS, TARGET_BANDS;"
        "print(OEE_BANDS.green, OEE_BANDS.amber, TARGET_BANDS.green, OEE_BANDS.band(0.81))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["0.8", "0.5", "0.95", "good"]


def test_ticket_list_speaks_plainly():
    ticket = {
        "id": 4,
        "title": "Chips",
        "priority": "high",
        "status": "in_progress",
        "created_at": "2026-03-02T05:30:00Z",
        "assignee": None,
    }
    words = texts(ticket_list([ticket], NOW))
    assert "in progress" in words and "opened 2 h 30 min ago" in words and "unassigned" in words
    assert not any("T05:30" in w or "in_progress" in w for w in words)
