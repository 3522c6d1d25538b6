"""The Redis backend of the hub (CONTRACT §1: several processes on one database) against a
real redis-server, started for this module on a free loopback port without persistence.

"Processes" here are a Database + RedisBackend + Hub each, sharing one database file (or one
PostgreSQL database) in this test process; the last test runs two real servers."""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete

from app.config import Config
from app.factory import create_app
from app.realtime.backend import InProcessBackend
from app.realtime.connection import Connection
from app.realtime.hub import Hub
from app.realtime.redis_backend import RedisBackend, stream_id
from data.events import SystemAlert
from data.store.db import Database
from data.store.models import EventLog
from data.write.services import Services
from devtools.cluster import RedisServer
from devtools.factories import add_machines
from devtools.live_server import LiveServer, free_port, recv_json, recv_until
from tests.waiting import wait_until


def parse_frame(data: bytes) -> dict[str, Any]:
    """The JSON of one unmasked server text frame (as the hub encodes it)."""
    size = data[1] & 0x7F
    start = 2 if size < 126 else 4 if size == 126 else 10
    return json.loads(data[start:])


class Process:
    """One server process's share of the work: database engine, backend, hub, services, and a
    connection subscribed to everything."""

    def __init__(self, db_url: str, redis_url: str, key: str, relay: bool = False) -> None:
        self.db = Database(db_url)
        self.backend = RedisBackend(redis_url, self.db, key=key, block_ms=250, backoff_max_s=1.0)
        self.hub = Hub(self.db, self.backend)
        self.services = Services(self.db, self.hub)
        self.conn = Connection(
            principal_name="t", role="viewer", topics={"all"}, max_frames=10**6, max_bytes=10**9
        )
        self.hub.attach(self.conn)
        self.seqs: list[int] = []
        self.backend.start()
        if relay:
            self.hub.start_relay()

    def alert(self, message: str) -> int:
        """Write one event through this process; its seq."""
        return self.services.append_events([SystemAlert(message=message)])[-1].seq

    def received(self) -> list[int]:
        """Seqs of every event frame delivered to the connection so far, in order."""
        while isinstance(batch := self.conn.take(), list):
            self.seqs.extend(parse_frame(frame)["seq"] for frame in batch)
        return self.seqs

    def wait_for(self, seq: int, timeout: float = 15.0) -> None:
        wait_until(
            lambda: seq in self.received(),
            timeout=timeout,
            message=lambda: f"seq {seq}; got {self.received()[-10:]}",
        )

    def close(self) -> None:
        self.hub.stop()
        self.backend.stop()
        self.db.dispose()


@pytest.fixture
def key() -> str:
    return f"milldash:test:{uuid.uuid4().hex[:8]}"


@pytest.fixture
def pair(
    db: Database, db_url: str, redis_server: RedisServer, key: str
) -> Iterator[tuple[Process, Process]]:
    """Two processes on one database (migrated by `db`) without relays: only Redis carries
    events across."""
    a = Process(db_url, redis_server.url, key)
    b = Process(db_url, redis_server.url, key)
    yield a, b
    a.close(), b.close()


def settle(a: Process, b: Process) -> list[int]:
    """Write a last event through B and wait for it at both: every entry before it in the
    stream has been read by both readers by then (a duplicate would already show)."""
    last = b.alert("sentinel")
    a.wait_for(last), b.wait_for(last)
    return list(range(1, last + 1))


def test_event_published_by_a_reaches_b_once_in_order(pair):
    a, b = pair
    wait_until(lambda: a.backend._cursor and b.backend._cursor, message="readers positioned")
    a.services.append_events([SystemAlert(message=f"batch {i}") for i in range(3)])
    a.alert("single")
    b.wait_for(4)
    expected = settle(a, b)
    assert b.received() == expected  # from the stream (no relay runs), in order, once
    assert a.received() == expected  # A's own events: delivered when published, not read back
    assert a.backend.health() == b.backend.health() == "ok"


def test_200_events_written_through_both_arrive_at_both_in_order(pair):
    """Two writers at once: entries reach the stream out of seq order, the hubs put them back
    in order and read what they lack from the log."""
    a, b = pair

    def write(proc: Process, tag: str) -> None:
        for i in range(100):
            proc.alert(f"{tag}{i}")

    writers = [threading.Thread(target=write, args=(p, t)) for p, t in ((a, "a"), (b, "b"))]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
    expected = settle(a, b)
    assert len(expected) == 201
    assert a.received() == expected
    assert b.received() == expected


@pytest.fixture
def sqlite_pair(tmp_path, redis_server, key) -> Iterator[tuple[Process, Process]]:
    """Two processes on one SQLite file with their relays running, as when serving."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    Database(url).migrate()  # the engine goes with the test's temporary folder
    a = Process(url, redis_server.url, key, relay=True)
    b = Process(url, redis_server.url, key, relay=True)
    yield a, b
    a.close(), b.close()


def test_redis_down_then_back_without_gap_or_duplicate(sqlite_pair, redis_server, caplog):
    a, b = sqlite_pair
    caplog.set_level(logging.WARNING, logger="app.realtime.redis_backend")
    a.alert("before")
    b.wait_for(1)
    redis_server.stop()
    try:
        wait_until(lambda: a.backend.health() != "ok" and b.backend.health() != "ok")
        assert a.backend.health().startswith("unreachable")
        written = [(a if i % 2 else b).alert(f"down {i}") for i in range(20)]  # never raises
        # The relays deliver from the log while the broker is down.
        a.wait_for(written[-1]), b.wait_for(written[-1])
    finally:
        redis_server.start()  # empty: the stream is gone
    wait_until(lambda: a.backend.health() == b.backend.health() == "ok", timeout=15)
    for i in range(20):
        (a if i % 2 else b).alert(f"back {i}")
    expected = settle(a, b)
    assert a.received() == expected
    assert b.received() == expected
    assert a.backend.outages == b.backend.outages == 1
    unreachable = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(unreachable) == 2  # once per process and outage, not once per event


def test_stream_reset_is_filled_from_the_log(pair, redis_server, key):
    """FLUSHALL, and a stream whose ids went back: each is noticed, and what the log holds
    beyond what was delivered is delivered (no relay runs here)."""
    a, b = pair
    a.alert("first")
    a.wait_for(1), b.wait_for(1)
    quiet = Services(a.db)  # commits without announcing: only the log knows
    unannounced = quiet.append_events([SystemAlert(message="while flushed")])[-1].seq
    redis_server.client().flushall()
    wait_until(lambda: a.backend.resets == b.backend.resets == 1, message="flush noticed")
    a.wait_for(unannounced), b.wait_for(unannounced)

    a.alert("after flush")
    settle(a, b)
    cursor = str(redis_server.client().xrevrange(key, "+", "-", count=1)[0][0])
    behind = quiet.append_events([SystemAlert(message="older ids")])[-1]
    fields = {"seq": behind.seq, "origin": "elsewhere", "frame": json.dumps(behind.to_frame())}
    with redis_server.client().pipeline(transaction=True) as swap:  # never seen without the key
        swap.delete(key).xadd(key, fields, id="1-1").execute()
    assert stream_id(cursor) > (1, 1)  # the stream now ends before where the readers are
    wait_until(lambda: a.backend.resets == b.backend.resets == 2, message="ids went back")
    a.wait_for(behind.seq), b.wait_for(behind.seq)
    expected = settle(a, b)
    assert a.received() == expected
    assert b.received() == expected


def test_a_hub_that_lagged_past_pruning_goes_on_from_what_is_left(db):
    """Another process may prune events this one has not delivered yet (it stalled for longer
    than the retention): the gap fill skips to what is left instead of waiting for them."""
    hub = Hub(db, InProcessBackend(db))
    conn = Connection(principal_name="t", role="viewer", topics={"all"})
    hub.attach(conn)
    Services(db).append_events([SystemAlert(message=f"m{i}") for i in range(5)])  # unannounced
    with db.write() as session:
        session.execute(delete(EventLog).where(EventLog.seq <= 3))
    hub.catch_up()
    batch = conn.take()
    assert isinstance(batch, list)
    assert [parse_frame(frame)["seq"] for frame in batch] == [4, 5]
    assert hub.last_seq == 5


def test_health_endpoint_reports_the_broker(tmp_path, redis_server):
    def health(redis_url: str) -> tuple[int, dict[str, Any]]:
        config = Config(
            database_url=f"sqlite:///{tmp_path / 'h.db'}",
            demo=False,
            secret_key="t",
            redis_url=redis_url,
        )
        app = create_app(config)
        response = app.server.test_client().get("/api/v1/health")
        app.server.extensions["milldash"].realtime.stop()
        app.server.extensions["milldash"].db.dispose()
        return response.status_code, response.get_json()

    assert health(redis_server.url) == (200, {"status": "ok", "database": "ok", "broker": "ok"})
    status, body = health(f"redis://127.0.0.1:{free_port()}/0")
    assert status == 200  # CONTRACT §2: events still flow through the log
    assert body == {
        "status": "degraded",
        "database": "ok",
        "broker": "failed",
        "broker_error": "unreachable (ConnectionError)",
    }


def test_ticket_through_one_server_reaches_a_socket_on_another(tmp_path, redis_server, key):
    """Two real `python -m app --no-demo` processes on one SQLite file and one Redis."""
    env = {"MILLDASH_REDIS_URL": redis_server.url, "MILLDASH_REDIS_STREAM": key}
    one = LiveServer(tmp_path, **env)
    other = LiveServer(tmp_path, **env)  # the same database file; its own tokens
    other.log_path = tmp_path / "other.log"
    add_machines(one.db, 1)
    try:
        one.start(), other.start()
        for server in (one, other):
            assert server.get("/health").json() == {
                "status": "ok",
                "database": "ok",
                "broker": "ok",
            }
        ws = other.connect("subscribe=maintenance")
        assert recv_json(ws)["type"] == "welcome"
        body = {"machine_id": 1, "title": "Coolant leak", "priority": "high"}
        created = one.post("/tickets", body)
        assert created.status_code == 201, created.text
        frames = recv_until(ws, lambda f: f["type"] == "maintenance_alert")
        assert frames[-1]["data"]["ticket_id"] == created.json()["id"]
        second = other.post("/tickets", {**body, "title": "Spindle noise"})
        frames += recv_until(ws, lambda f: f.get("data", {}).get("title") == "Spindle noise")
        seqs = [f["seq"] for f in frames]
        assert seqs == sorted(set(seqs))  # in order, none twice
        assert second.status_code == 201
        ws.close()
    finally:
        one.stop(), other.stop()
        one.db.dispose(), other.db.dispose()


def test_a_forked_worker_marks_its_stream_entries_as_its_own(db, redis_server, key):
    """Under --workers the backend is built before the fork: each worker must still skip only
    its own entries, or it would skip the other workers' and wait for the relay."""
    backend = RedisBackend(redis_server.url, db, key=key)
    parent = backend.origin
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the worker
        os.write(write_end, backend.origin.encode())
        os._exit(0)
    os.waitpid(child, 0)
    forked = os.read(read_end, 64).decode()
    os.close(read_end)
    os.close(write_end)
    assert forked and forked != parent
    assert backend.origin == parent  # stable within a process
