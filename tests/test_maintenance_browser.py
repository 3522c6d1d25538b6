"""The maintenance hub as a supervisor and a technician see it, in headless Chromium: the grid
fits 1440 px, the drawer opens beside it and closes when the filter hides its ticket, the form
resets, Export looks enabled, the critical toast leaves the form alone, readers get disabled
forms with a sign-in link, a phone gets cards with one-tap moves, and the drawer says when
someone else changed its ticket."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from devtools.browser import PageWatch, browser  # noqa: F401 - fixture
from devtools.live_server import LiveServer, serve_plant
from tests.waiting import wait_for_dash_idle, wait_until

SIGN_IN = 'a[href="/login?next=/maintenance"]'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve_plant(tmp_path_factory.mktemp("hub"), 4, MILLDASH_ANONYMOUS_VIEW="1")


def ticket(server: LiveServer, title: str, priority: str = "medium", machine: int = 1) -> dict:
    response = server.post(
        "/tickets", {"machine_id": machine, "title": title, "priority": priority}
    )
    assert response.status_code == 201, response.text
    return response.json()


def hub(server: LiveServer, browser: Any, role: str | None = "operator", size=(1440, 900)):  # noqa: F811
    """A PageWatch on /maintenance, signed in as `role` (None: anonymous), grid loaded."""
    watch = PageWatch(browser, *size)
    if role:
        server.sign_in(watch.page, role, "/maintenance")
    watch.page.goto(f"{server.url}/maintenance")
    watch.page.wait_for_selector("#tickets-count:has-text('match')", timeout=15000)
    wait_for_dash_idle(watch.page)
    return watch


def box(page: Any, selector: str) -> dict[str, float]:
    page.locator(selector).first.wait_for(state="visible", timeout=15000)
    found = page.locator(selector).first.bounding_box()
    assert found, f"{selector} has no box"
    return found


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_grid_fits_1440_without_horizontal_scrolling(server, browser):  # noqa: F811
    ticket(server, "Hydraulic pressure drifts on the press")
    with hub(server, browser) as w:
        page = w.page
        page.wait_for_selector(".ag-row .ag-cell", timeout=10000)
        fits = page.evaluate(
            """() => {
                const grid = document.querySelector('#tickets-grid');
                const view = grid.querySelector('.ag-center-cols-viewport');
                const heads = [...grid.querySelectorAll('.ag-header-cell')]
                    .filter(h => h.offsetWidth > 0);
                const last = heads[heads.length - 1].getBoundingClientRect();
                const frame = view.getBoundingClientRect();
                return {right: last.right, limit: frame.right + 0.5,
                        scroll: view.scrollWidth - view.clientWidth};
            }"""
        )
        assert fits["right"] <= fits["limit"], fits
        assert fits["scroll"] <= 0, fits
        # Words, not codes: no raw ISO time in any cell.
        cells = page.locator("#tickets-grid .ag-cell").all_inner_texts()
        assert not [c for c in cells if "T" in c and c[:4].isdigit()], cells


def test_drawer_opens_beside_the_grid_and_closes_when_filtered_out(server, browser):  # noqa: F811
    shown = ticket(server, "Drawer subject: worn belt on the saw")
    with hub(server, browser) as w:
        page = w.page
        page.locator(f'#tickets-grid .ag-row[row-id="{shown["id"]}"]').first.click()
        drawer = page.locator("#ticket-drawer")
        expect(drawer).to_be_visible(timeout=5000)
        expect(drawer).to_contain_text("Drawer subject: worn belt on the saw")
        d, g = box(page, "#ticket-drawer"), box(page, "#tickets-grid")
        assert d["y"] < 900 / 2, "the drawer starts above the fold"
        assert d["x"] >= g["x"] + g["width"] - 40, (d, g)  # beside the grid, not below it
        page.fill("#filter-q", "nothing matches this text")
        page.press("#filter-q", "Enter")
        expect(drawer).to_be_hidden(timeout=5000)


def test_form_resets_after_a_ticket_is_opened(server, browser):  # noqa: F811
    with hub(server, browser) as w:
        page = w.page
        page.select_option("#new-machine", "2")
        page.fill("#new-title", "Guard door switch loose")
        page.select_option("#new-priority", "high")
        page.click("#new-submit")
        expect(page.locator("#new-result")).to_contain_text("opened", timeout=5000)
        expect(page.locator("#new-title")).to_have_value("")
        expect(page.locator("#new-machine")).to_have_value("")
        expect(page.locator("#new-priority")).to_have_value("medium")


def test_export_looks_enabled(server, browser):  # noqa: F811
    with hub(server, browser) as w:
        style = w.page.evaluate(
            """() => {
                const el = document.querySelector('#export-csv');
                const s = getComputedStyle(el);
                return {cls: el.className, opacity: s.opacity, color: s.color};
            }"""
        )
        assert "btn" in style["cls"] and "secondary" not in style["cls"], style
        assert style["opacity"] == "1"
        r, g, b = (int(v) for v in style["color"][4:-1].split(",")[:3])
        assert not (r == g == b), f"grey text reads as disabled: {style}"


def test_critical_toast_does_not_cover_the_form(server, browser):  # noqa: F811
    with hub(server, browser) as w:
        page = w.page
        ticket(server, "Spindle seized on mill two", "critical", machine=2)
        page.wait_for_selector(".critical-toast.show, .critical-toast:visible", timeout=5000)
        assert not overlap(box(page, ".critical-toast"), box(page, "#create-ticket-form"))


@pytest.mark.parametrize("role", ["viewer", None])
def test_readers_get_disabled_forms_with_a_sign_in_link(server, browser, role):  # noqa: F811
    shown = ticket(server, f"Seen by a reader {role}")
    with hub(server, browser, role) as w:
        page = w.page
        expect(page.locator("#new-submit")).to_be_disabled()
        expect(page.locator("#new-title")).to_be_disabled()
        expect(page.locator(f"#create-ticket-form {SIGN_IN}")).to_be_visible()
        page.locator(f'#tickets-grid .ag-row[row-id="{shown["id"]}"]').first.click()
        expect(page.locator("#ticket-drawer")).to_be_visible(timeout=5000)
        expect(page.locator(f"#ticket-drawer {SIGN_IN}")).to_be_visible()
        for button in page.locator("#ticket-drawer [id*='ticket-move']").all():
            expect(button).to_be_disabled()


def test_phone_shows_cards_and_a_tap_moves_a_ticket(server, browser):  # noqa: F811
    mine = ticket(server, "Phone card: coolant pump noisy", machine=3)
    with hub(server, browser, size=(390, 844)) as w:
        page = w.page
        # Every ticket the list shows has its title visible on its card.
        rows = page.locator("#tickets-grid .ag-row:not(.ag-row-loading)")
        expect(rows.first).to_be_visible(timeout=10000)
        wait_for_dash_idle(page)
        cards = page.locator("#tickets-grid .ticket-card")
        assert cards.count() == rows.count() > 1
        for i in range(cards.count()):
            expect(cards.nth(i).locator(".card-title")).to_be_visible()
            assert cards.nth(i).locator(".card-title").inner_text().startswith("#")
        page.fill("#filter-q", "Phone card")
        page.press("#filter-q", "Enter")
        card = page.locator(f'#tickets-grid .ticket-card[data-ticket-id="{mine["id"]}"]')
        expect(card).to_be_visible(timeout=10000)
        expect(cards).to_have_count(1)
        expect(card.locator(".card-title")).to_contain_text("Phone card: coolant pump noisy")
        assert page.locator("#tickets-grid").get_attribute("data-layout") == "cards"
        card.locator('[data-move="in_progress"]').click()
        wait_until(
            lambda: server.get(f"/tickets/{mine['id']}").json()["status"] == "in_progress",
            timeout=5,
            interval=0.1,
        )
        expect(page.locator("#card-result")).to_contain_text("in progress")
        expect(page.locator("#ticket-drawer")).to_be_hidden()  # a tap on a move is not a row click
        expect(page.locator("#new-ticket-open")).to_be_visible()
        assert w.errors == []


def test_drawer_says_who_changed_the_ticket_and_offers_a_reload(server, browser):  # noqa: F811
    shown = ticket(server, "Two planners, one ticket")
    with hub(server, browser) as w:
        page = w.page
        page.locator(f'#tickets-grid .ag-row[row-id="{shown["id"]}"]').first.click()
        expect(page.locator("#ticket-drawer")).to_be_visible(timeout=5000)
        stale = page.locator("#drawer-stale")
        expect(stale).to_be_hidden()
        # Someone else assigns it meanwhile.
        etag = server.get(f"/tickets/{shown['id']}").headers["ETag"]
        answer = requests.patch(
            f"{server.url}/api/v1/tickets/{shown['id']}",
            json={"assignee": "dora"},
            headers={**server.headers("admin"), "If-Match": etag},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        expect(page.locator("#drawer-changed")).to_contain_text(
            "changed by admin-test", timeout=5000
        )
        expect(stale).to_be_visible()
        # A move based on what the drawer shows is refused, nothing is written.
        page.locator("#ticket-drawer button:has-text('on hold')").click()
        expect(page.locator("#detail-result")).to_contain_text("Not saved", timeout=5000)
        assert server.get(f"/tickets/{shown['id']}").json()["status"] == "open"
        page.click("#drawer-reload")
        expect(stale).to_be_hidden(timeout=5000)
        expect(page.locator("#detail-assignee")).to_have_value("dora")
        page.locator("#ticket-drawer button:has-text('on hold')").click()
        expect(page.locator("#detail-result")).to_contain_text("Saved", timeout=5000)


def test_two_planners_in_two_browsers_do_not_overwrite_each_other(server, browser):  # noqa: F811
    shown = ticket(server, "Two planners, two browsers")
    row = f'#tickets-grid .ag-row[row-id="{shown["id"]}"]'
    with hub(server, browser) as first, hub(server, browser) as second:
        for w in (first, second):
            w.page.locator(row).first.click()
            expect(w.page.locator("#ticket-drawer")).to_be_visible(timeout=5000)
        # The first planner assigns the ticket in their drawer.
        first.page.fill("#detail-assignee", "dora")
        first.page.click("#ticket-drawer button:has-text('Assign')")
        expect(first.page.locator("#detail-result")).to_contain_text("Saved", timeout=5000)
        # The second one sees who changed it, live, and cannot move it on a stale view.
        expect(second.page.locator("#drawer-changed")).to_contain_text("changed by", timeout=5000)
        expect(second.page.locator("#drawer-stale")).to_be_visible()
        second.page.locator("#ticket-drawer button:has-text('on hold')").click()
        expect(second.page.locator("#detail-result")).to_contain_text("Not saved", timeout=5000)
        assert server.get(f"/tickets/{shown['id']}").json()["status"] == "open"
        # After a reload the second planner's move applies, on top of the first one's change.
        second.page.click("#drawer-reload")
        expect(second.page.locator("#detail-assignee")).to_have_value("dora", timeout=5000)
        second.page.locator("#ticket-drawer button:has-text('on hold')").click()
        expect(second.page.locator("#detail-result")).to_contain_text("Saved", timeout=5000)
    final = server.get(f"/tickets/{shown['id']}").json()
    assert (final["status"], final["assignee"]) == ("on_hold", "dora")
