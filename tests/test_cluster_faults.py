"""Two real `python -m app --no-demo` processes, A and B, on one private PostgreSQL server and
one redis-server, both started here on free loopback ports so that the tests may stop and
start them: events written through either process reach every socket on both, and an outage
of Redis or of the database loses nothing (docs/deploy.md, "Faults")."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket

from data.accounts.tokens import create_token
from data.accounts.users import create_user
from data.store.db import Database
from devtools.cluster import REDIS_SERVER, AppProcess, RedisServer
from devtools.factories import add_machines
from devtools.postgres_server import PostgresServer, pg_bin
from tests.conftest import IN_CI
from tests.waiting import wait_until


class Listener:
    """A socket read by a thread of its own into `frames`, as a browser reads it: never
    blocked by the test (a socket nobody reads would be closed as a slow consumer)."""

    def __init__(self, url: str, token: str, query: str = "") -> None:
        url = f"{url}?token={token}" + (f"&{query}" if query else "")
        self.ws = websocket.create_connection(url, timeout=30)
        self.welcome = json.loads(self.ws.recv())
        assert self.welcome["type"] == "welcome", self.welcome
        self.frames: list[dict[str, Any]] = []
        self.closed: str | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                text = self.ws.recv()
                if text in ("", b""):
                    self.closed = "closed by the server"
                    return
                self.frames.append(json.loads(text))
        except Exception as exc:  # the socket ended: say how
            self.closed = f"{type(exc).__name__}: {exc}"

    def seqs(self) -> list[int]:
        return [f["seq"] for f in list(self.frames) if "topic" in f]

    def has(self, seq: int) -> bool:
        seqs = self.seqs()
        return bool(seqs) and seqs[-1] >= seq

    def pong(self) -> bool:
        """Ask for a pong and wait for it: the socket is open and served."""
        before = sum(1 for f in self.frames if f["type"] == "pong")
        self.ws.send(json.dumps({"type": "ping"}))
        return bool(
            wait_until(
                lambda: sum(1 for f in self.frames if f["type"] == "pong") > before,
                timeout=10,
                message="a pong",
            )
        )

    def close(self) -> None:
        self.ws.close()


@dataclass
class Pair:
    apps: list[AppProcess]
    redis: RedisServer
    postgres: PostgresServer
    db: Database
    machine: int
    token: str
    listeners: list[Listener] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def listen(self, per_process: int = 2) -> list[Listener]:
        fresh = [
            Listener(f"ws://{app.address}/api/v1/ws", self.token)
            for app in self.apps
            for _ in range(per_process)
        ]
        self.listeners += fresh
        return fresh

    def post_ticket(self, app: AppProcess, title: str) -> requests.Response:
        body = {"machine_id": self.machine, "title": title, "priority": "high"}
        return requests.post(
            f"{app.url}/api/v1/tickets", json=body, headers=self.headers, timeout=30
        )

    def events_since(self, since: int) -> list[int]:
        seqs: list[int] = []
        while True:
            answer = requests.get(
                f"{self.apps[0].url}/api/v1/events",
                params={"since": since, "limit": 1000},
                headers=self.headers,
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
            page = [frame["seq"] for frame in answer.json()["events"]]
            if not page:
                return seqs
            seqs += page
            since = page[-1]

    def health(self, app: AppProcess) -> tuple[int, dict[str, Any]]:
        answer = requests.get(f"{app.url}/api/v1/health", timeout=10)
        return answer.status_code, answer.json()


def _missing() -> list[str]:
    return [n for n, ok in (("redis-server", REDIS_SERVER), ("PostgreSQL", pg_bin())) if not ok]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    if missing := _missing():
        if IN_CI:
            pytest.fail(f"CI=true but {' and '.join(missing)} not installed")
        pytest.skip(f"{' and '.join(missing)} not installed")
    workdir: Path = tmp_path_factory.mktemp("faults")
    postgres = PostgresServer().init().start()
    redis_server = RedisServer(workdir).start()
    db = Database(postgres.url)
    apps: list[AppProcess] = []
    try:
        db.migrate()  # once, before either process starts (docs/deploy.md)
        machine = add_machines(db, 1)[0]
        token = create_token(db, "operator", "fault-wall")
        env = {"MILLDASH_REDIS_URL": redis_server.url, "MILLDASH_SECRET_KEY": "faults-secret"}
        apps = [AppProcess(workdir, name, postgres.url, **env) for name in ("a", "b")]
        for app in apps:
            app.start()
        yield Pair(apps, redis_server, postgres, db, machine, token)
    finally:
        for app in apps:
            app.stop()
        redis_server.stop()
        db.dispose()
        postgres.remove()


@pytest.fixture
def listeners(pair: Pair) -> Iterator[None]:
    yield
    for listener in pair.listeners:
        listener.close()
    pair.listeners.clear()


def assert_every_socket_has(pair: Pair, expected: list[int], timeout: float = 60) -> None:
    """Each listening socket got exactly `expected`, in order: nothing missing, nothing twice."""
    for listener in pair.listeners:
        wait_until(
            lambda listener=listener: listener.has(expected[-1]) or listener.closed,
            timeout=timeout,
            message=lambda listener=listener: f"{len(listener.seqs())} of {len(expected)} events",
        )
        assert listener.closed is None, listener.closed
        seqs = [s for s in listener.seqs() if s >= expected[0]]
        assert seqs == expected, set(expected) ^ set(seqs)


# -- the tests -------------------------------------------------------------------------------


@pytest.mark.usefixtures("listeners")
def test_500_tickets_through_a_and_b_alternately_reach_every_socket_in_order(pair):
    pair.listen(per_process=2)
    since = max(listener.welcome["seq"] for listener in pair.listeners)
    for i in range(500):
        answer = pair.post_ticket(pair.apps[i % 2], f"Alternating ticket {i}")
        assert answer.status_code == 201, answer.text
    expected = pair.events_since(since)
    assert len(expected) >= 1000  # an alert and a refresh per ticket
    assert expected == list(range(since + 1, since + 1 + len(expected)))  # gap-free seq
    assert_every_socket_has(pair, expected)


@pytest.mark.usefixtures("listeners")
def test_redis_stopped_10_s_while_writing_loses_nothing(pair):
    pair.listen(per_process=1)
    since = max(listener.welcome["seq"] for listener in pair.listeners)
    pair.redis.stop()
    try:
        for app in pair.apps:  # health says so on both, and events still flow
            wait_until(
                lambda app=app: pair.health(app)[1].get("broker") == "failed",
                timeout=15,
                message=lambda app=app: f"health of {app.name}: {pair.health(app)}",
            )
        written = 0
        stop_at = time.monotonic() + 10
        while time.monotonic() < stop_at:
            answer = pair.post_ticket(pair.apps[written % 2], f"Written without Redis {written}")
            assert answer.status_code == 201, answer.text
            written += 1
            time.sleep(0.2)
        assert pair.health(pair.apps[0])[1]["broker"] == "failed"
        expected_so_far = pair.events_since(since)
        # Delivery degrades to the relay's polling of the log; it does not stop.
        assert_every_socket_has(pair, expected_so_far, timeout=30)
    finally:
        pair.redis.start()
    healthy = (200, {"status": "ok", "database": "ok", "broker": "ok"})
    for app in pair.apps:
        wait_until(
            lambda app=app: pair.health(app) == healthy,
            timeout=30,
            message=lambda app=app: f"health of {app.name}: {pair.health(app)}",
        )
    for i in range(4):  # and live again through the stream
        assert pair.post_ticket(pair.apps[i % 2], f"After Redis came back {i}").status_code == 201
    expected = pair.events_since(since)
    assert len(expected) >= 2 * (written + 4)
    assert_every_socket_has(pair, expected)
    # A client that was away the whole time resumes with every event.
    resumed = Listener(f"ws://{pair.apps[1].address}/api/v1/ws", pair.token, f"since={since}")
    pair.listeners.append(resumed)
    assert_every_socket_has(pair, expected)


def _unavailable(answer: requests.Response) -> None:
    assert answer.status_code == 503, (answer.status_code, answer.text[:500])
    assert answer.headers["Retry-After"] == "5"


@pytest.mark.usefixtures("listeners")
def test_postgres_restart_answers_503_keeps_sockets_open_and_recovers(pair):
    pair.listen(per_process=1)
    since = max(listener.welcome["seq"] for listener in pair.listeners)
    browser = requests.Session()  # signed in before the outage
    password = create_user(pair.db, "planner", "viewer")
    signed_in = browser.post(
        f"{pair.apps[0].url}/login",
        data={"name": "planner", "password": password, "next": "/"},
        headers={"Origin": pair.apps[0].url},
        allow_redirects=False,
        timeout=30,
    )
    assert signed_in.status_code == 303, signed_in.text
    pair.postgres.stop("fast")  # ends every session, as a restart does
    try:
        for app in pair.apps:
            answer = requests.get(f"{app.url}/api/v1/machines", headers=pair.headers, timeout=30)
            _unavailable(answer)
            error = answer.json()["error"]
            assert error["code"] == "database_unavailable"
            assert error["message"] == (
                "The database is not reachable right now. Try again in a few seconds."
            )
            _unavailable(pair.post_ticket(app, "Written while the database is down"))
            page = browser.get(f"{app.url}/machines", timeout=30)
            _unavailable(page)
            assert "The database is not reachable right now" in page.text
            assert page.headers["Refresh"] == "5"  # the page tries again by itself
            status, body = pair.health(app)
            assert status == 503 and body["database"].startswith("error")
            with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                websocket.create_connection(
                    f"ws://{app.address}/api/v1/ws?token={pair.token}", timeout=30
                )
            assert refused.value.status_code == 503
        # The sockets that were open stay open and served, past a session check (5 s).
        time.sleep(6)
        for listener in pair.listeners:
            assert listener.pong()
            assert listener.closed is None
    finally:
        pair.postgres.start()
    for app in pair.apps:  # recovered without a restart of either process
        wait_until(
            lambda app=app: pair.health(app)[0] == 200,
            timeout=30,
            message=lambda app=app: f"health of {app.name}: {pair.health(app)}",
        )
        answer = pair.post_ticket(app, f"After the restart via {app.name}")
        assert answer.status_code == 201, answer.text
    expected = pair.events_since(since)
    assert len(expected) >= 4
    assert_every_socket_has(pair, expected)
    for app in pair.apps:
        log = app.log()
        assert "unhandled error" not in log, log[-3000:]
        assert 'HTTP/1.1" 500 ' not in log, log[-3000:]
