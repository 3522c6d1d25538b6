"""Plant-local time in headless Chromium against a real server whose plant is in
America/Chicago while the browser runs in Asia/Tokyo: the dashboard, the production page, the
maintenance hub and the wall show the plant's clock, say its zone once, and open on the
current shift with its name and progress; the production page's shift table follows the
calendar and links the CSV of the day shown.

The calendar is built around the moment the test runs: the shift running now ("Late") began
at the last full local hour but one and runs seven more hours, so no shift change falls in a
run of the test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from devtools.browser import PageWatch, browser  # noqa: F401 - fixture
from devtools.factories import add_machines
from devtools.live_server import LiveServer
from tests.waiting import open_signed_in, wait_for_dash_idle, wait_until

pytestmark = pytest.mark.browser

PLANT = ZoneInfo("America/Chicago")
BROWSER_ZONE = "Asia/Tokyo"  # never the plant's: a time on the browser's clock would show
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def hh(hour: int) -> str:
    return f"{hour % 24:02d}:00"


class Plan:
    """The calendar around now: Early, Late (running now) and Night, eight hours each."""

    def __init__(self, now: datetime) -> None:
        local = now.astimezone(PLANT)
        self.start_local = local.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        self.start = self.start_local.astimezone(UTC)
        h = self.start_local.hour
        self.span = f"{hh(h)}–{hh(h + 8)}"
        self.document = {
            "timezone": "America/Chicago",
            "shifts": [
                {"name": "Early", "start": hh(h - 8), "end": hh(h), "days": DAYS},
                {"name": "Late", "start": hh(h), "end": hh(h + 8), "days": DAYS},
                {"name": "Night", "start": hh(h + 8), "end": hh(h + 16), "days": DAYS},
            ],
        }


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("plant-time"), MILLDASH_PLANT_TZ="America/Chicago")
    add_machines(live.db, 3)
    live.start()
    try:
        live.plan = Plan(datetime.now(UTC))
        stored = requests.put(f"{live.url}/api/v1/calendar", json=live.plan.document,
                              headers=live.headers("admin"), timeout=10)  # fmt: skip
        assert stored.status_code == 200, stored.text
        for machine_id in (1, 2, 3):
            assert live.post(f"/machines/{machine_id}/status", {"status": "running"}).ok
            body = {"machine_id": machine_id, "good": 40, "scrap": 1}
            assert live.post("/production", body).status_code == 201
        yield live
    finally:
        live.stop()


@pytest.fixture
def watch(browser) -> Iterator[PageWatch]:  # noqa: F811
    with PageWatch(browser, timezone_id=BROWSER_ZONE) as w:
        yield w


def open_page(server: LiveServer, watch: PageWatch, path: str) -> Any:
    return open_signed_in(server, watch.page, path)


def plant_clock_shows(read: Any, seconds: bool = False) -> str:
    """The text `read()` gives, once it is the plant's time now (to the minute)."""

    def now_text() -> set[str]:
        now = datetime.now(PLANT)
        return {f"{t:%H:%M}" for t in (now - timedelta(seconds=2), now)}

    def matches() -> str | None:
        text = read() or ""
        return text if text[:5] in now_text() and (len(text) == 8) == seconds else None

    return wait_until(matches, 5, message=lambda: f"{read()!r} is not {now_text()} in Chicago")


def assert_time_line(page: Any, head: str, plan: Plan) -> None:
    """The head's time line: the current shift, its span and progress, and the zone, once."""
    expect(page.locator(f"{head} .zone-note")).to_have_text("Times in America/Chicago")
    expect(page.locator(".zone-note")).to_have_count(1)
    shift = page.locator(f"{head} .shift-head")
    expect(shift.locator(".shift-name")).to_have_text("Late shift")
    expect(shift.locator(".shift-span")).to_have_text(plan.span)
    expect(shift).to_have_attribute("data-running", "true")
    progress = float(shift.get_attribute("data-progress"))
    assert 1 / 8 <= progress < 2 / 8 + 0.01, progress  # 1 h to 2 h into an 8-h shift


def test_dashboard_shows_the_plant_clock_the_zone_and_the_current_shift(server, watch):
    page = open_page(server, watch, "/")
    assert_time_line(page, "#dash-time", server.plan)
    expect(page.locator("#dash-range label.active")).to_have_text("Current shift")
    expect(page.locator("#utilization-graph .gtitle")).to_have_text(
        "Utilization per machine, Late shift"
    )
    plant_clock_shows(lambda: page.text_content("#plant-clock"), seconds=True)
    assert watch.errors == []


def test_production_charts_and_shift_table_are_on_the_plant_calendar(server, watch):
    plan = server.plan
    page = open_page(server, watch, "/production")
    assert_time_line(page, "#production-time", plan)
    # The chart starts at the shift's first hour, labelled on the plant's clock.
    first_tick = page.locator("#output-graph .xtick text").first
    expect(first_tick).to_contain_text(f"{plan.start_local:%H}:00")
    # Today's shifts, as the API has them, in calendar order, with the CSV of the day.
    today = datetime.now(PLANT).date()
    api = server.get(f"/shifts/report?date={today}").json()["items"]
    rows = page.locator("#shift-table tbody tr")
    expect(rows).to_have_count(len(api))
    starts = [r.get_attribute("data-start") for r in rows.all()]
    assert starts == [i["start"] for i in api] == sorted(starts)
    expect(page.locator("#shift-csv")).to_have_attribute(
        "href", f"/api/v1/shifts/report.csv?date={today}"
    )
    # The day the running shift began (chosen as the date picker would), then the day before.
    for day in (plan.start_local.date(), plan.start_local.date() - timedelta(days=1)):
        choose_day(page, day)
        expect(page.locator("#shift-csv")).to_have_attribute(
            "href", f"/api/v1/shifts/report.csv?date={day}"
        )
        expect(page.locator("#shift-table [data-day]")).to_have_attribute(
            "data-day", day.isoformat()
        )
    choose_day(page, plan.start_local.date())
    late = page.locator('#shift-table tr[data-shift="Late"]')
    expect(late).to_contain_text("Late shift")
    expect(late).to_contain_text("running")
    expect(late.locator(".shift-time")).to_have_text(plan.span)
    expect(late).to_have_attribute("data-start", plan.start.strftime("%Y-%m-%dT%H:%M:%SZ"))
    csv = requests.get(server.url + page.get_attribute("#shift-csv", "href"),
                       headers=server.headers(), timeout=10)  # fmt: skip
    assert csv.status_code == 200 and "Late" in csv.text
    assert watch.errors == []


def choose_day(page: Any, day: date) -> None:
    page.evaluate(
        "(day) => window.dash_clientside.set_props('shift-date', {date: day})", day.isoformat()
    )
    wait_for_dash_idle(page, 20)


def test_maintenance_alerts_carry_their_plant_local_moment(server, watch):
    page = open_page(server, watch, "/maintenance")
    expect(page.locator("#maintenance-time .zone-note")).to_have_text("Times in America/Chicago")
    made = server.post("/tickets", {"machine_id": 2, "title": "Belt slips", "priority": "high"})
    assert made.status_code == 201
    stamp = datetime.fromisoformat(made.json()["created_at"].replace("Z", "+00:00"))
    item = page.locator(f'#alerts .alert-item[data-ticket-id="{made.json()["id"]}"]')
    item.wait_for(timeout=10000)
    # The age's tooltip is the moment on the plant's clock (the frame's time, a moment later
    # than the ticket's): drawn in the browser first, then by the server on a reload.
    allowed = {f"{(stamp + timedelta(seconds=s)).astimezone(PLANT):%Y-%m-%d %H:%M}" for s in (0, 5)}
    assert item.locator(".muted").first.get_attribute("title") in allowed
    page.reload()
    item.wait_for(timeout=15000)
    assert item.locator(".muted").first.get_attribute("title") in allowed
    plant_clock_shows(lambda: page.text_content("#plant-clock"), seconds=True)


def test_wall_shows_the_plant_clock_its_zone_and_the_current_shift(server, watch):
    plan = server.plan
    page = watch.page
    page.goto(f"{server.url}/wall?token={server.tokens['display']}")
    page.wait_for_selector("#wall .kpi-tile", timeout=15000)
    wait_for_dash_idle(page, 20)
    expect(page.locator("#wall-zone")).to_have_text("America/Chicago")
    plant_clock_shows(lambda: page.text_content("#wall-clock"))
    shift = page.locator("#wall-window .shift-head")
    expect(shift.locator(".shift-name")).to_have_text("Late shift")
    expect(shift.locator(".shift-span")).to_have_text(plan.span)
    view = page.locator("#wall-body .wall-view")
    expect(view).to_have_attribute("data-from", plan.start.strftime("%Y-%m-%dT%H:%M:%SZ"))
    expect(page.locator('[data-tile="oee"] .tile-label')).to_have_text("OEE this shift")
    # A new alert in the ticker says when, on the plant's clock.
    made = server.post("/tickets", {"machine_id": 3, "title": "Lamp out", "priority": "low"})
    item = page.locator("#wall-ticker .ticker-item", has_text="Lamp out")
    item.wait_for(timeout=10000)
    plant_clock_shows(lambda: item.locator(".ticker-time").text_content())
    assert made.status_code == 201 and watch.errors == []
