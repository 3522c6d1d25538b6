"""REST API: success, validation errors (nothing written), 401, 403 and 404 per endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.config import Config
from app.factory import create_app
from data.accounts.tokens import create_token, revoke_token
from data.events import RecordingPublisher
from data.roles import ROLES
from data.store.models import ApiToken, EventLog, ProductionCount, Ticket
from devtools.app_under_test import app_with_machines


class Api:
    """A Flask test client that knows one token per role."""

    def __init__(self, app: Any, tokens: dict[str, str], publisher: RecordingPublisher) -> None:
        self.client = app.server.test_client()
        self.ctx = app.server.extensions["milldash"]
        self.tokens = tokens
        self.publisher = publisher

    def call(self, method: str, path: str, role: str | None = "admin", **kwargs: Any):
        headers = kwargs.pop("headers", {})
        if role:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def events(self) -> int:
        with self.ctx.db.read() as session:
            return session.scalar(select(func.count()).select_from(EventLog))

    def rows(self, model) -> int:
        with self.ctx.db.read() as session:
            return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def api(db_url: str) -> Api:
    publisher = RecordingPublisher()
    app, db = app_with_machines(db_url, 3, publisher)
    tokens = {role: create_token(db, role, f"{role}-bot") for role in ROLES}
    yield Api(app, tokens, publisher)
    db.dispose()


def make_ticket(api: Api, **extra: Any) -> dict:
    body = {"machine_id": 1, "title": "Spindle noise", "priority": "medium", **extra}
    response = api.call("POST", "/tickets", "operator", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body["error"]) >= {"code", "message"}
    if code:
        assert body["error"]["code"] == code
    return body["error"]


# -- public -----------------------------------------------------------------------------------


def test_health_is_public(api):
    response = api.call("GET", "/health", role=None)
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "broker": "n/a"}


def test_health_names_failing_database(api, monkeypatch):
    def broken() -> None:
        raise ConnectionError("gone")

    monkeypatch.setattr(api.ctx.db, "ping", broken)
    response = api.call("GET", "/health", role=None)
    assert response.status_code == 503
    assert response.get_json()["database"].startswith("error")


def test_openapi_is_public_and_lists_every_endpoint(api):
    doc = api.call("GET", "/openapi.json", role=None).get_json()
    assert doc["openapi"].startswith("3.")
    for path in (
        "/health",
        "/machines",
        "/machines/{machine_id}/status",
        "/production",
        "/tickets",
        "/tickets/{ticket_id}",
        "/tickets/export.csv",
        "/dashboard/overview",
        "/events",
    ):
        assert path in doc["paths"], path


def test_unknown_api_path_is_json_404(api):
    assert_error(api.call("GET", "/nope"), 404, "not_found")


# -- auth -------------------------------------------------------------------------------------

READS = ["/machines", "/tickets", "/tickets/1", "/dashboard/overview", "/events"]


@pytest.mark.parametrize("path", READS)
def test_reads_need_credentials(api, path):
    make_ticket(api)
    assert_error(api.call("GET", path, role=None), 401, "unauthorized")
    assert api.call("GET", path, role="viewer").status_code == 200


def test_bad_and_revoked_tokens_are_401(api):
    headers = {"Authorization": "Bearer mdt_nonsense"}
    assert_error(api.call("GET", "/machines", role=None, headers=headers), 401)
    assert_error(api.call("GET", "/machines", role=None, headers={"Authorization": "Basic x"}), 401)
    with api.ctx.db.read() as session:
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.role == "operator"))
    revoke_token(api.ctx.db, token_id)
    response = api.call(
        "POST", "/tickets", "operator", json={"machine_id": 1, "title": "Leak", "priority": "low"}
    )
    assert_error(response, 401)
    assert api.rows(Ticket) == 0


def test_display_reads_wall_data_but_not_tickets(api):
    assert api.call("GET", "/machines", "display").status_code == 200
    assert api.call("GET", "/dashboard/overview", "display").status_code == 200
    assert_error(api.call("GET", "/tickets", "display"), 403, "forbidden")


WRITES = [
    ("POST", "/machines/1/status", {"status": "down"}),
    ("POST", "/production", {"machine_id": 1, "good": 3, "scrap": 0}),
    ("POST", "/tickets", {"machine_id": 1, "title": "Leak", "priority": "low"}),
    ("PATCH", "/tickets/1", {"status": "in_progress"}),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
@pytest.mark.parametrize("role", ["viewer", "display"])
def test_writes_need_operator(api, method, path, body, role):
    make_ticket(api)
    before = api.events()
    assert_error(api.call(method, path, role, json=body), 403, "forbidden")
    assert_error(api.call(method, path, None, json=body), 401)
    assert api.events() == before


def test_anonymous_read_switch(db_url):
    app = create_app(Config(database_url=db_url, demo=False, anonymous_view=True))
    client = app.server.test_client()
    assert client.get("/api/v1/machines").status_code == 200
    response = client.post(
        "/api/v1/tickets", json={"machine_id": 1, "title": "x", "priority": "low"}
    )
    assert response.status_code == 403
    app.server.extensions["milldash"].db.dispose()


# -- machines and production ------------------------------------------------------------------


def test_list_machines(api):
    machines = api.call("GET", "/machines", "viewer").get_json()
    assert len(machines) == 3
    assert set(machines[0]) == {
        "id",
        "name",
        "area",
        "kind",
        "status",
        "status_since",
        "utilization_24h",
    }


def test_set_status(api):
    response = api.call(
        "POST", "/machines/2/status", "operator", json={"status": "down", "reason": "belt"}
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "down"
    assert [e.type for e in api.publisher.events] == ["machine_status_update", "dashboard_refresh"]


@pytest.mark.parametrize("body", [{"status": "melted"}, {}, {"status": "down", "extra": 1}])
def test_set_status_validation(api, body):
    error = assert_error(api.call("POST", "/machines/1/status", json=body), 400, "validation_error")
    assert error["details"]
    assert api.events() == 0


def test_set_status_not_json(api):
    assert_error(api.call("POST", "/machines/1/status", data="status=down"), 400)
    assert_error(
        api.call("POST", "/machines/1/status", data="{bad", content_type="application/json"), 400
    )
    assert api.events() == 0


def test_set_status_unknown_machine(api):
    assert_error(api.call("POST", "/machines/999/status", json={"status": "down"}), 404)


def test_production(api):
    response = api.call(
        "POST",
        "/production",
        "operator",
        json={"machine_id": 1, "good": 10, "scrap": 1, "ts": "2026-03-02T08:00:00Z"},
    )
    assert response.status_code == 201
    assert api.publisher.events[-1].type == "production_update"
    assert_error(
        api.call("POST", "/production", json={"machine_id": 1, "good": -5, "scrap": 0}), 400
    )
    assert_error(
        api.call("POST", "/production", json={"machine_id": 77, "good": 5, "scrap": 0}), 404
    )
    assert api.rows(ProductionCount) == 1


# -- tickets ----------------------------------------------------------------------------------


def test_create_and_show_ticket(api):
    ticket = make_ticket(api, description="loud", assignee="dee")
    assert ticket["reported_by"] == "operator-bot"
    assert set(ticket) == {
        "id",
        "machine_id",
        "machine_name",
        "title",
        "description",
        "priority",
        "status",
        "assignee",
        "reported_by",
        "created_at",
        "updated_at",
        "resolved_at",
    }
    shown = api.call("GET", f"/tickets/{ticket['id']}", "viewer").get_json()
    assert shown["history"][0]["to"] == "open"
    assert_error(api.call("GET", "/tickets/999", "viewer"), 404)


@pytest.mark.parametrize(
    "body",
    [
        {"machine_id": 1, "title": "Leak"},
        {"machine_id": 1, "title": "Leak", "priority": "p1"},
        {"machine_id": 1, "title": "", "priority": "low"},
    ],
)
def test_create_ticket_validation(api, body):
    error = assert_error(api.call("POST", "/tickets", json=body), 400)
    assert error["details"]
    assert api.rows(Ticket) == 0


def test_text_with_a_nul_character_is_refused_on_every_database(api):
    """PostgreSQL cannot store U+0000: refused as bad input (400), never a 500 there."""
    body = {"machine_id": 1, "title": "Leak\x00", "priority": "low", "description": "a\x00b"}
    error = assert_error(api.call("POST", "/tickets", json=body), 400)
    assert error["details"]["title"] == "The title must not contain the NUL character (U+0000)."
    assert "description" in error["details"]
    assert api.rows(Ticket) == 0


def test_patch_ticket_workflow(api):
    ticket = make_ticket(api)
    ok = api.call("PATCH", f"/tickets/{ticket['id']}", "operator", json={"status": "in_progress"})
    assert ok.status_code == 200
    events = api.events()
    error = assert_error(
        api.call("PATCH", f"/tickets/{ticket['id']}", json={"status": "closed"}), 409, "conflict"
    )
    assert "in_progress" in error["message"]
    assert api.events() == events
    assert_error(api.call("PATCH", "/tickets/999", json={"status": "closed"}), 404)
    assert_error(api.call("PATCH", f"/tickets/{ticket['id']}", json={"status": "gone"}), 400)


def test_ticket_filters_and_pagination(api):
    for i in range(7):
        make_ticket(
            api,
            title=f"Ticket number {i}",
            priority="high" if i % 2 else "low",
            machine_id=1 + i % 3,
        )
    page = api.call("GET", "/tickets?limit=3&offset=0&sort=id", "viewer").get_json()
    assert page["total"] == 7 and [t["id"] for t in page["items"]] == [1, 2, 3]
    page2 = api.call("GET", "/tickets?limit=3&offset=3&sort=id", "viewer").get_json()
    assert [t["id"] for t in page2["items"]] == [4, 5, 6]
    high = api.call("GET", "/tickets?priority=high", "viewer").get_json()
    assert high["total"] == 3 and {t["priority"] for t in high["items"]} == {"high"}
    by_machine = api.call("GET", "/tickets?machine_id=2", "viewer").get_json()
    assert {t["machine_id"] for t in by_machine["items"]} == {2}
    found = api.call("GET", "/tickets?q=NUMBER 4", "viewer").get_json()
    assert [t["title"] for t in found["items"]] == ["Ticket number 4"]
    api.call("PATCH", "/tickets/1", "operator", json={"status": "in_progress"})
    moved = api.call("GET", "/tickets?status=in_progress,on_hold", "viewer").get_json()
    assert [t["id"] for t in moved["items"]] == [1]
    newest = api.call("GET", "/tickets?sort=-id&limit=1", "viewer").get_json()
    assert newest["items"][0]["id"] == 7
    empty = api.call("GET", "/tickets?created_from=2099-01-01T00:00:00Z", "viewer").get_json()
    assert empty == {"items": [], "total": 0}


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "priority=urgent",
        "limit=0",
        "limit=5000",
        "offset=-1",
        "sort=colour",
        "machine_id=abc",
        "created_from=yesterday",
    ],
)
def test_ticket_filter_errors(api, query):
    assert_error(api.call("GET", f"/tickets?{query}", "viewer"), 400, "validation_error")


# -- dashboard and events ---------------------------------------------------------------------


def test_overview(api):
    make_ticket(api, priority="critical")
    body = api.call("GET", "/dashboard/overview", "viewer").get_json()
    assert body["machines"]["total"] == 3
    assert body["open_tickets"]["by_priority"]["critical"] == 1
    assert set(body["oee"]) == {"availability", "performance", "quality", "oee"}


@pytest.mark.parametrize(
    "query",
    [
        "from=notadate",
        "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
        "from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    ],
)
def test_overview_bad_window(api, query):
    assert_error(api.call("GET", f"/dashboard/overview?{query}", "viewer"), 400)


def test_events_polling(api):
    make_ticket(api)
    api.call("POST", "/machines/1/status", "operator", json={"status": "running"})
    body = api.call("GET", "/events?since=0", "viewer").get_json()
    assert [e["seq"] for e in body["events"]] == [1, 2, 3, 4]
    assert body["seq"] == 4 and body["complete"] is True
    first = body["events"][0]
    assert set(first) == {"type", "seq", "topic", "timestamp", "data"}
    machines = api.call("GET", "/events?since=0&topics=machines", "viewer").get_json()
    assert [e["type"] for e in machines["events"]] == ["machine_status_update"]
    limited = api.call("GET", "/events?since=1&limit=2", "viewer").get_json()
    assert [e["seq"] for e in limited["events"]] == [2, 3] and limited["complete"] is False
    for query in ("since=-1", "since=x", "topics=weather", "limit=0"):
        assert_error(api.call("GET", f"/events?{query}", "viewer"), 400)
