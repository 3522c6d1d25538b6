"""Presence in the ticket drawer, in headless Chromium: two people in two browser contexts open
the same ticket and each sees "Also open by <the other>" in #ticket-presence; it goes within a
second when the other closes the drawer, opens another ticket, leaves the page or closes the
browser, is not shown while the socket is away, and comes back after the server restarts
(the drawer announces again on the new socket)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from devtools.browser import PageWatch, browser  # noqa: F401 - fixture
from devtools.live_server import LiveServer, serve_plant
from tests.test_maintenance_browser import hub, ticket

GONE_WITHIN_MS = 1000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve_plant(tmp_path_factory.mktemp("presence"), 2)


def name_of(watch: PageWatch) -> str:
    return watch.page.locator("#user-menu .user-name").inner_text().strip()


def open_ticket(watch: PageWatch, ticket_id: int) -> None:
    page = watch.page
    page.locator(f'#tickets-grid .ag-row[row-id="{ticket_id}"]').first.click()
    expect(page.locator(f'#ticket-detail [data-ticket-id="{ticket_id}"]')).to_be_visible(
        timeout=5000
    )


def presence_of(watch: PageWatch) -> Any:
    return watch.page.locator("#ticket-drawer #ticket-presence")


def test_each_sees_the_other_until_the_drawer_closes(server: LiveServer, browser: Any):  # noqa: F811
    shared = ticket(server, "Presence: spindle noise")["id"]
    other = ticket(server, "Presence: guard door")["id"]
    with hub(server, browser, "operator") as first, hub(server, browser, "viewer") as second:
        first_name, second_name = name_of(first), name_of(second)
        assert first_name != second_name
        open_ticket(first, shared)
        expect(presence_of(first)).to_be_hidden()  # nobody else yet
        open_ticket(second, shared)
        expect(presence_of(first)).to_have_text(f"Also open by {second_name}", timeout=5000)
        expect(presence_of(first)).to_be_visible()
        expect(presence_of(second)).to_have_text(f"Also open by {first_name}", timeout=5000)

        # The second person closes the drawer.
        second.page.locator("#ticket-drawer .btn-close").click()
        expect(presence_of(first)).to_be_hidden(timeout=GONE_WITHIN_MS)
        expect(presence_of(first)).to_have_text("")

        # ... opens the ticket again, then another one.
        open_ticket(second, shared)
        expect(presence_of(first)).to_have_text(f"Also open by {second_name}", timeout=5000)
        open_ticket(second, other)
        expect(presence_of(first)).to_be_hidden(timeout=GONE_WITHIN_MS)
        expect(presence_of(second)).to_be_hidden()  # the names were about the other ticket

        # ... comes back, then leaves the page.
        open_ticket(second, shared)
        expect(presence_of(first)).to_have_text(f"Also open by {second_name}", timeout=5000)
        second.page.locator('a.nav-link[href="/machines"]').click()
        second.page.wait_for_url("**/machines")
        expect(presence_of(first)).to_be_hidden(timeout=GONE_WITHIN_MS)
        assert first.errors == [] and second.errors == []


def test_a_closed_browser_leaves_and_a_reconnect_announces_again(
    server: LiveServer,
    browser: Any,  # noqa: F811
):
    shared = ticket(server, "Presence: coolant leak")["id"]
    with hub(server, browser, "operator") as first:
        with hub(server, browser, "operator") as second:
            second_name = name_of(second)
            open_ticket(first, shared)
            open_ticket(second, shared)
            expect(presence_of(first)).to_have_text(f"Also open by {second_name}", timeout=5000)
            # The server goes away and comes back: both sockets reopen, and each drawer
            # announces its ticket again on its new socket.
            server.stop()
            expect(presence_of(first)).to_be_hidden(timeout=5000)  # unknown while away
            server.start()
            for watch in (first, second):
                expect(watch.page.locator("#connection-status")).to_have_attribute(
                    "data-state", "connected", timeout=30000
                )
            expect(presence_of(first)).to_have_text(f"Also open by {second_name}", timeout=5000)
            expect(presence_of(second)).to_be_visible(timeout=5000)
        # The second browser is closed: its socket goes, and with it the name.
        expect(presence_of(first)).to_be_hidden(timeout=GONE_WITHIN_MS)
