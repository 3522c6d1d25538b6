"""The wall's pure parts: URL options, the rotation, tile builders, and `render_wall` against a
real database (SQLite, and PostgreSQL when configured) with a fake clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from callbacks import Deps
from callbacks.wall import (
    WallOptions,
    current_view,
    match_area,
    parse_options,
    render_wall,
    rotate_timer,
    today_window,
    view_title,
    wall_views,
)
from components import wall as ui
from data.accounts.tokens import Principal
from data.read.machine_sums import overview
from data.store.models import Machine
from data.write.services import Services
from devtools.dash_tree import walk

AREAS = ["Assembly", "Machining"]


def kpis_of(component: Any) -> dict[str, tuple[Any, str]]:
    """data-kpi path -> (decoded data-value, text) for every overview number shown."""
    return {
        p["data-kpi"]: (json.loads(p["data-value"]), p["children"])
        for p in walk(component)
        if "data-kpi" in p
    }


def sample_overview(**changes: Any) -> dict[str, Any]:
    doc = {
        "from": "2026-03-02T00:00:00Z",
        "to": "2026-03-02T08:00:00Z",
        "machines": {
            "total": 5,
            "by_status": {
                "running": 3,
                "idle": 1,
                "setup": 0,
                "down": 1,
                "maintenance": 0,
                "offline": 0,
            },
        },
        "utilization": 0.5,
        "oee": {"availability": 0.8123, "performance": 0.9, "quality": 0.95, "oee": 0.6945},
        "oee_by_area": [],
        "open_tickets": {
            "total": 4,
            "by_priority": {"low": 1, "medium": 0, "high": 2, "critical": 1},
        },
        "mttr_hours": 0.75,
        "mtbf_hours": None,
        "output": {"good": 12345, "scrap": 67},
    }
    doc.update(changes)
    return doc


# -- options and rotation -------------------------------------------------------------------


def test_parse_options_reads_rotate_area_and_reload_hours():
    assert parse_options("?rotate=20&area=Machining&reload_hours=12") == WallOptions(
        20, "Machining", 12.0
    )
    assert parse_options("") == WallOptions()
    assert parse_options(None) == WallOptions()


@pytest.mark.parametrize(
    ("search", "rotate"),
    [("?rotate=1", 5), ("?rotate=99999", 3600), ("?rotate=abc", 0), ("?rotate=-4", 0),
     ("?rotate=inf", 0), ("?rotate=12.7", 12)],
)  # fmt: skip
def test_rotate_is_clamped_and_bad_values_are_ignored(search, rotate):
    assert parse_options(search).rotate == rotate


@pytest.mark.parametrize("raw", ["0", "-1", "nan", "x", "100000"])
def test_bad_reload_hours_are_ignored(raw):
    assert parse_options(f"?reload_hours={raw}").reload_hours is None


def test_rotate_timer_is_off_without_rotate():
    assert rotate_timer("") == (1000, True)
    assert rotate_timer("?rotate=30") == (30000, False)


def test_views_without_rotation_show_the_plant_only():
    assert wall_views(AREAS, WallOptions()) == ["plant"]


def test_rotation_goes_plant_then_each_area_then_the_queue():
    views = wall_views(AREAS, WallOptions(rotate=10))
    assert views == ["plant", "area:Assembly", "area:Machining", "queue"]
    assert [current_view(views, n) for n in range(6)] == [*views, *views[:2]]
    assert current_view(views, None) == "plant"


def test_area_filter_is_case_insensitive_and_scopes_every_view():
    assert match_area(AREAS, "machining") == "Machining"
    assert wall_views(AREAS, WallOptions(area="machining")) == ["area:Machining"]
    assert wall_views(AREAS, WallOptions(rotate=10, area="MACHINING")) == [
        "area:Machining",
        "queue:Machining",
    ]


def test_unknown_area_is_a_view_of_its_own():
    assert wall_views(AREAS, WallOptions(area="Paint")) == ["unknown-area:Paint"]


def test_view_titles():
    assert view_title("plant") == "Plant overview"
    assert view_title("area:Machining") == "Area Machining"
    assert view_title("queue:Machining") == "Maintenance queue · Machining"


def test_today_window_starts_at_midnight_utc_and_is_never_empty():
    now = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert today_window(now) == (datetime(2026, 3, 2, tzinfo=UTC), now)
    midnight = datetime(2026, 3, 3, tzinfo=UTC)
    lo, hi = today_window(midnight)
    assert lo == midnight and hi > lo


# -- tile builders --------------------------------------------------------------------------


def test_every_overview_number_on_a_board_carries_its_path_value_and_formatted_text():
    doc = sample_overview()
    shown = kpis_of(ui.board_view("plant", doc, 20000.0, [], []))
    for path, (value, _text) in shown.items():
        assert value == ui.lookup(doc, path), path
    assert shown["oee.oee"] == (0.6945, "69.5%")
    assert shown["oee.availability"] == (0.8123, "81.2%")
    assert shown["machines.by_status.running"] == (3, "3")
    assert shown["machines.total"] == (5, "5")
    assert shown["output.good"] == (12345, "12,345")
    assert shown["open_tickets.by_priority.critical"] == (1, "1")
    assert shown["mttr_hours"] == (0.75, "45 min")
    assert shown["mtbf_hours"] == (None, "–")
    expected = {"oee.oee", "oee.availability", "oee.performance", "oee.quality",
                "machines.total", "output.good", "output.scrap", "open_tickets.total",
                "mttr_hours", "mtbf_hours"}  # fmt: skip
    expected |= {f"machines.by_status.{s}" for s in ui.STATUS_ORDER}
    expected |= {f"open_tickets.by_priority.{p}" for p in ui.PRIORITY_ORDER}
    assert set(shown) == expected


def test_board_has_six_kpi_tiles_and_carries_its_window():
    view = ui.board_view("plant", sample_overview(), 1.0, [], [])
    props = list(walk(view))
    tiles = [p["data-tile"] for p in props if "kpi-tile" in p.get("className", "")]
    assert tiles == ["oee", "machines", "output", "tickets", "mttr", "downtime"]
    assert props[0]["data-from"] == "2026-03-02T00:00:00Z"
    assert props[0]["data-to"] == "2026-03-02T08:00:00Z"


def test_output_progress_against_the_target():
    doc = sample_overview(output={"good": 500, "scrap": 0})
    props = list(walk(ui.output_tile(doc, 1999.6)))
    target = next(p for p in props if p.get("data-metric") == "output-target")
    progress = next(p for p in props if p.get("data-metric") == "output-progress")
    assert target["children"] == "2,000" and progress["data-value"] == "0.2500"
    over = list(walk(ui.output_tile(sample_overview(output={"good": 50, "scrap": 0}), 10)))
    fill = next(p for p in over if p.get("className") == "progress-fill")
    assert fill["style"]["width"] == "100.0%"


def test_tickets_tile_raises_the_alarm_only_with_critical_tickets():
    assert "alarm" in ui.tickets_tile(sample_overview()).className
    calm = sample_overview(
        open_tickets={"total": 1, "by_priority": {"low": 1, "medium": 0, "high": 0, "critical": 0}}
    )
    assert "alarm" not in ui.tickets_tile(calm).className


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "–"), (0.0, "0 min"), (0.25, "15 min"), (1.0, "1.0 h"), (12.345, "12.3 h")],
)
def test_hours_format(value, text):
    assert ui.fmt_hours(value) == text


def test_big_numbers_shrink_to_fit_their_tile():
    assert ui.fit_size("12", 35) == 10.0
    assert ui.fit_size("1,234,567", 35) < 10.0
    assert ui.fit_size("1,234,567", 35) * 9 * 0.62 <= 35


@pytest.mark.parametrize("count", [1, 4, 7, 24, 60, 250])
def test_grid_shape_fits_every_machine(count):
    cols, rows = ui.grid_shape(count)
    assert cols * rows >= count and cols * rows - count < cols  # no empty row


def test_grid_shape_prefers_big_cells():
    assert ui.grid_shape(6) == (3, 2)
    assert ui.grid_shape(24) == (6, 4)


def test_machine_cells_carry_status_and_stack_light_colour():
    grid = ui.machine_grid([{"id": 7, "name": "M7", "area": "A", "status": "down"}])
    cell = grid.children[0]
    assert getattr(cell, "data-status") == "down" and getattr(cell, "data-machine-id") == "7"
    assert cell.style["--status-color"] == ui.STATUS_COLORS["down"]


def test_ticker_keeps_a_fixed_number_of_items():
    now = datetime(2026, 3, 2, 8, tzinfo=UTC)
    frames = [
        {
            "type": "maintenance_alert",
            "seq": i,
            "timestamp": "2026-03-02T07:00:00Z",
            "data": {"ticket_id": i, "machine_name": "M", "priority": "high", "title": "t"},
        }
        for i in range(40)
    ]
    items = [c for c in ui.ticker(frames, now) if "ticker-item" in (c.className or "")]
    assert len(items) == ui.TICKER_SIZE
    system = {"type": "system_alert", "seq": 1, "timestamp": "2026-03-02T07:59:30Z",
              "data": {"message": "Fire drill at 10:00", "level": "warning"}}  # fmt: skip
    texts = [p.get("children") for p in walk(ui.ticker_item(system, now))]
    assert "Fire drill at 10:00" in texts and "just now" in texts


# -- render_wall against a real database ----------------------------------------------------


def display() -> Principal:
    return Principal(name="tv-1", role="display", token_id=1)


@pytest.fixture
def plant(db, services: Services, clock) -> dict[str, Any]:
    """Two areas; status changes, output and tickets since midnight, one ticket 40 days old."""
    with db.write() as session:
        rows = [
            Machine(name=f"M{i}", area=area, kind="mill", ideal_cycle_time_s=30.0)
            for i, area in enumerate(["Assembly", "Assembly", "Machining"], start=1)
        ]
        session.add_all(rows)
        session.flush()
        ids = [m.id for m in rows]
    clock.now = datetime(2026, 1, 20, 8, tzinfo=UTC)
    services.create_ticket(
        {"machine_id": ids[2], "title": "Old leak", "priority": "low"}, "night-shift"
    )
    clock.now = datetime(2026, 3, 2, 1, tzinfo=UTC)
    for machine_id in ids:
        services.report_status(machine_id, {"status": "running"})
    clock.advance(hours=2)
    services.report_status(ids[0], {"status": "down", "reason": "jam"})
    services.record_production({"machine_id": ids[0], "good": 120, "scrap": 4})
    services.record_production({"machine_id": ids[2], "good": 300, "scrap": 1})
    clock.advance(minutes=45)
    services.report_status(ids[0], {"status": "running"})
    services.report_status(ids[1], {"status": "maintenance", "reason": "service"})
    services.create_ticket(
        {"machine_id": ids[1], "title": "Spindle", "priority": "critical"}, "operator"
    )
    clock.advance(hours=1)
    return {"ids": ids}


def deps_for(db, services, who=display) -> Deps:
    return Deps(db=db, services=services, principal=who)


def test_plant_view_equals_the_overview_for_its_window(db, services, clock, plant):
    body, ticker, title = render_wall(deps_for(db, services), "", 0, now=clock.now)
    props = next(walk(body))
    assert title == "Plant overview" and props["data-view"] == "plant"
    lo = datetime.fromisoformat(props["data-from"])
    hi = datetime.fromisoformat(props["data-to"])
    assert (lo, hi) == today_window(clock.now)
    with db.read() as session:
        api = overview(session, lo, hi)
    shown = kpis_of(body)
    assert {path: value for path, (value, _) in shown.items()} == {
        path: ui.lookup(api, path) for path in shown
    }
    assert api["open_tickets"]["total"] == 2  # the 40-day-old ticket counts
    assert shown["mttr_hours"] == (0.75, "45 min")
    reasons = [p for p in walk(body) if p.get("data-metric") == "downtime"]
    assert [(r["data-reason"], float(r["data-value"])) for r in reasons] == [("jam", 2700.0)]
    cells = [p for p in walk(body) if "data-machine-id" in p]
    assert [c["data-status"] for c in cells] == ["running", "maintenance", "running"]
    assert len([c for c in ticker if "ticker-item" in (c.className or "")]) == 2


def test_area_view_scopes_tiles_grid_and_tickets(db, services, clock, plant):
    body, _, title = render_wall(deps_for(db, services), "?area=machining", 0, now=clock.now)
    props = next(walk(body))
    assert props["data-view"] == "area:Machining" and title == "Area Machining"
    lo = datetime.fromisoformat(props["data-from"])
    hi = datetime.fromisoformat(props["data-to"])
    with db.read() as session:
        api = overview(session, lo, hi)
    area = next(a for a in api["oee_by_area"] if a["area"] == "Machining")
    shown = kpis_of(body)
    for key in ("availability", "performance", "quality", "oee"):
        assert shown[f"oee.{key}"][0] == area[key]
    assert shown["machines.total"][0] == 1
    assert shown["output.good"][0] == 300
    assert shown["open_tickets.total"][0] == 1  # the old low one on M3 only
    assert [p["data-machine-id"] for p in walk(body) if "data-machine-id" in p] == [
        str(plant["ids"][2])
    ]
    assert not [p for p in walk(body) if p.get("data-metric") == "downtime"]


def test_queue_view_lists_open_tickets_however_old_most_urgent_first(db, services, clock, plant):
    # rotate: the queue is the last view (plant, Assembly, Machining, queue)
    body, _, title = render_wall(deps_for(db, services), "?rotate=10", 3, now=clock.now)
    assert title == "Maintenance queue"
    rows = [p for p in walk(body) if "data-ticket-id" in p]
    assert [r["className"] for r in rows] == ["queue-row prio-critical", "queue-row prio-low"]
    texts = [p.get("children") for p in walk(body)]
    assert "Old leak" in texts and "40 d 20 h" in texts


def test_rotation_follows_the_timer(db, services, clock, plant):
    deps = deps_for(db, services)
    views = [next(walk(render_wall(deps, "?rotate=10", n, now=clock.now)[0]))["data-view"]
             for n in range(5)]  # fmt: skip
    assert views == ["plant", "area:Assembly", "area:Machining", "queue", "plant"]


def test_unknown_area_says_which_areas_exist(db, services, clock, plant):
    body, _, title = render_wall(deps_for(db, services), "?area=Paint", 0, now=clock.now)
    texts = [p.get("children") for p in walk(body)]
    assert title == "Unknown area" and "Areas: Assembly, Machining" in texts


def test_nobody_signed_in_sees_how_to_sign_the_display_in(db, services, clock, plant):
    body, ticker, title = render_wall(deps_for(db, services, lambda: None), "", 0, now=clock.now)
    assert title == "Not signed in" and ticker == []
    assert not kpis_of(body)


def test_an_empty_plant_renders(db, services, clock):
    body, _, _ = render_wall(deps_for(db, services), "?rotate=5", 0, now=clock.now)
    shown = kpis_of(body)
    assert shown["machines.total"] == (0, "0") and shown["oee.oee"] == (0.0, "0.0%")
    queue, _, _ = render_wall(deps_for(db, services), "?rotate=5", 1, now=clock.now)
    assert next(walk(queue))["data-view"] == "queue"


def test_window_rolls_over_at_midnight(db, services, clock, plant):
    later = clock.now + timedelta(days=1)
    body, _, _ = render_wall(deps_for(db, services), "", 0, now=later)
    shown = kpis_of(body)
    assert shown["output.good"][0] == 0 and shown["open_tickets.total"][0] == 2
