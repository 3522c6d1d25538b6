"""A UI a supervisor trusts at a glance, in headless Chromium against a real server: the page
matches the URL after an outage, every page reconnects on one schedule, stale data is marked,
and the header says who is signed in."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from data.accounts.users import create_user
from devtools.browser import PageWatch, browser  # noqa: F401 - fixture
from devtools.live_server import LiveServer, serve_plant

# The reconnect schedule (assets/live.js): the first retry within 1 s, then longer steps; while
# the socket is away the page also polls every 3 s and retries at once when a poll reaches the
# server. So a page is connected again about 3 s after the server answers, whatever step the
# backoff is at; the bounds leave room for a busy machine.
RECONNECT_BOUND_S = 6.0
FIRST_RETRY_BOUND_S = 2.0
OUTAGE_S = 5.0
LONG_OUTAGE_S = 14.0  # long enough for the backoff to reach its long steps

# Jitter at the top of its range (values still differ), so the schedule is at its slowest.
SLOWEST_JITTER = """(() => {
    const random = Math.random.bind(Math);
    Math.random = () => 0.9 + 0.1 * random();
})();"""

# Records when the page opens a socket and when one closes (performance.now(), in ms).
RECORD_SOCKETS = """(() => {
    const Native = window.WebSocket;
    window.__sockets = {opened: [], closed: []};
    window.WebSocket = class extends Native {
        constructor(...args) {
            super(...args);
            window.__sockets.opened.push(performance.now());
            this.addEventListener('close', () => window.__sockets.closed.push(performance.now()));
        }
    };
})();"""


@pytest.fixture(scope="module")
def plant(tmp_path_factory) -> Iterator[LiveServer]:
    yield from serve_plant(tmp_path_factory.mktemp("live-client"), 4)


@pytest.fixture
def server(plant: LiveServer) -> Iterator[LiveServer]:
    """The module's server, running again after a test that stopped it (even one that failed
    while it was away)."""
    yield plant
    if plant.proc is None:
        plant.start()


@pytest.fixture
def watch(browser) -> Iterator[PageWatch]:  # noqa: F811
    w = PageWatch(browser)
    yield w
    w.close()


def open_signed_in(server: LiveServer, watch: PageWatch, path: str, role: str = "operator") -> Any:
    """The page at `path`, signed in through the login form, its socket connected."""
    page = watch.page
    server.sign_in(page, role, path)
    connected = '#connection-status[data-state="connected"]'
    page.wait_for_selector(connected, state="attached", timeout=15000)
    return page


def outage(server: LiveServer, page: Any, seconds: float = OUTAGE_S) -> float:
    """Stop the server until the page has seen it go, keep it away `seconds`, start it again
    on the same port; returns when it answered its health check again (monotonic)."""
    server.stop()
    status = page.locator("#connection-status")
    expect(status).to_have_attribute("data-state", "disconnected", timeout=10000)
    time.sleep(seconds)
    server.start()
    return time.monotonic()


def test_a_page_chosen_while_the_server_is_away_is_shown_once_it_is_back(server, watch):
    page = open_signed_in(server, watch, "/")
    heading = page.locator("#page h1.page-title")
    expect(heading).to_have_text("Plant overview", timeout=10000)
    page.evaluate("() => { window.__pageMarker = 'same-page'; }")

    server.stop()
    expect(page.locator("#connection-status")).to_have_attribute(
        "data-state", "disconnected", timeout=10000
    )
    page.click('#app-header a.nav-link[href="/production"]')
    page.wait_for_url("**/production")
    # The URL says Production: the dashboard is no longer shown as if it were current...
    expect(page.get_by_text("Plant overview")).not_to_be_visible(timeout=5000)
    # ...but a message saying why Production is not there.
    message = page.locator("#route-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("Could not load Production")
    expect(message).to_contain_text("not reachable")

    server.start()
    expect(heading).to_have_text("Production", timeout=15000)
    expect(page.locator("#page > .routed-page")).to_have_attribute("data-path", "/production")
    expect(message).to_be_hidden()
    assert page.evaluate("() => window.__pageMarker") == "same-page", "the page reloaded"


@pytest.mark.parametrize("path", ["/", "/wall"])
def test_every_page_reconnects_on_the_same_schedule(server, watch, path):
    watch.context.add_init_script(RECORD_SOCKETS)
    watch.context.add_init_script(SLOWEST_JITTER)
    page = open_signed_in(server, watch, path)
    # A restart, then a long outage: the schedule starts over after each welcome, and the page
    # does not wait out a long backoff step once the server answers again.
    for round_, seconds in ((1, 0.0), (2, LONG_OUTAGE_S)):
        since = page.evaluate("() => performance.now()")
        healthy = outage(server, page, seconds)
        page.wait_for_selector(
            '#connection-status[data-state="connected"]', state="attached", timeout=30000
        )
        waited = time.monotonic() - healthy
        assert waited <= RECONNECT_BOUND_S, (
            f"{path}, outage {round_}: connected {waited:.1f} s after the server was back"
        )
        sockets = page.evaluate("() => window.__sockets")
        lost = min(t for t in sockets["closed"] if t > since)
        retry = min(t for t in sockets["opened"] if t > lost)
        first = (retry - lost) / 1000
        assert first <= FIRST_RETRY_BOUND_S, f"{path}, outage {round_}: first retry {first:.1f} s"


def test_stale_data_is_marked_while_disconnected_and_cleared_on_reconnect(server, watch):
    page = open_signed_in(server, watch, "/machines")
    content = page.locator("#page")
    note = page.locator("#stale-note")
    expect(content).to_have_attribute("data-stale", "false")
    expect(note).to_be_hidden()

    server.stop()
    expect(content).to_have_attribute("data-stale", "true", timeout=10000)
    expect(note).to_be_visible()
    expect(note).to_have_text(re.compile(r"No live data for \d+ s"))
    first = int(re.search(r"(\d+) s", note.inner_text()).group(1))
    expect(note).not_to_have_text(re.compile(rf"for {first} s"), timeout=5000)  # counts up
    later = int(re.search(r"(\d+) s", note.inner_text()).group(1))
    assert later > first
    # Dimmed, so nobody reads the old numbers as current ones.
    page.wait_for_function(
        "() => parseFloat(getComputedStyle(document.getElementById('page')).opacity) < 0.6",
        timeout=3000,
    )

    server.start()
    expect(content).to_have_attribute("data-stale", "false", timeout=15000)
    expect(note).to_be_hidden()
    page.wait_for_function(
        "() => parseFloat(getComputedStyle(document.getElementById('page')).opacity) > 0.99",
        timeout=3000,
    )


def test_the_header_says_who_is_signed_in_and_signs_out(server, watch):
    page = watch.page
    password = create_user(server.db, "Dana Kovač", "operator")
    page.goto(f"{server.url}/login?next=/maintenance")
    page.fill("input[name=name]", "Dana Kovač")
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    menu = page.locator("#user-menu")
    expect(menu.locator(".user-name")).to_have_text("Dana Kovač", timeout=15000)
    expect(menu.locator(".user-role")).to_have_text("operator")
    wall = page.locator('#app-header a[href="/wall"]')
    expect(wall).to_have_attribute("target", "_blank")
    expect(wall).to_have_attribute("rel", re.compile("noopener"))

    with page.expect_navigation():
        menu.get_by_role("button", name="Sign out").click()
    assert "/login" in page.url
    page.goto(f"{server.url}/production")
    assert re.search(r"/login\?next=/production$", page.url), page.url


def test_an_anonymous_demo_visitor_is_offered_to_sign_in(tmp_path, watch):
    live = LiveServer(tmp_path, MILLDASH_ANONYMOUS_VIEW="1").start()
    try:
        page = watch.page
        page.goto(f"{live.url}/production")
        link = page.locator("#user-menu #sign-in-link")
        expect(link).to_have_text("Sign in", timeout=15000)
        expect(page.locator("#user-menu .user-name")).to_have_count(0)
        with page.expect_navigation():
            link.click()
        assert page.url == f"{live.url}/login?next=%2Fproduction", page.url
        expect(page.locator("input[name=next]")).to_have_value("/production")
    finally:
        live.stop()
