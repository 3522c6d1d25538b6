"""The OpenAPI document agrees with the API: every route documented with its methods and
nothing more, enums and limits from the definitions the API validates with, and the API
refusing what the document forbids (and accepting what it allows)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.api.openapi import document
from app.config import Config
from app.factory import create_app
from app.realtime.protocol import VALID_TOPICS
from data.accounts.tokens import create_token
from data.events import RecordingPublisher
from data.read.ticket_queries import SORTABLE
from data.roles import ROLES
from data.vocabulary import MACHINE_STATUSES, TICKET_PRIORITIES, TICKET_STATUSES
from devtools.factories import add_machines

PREFIX = "/api/v1"
# Answers every method on every unknown path with a JSON 404 (or a 405): not an operation.
CATCH_ALL = "/api/v1/<path:unknown>"
# Added by Flask/werkzeug to every route; not part of what the document describes.
IMPLICIT = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    workdir: Path = tmp_path_factory.mktemp("openapi")
    app = create_app(
        Config(database_url=f"sqlite:///{workdir / 'o.db'}", demo=False, secret_key="t"),
        RecordingPublisher(),
    )
    ctx = app.server.extensions["milldash"]
    add_machines(ctx.db, 2)
    ctx.services.create_ticket({"machine_id": 1, "title": "Leak", "priority": "low"}, "test")
    yield app
    ctx.db.dispose()


@pytest.fixture(scope="module")
def call(app: Any) -> Any:
    """call(method, path, **kwargs) as an admin (the path is under /api/v1)."""
    client = app.server.test_client()
    token = create_token(app.server.extensions["milldash"].db, "admin", "openapi-test")

    def _call(method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        return client.open(PREFIX + path, method=method, headers=headers, **kwargs)

    return _call


def _flask_operations(app: Any) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every HTTP route under /api/v1."""
    found = set()
    for rule in app.server.url_map.iter_rules():
        # WebSocket endpoints are upgrades, not HTTP operations; the contract describes them.
        if not rule.rule.startswith(PREFIX + "/") or rule.rule == CATCH_ALL or rule.websocket:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(PREFIX) :])
        found |= {(path, method.lower()) for method in rule.methods - IMPLICIT}
    return found


def _documented_operations() -> set[tuple[str, str]]:
    return {(path, method) for path, item in document()["paths"].items() for method in item}


def _param(path: str, method: str, name: str) -> dict[str, Any]:
    params = document()["paths"][path][method].get("parameters", [])
    return next(p for p in params if p["name"] == name)


def test_every_route_is_documented_and_every_documented_operation_exists(app: Any) -> None:
    routes, documented = _flask_operations(app), _documented_operations()
    assert routes - documented == set(), "routes missing from the document"
    assert documented - routes == set(), "documented operations the API does not have"


def test_served_document_is_the_built_one(call: Any) -> None:
    answer = call("GET", "/openapi.json")
    assert answer.status_code == 200
    assert answer.get_json() == document()


def test_enums_come_from_the_definitions_the_api_validates_with() -> None:
    def items(path: str, name: str) -> list[str]:
        return _param(path, "get", name)["schema"]["items"]["enum"]

    for path in ("/tickets", "/tickets/export.csv"):
        assert items(path, "status") == list(TICKET_STATUSES)
        assert items(path, "priority") == list(TICKET_PRIORITIES)
        assert set(items(path, "sort")) == {*SORTABLE, *(f"-{name}" for name in SORTABLE)}
        # A comma list (`status=open,on_hold`), the way the API splits it.
        assert _param(path, "get", "status")["explode"] is False
    assert items("/events", "topics") == list(VALID_TOPICS)
    schemas = document()["components"]["schemas"]
    assert schemas["Machine"]["properties"]["status"]["enum"] == list(MACHINE_STATUSES)
    assert schemas["TicketCreate"]["properties"]["priority"]["enum"] == list(TICKET_PRIORITIES)
    new_user = document()["paths"]["/admin/users"]["post"]["requestBody"]["content"]
    assert new_user["application/json"]["schema"]["properties"]["role"]["enum"] == list(ROLES)


def test_ticket_update_requires_no_field() -> None:
    update = document()["components"]["schemas"]["TicketUpdate"]
    assert update.get("required", []) == []
    assert set(update["properties"]) == {"status", "assignee", "priority"}


@pytest.mark.parametrize("body", [{"assignee": "Ana"}, {"priority": "high"}, {}])
def test_ticket_update_with_any_subset_is_accepted(call: Any, body: dict[str, Any]) -> None:
    assert call("PATCH", "/tickets/1", json=body).status_code == 200


def test_whole_number_floats_are_integers_as_json_schema_says(call: Any) -> None:
    ticket = {"machine_id": 2.0, "title": "Float id", "priority": "low"}
    answer = call("POST", "/tickets", json=ticket)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["machine_id"] == 2
    assert (
        call("POST", "/production", json={"machine_id": 1, "good": 3.0, "scrap": 0.0}).status_code
        == 201
    )
    for bad in (1.5, True, "1"):
        answer = call("POST", "/production", json={"machine_id": bad, "good": 1, "scrap": 0})
        assert answer.status_code == 400, bad


@pytest.mark.parametrize(
    "path",
    [
        "/tickets?created_to=0.5",
        "/tickets?created_from=1700000000",
        "/tickets?created_to=",
        "/tickets?machine_id=",
        "/tickets?limit=",
        "/tickets/export.csv?created_to=0.5",
        "/tickets/export.csv?created_from=",
        "/dashboard/overview?to=",
        "/dashboard/overview?from=",
        "/dashboard/overview?to=0.5",
        "/events?since=",
        "/events?limit=",
    ],
)
def test_what_the_document_forbids_is_a_400_with_the_error_shape(call: Any, path: str) -> None:
    answer = call("GET", path)
    assert answer.status_code == 400, answer.get_data(as_text=True)[:200]
    error = answer.get_json()["error"]
    assert error["code"] and error["message"]


def test_a_number_is_not_a_production_time(call: Any) -> None:
    answer = call("POST", "/production", json={"machine_id": 1, "good": 1, "scrap": 0, "ts": 12})
    assert answer.status_code == 400
    assert "ts" in answer.get_json()["error"]["details"]


@pytest.mark.parametrize(
    "path",
    [
        "/tickets?status=open,on_hold&priority=low&sort=-priority,created_at&q=",
        "/tickets/export.csv?status=&sort=&bom=yes&tz=Europe/Berlin",
        "/events?topics=machines,all&since=0",
        "/dashboard/overview?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z",
    ],
)
def test_what_the_document_allows_is_accepted(call: Any, path: str) -> None:
    assert call("GET", path).status_code == 200


def test_health_documents_deep_and_503() -> None:
    health = document()["paths"]["/health"]["get"]
    assert {"1", "0"} <= set(_param("/health", "get", "deep")["schema"]["enum"])
    assert health["responses"]["503"]["content"]["application/json"]["schema"]
    assert health["security"] == []


def test_created_user_answer_has_a_password_only_when_generated() -> None:
    created = document()["paths"]["/admin/users"]["post"]["responses"]["201"]
    schema = created["content"]["application/json"]["schema"]
    assert "password" in schema["properties"]
    assert "password" not in schema["required"]


def test_created_resources_link_to_the_operations_that_use_them() -> None:
    doc = document()
    operation_ids = {op["operationId"] for item in doc["paths"].values() for op in item.values()}
    for path in ("/tickets", "/admin/tokens", "/admin/users"):
        links = doc["paths"][path]["post"]["responses"]["201"]["links"]
        assert links and {link["operationId"] for link in links.values()} <= operation_ids


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/admin/tokens", {"role": "viewer", "name": "x", "scope": "all"}),
        ("/admin/users", {"role": "viewer", "name": "newbie", "admin": True}),
    ],
)
def test_admin_bodies_refuse_fields_the_document_does_not_name(
    app: Any, call: Any, path: str, body: dict[str, Any]
) -> None:
    before = call("GET", path).get_json()
    answer = call("POST", path, json=body)
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "validation_error" and set(error["details"]) <= {"scope", "admin"}
    assert call("GET", path).get_json() == before


@pytest.mark.parametrize("path", ["/machines", "/ws/stats", "/tickets/1"])
def test_options_lists_only_the_routes_methods(call: Any, path: str) -> None:
    documented = {m.upper() for m in document()["paths"][re.sub(r"/1$", "/{ticket_id}", path)]}
    answer = call("OPTIONS", path)
    assert set(answer.headers["Allow"].split(", ")) == documented | {"HEAD", "OPTIONS"}


def test_a_request_cannot_revoke_its_own_token(call: Any) -> None:
    own = next(t for t in call("GET", "/admin/tokens").get_json() if t["name"] == "openapi-test")
    answer = call("DELETE", f"/admin/tokens/{own['id']}")
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "conflict"
    assert call("GET", "/admin/tokens").status_code == 200  # still signed in
