"""The machines page and the wall in headless Chromium against a real server: the detail keeps
its layout for an unknown id and a machine without history, its charts follow the range, and
every card and wall cell says why and since when, with its open-ticket badge."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from devtools.browser import PageWatch, browser  # noqa: F401 - fixture
from devtools.factories import add_machines
from devtools.live_server import LiveServer
from tests.waiting import open_signed_in


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Three machines: 1 down with a high ticket for dora, 2 idle with a critical ticket,
    3 never reported anything."""
    live = LiveServer(tmp_path_factory.mktemp("machines"))
    add_machines(live.db, 3)
    live.start()
    try:
        assert live.post("/machines/1/status", {"status": "down", "reason": "hydraulic leak"}).ok
        for body in (
            {"machine_id": 1, "title": "Leak at the ram", "priority": "high", "assignee": "dora"},
            {"machine_id": 2, "title": "Guard switch broken", "priority": "critical"},
        ):
            assert live.post("/tickets", body).status_code == 201
        assert live.post("/machines/2/status", {"status": "idle"}).ok
        yield live
    finally:
        live.stop()


@pytest.fixture
def watch(browser):  # noqa: F811
    with PageWatch(browser) as w:
        yield w


def open_page(server: LiveServer, watch: PageWatch, path: str) -> Any:
    return open_signed_in(server, watch.page, path)


def box(page: Any, selector: str) -> dict[str, float]:
    """The element's box once it is shown: a graph's code is loaded on demand, so under load it
    can appear a moment after the rest of the panel."""
    page.locator(selector).wait_for(state="visible", timeout=15000)
    found = page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not laid out"
    return found


def assert_stacked(upper: dict[str, float], lower: dict[str, float]) -> None:
    """`lower` starts at or below the bottom of `upper` (no overlap)."""
    assert lower["y"] >= upper["y"] + upper["height"] - 1, (upper, lower)


def test_unknown_machine_says_so_and_links_back(server, watch):
    page = open_page(server, watch, "/machines?id=999")
    missing = page.locator("#machine-detail-missing")
    expect(missing).to_contain_text("No machine 999")
    expect(page.locator("#machine-detail-title")).to_have_text("No machine 999")
    expect(missing.locator("a")).to_have_attribute("href", "/machines")
    assert box(page, "#machine-detail-missing .machine-missing")["height"] > 200
    # Nothing of a machine's detail is left half-drawn under the message.
    expect(page.locator("#machine-detail-body")).to_be_hidden()
    assert_stacked(box(page, "#machine-board"), box(page, "#machine-detail-missing"))
    missing.locator("a").click()
    page.wait_for_url("**/machines", timeout=5000)
    expect(page.locator("#machine-detail")).to_be_hidden()


def test_machine_without_history_keeps_its_panels_apart(server, watch):
    page = open_page(server, watch, "/machines?id=3")
    expect(page.locator("#machine-detail-title")).to_contain_text("MILL-03")
    timeline, output = box(page, "#machine-timeline"), box(page, "#machine-output")
    assert timeline["height"] > 200 and output["height"] > 200
    tickets = box(page, "#machine-tickets-panel")
    assert_stacked(timeline, tickets)
    assert_stacked(output, tickets)
    assert_stacked(box(page, "#machine-detail-kpis"), timeline)
    expect(page.locator("#machine-timeline")).to_contain_text("No data in this window")
    expect(page.locator("#machine-tickets")).to_contain_text("No tickets for this machine")


def test_detail_charts_follow_the_range(server, watch):
    page = open_page(server, watch, "/machines?id=1")
    titles = "#machine-detail-body .gtitle"
    expect(page.locator(titles).first).to_contain_text("last 24 h")
    page.locator("#machine-range label", has_text="7 days").click()
    expect(page.locator(titles)).to_have_text(
        ["State history, last 7 days", "Good and scrap parts by day, last 7 days"], timeout=10000
    )


def test_cards_say_why_and_since_when(server, watch):
    page = open_page(server, watch, "/machines")
    down = page.locator('.machine-card[data-machine-id="1"]')
    expect(down).to_have_attribute("data-status", "down")
    expect(down.locator(".tile-why")).to_contain_text("hydraulic leak")
    expect(down.locator(".tile-why")).to_contain_text("dora")
    expect(down.locator(".ticket-badge")).to_have_text("1 ticket · high")
    expect(down.locator(".tile-for")).to_contain_text(" s")  # "12 s": how long, with units
    idle = page.locator('.machine-card[data-machine-id="2"]')
    expect(idle).to_have_attribute("data-status", "idle")
    expect(idle).to_have_class(re.compile(r"\bhas-critical\b"))
    expect(idle.locator(".tile-why")).to_contain_text("critical ticket #2 open")
    expect(idle.locator(".ticket-badge")).to_have_attribute("data-priority", "critical")
    expect(page.locator('.machine-card[data-machine-id="3"] .ticket-badge')).to_have_count(0)
    # Another ticket arrives: the badge counts it without a reload.
    ticket = {"machine_id": 3, "title": "Coolant low", "priority": "low"}
    assert server.post("/tickets", ticket).status_code == 201
    expect(page.locator('.machine-card[data-machine-id="3"] .ticket-badge')).to_have_text(
        "1 ticket · low", timeout=5000
    )


def test_wall_cells_say_why_and_since_when(server, watch):
    page = watch.page
    page.goto(f"{server.url}/wall?token={server.tokens['display']}")
    cell = page.locator('#wall .machine-cell[data-machine-id="1"]')
    expect(cell).to_have_attribute("data-status", "down", timeout=15000)
    expect(cell.locator(".cell-why")).to_contain_text("hydraulic leak · #1 · dora")
    expect(cell.locator(".ticket-badge")).to_have_attribute("data-priority", "high")
    critical = page.locator('#wall .machine-cell[data-machine-id="2"]')
    expect(critical.locator(".cell-why")).to_contain_text("critical ticket #2 open")
    expect(critical.locator(".cell-status")).to_contain_text("idle")
