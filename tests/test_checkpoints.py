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
from data.store.checkpoints import connect, passive_checkpoint
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
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'wal.db'}")
    database.migrate()
    yield database
    database.dispose()


@pytest.mark.parametrize("deferred", [True, False])
def test_deferring_commits_leave_the_wal_to_the_checkpoint(db: Database, deferred: bool) -> None:
    assert db.sqlite_file is not None
    if deferred:
        assert db.defer_checkpoints()
    write_tickets(db, 400)
    frames, copied = wal_index(db.sqlite_file)
    if (
        not deferred
    ):  # the usual: a commit past 1,000 pages copied them back, and the WAL began again
        assert frames < AUTOCHECKPOINT_PAGES + 50, (frames, copied)
        return
    assert frames > AUTOCHECKPOINT_PAGES and copied == 0, (frames, copied)
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
    while checkpointer._running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not checkpointer._running


def test_no_checkpointer_without_a_database_file() -> None:
    memory = Database("sqlite:///:memory:")
    assert memory.sqlite_file is None
    assert not memory.defer_checkpoints()
    assert not Checkpointer(memory).start()


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
