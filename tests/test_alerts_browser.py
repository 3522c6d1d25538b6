"""Alerts drawn from the socket frame in the browser (assets/live_alerts.js), in headless
Chromium against a real server: a new ticket reaches the maintenance feed, the critical toast
and the wall's ticker while every Dash callback request is held back, in the markup the server
renders; a burst loses none; and frame text stays text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from devtools.browser import PageWatch, browser  # noqa: F401 - fixture
from devtools.live_server import LiveServer, serve_plant
from tests.waiting import wait_for_dash_idle, wait_until

pytestmark = pytest.mark.browser

DASH_UPDATE = re.compile(r"/_dash-update-component(\?|$)")  # it carries a query string
FEED_ITEMS = "#alerts .alert-item"
# An element as a tree of tags, sorted attributes and text (attribute order is not markup).
MARKUP = """el => {
    const walk = (n) => n.nodeType === 3 ? n.textContent : [n.tagName,
        Array.from(n.attributes).map(a => a.name + '=' + a.value).sort(),
        Array.from(n.childNodes).map(walk)];
    return JSON.stringify(walk(el));
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    yield from serve_plant(tmp_path_factory.mktemp("alerts"), 4)


@pytest.fixture
def watch(browser) -> Iterator[PageWatch]:  # noqa: F811
    with PageWatch(browser) as w:
        yield w


class HeldCallbacks:
    """Holds every Dash callback request (`/_dash-update-component`) until `release()`: what
    shows up meanwhile came from the socket frame, not from a server round trip."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.held: list[Any] = []
        page.route(DASH_UPDATE, self.hold)

    def hold(self, route: Any) -> None:
        self.held.append(route)

    def release(self) -> None:
        for route in self.held:
            route.continue_()
        self.held.clear()
        self.page.unroute(DASH_UPDATE, self.hold)


def ticket(server: LiveServer, title: str, priority: str = "medium", machine: int = 1) -> dict:
    response = server.post(
        "/tickets", {"machine_id": machine, "title": title, "priority": priority}
    )
    assert response.status_code == 201, response.text
    return response.json()


def open_hub(server: LiveServer, watch: PageWatch) -> Any:
    page = watch.page
    server.sign_in(page, "operator", "/maintenance")
    page.wait_for_selector('#connection-status[data-state="connected"]', state="attached")
    page.wait_for_selector("#tickets-count:has-text('match')", timeout=15000)
    wait_for_dash_idle(page)
    return page


def feed_item(page: Any, ticket_id: int) -> Any:
    return page.locator(f'{FEED_ITEMS}[data-ticket-id="{ticket_id}"]')


def test_a_new_alert_shows_from_its_frame_while_callbacks_are_held(server, watch):
    page = open_hub(server, watch)
    held = HeldCallbacks(page)
    try:
        made = ticket(server, "Coolant pump squeals", "high", machine=2)
        item = feed_item(page, made["id"])
        item.wait_for(timeout=5000)
        text = item.inner_text()
        assert f"#{made['id']} Coolant pump squeals" in text and "MILL-02" in text
        assert item.get_attribute("class") == "alert-item prio-high"
        assert item.locator(".badge.prio").inner_text().lower() == "high"
        # Playwright calls route handlers only while the page is being waited on.
        wait_until(
            lambda: page.wait_for_timeout(50) or held.held,
            message="the tick's callbacks were not held",
        )
        assert page.locator(f'{FEED_ITEMS}[data-ticket-id="{made["id"]}"]').count() == 1
    finally:
        held.release()
    wait_for_dash_idle(page)
    assert feed_item(page, made["id"]).count() == 1
    client_html = feed_item(page, made["id"]).evaluate(MARKUP)
    # The same line as the server renders it on load.
    page.reload()
    page.wait_for_selector(f'{FEED_ITEMS}[data-ticket-id="{made["id"]}"]', timeout=15000)
    assert feed_item(page, made["id"]).evaluate(MARKUP) == client_html
    # And the DOM nodes of the first paint (before Dash renders the item) are that line too.
    events = server.get("/events?since=0&topics=maintenance&limit=500").json()["events"]
    frame = next(
        e
        for e in events
        if e["type"] == "maintenance_alert" and e["data"]["ticket_id"] == made["id"]
    )
    painted = page.evaluate(
        f"""(frame) => {{
            const m = window.milldash.alertMarkup;
            return ({MARKUP})(m.toDom(m.feedItem(frame, Date.parse(frame.timestamp))));
        }}""",
        frame,
    )
    assert painted == client_html
    assert watch.errors == []


def test_a_burst_of_thirty_shows_all_thirty_once(server, watch):
    page = open_hub(server, watch)
    with ThreadPoolExecutor(6) as pool:
        made = list(pool.map(lambda i: ticket(server, f"Burst {i}", "low"), range(30)))
    ids = {str(t["id"]) for t in made}

    def shown() -> set[str]:
        return set(page.eval_on_selector_all(FEED_ITEMS, "els => els.map(e => e.dataset.ticketId)"))

    wait_until(lambda: ids <= shown(), 10, message=lambda: f"missing {ids - shown()}")
    wait_for_dash_idle(page)
    seqs = page.eval_on_selector_all(FEED_ITEMS, "els => els.map(e => Number(e.dataset.seq))")
    assert len(seqs) == len(set(seqs)) <= 50
    assert seqs == sorted(seqs, reverse=True)
    assert ids <= shown()


def test_frame_text_stays_text_in_the_feed_and_the_toast(server, watch):
    page = open_hub(server, watch)
    page.evaluate("window.__xss = 0")
    title = '<img src=x onerror="window.__xss = 1"><b>bold</b>'
    held = HeldCallbacks(page)
    try:
        made = ticket(server, title, "critical", machine=3)
        item = feed_item(page, made["id"])
        item.wait_for(timeout=5000)
        assert item.locator("strong").inner_text() == f"#{made['id']} {title}"
        toast = page.locator(".critical-toast")
        toast.wait_for(state="visible", timeout=5000)
        assert title in toast.inner_text()
        assert page.locator("#alerts img, #alerts b, .critical-toast img").count() == 0
    finally:
        held.release()
    page.wait_for_timeout(200)
    assert page.evaluate("window.__xss") == 0


def test_the_wall_ticker_shows_a_new_alert_from_its_frame(server, watch):
    page = watch.page
    page.goto(f"{server.url}/wall?token={server.tokens['display']}")
    page.wait_for_selector("#wall .kpi-tile", timeout=15000)
    page.wait_for_selector('#connection-status[data-state="connected"]', state="attached")
    wait_for_dash_idle(page)
    held = HeldCallbacks(page)
    try:
        made = ticket(server, "Chuck jaw cracked", "medium", machine=4)
        item = page.locator("#wall-ticker .ticker-item", has_text="Chuck jaw cracked")
        item.wait_for(timeout=5000)
        assert "MILL-04" in item.inner_text() and f"#{made['id']}" in item.inner_text()
    finally:
        held.release()
    wait_for_dash_idle(page)
    # After the server's own render: still there, once, and the ticker keeps its size.
    assert page.locator("#wall-ticker .ticker-item", has_text="Chuck jaw cracked").count() == 1
    assert page.locator("#wall-ticker .ticker-item").count() <= 3
