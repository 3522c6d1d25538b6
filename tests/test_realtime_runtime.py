"""The realtime runtime as one Flask extension (app/realtime/runtime.py): `create_app` builds
it, the app reaches it as `AppContext.realtime`, and `start()`/`stop()` run and end the relay
and the Redis reader. Real databases, a real redis-server, no mocks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

from app.config import Config
from app.context import AppContext
from app.factory import create_app
from app.realtime.backend import InProcessBackend
from app.realtime.connection import Connection
from app.realtime.redis_backend import RedisBackend
from app.realtime.runtime import EXTENSION_KEY, Realtime
from data.events import SystemAlert
from data.store.db import Database
from data.write.services import Services
from tests.waiting import wait_until


def frames_of(conn: Connection) -> list[dict[str, Any]]:
    """Every event frame queued for `conn` so far (as the hub encodes them: unmasked)."""
    seen: list[dict[str, Any]] = []
    while isinstance(batch := conn.take(), list):
        for frame in batch:
            size = frame[1] & 0x7F
            seen.append(json.loads(frame[2 if size < 126 else 4 if size == 126 else 10 :]))
    return seen


def listener() -> Connection:
    return Connection(principal_name="t", role="viewer", topics={"all"})


def build(db_url: str, **config: Any) -> tuple[Any, AppContext]:
    app = create_app(Config(database_url=db_url, demo=False, secret_key="t", **config))
    return app, app.server.extensions["milldash"]


@pytest.fixture
def built(db_url: str) -> Iterator[AppContext]:
    _app, app_ctx = build(db_url)
    yield app_ctx
    app_ctx.realtime.stop()
    app_ctx.db.dispose()


def test_create_app_builds_it_unstarted(built: AppContext) -> None:
    realtime = built.realtime
    assert isinstance(realtime, Realtime)
    assert isinstance(realtime.backend, InProcessBackend)
    assert realtime.hub.backend is realtime.backend
    assert built.services.outbox.publisher is realtime  # the services publish through it
    assert not realtime.running and realtime.hub._relay_thread is None
    assert realtime.health() == "n/a"


def test_the_app_reaches_it_as_an_extension(db_url: str) -> None:
    app, app_ctx = build(db_url)
    server = app.server
    assert server.extensions[EXTENSION_KEY] is app_ctx.realtime
    assert {"/api/v1/ws", "/api/v1/ws/admin", "/api/v1/ws/stats"} <= {
        rule.rule for rule in server.url_map.iter_rules()
    }
    health = server.test_client().get("/api/v1/health").get_json()
    assert health == {"status": "ok", "database": "ok", "broker": "n/a"}
    app_ctx.db.dispose()


def test_published_events_reach_connections_without_start(built: AppContext) -> None:
    conn = listener()
    built.realtime.hub.attach(conn)
    seq = built.services.append_events([SystemAlert(message="hello")])[-1].seq
    assert [f["seq"] for f in frames_of(conn)] == [seq]


def test_start_runs_the_relay_and_stop_ends_it(built: AppContext) -> None:
    realtime = built.realtime
    conn = listener()
    realtime.hub.attach(conn)
    quiet = Services(built.db)  # commits without announcing: only the relay finds these
    realtime.start(relay_interval_s=0.05)
    relay = realtime.hub._relay_thread
    realtime.start()  # idempotent: still the one relay
    assert realtime.running and realtime.hub._relay_thread is relay
    first = quiet.append_events([SystemAlert(message="one")])[-1].seq
    wait_until(lambda: any(f["seq"] == first for f in frames_of(conn)), message="relayed")

    realtime.stop()
    assert not realtime.running and realtime.hub._relay_thread is None
    second = quiet.append_events([SystemAlert(message="two")])[-1].seq
    time.sleep(0.3)  # six relay intervals: nothing runs now
    assert frames_of(conn) == []
    realtime.start(relay_interval_s=0.05)  # and again after a stop
    wait_until(lambda: any(f["seq"] == second for f in frames_of(conn)), message="restarted")


def test_realtime_on_a_bare_flask_app(tmp_path) -> None:
    """`Realtime(app)` needs only what it reads: the app's config and database."""
    db = Database(f"sqlite:///{tmp_path / 'bare.db'}")
    db.migrate()
    server = Flask("bare")
    holder = SimpleNamespace(config=Config(database_url=str(db.engine.url)), db=db)
    server.extensions["milldash"] = holder
    backend = InProcessBackend(db)
    realtime = Realtime(server, backend=backend)
    assert holder.realtime is realtime and realtime.backend is backend
    assert server.extensions[EXTENSION_KEY] is realtime
    conn = listener()
    realtime.hub.attach(conn)
    seq = Services(db, realtime).append_events([SystemAlert(message="bare")])[-1].seq
    assert [f["seq"] for f in frames_of(conn)] == [seq]
    unbound = Realtime()
    with pytest.raises(RuntimeError, match="init_app"):
        unbound.hub  # noqa: B018
    db.dispose()


def test_going_away_ends_every_connection(built: AppContext) -> None:
    conns = [listener() for _ in range(3)]
    for conn in conns:
        built.realtime.hub.attach(conn)
    assert built.realtime.going_away() == 3
    assert [conn.take() for conn in conns] == ["going_away"] * 3


def test_two_runtimes_on_one_redis(tmp_path, redis_server, monkeypatch) -> None:
    """Two apps (as two processes would build them) on one database file and one Redis:
    started, an event written through one reaches a connection of the other at once."""
    monkeypatch.setenv("MILLDASH_REDIS_STREAM", f"milldash:test:{tmp_path.name}")
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    _one, a = build(url, redis_url=redis_server.url)
    _other, b = build(url, redis_url=redis_server.url)
    try:
        assert isinstance(b.realtime.backend, RedisBackend)
        conn = listener()
        b.realtime.hub.attach(conn)
        for app_ctx in (a, b):
            app_ctx.realtime.start(relay_interval_s=60)  # only Redis carries events across
        reader = b.realtime.backend
        assert isinstance(reader, RedisBackend)
        wait_until(lambda: reader._cursor is not None, message="reader positioned")
        seq = a.services.append_events([SystemAlert(message="across")])[-1].seq
        wait_until(lambda: any(f["seq"] == seq for f in frames_of(conn)), message="across")
        assert a.realtime.health() == b.realtime.health() == "ok"
    finally:
        for app_ctx in (a, b):
            app_ctx.realtime.stop()
            app_ctx.db.dispose()
    assert not reader._reading()
