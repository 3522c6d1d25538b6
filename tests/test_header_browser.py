"""The header on a phone: the links fold behind a menu button instead of stacking."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from devtools.browser import PageWatch, browser  # noqa: F401 - fixture
from devtools.live_server import LiveServer, serve_plant
from tests.waiting import wait_for_dash_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_plant(Path(tmp_path_factory.mktemp("header")), 3)


def test_phone_header_is_one_line_with_a_menu(server: LiveServer, browser: Any) -> None:  # noqa: F811
    with PageWatch(browser, width=390, height=844) as watch:
        page = watch.page
        server.sign_in(page, "operator", "/maintenance")
        wait_for_dash_idle(page)
        header = page.locator("#app-header").bounding_box()
        assert header is not None and header["height"] < 80  # one line, not five links
        production = page.locator("#app-header a[href='/production']")
        expect(production).to_be_hidden()
        page.click("#nav-toggle")
        expect(production).to_be_visible()
        production.click()
        page.wait_for_url("**/production")
        expect(production).to_be_hidden()  # a new page closes the menu


def test_desktop_header_shows_the_links(server: LiveServer, browser: Any) -> None:  # noqa: F811
    with PageWatch(browser) as watch:
        page = watch.page
        server.sign_in(page, "operator", "/")
        wait_for_dash_idle(page)
        expect(page.locator("#nav-toggle")).to_be_hidden()
        expect(page.locator("#app-header a[href='/production']")).to_be_visible()
        expect(page.locator("#user-menu")).to_be_visible()
