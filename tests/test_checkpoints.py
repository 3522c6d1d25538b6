"""SQLite WAL checkpoints leave the requests (data/store/checkpoints.py, app/checkpointer.py):
a deferring database's commits never copy the WAL back, the checkpointer's thread does, and
the server runs one. What the WAL holds is read from its shared-memory index, as SQLite keeps
it: the frames written (`mxFrame`) and those copied back (`nBackfill`)."""

from __future__ import annotations

import json
import struct
import time
import urllib.request
from pathlib import Path

import pytest

from app.checkpointer import DEFAULT_INTERVAL_S, Checkpointer
from data.store.checkpoints import SAFETY_NET_PAGES, connect, passive_checkpoint
from data.store.db import Database
from data.store.models import Machine, Ticket
from devtools.factories import add_machines
from devtools.live_server import LiveServer

AUTOCHECKPOINT_PAGES = 1000  # SQLite's default


def wal_index(db_file: Path) -> tuple[int, int]:
    """(frames in the WAL, frames copied back) from the `-shm` file's header: `mxFrame` at
    byte 16, `nBackfill` at byte 96, native byte order."""
    head = Path(f"{db_file}-shm").read_bytes()[:100]
    return struct.unpack_from("=I", head, 16)[0], struct.unpack_from("=I", head, 96)[0]


def write_tickets(db: Database, count: int) -> None:
    with db.read() as session:
        machine = session.query(Machine.id).scalar() or add_machines(db, 1)[0]
    for i in range(count):  # one transaction each, as requests write them
        with db.write() as session:
            session.add(
                Ticket(
                    machine_id=machine,
                    title=f"t{i}",
                    description="x" * 3000,
                    priority="high",
                    reported_by="op",
                )
            )


@pytest.fixture
def db(sqlite_db: Database) -> Database:
    return sqlite_db


def test_commits_checkpoint_by_default(db: Database) -> None:
    """The usual: a commit past 1,000 pages copied them back, and the WAL began again."""
    write_tickets(db, 250)
    frames, copied = wal_index(db.sqlite_file)
    assert frames < AUTOCHECKPOINT_PAGES + 50, (frames, copied)


def test_deferring_commits_leave_the_wal_to_the_checkpoint(db: Database) -> None:
    assert db.sqlite_file is not None
    assert db.defer_checkpoints()
    write_tickets(db, 250)
    frames, copied = wal_index(db.sqlite_file)
    assert AUTOCHECKPOINT_PAGES < frames < SAFETY_NET_PAGES and copied == 0, (frames, copied)
    conn = connect(db.sqlite_file)
    try:
        done = passive_checkpoint(conn)
    finally:
        conn.close()
    assert (done.busy, done.wal_frames, done.copied) == (False, frames, frames)
    assert wal_index(db.sqlite_file) == (frames, frames)
    write_tickets(db, 1)  # the next writer starts the WAL over
    assert wal_index(db.sqlite_file)[0] < 50


def test_the_checkpointer_thread_copies_back_and_stops(db: Database) -> None:
    checkpointer = Checkpointer(db, interval_s=0.2)
    assert checkpointer.start()
    assert not checkpointer.start()  # once
    try:
        write_tickets(db, 40)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            frames, copied = wal_index(db.sqlite_file)
            if frames and copied == frames:
                break
            time.sleep(0.05)
        assert frames > 0 and copied == frames, (frames, copied)
        assert checkpointer.runs > 0 and checkpointer.last_error == ""
    finally:
        checkpointer.stop()
    deadline = time.monotonic() + 5
    while checkpointer.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not checkpointer.running


def test_no_checkpointer_without_a_database_file() -> None:
    memory = Database("sqlite:///:memory:")
    try:
        assert memory.sqlite_file is None
        assert not memory.defer_checkpoints()
        assert not Checkpointer(memory).start()
    finally:
        memory.dispose()


def test_a_missing_file_is_an_error_not_a_new_database(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'gone.db'}")
    checkpointer = Checkpointer(db, interval_s=0.1)
    assert checkpointer.start()
    try:
        deadline = time.monotonic() + 5
        while not checkpointer.last_error and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "unable to open" in checkpointer.last_error
        assert checkpointer.runs == 0 and not (tmp_path / "gone.db").exists()
    finally:
        checkpointer.stop()
        db.dispose()


def test_the_server_checkpoints_in_the_background(tmp_path: Path) -> None:
    """40 tickets are far below SQLite's 1,000 pages: only the server's checkpointer copies
    them back."""
    live = LiveServer(tmp_path)
    machine = add_machines(live.db, 1)[0]
    live.start()
    try:
        for i in range(40):
            body = {
                "machine_id": machine,
                "title": f"Spindle #{i}",
                "priority": "high",
                "description": "Noise at high RPM",
            }
            request = urllib.request.Request(
                f"{live.url}/api/v1/tickets",
                data=json.dumps(body).encode(),
                headers={
                    "Authorization": f"Bearer {live.tokens['operator']}",
                    "Content-Type": "application/json",
                },
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 201
        db_file = Path(live.db_url.removeprefix("sqlite:///"))
        deadline = time.monotonic() + 4 * DEFAULT_INTERVAL_S
        while time.monotonic() < deadline:
            frames, copied = wal_index(db_file)
            if frames and copied == frames:
                break
            time.sleep(0.1)
        assert 0 < frames < AUTOCHECKPOINT_PAGES and copied == frames, (frames, copied)
    finally:
        live.stop()
