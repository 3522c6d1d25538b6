"""The live UI in headless Chromium against a real server (issue: live Dash UI)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from data.services import Services
from tests.browser import PageWatch, browser  # noqa: F401 - fixture
from tests.live_server import LiveServer, serve_plant

PAGES = ["/", "/machines", "/maintenance", "/production", "/machines?id=1"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve_plant(tmp_path_factory.mktemp("ui"), 4)


@pytest.fixture
def watch(browser):  # noqa: F811
    w = PageWatch(browser)
    yield w
    w.close()


def open_page(watch: PageWatch, server: LiveServer, path: str, role: str | None = "operator"):
    sep = "&" if "?" in path else "?"
    url = f"{server.url}{path}" + (f"{sep}token={server.tokens[role]}" if role else "")
    watch.page.goto(url)
    watch.page.wait_for_selector('#connection-status[data-state="connected"]', timeout=15000)
    return watch.page


def grid_ids(page) -> list[int]:
    return page.evaluate(
        """async () => {
            const api = await window.dash_ag_grid.getApiAsync('tickets-grid');
            const ids = [];
            api.forEachNode(n => { if (n.data) ids.push(n.data.id); });
            return ids;
        }"""
    )


def create(server: LiveServer, title: str, priority: str = "high") -> dict:
    response = server.post("/tickets", {"machine_id": 1, "title": title, "priority": priority})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("path", PAGES)
def test_every_page_loads_connected_without_console_errors(server, watch, path):
    page = open_page(watch, server, path)
    page.wait_for_timeout(1500)
    assert page.locator("#connection-status").get_attribute("data-state") == "connected"
    assert watch.errors == []


def test_token_is_dropped_from_the_url(server, watch):
    page = open_page(watch, server, "/maintenance")
    assert "token=" not in page.url
    assert page.url.endswith("/maintenance")


def test_ticket_from_api_appears_in_grid_and_alerts(server, watch):
    page = open_page(watch, server, "/maintenance")
    page.wait_for_selector("#tickets-count:has-text('match')", timeout=10000)
    ticket = create(server, "Spindle vibration on live test")
    page.wait_for_selector(f'#alerts [data-ticket-id="{ticket["id"]}"]', timeout=5000)
    deadline = time.monotonic() + 5
    while ticket["id"] not in grid_ids(page):
        assert time.monotonic() < deadline, "ticket never reached the grid"
        page.wait_for_timeout(100)
    assert watch.errors == []


def test_burst_of_100_tickets_all_appear(server, watch):
    page = open_page(watch, server, "/maintenance")
    page.wait_for_selector("#tickets-count:has-text('match')", timeout=10000)
    created = [create(server, f"Burst ticket {i}", "medium")["id"] for i in range(100)]
    deadline = time.monotonic() + 15
    while not set(created) <= set(grid_ids(page)):
        assert time.monotonic() < deadline, "not every burst ticket reached the grid"
        page.wait_for_timeout(200)
    # The feed keeps the latest 50 alerts: the newest burst tickets are all there.
    for ticket_id in created[-50:]:
        page.wait_for_selector(f'#alerts [data-ticket-id="{ticket_id}"]', timeout=5000)


def test_machine_status_change_recolours_tile(server, watch):
    page = open_page(watch, server, "/machines")
    tile = page.locator('[data-machine-id="2"]')
    tile.wait_for(timeout=10000)
    server.post("/machines/2/status", {"status": "down", "reason": "belt snapped"})
    page.wait_for_selector('[data-machine-id="2"][data-status="down"]', timeout=3000)
    server.post("/machines/2/status", {"status": "running"})
    page.wait_for_selector('[data-machine-id="2"][data-status="running"]', timeout=3000)


def test_create_ticket_through_the_form(server, watch):
    page = open_page(watch, server, "/maintenance")
    page.select_option("#new-machine", "3")
    page.fill("#new-title", "Chuck jaw cracked")
    page.fill("#new-description", "Visible crack, machine stopped by operator")
    page.select_option("#new-priority", "critical")
    page.click("#new-submit")
    page.wait_for_selector("#new-result:has-text('opened')", timeout=5000)
    result = page.inner_text("#new-result")
    ticket_id = int(result.split("#")[1].split()[0])
    shown = server.get(f"/tickets/{ticket_id}").json()
    assert shown["title"] == "Chuck jaw cracked" and shown["priority"] == "critical"
    assert shown["reported_by"] == "operator-test"
    page.wait_for_selector(f'#alerts [data-ticket-id="{ticket_id}"]', timeout=5000)
    page.wait_for_selector(".critical-toast", timeout=5000)


def test_bad_form_shows_errors_and_writes_nothing(server, watch):
    page = open_page(watch, server, "/maintenance")
    before = server.get("/tickets?limit=1").json()["total"]
    page.fill("#new-title", "x")
    page.click("#new-submit")
    page.wait_for_selector("#new-title.is-invalid", timeout=5000)
    assert page.locator("#new-machine.is-invalid").count() == 1
    assert "Choose a machine" in page.inner_text("#new-machine-error")
    assert page.inner_text("#new-title-error")
    assert server.get("/tickets?limit=1").json()["total"] == before


def test_viewer_cannot_write_through_the_form(server, watch):
    page = open_page(watch, server, "/maintenance", role="viewer")
    before = server.get("/tickets?limit=1").json()["total"]
    page.select_option("#new-machine", "1")
    page.fill("#new-title", "Should not be written")
    page.click("#new-submit")
    page.wait_for_selector("#new-result:has-text('operators')", timeout=5000)
    assert server.get("/tickets?limit=1").json()["total"] == before


def test_disconnect_then_reconnect_and_catch_up(server, watch):
    page = open_page(watch, server, "/maintenance")
    page.wait_for_selector("#tickets-count:has-text('match')", timeout=10000)
    server.stop()
    page.wait_for_selector('#connection-status[data-state="disconnected"]', timeout=10000)
    # While the server is away, another process records a ticket in the shared database.
    missed = Services(server.db).create_ticket(
        {"machine_id": 2, "title": "Raised while the server was down", "priority": "high"},
        "night-shift",
    )
    server.start()
    page.wait_for_selector('#connection-status[data-state="connected"]', timeout=30000)
    page.wait_for_selector(f'#alerts [data-ticket-id="{missed["id"]}"]', timeout=10000)


def test_export_button_downloads_the_current_filter(server, watch):
    import csv
    import io

    for i in range(3):
        create(server, f"Exportable gearbox {i}", "low")
    create(server, "Unrelated spindle", "low")
    page = open_page(watch, server, "/maintenance")
    page.fill("#filter-q", "gearbox")
    page.press("#filter-q", "Enter")
    page.wait_for_function(
        "document.querySelector('#export-csv').href.includes('q=gearbox')", timeout=5000
    )
    with page.expect_download() as info:
        page.click("#export-csv")
    download = info.value
    assert download.suggested_filename.startswith("tickets-")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    expected = server.get("/tickets?q=gearbox&status=open,in_progress,on_hold&limit=1000").json()
    assert sorted(int(r["id"]) for r in rows) == sorted(t["id"] for t in expected["items"])
    assert {r["title"] for r in rows} == {f"Exportable gearbox {i}" for i in range(3)}


def test_clicking_a_utilization_bar_opens_that_machine(server, watch):
    page = open_page(watch, server, "/")
    page.wait_for_selector("#utilization-graph .bars .point path", state="attached")
    # A fresh plant has ~0 % bars (nothing to hit with the mouse): send plotly's click event.
    page.evaluate(
        """() => {
            const gd = document.querySelector('#utilization-graph .js-plotly-plot');
            const trace = gd.data[0];
            gd.emit('plotly_click', {points: [{curveNumber: 0, pointNumber: 0,
                customdata: trace.customdata[0], x: trace.x[0], y: trace.y[0]}]});
        }"""
    )
    page.wait_for_url("**/machines?id=*", timeout=5000)
    page.wait_for_selector("#machine-detail-title:not(:empty)", timeout=10000)
    assert page.locator("#connection-status").get_attribute("data-state") == "connected"
