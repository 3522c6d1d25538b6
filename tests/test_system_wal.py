"""The System page's WAL checkpoint line: what the checkpointer thread reports, how each state
reads, where the line sits, and a real server's line moving once its thread has run."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from app.checkpointer import Checkpointer, start_checkpointer
from app.system_status import wal_checkpoints
from components.system import parts_body
from components.system_wal import wal_row
from data.store.checkpoints import connect
from data.store.db import Database
from data.system_report import (
    PART_ABSENT,
    PART_OK,
    Connections,
    Latency,
    PartState,
    SystemReport,
    WalCheckpoints,
)
from devtools.live_server import LiveServer, serve_plant
from tests.test_checkpoints import write_tickets
from tests.test_system_page import find_props, refreshed
from tests.waiting import wait_until

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def as_text(component: Any) -> str:
    return json.dumps(component, default=lambda c: c.to_plotly_json())


def report(wal: WalCheckpoints | None) -> SystemReport:
    return SystemReport(
        at=NOW,
        pid=1,
        processes=1,
        connections=Connections(0),
        latency=Latency(300, 300, 0, 0),
        parts=(PartState("database", PART_OK), PartState("broker", PART_ABSENT)),
        errors=(),
        wal=wal,
    )


def row_props(wal: WalCheckpoints) -> dict[str, Any]:
    return wal_row(wal, NOW).to_plotly_json()["props"]


# -- what the thread reports ------------------------------------------------------------------


def test_a_checkpointer_that_ran_reports_its_last_checkpoint(sqlite_db: Database) -> None:
    checkpointer = Checkpointer(sqlite_db, interval_s=0.1)
    assert wal_checkpoints(checkpointer).runs == 0  # type: ignore[union-attr]
    assert checkpointer.start()
    try:
        write_tickets(sqlite_db, 10)
        wait_until(lambda: checkpointer.runs >= 2, timeout=10)
        wal = wal_checkpoints(checkpointer)
    finally:
        checkpointer.stop()
    assert wal is not None and wal.running and wal.runs >= 2 and wal.error == ""
    assert wal.every_s == 0.1
    assert wal.last_at is not None
    assert timedelta(0) <= datetime.now(UTC) - wal.last_at < timedelta(seconds=10)
    assert 0 <= wal.copied <= wal.wal_pages


def test_a_failing_checkpointer_reports_its_error(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'gone.db'}")  # never created: the thread cannot open it
    checkpointer = Checkpointer(db, interval_s=0.1)
    assert checkpointer.start()
    try:
        wait_until(lambda: checkpointer.last_error, timeout=5)
        wal = wal_checkpoints(checkpointer)
    finally:
        checkpointer.stop()
        db.dispose()
    assert wal is not None and "unable to open" in wal.error
    assert wal.runs == 0 and wal.last_at is None


def test_a_checkpoint_that_finds_another_running_is_skipped(sqlite_db: Database) -> None:
    """Another process's checkpoint holds SQLite's checkpoint lock while it waits for an old
    reader: ours is skipped (counted as such, not as a checkpoint of nothing)."""
    path = sqlite_db.sqlite_file
    assert path is not None
    write_tickets(sqlite_db, 2)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM tickets").fetchone()  # an old snapshot, held
    write_tickets(sqlite_db, 5)
    other = sqlite3.connect(path, isolation_level=None, timeout=5, check_same_thread=False)
    waiting = threading.Thread(target=lambda: other.execute("PRAGMA wal_checkpoint(RESTART)"))
    waiting.start()
    checkpointer = Checkpointer(sqlite_db)
    ours = connect(path)
    try:
        time.sleep(0.3)  # the other checkpoint now holds the lock, waiting for the reader
        checkpointer.checkpoint(ours)
        done = checkpointer.progress
        assert (done.skipped, done.runs, done.last, done.last_at) == (1, 0, None, None)
        wal = wal_checkpoints(checkpointer)
        assert wal is not None and wal.skipped == 1 and wal.runs == 0
    finally:
        reader.execute("COMMIT")
        waiting.join(10)
        other.close()
    checkpointer.checkpoint(ours)
    ours.close()
    done = checkpointer.progress
    assert done.skipped == 1 and done.runs == 1 and done.last is not None and not done.last.busy


def test_only_a_sqlite_file_gets_a_checkpointer(sqlite_db: Database) -> None:
    memory = Database("sqlite:///:memory:")
    try:
        app_ctx = SimpleNamespace(db=memory, extras={})
        assert start_checkpointer(app_ctx) is None and "checkpointer" not in app_ctx.extras
    finally:
        memory.dispose()
    app_ctx = SimpleNamespace(db=sqlite_db, extras={})
    started = start_checkpointer(app_ctx)
    try:
        assert started is not None and app_ctx.extras["checkpointer"] is started
    finally:
        assert started is not None
        started.stop()
    assert wal_checkpoints(None) is None


# -- how it reads -------------------------------------------------------------------------------


def test_each_state_reads_as_it_should() -> None:
    ok = WalCheckpoints(
        every_s=5,
        running=True,
        runs=1234,
        last_at=NOW - timedelta(seconds=3),
        wal_pages=120,
        copied=120,
    )
    props = row_props(ok)
    assert props["data-state"] == "ok" and props["data-runs"] == "1234"
    assert "Last checkpoint 3 s ago: 120 of 120 pages copied back; 1,234 since" in as_text(props)
    assert "Every 5 s." in as_text(props) and "a reader" not in as_text(props)

    held = WalCheckpoints(5, True, 7, NOW - timedelta(minutes=2), wal_pages=900, copied=300)
    assert "300 of 900 pages copied back (a reader still needs the rest)" in as_text(
        row_props(held)
    )

    waiting = row_props(WalCheckpoints(5, True, 0))
    assert waiting["data-state"] == "waiting"
    assert "None yet: the first within 5 s." in as_text(waiting)

    failed = row_props(
        WalCheckpoints(5, True, 3, NOW - timedelta(minutes=4), 50, 50, error="disk I/O error")
    )
    assert failed["data-state"] == "failed"
    assert "disk I/O error" in as_text(failed) and "Last checkpoint 4 min ago" in as_text(failed)
    never = row_props(WalCheckpoints(5, True, 0, error="unable to open database file"))
    assert never["data-state"] == "failed" and "None has run yet." in as_text(never)

    stopped = row_props(WalCheckpoints(5, False, 9, NOW, 10, 10, safety_net_pages=4000))
    assert stopped["data-state"] == "stopped"
    assert "commits copy the log back themselves once it passes 4,000 pages" in as_text(stopped)
    # A thread that ended after a failed attempt: stopped first, its error beside it.
    ended = row_props(WalCheckpoints(5, False, 9, NOW, 10, 10, error="disk I/O error"))
    assert ended["data-state"] == "stopped" and "disk I/O error" in as_text(ended)


def test_checkpoints_left_to_another_process_are_said() -> None:
    shared = row_props(WalCheckpoints(5, True, 40, NOW, 10, 10, skipped=12))
    assert shared["data-state"] == "ok"
    assert "40 since the process started, 12 left to another process's checkpoint." in (
        as_text(shared)
    )
    never = row_props(WalCheckpoints(5, True, 0, skipped=3))
    assert never["data-state"] == "waiting"
    assert "None taken here: 3 left to another process's checkpoint." in as_text(never)


def test_the_line_sits_under_the_database_and_only_with_a_checkpointer() -> None:
    ids = [
        c.to_plotly_json()["props"].get("id")
        for c in parts_body(report(WalCheckpoints(5, True, 1, NOW, 1, 1)))
    ]
    assert ids[:3] == ["system-part-database", "system-wal", "system-part-broker"]
    assert "system-wal" not in as_text(parts_body(report(None)))


# -- on a real server ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_plant(tmp_path_factory.mktemp("system-wal"), 1)


def wal_line(server: LiveServer) -> dict[str, Any] | None:
    return find_props(refreshed(server), "system-wal")


def test_a_real_servers_page_shows_its_checkpoints(server: LiveServer) -> None:
    created = server.post(
        "/tickets", {"machine_id": 1, "title": "Coolant leak", "priority": "high"}
    )
    assert created.status_code == 201, created.text
    line = wait_until(
        lambda: (props := wal_line(server)) is not None and props["data-runs"] != "0" and props,
        timeout=15,
    )
    assert line["data-state"] == "ok", line
    assert "pages copied back" in as_text(line) and "Every 5 s." in as_text(line)
