"""GET /api/v1/health: `deep=1` reads every table, so a database whose pages are damaged is
not reported healthy (hardening issue, item 15). Real databases: a SQLite file with zeros
written over a table's pages, and on both backends a table that is gone."""

from __future__ import annotations

import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.config import Config
from app.factory import create_app
from data.accounts.tokens import create_token
from data.events import RecordingPublisher
from data.store.db import Database
from data.store.health import unreadable_tables
from data.store.models import Base
from data.write.services import Services
from devtools.factories import add_machines


class Server:
    """The real app on a database URL, through Flask's test client."""

    def __init__(self, url: str) -> None:
        config = Config(database_url=url, demo=False, secret_key="test")
        self.app = create_app(config, RecordingPublisher())
        self.db: Database = self.app.server.extensions["milldash"].db
        self.client = self.app.server.test_client()
        self.token = create_token(self.db, "viewer", "probe")

    def get(self, path: str, **query: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.client.get(f"/api/v1{path}", query_string=query, headers=headers)

    def close(self) -> None:
        self.db.dispose()


def populate(db: Database, tickets: int = 400) -> None:
    """Machines, tickets with history and events: several pages per table."""
    add_machines(db, 3)
    services = Services(db, RecordingPublisher())
    for i in range(tickets):
        body = {"machine_id": 1 + i % 3, "title": f"Defect {i}", "priority": "medium"}
        ticket = services.create_ticket({**body, "description": "worn bearing " * 20}, "ann")
        if i % 4 == 0:
            services.update_ticket(ticket["id"], {"status": "in_progress"}, "bob")


@pytest.fixture
def server(db_url: str) -> Any:
    live = Server(db_url)
    populate(live.db, 30)
    yield live
    live.close()


def test_intact_database_is_ok_shallow_and_deep(server):
    expected = {"status": "ok", "database": "ok", "broker": "n/a"}
    for query in ({}, {"deep": "1"}, {"deep": "true"}, {"deep": "0"}, {"deep": ""}):
        response = server.get("/health", **query)
        assert response.status_code == 200, (query, response.get_json())
        assert response.get_json() == expected


def test_bad_deep_value_is_400(server):
    response = server.get("/health", deep="very")
    assert response.status_code == 400
    assert response.get_json()["error"]["details"] == {"deep": "use 1 or 0"}


def test_a_missing_table_fails_deep_only_and_is_named(server):
    """Every table is tried even after one failed (PostgreSQL needs the rollback for that)."""
    with server.db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE status_periods RENAME TO status_periods_gone"))
    shallow = server.get("/health")
    assert shallow.status_code == 200 and shallow.get_json()["status"] == "ok"
    deep = server.get("/health", deep="1")
    assert deep.status_code == 503
    assert deep.get_json() == {
        "status": "error",
        "database": "failed",
        "failed": ["status_periods"],
        "broker": "n/a",
    }


def test_every_table_of_the_schema_is_read(db):
    """New tables are covered without a list to keep up to date."""
    assert unreadable_tables(db) == []
    names = {t.name for t in Base.metadata.sorted_tables}
    assert {"tickets", "ticket_history", "event_log", "machines", "api_tokens"} <= names


def test_deep_check_is_cheap_enough_for_a_load_balancer(tmp_path):
    """A few milliseconds on a populated database (measured ~0.3 ms for 9 tables); the bound
    is loose so that a busy test machine does not fail it."""
    db = Database(f"sqlite:///{tmp_path / 'plant.db'}")
    db.migrate()
    populate(db, 400)
    unreadable_tables(db)
    timings = []
    for _ in range(50):
        start = time.perf_counter()
        assert unreadable_tables(db) == []
        timings.append(time.perf_counter() - start)
    assert statistics.median(timings) < 0.02
    db.dispose()


# -- a damaged SQLite file --------------------------------------------------------------------


def corrupt_table_pages(path: Path, table: str) -> None:
    """Zeros over the root page of `table`'s b-tree: every read of the table fails while the
    schema (page 1) and every other table stay readable."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every row into the main file
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    assert 1 < root < pages, "the table's pages must lie inside the file"
    with path.open("r+b") as raw:
        raw.seek((root - 1) * page_size)
        raw.write(b"\0" * page_size)


def test_damaged_table_pages_fail_deep_health(tmp_path):
    path = tmp_path / "milldash.db"
    url = f"sqlite:///{path}"
    first = Server(url)
    populate(first.db)
    first.close()
    corrupt_table_pages(path, "tickets")

    server = Server(url)
    try:
        # The premise: the database still answers, but the tickets cannot be read.
        with server.db.engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
            with pytest.raises(Exception, match="malformed"):
                conn.execute(text("SELECT * FROM tickets")).all()
        assert server.get("/tickets").status_code == 500
        shallow = server.get("/health")
        assert shallow.status_code == 200
        assert shallow.get_json() == {"status": "ok", "database": "ok", "broker": "n/a"}
        deep = server.get("/health", deep="1")
        assert deep.status_code == 503
        body = deep.get_json()
        assert body["status"] == "error" and body["database"] == "failed"
        assert body["failed"] == ["tickets"]
    finally:
        server.close()
