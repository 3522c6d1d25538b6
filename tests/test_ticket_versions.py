"""Tickets carry a version: GET sends a strong ETag, PATCH honours If-Match (412 with the
current ticket when it changed meanwhile), and two concurrent PATCHes naming the same version
cannot both win. On SQLite and PostgreSQL (the `db_url` fixture)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, select, text

from data.accounts.tokens import create_token
from data.events import RecordingPublisher
from data.read.records import ticket_etag
from data.store.db import Database, alembic_config
from data.store.models import EventLog
from data.write.services import Services
from data.write.tickets import PreconditionFailed
from devtools.app_under_test import app_with_machines
from devtools.factories import add_machines


class Client:
    """The app's test client with an operator token."""

    def __init__(self, db_url: str) -> None:
        app, self.db = app_with_machines(db_url, 2, RecordingPublisher())
        self.client = app.server.test_client()
        self.auth = {"Authorization": f"Bearer {create_token(self.db, 'operator', 'planner')}"}

    def call(self, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any):
        return self.client.open(
            f"/api/v1{path}", method=method, headers={**self.auth, **(headers or {})}, **kw
        )

    def events(self) -> int:
        with self.db.read() as session:
            return session.scalar(select(func.count()).select_from(EventLog)) or 0


@pytest.fixture
def api(db_url: str) -> Any:
    client = Client(db_url)
    yield client
    client.db.dispose()


def new_ticket(api: Client) -> dict[str, Any]:
    body = {"machine_id": 1, "title": "Coolant leak", "priority": "medium"}
    response = api.call("POST", "/tickets", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_get_sends_a_strong_etag_that_changes_with_the_ticket(api):
    ticket = new_ticket(api)
    first = api.call("GET", f"/tickets/{ticket['id']}")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/"), etag
    assert api.call("GET", f"/tickets/{ticket['id']}").headers["ETag"] == etag  # stable
    moved = api.call("PATCH", f"/tickets/{ticket['id']}", json={"status": "in_progress"})
    assert moved.status_code == 200
    assert moved.headers["ETag"] != etag
    assert api.call("GET", f"/tickets/{ticket['id']}").headers["ETag"] == moved.headers["ETag"]
    # A PATCH that changes nothing keeps the version (and the ETag).
    same = api.call("PATCH", f"/tickets/{ticket['id']}", json={"status": "in_progress"})
    assert same.headers["ETag"] == moved.headers["ETag"]


def test_if_match_applies_when_unchanged_and_412_when_changed(api):
    ticket = new_ticket(api)
    path = f"/tickets/{ticket['id']}"
    etag = api.call("GET", path).headers["ETag"]
    # Planner A assigns with the ETag she read: it applies.
    first = api.call("PATCH", path, {"If-Match": etag}, json={"assignee": "dora"})
    assert first.status_code == 200, first.get_json()
    # Planner B read the same version and now puts it on hold: refused, nothing written.
    events = api.events()
    second = api.call("PATCH", path, {"If-Match": etag}, json={"status": "on_hold"})
    assert second.status_code == 412
    current = second.get_json()
    assert current["id"] == ticket["id"] and current["assignee"] == "dora"
    assert current["status"] == "open" and current["history"]
    assert second.headers["ETag"] == first.headers["ETag"]
    assert api.events() == events
    # With the ETag of the 412 answer, B's change applies.
    again = api.call(
        "PATCH", path, {"If-Match": second.headers["ETag"]}, json={"status": "on_hold"}
    )
    assert again.status_code == 200 and again.get_json()["status"] == "on_hold"


def test_patch_without_if_match_or_with_star_applies_as_before(api):
    ticket = new_ticket(api)
    path = f"/tickets/{ticket['id']}"
    assert api.call("PATCH", path, json={"assignee": "eli"}).status_code == 200
    star = api.call("PATCH", path, {"If-Match": "*"}, json={"priority": "high"})
    assert star.status_code == 200 and star.get_json()["priority"] == "high"
    # A weak tag never matches (If-Match compares strongly).
    tag = api.call("GET", path).headers["ETag"]
    assert (
        api.call("PATCH", path, {"If-Match": f"W/{tag}"}, json={"priority": "low"}).status_code
        == 412
    )
    # Unknown ticket: 404 before any version check.
    assert api.call("PATCH", "/tickets/9999", {"If-Match": tag}, json={}).status_code == 404


def test_ticket_messages_are_written_for_people(api):
    response = api.call("POST", "/tickets", json={"machine_id": 1, "title": "x", "priority": "p1"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["details"]["title"] == "The title needs at least 3 characters."
    assert (
        error["details"]["priority"] == "Choose the priority: one of low, medium, high, critical."
    )
    assert error["message"] == "Please check the priority and the title."
    bad = api.call("PATCH", "/tickets/1", json={"status": "done"}).get_json()["error"]
    assert "in progress" in bad["details"]["status"] and "should" not in bad["details"]["status"]


def test_concurrent_updates_with_the_same_version_cannot_both_win(db: Database):
    """Eight threads read the same version and change the ticket at once, round after round:
    the check runs inside the write transaction, so exactly one of them wins each round."""
    add_machines(db, 1)
    services = Services(db)
    ticket = services.create_ticket({"machine_id": 1, "title": "Race", "priority": "low"}, "t")
    for round_no in range(5):
        with db.read() as session:
            version = session.scalar(text(f"SELECT version FROM tickets WHERE id = {ticket['id']}"))
        etag = ticket_etag(ticket["id"], version)
        start = threading.Barrier(8)
        outcomes: list[str] = []

        def change(
            n: int,
            etag: str = etag,
            start: threading.Barrier = start,
            outcomes: list[str] = outcomes,
            round_no: int = round_no,
        ) -> None:
            start.wait()
            try:
                Services(db).update_ticket(
                    ticket["id"], {"assignee": f"tech-{round_no}-{n}"}, f"planner-{n}", etag.__eq__
                )
                outcomes.append("won")
            except PreconditionFailed:
                outcomes.append("refused")

        threads = [threading.Thread(target=change, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(outcomes) == ["refused"] * 7 + ["won"], outcomes
    with db.read() as session:
        assert session.scalar(text(f"SELECT version FROM tickets WHERE id = {ticket['id']}")) == 6


def test_migration_gives_existing_tickets_version_1(db_url: str):
    database = Database(db_url)
    try:
        command.upgrade(alembic_config(database.engine), "0002")
        add_machines(database, 1)
        with database.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO tickets (machine_id, title, description, priority, status, "
                    "reported_by, created_at, updated_at) VALUES (1, 'Old', '', 'low', 'open', "
                    "'x', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
        database.migrate()
        with database.engine.connect() as conn:
            assert conn.execute(text("SELECT version FROM tickets")).scalar_one() == 1
        command.downgrade(alembic_config(database.engine), "0002")
        database.migrate()
    finally:
        database.dispose()
