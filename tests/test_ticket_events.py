"""Every ticket change is an event; an escalation to critical alerts like a new critical ticket;
a PATCH that changes nothing writes nothing (hardening issue, item 3).

Through the real app (Flask test client) on SQLite and PostgreSQL; the events are read back
from the event log through GET /api/v1/events, as a polling client sees them. One browser test
checks that an open maintenance page reacts (grid row and critical toast).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from data.accounts.tokens import create_token
from data.events import EVENT_TOPICS
from devtools.app_under_test import app_with_machines
from devtools.browser import PageWatch, browser  # noqa: F401 - fixture
from devtools.live_server import LiveServer, serve_plant

ALERT_FIELDS = {"ticket_id", "machine_id", "machine_name", "priority", "title", "description"}


class Client:
    """The app's test client with an operator token; reads events back from the log."""

    def __init__(self, app: Any, token: str) -> None:
        self.client = app.server.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}
        self.seq = 0

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client.open(f"/api/v1{path}", method=method, headers=self.headers, **kwargs)

    def ticket(self, priority: str = "high", **extra: Any) -> dict[str, Any]:
        body = {"machine_id": 1, "title": "Spindle noise", "priority": priority, **extra}
        response = self.call("POST", "/tickets", json=body)
        assert response.status_code == 201, response.get_json()
        self.new_events()
        return response.get_json()

    def patch(self, ticket_id: int, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        response = self.call("PATCH", f"/tickets/{ticket_id}", json=body)
        assert response.status_code == status, response.get_json()
        return response.get_json()

    def new_events(self) -> list[dict[str, Any]]:
        """Frames appended since the last call, as GET /events serves them."""
        body = self.call("GET", f"/events?since={self.seq}").get_json()
        self.seq = body["seq"]
        return body["events"]


@pytest.fixture
def api(db_url: str) -> Any:
    app, db = app_with_machines(db_url, 2)
    yield Client(app, create_token(db, "operator", "olga"))
    db.dispose()


def kinds(frames: list[dict[str, Any]]) -> list[str]:
    return [f["type"] for f in frames]


def test_ticket_updated_is_a_maintenance_event() -> None:
    assert EVENT_TOPICS["ticket_updated"] == "maintenance"


def test_assignee_change_is_an_event(api):
    ticket = api.ticket()
    api.patch(ticket["id"], {"assignee": "carl"})
    frames = api.new_events()
    assert kinds(frames) == ["ticket_updated", "dashboard_refresh"]
    data = frames[0]["data"]
    assert frames[0]["topic"] == "maintenance"
    assert data["ticket_id"] == ticket["id"] and data["machine_id"] == 1
    assert data["changes"] == {"assignee": {"old": None, "new": "carl"}}
    assert data["by"] == "olga"
    assert frames[1]["data"] == {"refresh_all": False, "reason": "ticket_updated"}
    # Clearing it again is a change too.
    api.patch(ticket["id"], {"assignee": ""})
    frames = api.new_events()
    assert frames[0]["data"]["changes"] == {"assignee": {"old": "carl", "new": None}}


def test_escalation_to_critical_alerts_like_a_new_critical_ticket(api):
    api.ticket(priority="critical", title="Reference alert")
    reference = api.call("GET", "/events?since=0").get_json()["events"][0]
    ticket = api.ticket(priority="high", title="Coolant pump leaking")
    result = api.patch(ticket["id"], {"priority": "critical", "assignee": "dora"})
    assert result["priority"] == "critical"
    frames = api.new_events()
    assert kinds(frames) == ["ticket_updated", "maintenance_alert", "dashboard_refresh"]
    assert frames[0]["data"]["changes"] == {
        "assignee": {"old": None, "new": "dora"},
        "priority": {"old": "high", "new": "critical"},
    }
    alert = frames[1]
    assert alert["topic"] == reference["topic"] == "maintenance"
    assert set(alert["data"]) >= set(reference["data"]) >= ALERT_FIELDS
    assert alert["data"]["priority"] == "critical"
    assert alert["data"]["ticket_id"] == ticket["id"]
    assert alert["data"]["title"] == "Coolant pump leaking"
    assert alert["data"]["machine_name"] == "MILL-01"
    assert alert["data"]["escalated"] is True and alert["data"]["old_priority"] == "high"


@pytest.mark.parametrize("status", ["resolved", "closed", "cancelled"])
def test_no_alert_for_a_ticket_that_needs_no_work(api, status):
    ticket = api.ticket(priority="low")
    to_resolved = ["in_progress", "resolved"]
    path = {"resolved": to_resolved, "closed": [*to_resolved, "closed"]}
    for step in path.get(status, [status]):
        api.patch(ticket["id"], {"status": step})
    api.new_events()
    api.patch(ticket["id"], {"priority": "critical"})
    assert kinds(api.new_events()) == ["ticket_updated", "dashboard_refresh"]


def test_lowering_priority_is_an_event_but_no_alert(api):
    ticket = api.ticket(priority="critical")
    api.patch(ticket["id"], {"priority": "medium"})
    frames = api.new_events()
    assert kinds(frames) == ["ticket_updated", "dashboard_refresh"]
    assert frames[0]["data"]["changes"] == {"priority": {"old": "critical", "new": "medium"}}


def test_status_change_carries_the_other_changes(api):
    ticket = api.ticket(priority="medium")
    api.patch(ticket["id"], {"status": "in_progress", "assignee": "eve", "priority": "high"})
    frames = api.new_events()
    assert kinds(frames) == ["ticket_status_change", "dashboard_refresh"]
    data = frames[0]["data"]
    # The contract's fields of ticket_status_change, and the changes beside them.
    assert data["ticket_id"] == ticket["id"] and data["machine_id"] == 1
    assert (data["old_status"], data["new_status"]) == ("open", "in_progress")
    assert data["changes"] == {
        "status": {"old": "open", "new": "in_progress"},
        "assignee": {"old": None, "new": "eve"},
        "priority": {"old": "medium", "new": "high"},
    }
    assert frames[1]["data"]["reason"] == "ticket_status_change"


def test_reopen_as_critical_alerts(api):
    ticket = api.ticket(priority="low")
    for step in ("in_progress", "resolved"):
        api.patch(ticket["id"], {"status": step})
    api.new_events()
    api.patch(ticket["id"], {"status": "open", "priority": "critical"})
    frames = api.new_events()
    assert kinds(frames) == ["ticket_status_change", "maintenance_alert", "dashboard_refresh"]
    assert frames[1]["data"]["priority"] == "critical"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"priority": "high"},
        {"assignee": "fred"},
        {"status": "open"},
        {"status": "open", "priority": "high", "assignee": "fred"},
        {"priority": None},
        {"status": None},
    ],
)
def test_a_patch_that_changes_nothing_writes_nothing(api, body):
    ticket = api.ticket(priority="high", assignee="fred")
    before = api.call("GET", f"/tickets/{ticket['id']}").get_json()
    time.sleep(0.002)  # a write would stamp a later updated_at
    after = api.patch(ticket["id"], body)
    assert after["updated_at"] == before["updated_at"]
    assert after["history"] == before["history"]
    assert api.call("GET", f"/tickets/{ticket['id']}").get_json() == before
    assert api.new_events() == []


def test_empty_assignee_on_an_unassigned_ticket_is_no_change(api):
    ticket = api.ticket()
    before = api.call("GET", f"/tickets/{ticket['id']}").get_json()
    after = api.patch(ticket["id"], {"assignee": ""})
    assert after["updated_at"] == before["updated_at"] and api.new_events() == []


def test_refused_move_writes_none_of_the_request(api):
    ticket = api.ticket(priority="high")
    api.patch(ticket["id"], {"status": "closed", "priority": "critical"}, status=409)
    shown = api.call("GET", f"/tickets/{ticket['id']}").get_json()
    assert shown["priority"] == "high" and shown["status"] == "open"
    assert len(shown["history"]) == 1
    assert api.new_events() == []


# -- an open screen -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve_plant(tmp_path_factory.mktemp("events-ui"), 2)


@pytest.mark.browser
def test_open_maintenance_page_follows_assignee_and_escalation(server: LiveServer, browser):  # noqa: F811
    watch = PageWatch(browser)
    try:
        page = watch.page
        server.sign_in(page, "operator", "/maintenance")
        page.wait_for_selector('#connection-status[data-state="connected"]', timeout=15000)
        page.wait_for_selector("#tickets-count:has-text('match')", timeout=10000)
        body = {"machine_id": 1, "title": "Gearbox whining", "priority": "high"}
        ticket = server.post("/tickets", body).json()

        def row() -> dict[str, Any] | None:
            return page.evaluate(
                """async (id) => {
                    const api = await window.dash_ag_grid.getApiAsync('tickets-grid');
                    let found = null;
                    api.forEachNode(n => { if (n.data && n.data.id === id) found = n.data; });
                    return found;
                }""",
                ticket["id"],
            )

        deadline = time.monotonic() + 5
        while row() is None:
            assert time.monotonic() < deadline, "ticket never reached the grid"
            page.wait_for_timeout(100)
        page.wait_for_timeout(500)  # let the new ticket's own refresh settle
        url = f"{server.url}/api/v1/tickets/{ticket['id']}"
        requests.patch(url, json={"assignee": "gina"}, headers=server.headers(), timeout=10)
        deadline = time.monotonic() + 5
        while (row() or {}).get("assignee") != "gina":
            assert time.monotonic() < deadline, "the grid never showed the new assignee"
            page.wait_for_timeout(100)
        requests.patch(url, json={"priority": "critical"}, headers=server.headers(), timeout=10)
        page.wait_for_selector(".critical-toast:has-text('Gearbox whining')", timeout=5000)
        page.wait_for_selector(
            f'#alerts .prio-critical[data-ticket-id="{ticket["id"]}"]', timeout=5000
        )
    finally:
        watch.close()
