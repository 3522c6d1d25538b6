"""Accessibility (WCAG 2.1 AA) of every page, the wall included, measured with axe-core in
headless Chromium: no serious or critical violation."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from devtools.browser import PageWatch, browser  # noqa: F401 - fixture
from devtools.live_server import LiveServer, serve_plant
from tests.waiting import wait_for_dash_idle

pytestmark = pytest.mark.browser

# axe-core's own build, as a Python package ships it: no CDN, no download at run time.
AXE_SOURCE = (files("axe_playwright_python") / "axe.min.js").read_text()
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
PAGES = [
    "/",
    "/machines",
    "/machines?id=1",
    "/maintenance",
    "/production",
    "/wall",
    "/settings",
    "/system",
]
# Pages an operator may not open, checked as the role that may.
SIGN_IN_AS = {"/settings": "admin", "/system": "admin"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_plant(Path(tmp_path_factory.mktemp("a11y")), 6)


def serious_violations(page: Any) -> list[str]:
    page.evaluate(AXE_SOURCE)
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_AA,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(str(node["target"]) for node in v["nodes"][:4])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("path", PAGES)
def test_no_serious_accessibility_violation(server: LiveServer, browser: Any, path: str) -> None:  # noqa: F811
    with PageWatch(browser) as watch:
        server.sign_in(watch.page, SIGN_IN_AS.get(path, "operator"), path)
        # The wall hides the header's pill (its own shows the state): attached is enough.
        watch.page.wait_for_selector('#connection-status[data-state="connected"]', state="attached")
        wait_for_dash_idle(watch.page)
        # ag-grid draws its column headers after Dash is idle: an empty header row is a
        # violation of the moment (seen under load), not of the page.
        if watch.page.locator(".ag-root").count():
            watch.page.wait_for_selector(".ag-header-row .ag-header-cell", state="visible")
        assert serious_violations(watch.page) == []


def test_dropdowns_are_reached_and_opened_by_keyboard(server: LiveServer, browser: Any) -> None:  # noqa: F811
    with PageWatch(browser) as watch:
        page = watch.page
        server.sign_in(page, "operator", "/machines")
        wait_for_dash_idle(page)
        page.focus("#machines-area")
        assert page.evaluate("document.activeElement.id") == "machines-area"
        # Tab order: no hidden input in it, the labelled trigger button is.
        hidden_stops = page.evaluate(
            "() => [...document.querySelectorAll('.dash-dropdown-focus-target')]"
            ".filter(e => e.tabIndex >= 0).length"
        )
        assert hidden_stops == 0
        page.keyboard.press("Enter")
        page.wait_for_selector("[role=option]", timeout=5000)
        assert page.locator("[role=option]").count() >= 2
