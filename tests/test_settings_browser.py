"""The settings page in headless Chromium against a real server: an admin edits the plant
calendar in place and saves it (the API then answers the new calendar), a bad entry is shown
and stores nothing, and nobody but an admin opens the page or saves through it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from devtools.browser import PageWatch, browser  # noqa: F401 - fixture
from devtools.factories import add_machines
from devtools.live_server import LiveServer
from tests.waiting import wait_for_dash_idle

pytestmark = pytest.mark.browser

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
START = {
    "timezone": "Europe/Berlin",
    "shifts": [
        {
            "name": "Early",
            "start": "06:00",
            "end": "14:00",
            "days": WEEKDAYS,
            "breaks": [{"start": "10:00", "end": "10:30"}],
        }
    ],
    "planned_stops": [
        {
            "start": "2026-12-24T00:00:00+01:00",
            "end": "2026-12-27T00:00:00+01:00",
            "reason": "Christmas",
            "machine_id": None,
        }
    ],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("settings"))
    add_machines(live.db, 3)
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def watch(browser: Any) -> Iterator[PageWatch]:  # noqa: F811
    with PageWatch(browser) as w:
        yield w


def stored(server: LiveServer) -> dict[str, Any]:
    """The calendar as GET /api/v1/calendar answers it."""
    response = server.get("/calendar", role="admin")
    assert response.status_code == 200, response.text[:300]
    return response.json()


def reset(server: LiveServer, document: dict[str, Any] = START) -> dict[str, Any]:
    """Store `document` as the plant's calendar through the API; answers it as stored."""
    response = requests.put(
        f"{server.url}/api/v1/calendar", json=document, headers=server.headers("admin"), timeout=10
    )
    assert response.status_code == 200, response.text[:300]
    return stored(server)


def open_settings(server: LiveServer, watch: PageWatch, width: int | None = None) -> Any:
    page = watch.page
    if width:
        page.set_viewport_size({"width": width, "height": 844})
    server.sign_in(page, "admin", "/settings")
    page.wait_for_selector("#settings-page", timeout=15000)
    wait_for_dash_idle(page, 20)
    return page


def cell(page: Any, grid: str, row: int, column: str) -> Any:
    return page.locator(
        f'#{grid} .ag-center-cols-container [row-index="{row}"] [col-id="{column}"]'
    )


def edit(page: Any, grid: str, row: int, column: str, value: str) -> None:
    """Type `value` into a cell as a keyboard user does: focus it, Enter, replace, Enter."""
    target = cell(page, grid, row, column)
    target.click()
    page.keyboard.press("Enter")
    editor = target.locator("input")
    expect(editor).to_be_focused()
    editor.fill(value)
    page.keyboard.press("Enter")
    expect(target).to_have_text(value)


def save(page: Any) -> None:
    page.click("#settings-save")
    wait_for_dash_idle(page, 20)


def test_admin_adds_a_shift_and_saves_it(server: LiveServer, watch: PageWatch) -> None:
    reset(server)
    page = open_settings(server, watch)
    expect(page.locator("#settings-planned .kpi-value")).to_have_text("37 h 30 min")
    expect(page.locator("#settings-zone-time")).to_contain_text("Local time there:")

    page.click("#settings-add-shift")
    # The new row's name is being edited at once: the keyboard goes on from the button.
    editor = cell(page, "settings-shifts", 1, "name").locator("input")
    expect(editor).to_be_focused()
    editor.fill("Late")
    page.keyboard.press("Enter")
    expect(cell(page, "settings-shifts", 1, "start")).to_have_text("14:00")
    expect(cell(page, "settings-shifts", 1, "end")).to_have_text("22:00")
    expect(cell(page, "settings-shifts", 1, "days")).to_have_text("mon-fri")
    edit(page, "settings-shifts", 1, "breaks", "18:00-18:30")
    edit(page, "settings-shifts", 1, "days", "mon-thu, sat")
    # The week's planned time follows the tables before anything is saved.
    expect(page.locator("#settings-planned .kpi-value")).to_have_text("75 h")

    save(page)
    expect(page.locator("#settings-saved")).to_contain_text("Saved")
    expect(page.locator("#settings-error")).to_have_count(0)
    late = {
        "name": "Late",
        "start": "14:00",
        "end": "22:00",
        "days": ["mon", "tue", "wed", "thu", "sat"],
        "breaks": [{"start": "18:00", "end": "18:30"}],
    }
    assert stored(server)["shifts"] == [START["shifts"][0], late]
    # The tables are the stored calendar again (rows re-read, named by their position).
    expect(page.locator('#settings-shifts [row-id="shift-1"] [col-id="name"]')).to_have_text("Late")
    assert watch.errors == [], watch.stacks


def test_a_planned_stop_is_entered_in_plant_time(server: LiveServer, watch: PageWatch) -> None:
    reset(server)
    page = open_settings(server, watch)
    expect(cell(page, "settings-stops", 0, "start")).to_have_text("2026-12-24 00:00")
    page.click("#settings-add-stop")
    editor = cell(page, "settings-stops", 1, "reason").locator("input")
    expect(editor).to_be_focused()
    editor.fill("Spindle overhaul")
    page.keyboard.press("Enter")
    # Summer time in Berlin: 06:00 local is 04:00 UTC.
    edit(page, "settings-stops", 1, "start", "2026-07-06 06:00")
    edit(page, "settings-stops", 1, "end", "2026-07-06 14:00")
    machine = cell(page, "settings-stops", 1, "machine")
    machine.click()
    page.keyboard.press("Enter")
    page.get_by_role("option", name="MILL-02").click()
    expect(machine).to_have_text("MILL-02")

    save(page)
    expect(page.locator("#settings-saved")).to_contain_text("Saved")
    stops = stored(server)["planned_stops"]
    assert {
        "start": "2026-07-06T04:00:00Z",
        "end": "2026-07-06T12:00:00Z",
        "reason": "Spindle overhaul",
        "machine_id": 2,
    } in stops
    assert len(stops) == 2


@pytest.mark.parametrize(
    ("row", "column", "value", "message"),
    [
        (0, "start", "25:00", "Shift 1 “Early”, start: must be a time of day between 00:00"),
        (1, "start", "13:00", "overlap"),
        (1, "days", "mon-fry", "Shift 2 “Late”, days: unknown day 'fry'"),
    ],
)
def test_a_bad_entry_is_shown_and_nothing_is_stored(
    server: LiveServer, watch: PageWatch, row: int, column: str, value: str, message: str
) -> None:
    late = {"name": "Late", "start": "14:00", "end": "22:00", "days": WEEKDAYS, "breaks": []}
    before = reset(server, {**START, "shifts": [*START["shifts"], late]})
    page = open_settings(server, watch)
    edit(page, "settings-shifts", row, column, value)

    save(page)
    alert = page.locator("#settings-result [role=alert]")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Not saved")
    expect(alert).to_contain_text(message)
    expect(alert).not_to_contain_text("shifts.")  # fields in words, not the document's paths
    expect(page.locator("#settings-saved")).to_have_count(0)
    assert stored(server) == before
    # The admin's edit is kept for correcting, not replaced by the stored calendar.
    expect(cell(page, "settings-shifts", row, column)).to_have_text(value)


def test_removing_every_shift_plans_every_hour(server: LiveServer, watch: PageWatch) -> None:
    reset(server)
    page = open_settings(server, watch)
    remove = page.locator("#settings-remove-shifts")
    expect(remove).to_be_disabled()
    # Space on a focused row selects it, as the page's help says.
    cell(page, "settings-shifts", 0, "name").click()
    page.keyboard.press("Space")
    expect(remove).to_be_enabled()
    remove.click()
    expect(page.locator("#settings-shifts .ag-center-cols-container .ag-row")).to_have_count(0)
    empty = "No shifts: every hour counts as planned production time."
    expect(page.locator("#settings-planned")).to_contain_text(empty)
    expect(page.locator("#settings-planned .kpi-value")).to_have_text("168 h")
    save(page)
    expect(page.locator("#settings-saved")).to_contain_text("Saved")
    assert stored(server)["shifts"] == []
    assert len(stored(server)["planned_stops"]) == 1


@pytest.mark.parametrize("width", [1440, 390])
def test_the_page_fits_the_screen(server: LiveServer, watch: PageWatch, width: int) -> None:
    reset(server)
    page = open_settings(server, watch, width)
    expect(cell(page, "settings-shifts", 0, "name")).to_have_text("Early")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than a {width} px screen"
    for selector in ("#settings-save", "#settings-add-shift", "#settings-shifts"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1


def test_only_an_admin_opens_or_saves_the_calendar(
    server: LiveServer,
    watch: PageWatch,
    browser: Any,  # noqa: F811
) -> None:
    before = reset(server)
    page = watch.page
    server.sign_in(page, "viewer", "/settings")
    expect(page.locator("#page")).to_contain_text("Settings is not open to your role")
    expect(page.locator("#settings-page")).to_have_count(0)
    expect(page.locator('#app-header a[href="/settings"]')).to_have_count(0)

    # The save callback, called straight from the viewer's session, refuses too.
    body = save_request({"timezone": "UTC", "shifts": [], "planned_stops": []})
    answer = page.request.post(f"{server.url}/_dash-update-component", data=body)
    assert answer.status == 200, answer.text()[:300]
    assert "Only admins can change the plant calendar." in answer.text()
    assert stored(server) == before

    with PageWatch(browser) as admin:
        open_settings(server, admin)
        expect(admin.page.locator('#app-header a[href="/settings"]')).to_have_count(1)


def save_request(document: dict[str, Any]) -> dict[str, Any]:
    """The body Dash sends when Save is clicked with the tables holding `document`."""
    outputs = [
        ("settings-result", "children"),
        ("settings-shifts", "rowData"),
        ("settings-stops", "rowData"),
        ("settings-timezone", "value"),
    ]
    return {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": "settings-save", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["settings-save.n_clicks"],
        "state": [
            {"id": "settings-timezone", "property": "value", "value": document["timezone"]},
            {"id": "settings-shifts", "property": "rowData", "value": document["shifts"]},
            {"id": "settings-stops", "property": "rowData", "value": document["planned_stops"]},
        ],
    }
