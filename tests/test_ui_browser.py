"""The live UI in headless Chromium against a real server (issue: live Dash UI)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from components.theme import STATUS_COLORS
from data.accounts.users import create_user
from data.write.services import Services
from devtools.browser import PageWatch, browser  # noqa: F401 - fixture
from devtools.live_server import LiveServer, serve_plant
from tests.waiting import wait_for_dash_idle, wait_until

# Each page and the heading it shows.
PAGES = {
    "/": "Plant overview",
    "/machines": "Machines",
    "/maintenance": "Maintenance",
    "/production": "Production",
    "/machines?id=1": "Machines",
}


def rgb(hex_colour: str) -> str:
    """'#e03131' as the browser's computed style spells it: 'rgb(224, 49, 49)'."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve_plant(tmp_path_factory.mktemp("ui"), 4)


@pytest.fixture
def watch(browser):  # noqa: F811
    with PageWatch(browser) as w:
        yield w


Cookies = list[dict[str, Any]]


@pytest.fixture(scope="module")
def sign_in(server: LiveServer) -> Callable[[str], Cookies]:
    """The session cookies of a person with `role` ("<role>-test"), signed in once per module
    through the login form's POST; each test's browser context gets a copy."""
    signed_in: dict[str, Cookies] = {}

    def cookies(role: str) -> Cookies:
        if role not in signed_in:
            name = f"{role}-test"
            password = create_user(server.db, name, role)
            with requests.Session() as http:
                response = http.post(
                    f"{server.url}/login",
                    data={"name": name, "password": password, "next": "/"},
                    allow_redirects=False,
                    timeout=30,
                )
                assert response.status_code == 303, response.text
                signed_in[role] = [
                    {"name": c.name, "value": c.value, "url": server.url} for c in http.cookies
                ]
            assert signed_in[role], "signing in set no cookie"
        return signed_in[role]

    return cookies


@pytest.fixture
def visit(server: LiveServer, watch: PageWatch, sign_in: Callable[[str], Cookies]) -> Any:
    """visit(path, role="operator"): the page at `path`, signed in, its socket connected."""

    def open_page(path: str, role: str = "operator") -> Any:
        watch.context.add_cookies(sign_in(role))
        watch.page.goto(f"{server.url}{path}")
        watch.page.wait_for_selector('#connection-status[data-state="connected"]', timeout=15000)
        return watch.page

    return open_page


def grid_ids(page: Any) -> list[int]:
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


@pytest.mark.parametrize(("path", "heading"), PAGES.items())
def test_every_page_loads_connected_without_console_errors(watch, visit, path, heading):
    page = visit(path)
    # Every callback of the first render has run: errors from any of them are in by now.
    wait_for_dash_idle(page)
    expect(page.locator("#page h1.page-title")).to_have_text(heading)
    if "id=" in path:
        expect(page.locator("#machine-detail-title")).not_to_be_empty()
    assert page.locator("#connection-status").get_attribute("data-state") == "connected"
    assert watch.errors == [], watch.stacks


def test_token_is_dropped_from_the_url(server, visit):
    page = visit(f"/machines?token={server.tokens['operator']}&id=2")
    assert "token" not in page.url
    assert page.url == f"{server.url}/machines?id=2"  # the other arguments stay


def test_ticket_from_api_appears_in_grid_and_alerts(server, watch, visit):
    page = visit("/maintenance")
    page.wait_for_selector("#tickets-count:has-text('match')", timeout=10000)
    ticket = create(server, "Spindle vibration on live test")
    alert = page.locator(f'#alerts [data-ticket-id="{ticket["id"]}"]')
    expect(alert).to_contain_text("Spindle vibration on live test", timeout=5000)
    wait_until(lambda: ticket["id"] in grid_ids(page), timeout=5, interval=0.1)
    assert watch.errors == []


def test_burst_of_100_tickets_all_appear(server, visit):
    page = visit("/maintenance")
    page.wait_for_selector("#tickets-count:has-text('match')", timeout=10000)
    created = [create(server, f"Burst ticket {i}", "medium")["id"] for i in range(100)]
    wait_until(
        lambda: set(created) <= set(grid_ids(page)),
        timeout=15,
        interval=0.2,
        message=lambda: f"missing from the grid: {sorted(set(created) - set(grid_ids(page)))}",
    )
    # The feed keeps the latest 50 alerts: the newest burst tickets are all there.
    for ticket_id in created[-50:]:
        page.wait_for_selector(f'#alerts [data-ticket-id="{ticket_id}"]', timeout=5000)


def test_machine_status_change_recolours_tile(server, visit):
    page = visit("/machines")
    tile = page.locator('.machine-tile[data-machine-id="2"]')
    expect(tile).to_be_visible(timeout=10000)
    other = page.locator('.machine-tile[data-machine-id="1"]')
    other_status = other.get_attribute("data-status")
    for status, body in [
        ("down", {"status": "down", "reason": "belt snapped"}),
        ("running", {"status": "running"}),
    ]:
        response = server.post("/machines/2/status", body)
        assert response.status_code == 200, response.text
        expect(tile).to_have_attribute("data-status", status, timeout=3000)
        expect(tile.locator(".tile-status")).to_have_text(status)
        # The stack-light colour itself: the tile's left edge in the status's colour.
        expect(tile).to_have_css("border-left-color", rgb(STATUS_COLORS[status]))
    # Only that tile changed.
    expect(other).to_have_attribute("data-status", other_status or "")


def test_create_ticket_through_the_form(server, visit):
    page = visit("/maintenance")
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


def test_bad_form_shows_errors_and_writes_nothing(server, visit):
    page = visit("/maintenance")
    before = server.get("/tickets?limit=1").json()["total"]
    page.fill("#new-title", "x")
    page.click("#new-submit")
    page.wait_for_selector("#new-title.is-invalid", timeout=5000)
    assert page.locator("#new-machine.is-invalid").count() == 1
    assert "Choose a machine" in page.inner_text("#new-machine-error")
    assert page.inner_text("#new-title-error")
    assert server.get("/tickets?limit=1").json()["total"] == before


def test_viewer_cannot_write_through_the_form(server, visit):
    # The form is shown disabled with a way to sign in (the callback's role check, the real
    # guard, is tested in test_access.py).
    page = visit("/maintenance", role="viewer")
    expect(page.locator("#new-submit")).to_be_disabled()
    expect(page.locator("#new-machine")).to_be_disabled()
    expect(page.locator('#create-ticket-form a[href="/login?next=/maintenance"]')).to_be_visible()


def test_disconnect_then_reconnect_and_catch_up(server, visit):
    page = visit("/maintenance")
    page.wait_for_selector("#tickets-count:has-text('match')", timeout=10000)
    page.evaluate("() => { window.__pageMarker = 'same-page'; }")
    status = page.locator("#connection-status")
    server.stop()
    expect(status).to_have_attribute("data-state", "disconnected", timeout=10000)
    expect(page.locator("#connection-label")).to_have_text("disconnected")
    # While the server is away, another process records a ticket in the shared database.
    missed = Services(server.db).create_ticket(
        {"machine_id": 2, "title": "Raised while the server was down", "priority": "high"},
        "night-shift",
    )
    assert missed["id"] not in grid_ids(page)
    server.start()
    expect(status).to_have_attribute("data-state", "connected", timeout=30000)
    # Caught up: the missed ticket reaches the alert feed and the grid, on the same page.
    alert = page.locator(f'#alerts [data-ticket-id="{missed["id"]}"]')
    expect(alert).to_contain_text("Raised while the server was down", timeout=10000)
    wait_until(lambda: missed["id"] in grid_ids(page), timeout=10, interval=0.2)
    assert page.evaluate("() => window.__pageMarker") == "same-page", "the page reloaded"


def test_export_button_downloads_the_current_filter(server, visit):
    import csv
    import io

    for i in range(3):
        create(server, f"Exportable gearbox {i}", "low")
    create(server, "Unrelated spindle", "low")
    page = visit("/maintenance")
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


def test_clicking_a_utilization_bar_opens_that_machine(visit):
    page = visit("/")
    page.wait_for_selector("#utilization-graph .bars .point path", state="attached")
    # A fresh plant has ~0 % bars (nothing to hit with the mouse): send plotly's click event.
    # The last bar, so that the machine opened is not simply the first one.
    clicked = page.evaluate(
        """() => {
            const gd = document.querySelector('#utilization-graph .js-plotly-plot');
            const trace = gd.data[0];
            const i = trace.y.length - 1;
            gd.emit('plotly_click', {points: [{curveNumber: 0, pointNumber: i,
                customdata: trace.customdata[i], x: trace.x[i], y: trace.y[i]}]});
            return {id: trace.customdata[i][0], name: trace.y[i]};
        }"""
    )
    page.wait_for_url(f"**/machines?id={clicked['id']}", timeout=5000)
    expect(page.locator("#machine-detail-title")).to_contain_text(clicked["name"], timeout=10000)
    assert page.locator("#connection-status").get_attribute("data-state") == "connected"
