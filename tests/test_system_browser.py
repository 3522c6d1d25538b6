"""The System page in headless Chromium against a real server: an admin sees its own socket
among the connections and the events of a ticket made through the API arrive in the delivery
panel without a reload; the page fits a desktop and a phone screen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from devtools.browser import PageWatch, browser  # noqa: F401 - fixture
from devtools.live_server import LiveServer, serve_plant
from tests.waiting import wait_for_dash_idle, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_plant(tmp_path_factory.mktemp("system-ui"), 3)


def open_system(server: LiveServer, watch: PageWatch) -> Any:
    page = watch.page
    server.sign_in(page, "admin", "/system")
    page.wait_for_selector('#connection-status[data-state="connected"]', state="attached")
    expect(page.locator("#system-page")).to_be_visible()
    wait_for_dash_idle(page)
    return page


def count(page: Any, selector: str) -> int:
    return int(page.locator(selector).inner_text().strip())


def test_an_admin_sees_its_socket_and_new_events_live(server: LiveServer, browser: Any) -> None:  # noqa: F811
    with PageWatch(browser) as watch:
        page = open_system(server, watch)
        # Its own socket: the page's render may come before the socket opens; the 5 s refresh
        # (or the first event) then counts it.
        wait_until(lambda: count(page, "#system-sockets-total") >= 1, timeout=10)
        expect(page.locator("#system-sockets-admin")).not_to_have_attribute("data-count", "0")
        expect(page.locator('#system-part-database[data-state="ok"]')).to_be_visible()
        expect(page.locator("#system-part-broker")).to_contain_text("not configured")
        before = count(page, "#system-published")
        page.evaluate("window.__same_page = true")

        created = server.post(
            "/tickets", {"machine_id": 1, "title": "Spindle noise", "priority": "medium"}
        )
        assert created.status_code == 201, created.text

        # The ticket's events tick the page, which reads the new counts: no reload.
        wait_until(lambda: count(page, "#system-published") >= before + 2, timeout=5)
        wait_until(lambda: count(page, "#system-delivered") >= 1, timeout=5)
        expect(page.locator("#system-p50")).to_have_text(re.compile(r"^\d[\d.]* m?s$"))
        assert page.evaluate("window.__same_page === true")
        assert watch.errors == [], watch.errors


@pytest.mark.parametrize("width", [1440, 390])
def test_the_page_fits_the_screen(server: LiveServer, browser: Any, width: int) -> None:  # noqa: F811
    with PageWatch(browser, width=width) as watch:
        page = open_system(server, watch)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow} px wider than a {width} px screen"
        for selector in ("#system-connections", "#system-latency", "#system-parts"):
            box = page.locator(selector).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1


def test_a_viewer_gets_no_system_page(server: LiveServer, browser: Any) -> None:  # noqa: F811
    with PageWatch(browser) as watch:
        server.sign_in(watch.page, "viewer", "/system")
        expect(watch.page.locator("#page")).to_contain_text("System is not open to your role")
        expect(watch.page.locator("#system-page")).to_have_count(0)
        expect(watch.page.locator('#app-header a[href="/system"]')).to_have_count(0)
