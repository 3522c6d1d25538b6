"""CONTRACT §5: `GET /metrics` on real servers on real ports, parsed with prometheus_client's own
parser. One process (its default registry): who may scrape, every family, and each moving when
its event happens (a ticket, a socket opening and closing, a 4008, a replay, a relayed event,
a failed sign-in). Two gunicorn workers sharing one Redis: a scrape answered by either worker
shows the totals of both, and a killed worker's open sockets stop counting. MILLDASH_METRICS=0:
/metrics answers 404, nothing counts, and the server (one process or two workers) works."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket
from prometheus_client.parser import text_string_to_metric_families

from data.accounts.tokens import create_token
from data.accounts.users import create_user
from data.store.db import Database
from data.write.services import Services
from devtools.cluster import RedisServer
from devtools.factories import add_machines
from devtools.live_server import LiveServer, free_port, recv_json, recv_until
from devtools.processes import stop_process, wait_until_healthy
from tests.waiting import wait_until

# CONTRACT §5, as the parser names them (a counter's family drops `_total`).
CONTRACT_FAMILIES = {
    "milldash_ws_connections": "gauge",
    "milldash_ws_frames_sent": "counter",
    "milldash_ws_bytes_sent": "counter",
    "milldash_ws_closes": "counter",
    "milldash_events_published": "counter",
    "milldash_events_relayed": "counter",
    "milldash_replays": "counter",
    "milldash_event_delivery_seconds": "histogram",
    "milldash_http_request_duration_seconds": "histogram",
    "milldash_login_failures": "counter",
    "milldash_up": "gauge",
    # asked for beside the contract's table
    "milldash_ws_slow_consumer_drops": "counter",
    "milldash_db_pool_in_use": "gauge",
}
QUEUE_FRAMES = 20  # a small pending-frame bound: a reader that stops is closed with 4008 soon


class Scrape:
    """One parsed answer of `GET /metrics`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}

    def value(self, sample: str, **labels: str) -> float:
        """The sum of every sample called `sample` whose labels include `labels`."""
        return sum(
            s.value
            for family in self.families.values()
            for s in family.samples
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())
        )

    def label_values(self, sample: str, label: str) -> set[str]:
        return {
            s.labels[label]
            for family in self.families.values()
            for s in family.samples
            if s.name == sample and label in s.labels
        }


def scrape(url: str, token: str, session: Any = requests) -> Scrape:
    answer = session.get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return Scrape(answer.text)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(
        tmp_path_factory.mktemp("metrics"), MILLDASH_WS_QUEUE_FRAMES=str(QUEUE_FRAMES)
    )
    add_machines(live.db, 2)
    live.tokens["metrics"] = create_token(live.db, "metrics", "prometheus")
    live.start()
    try:
        yield live
    finally:
        live.stop()


def metrics_of(server: LiveServer) -> Scrape:
    return scrape(server.url, server.tokens["metrics"])


def ticket(server: LiveServer, title: str = "Coolant leak", description: str = "") -> int:
    body = {"machine_id": 1, "title": title, "priority": "high", "description": description}
    answer = server.post("/tickets", body)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


# -- who may scrape -------------------------------------------------------------------------


def test_metrics_needs_an_admin_or_a_metrics_token(server: LiveServer) -> None:
    url = f"{server.url}/metrics"
    nobody = requests.get(url, timeout=10)
    assert nobody.status_code == 401
    assert nobody.json()["error"]["code"] == "unauthorized"
    unknown = requests.get(url, headers={"Authorization": "Bearer mdt_nope"}, timeout=10)
    assert unknown.status_code == 401
    for role in ("viewer", "operator", "display"):
        refused = requests.get(url, headers=server.headers(role), timeout=10)
        assert refused.status_code == 403, role
        assert refused.json()["error"]["code"] == "forbidden"
    for role in ("admin", "metrics"):
        assert scrape(server.url, server.tokens[role]).families


def test_anonymous_read_access_does_not_open_metrics(tmp_path: Path) -> None:
    from app.config import Config
    from app.factory import create_app

    config = Config(database_url=f"sqlite:///{tmp_path / 'a.db'}", demo=False, anonymous_view=True)
    app = create_app(config)
    client = app.server.test_client()
    assert client.get("/api/v1/machines").status_code == 200  # anonymous reads are on
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthorized"
    app.server.extensions["milldash"].db.dispose()


def test_the_metrics_role_reads_nothing_else(server: LiveServer) -> None:
    headers = server.headers("metrics")
    api = f"{server.url}/api/v1"
    for path in ("/tickets", "/machines", "/events", "/dashboard/overview", "/ws/stats"):
        answer = requests.get(f"{api}{path}", headers=headers, timeout=10)
        assert answer.status_code == 403, path
        assert answer.json()["error"]["code"] == "forbidden"
    body = {"machine_id": 1, "title": "From a scraper", "priority": "low"}
    assert (
        requests.post(f"{api}/tickets", json=body, headers=headers, timeout=10).status_code == 403
    )
    assert requests.get(f"{api}/health", headers=headers, timeout=10).status_code == 200
    # The UI: no page, no layout, no callback.
    for path in ("/", "/maintenance", "/wall", "/_dash-layout"):
        assert requests.get(f"{server.url}{path}", headers=headers, timeout=10).status_code == 403
    # Sockets: refused before the upgrade, like a role without rights.
    for path in ("", "/admin"):
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            server.connect(role="metrics", path=path)
        assert refused.value.status_code == 403


def test_a_metrics_user_gets_no_page_after_signing_in(server: LiveServer) -> None:
    password = create_user(server.db, "prom-person", "metrics")
    browser = requests.Session()
    signed_in = browser.post(
        f"{server.url}/login",
        data={"name": "prom-person", "password": password},
        allow_redirects=False,
        timeout=10,
    )
    assert signed_in.status_code == 303
    assert browser.get(f"{server.url}/", timeout=10).status_code == 403
    assert browser.get(f"{server.url}/api/v1/machines", timeout=10).status_code == 403
    assert browser.get(f"{server.url}/metrics", timeout=10).status_code == 200


# -- the families -----------------------------------------------------------------------------


def test_every_family_of_the_contract_is_there(server: LiveServer) -> None:
    families = metrics_of(server).families
    for name, kind in CONTRACT_FAMILIES.items():
        assert name in families, name
        assert families[name].type == kind, name
        assert name.startswith("milldash_")
    now = metrics_of(server)
    assert now.value("milldash_up", part="database") == 1
    assert now.value("milldash_up", part="broker") == 1  # no Redis: nothing to fail
    assert 0 <= now.value("milldash_db_pool_in_use") < 5


def test_a_ticket_moves_events_frames_and_delivery(server: LiveServer) -> None:
    ws = server.connect("subscribe=all")
    assert recv_json(ws)["type"] == "welcome"
    before = metrics_of(server)
    ticket_id = ticket(server)
    recv_until(ws, lambda f: f["type"] == "dashboard_refresh")
    requests.get(f"{server.url}/api/v1/tickets/{ticket_id}", headers=server.headers(), timeout=10)
    after = metrics_of(server)

    def grew(sample: str, **labels: str) -> float:
        return after.value(sample, **labels) - before.value(sample, **labels)

    assert grew("milldash_events_published_total") == 2  # maintenance_alert, dashboard_refresh
    assert grew("milldash_ws_frames_sent_total") >= 2
    assert grew("milldash_ws_bytes_sent_total") > 100
    assert grew("milldash_event_delivery_seconds_count") >= 2
    assert after.value("milldash_event_delivery_seconds_sum") >= 0
    post = {"route": "/api/v1/tickets", "method": "POST", "status": "201"}
    assert grew("milldash_http_request_duration_seconds_count", **post) == 1
    # The URL rule, never the raw path: one series whatever the id.
    routes = after.label_values("milldash_http_request_duration_seconds_count", "route")
    assert "/api/v1/tickets/<int:ticket_id>" in routes
    assert f"/api/v1/tickets/{ticket_id}" not in routes, routes
    assert all(route == "unmatched" or route.startswith("/") for route in routes), routes
    ws.close()


def test_unmatched_and_unknown_paths_keep_their_rule(server: LiveServer) -> None:
    requests.post(f"{server.url}/no/such/page/123", timeout=10)
    requests.get(f"{server.url}/api/v1/no/such/thing/456", headers=server.headers(), timeout=10)
    routes = metrics_of(server).label_values(
        "milldash_http_request_duration_seconds_count", "route"
    )
    assert "unmatched" in routes
    assert "/api/v1/<path:unknown>" in routes
    assert not any("123" in route or "456" in route for route in routes), routes


def test_a_socket_counts_while_open_and_its_close_by_code(server: LiveServer) -> None:
    gauge = {"topic": "maintenance", "role": "viewer"}
    before = metrics_of(server)
    ws = server.connect("subscribe=maintenance")
    assert recv_json(ws)["type"] == "welcome"
    opened = metrics_of(server)
    assert opened.value("milldash_ws_connections", **gauge) == (
        before.value("milldash_ws_connections", **gauge) + 1
    )
    assert opened.value("milldash_ws_sockets", role="viewer") == (
        before.value("milldash_ws_sockets", role="viewer") + 1
    )
    ws.send(json.dumps({"type": "subscribe", "topics": ["production"]}))
    assert recv_json(ws)["type"] == "subscribed"
    moved = metrics_of(server)
    assert moved.value("milldash_ws_connections", topic="production", role="viewer") == (
        before.value("milldash_ws_connections", topic="production", role="viewer") + 1
    )
    ws.close()  # a normal close: 1000
    closed = wait_until(
        lambda: (
            (m := metrics_of(server)).value("milldash_ws_closes_total", code="1000")
            > before.value("milldash_ws_closes_total", code="1000")
            and m
        ),
        timeout=10,
    )
    for labels in (gauge, {"topic": "production", "role": "viewer"}):
        assert closed.value("milldash_ws_connections", **labels) == before.value(
            "milldash_ws_connections", **labels
        )
    assert closed.value("milldash_ws_sockets", role="viewer") == before.value(
        "milldash_ws_sockets", role="viewer"
    )


def test_resuming_counts_a_replay(server: LiveServer) -> None:
    ticket(server, "Before the resume")
    seq = server.get("/events?since=0&limit=1").json()["seq"]
    before = metrics_of(server)
    ws = server.connect(f"since={seq - 1}")
    assert recv_json(ws)["type"] == "welcome"
    assert recv_json(ws)["seq"] == seq
    ws.close()
    after = metrics_of(server)
    assert after.value("milldash_replays_total") == before.value("milldash_replays_total") + 1


def test_an_event_only_the_log_has_counts_as_relayed(server: LiveServer) -> None:
    before = metrics_of(server)
    # Another process commits a ticket and dies before publishing: the relay delivers it.
    Services(server.db).create_ticket(
        {"machine_id": 2, "title": "Committed, never published", "priority": "low"}, "crash"
    )
    wait_until(
        lambda: (
            metrics_of(server).value("milldash_events_relayed_total")
            >= before.value("milldash_events_relayed_total") + 2
        ),
        timeout=10,
    )


def open_slow_reader(server: LiveServer) -> socket.socket:
    """A socket that completes the handshake and then never reads (a tiny receive buffer)."""
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", server.port))
    slow.sendall(
        (
            f"GET /api/v1/ws?token={server.tokens['viewer']} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    return slow


def dropped(server: LiveServer) -> int:
    stats = requests.get(
        f"{server.url}/api/v1/ws/stats", headers=server.headers("admin"), timeout=10
    )
    return int(stats.json()["events_dropped"])


def test_a_slow_reader_closed_with_4008_is_counted(server: LiveServer) -> None:
    before = metrics_of(server)
    was_dropped = dropped(server)
    slow = open_slow_reader(server)
    description = "x" * 9500
    try:
        # Each ticket is ~10 KB of frames: the socket buffers fill, then the bound of 20.
        for i in range(300):
            ticket(server, f"burst {i}", description)
            if i % 5 == 4 and dropped(server) > was_dropped:
                break
        assert dropped(server) > was_dropped, "the slow reader never passed the bound"
        # It reads again: what the kernel holds, then the server's close frame (4008).
        slow.settimeout(10)
        data = b""
        while b"too slow" not in data[-300:]:
            chunk = slow.recv(65536)
            if not chunk:
                break
            data += chunk
        assert b"too slow" in data[-300:]
        after = wait_until(
            lambda: (
                (m := metrics_of(server)).value("milldash_ws_closes_total", code="4008")
                > before.value("milldash_ws_closes_total", code="4008")
                and m
            ),
            timeout=10,
        )
    finally:
        slow.close()
    drops = "milldash_ws_slow_consumer_drops_total"
    assert after.value(drops) == before.value(drops) + 1


def test_a_failed_sign_in_is_counted(server: LiveServer) -> None:
    before = metrics_of(server).value("milldash_login_failures_total")
    wrong = requests.post(
        f"{server.url}/login", data={"name": "nobody", "password": "wrong-password"}, timeout=10
    )
    assert wrong.status_code == 401
    assert metrics_of(server).value("milldash_login_failures_total") == before + 1
    requests.get(f"{server.url}/api/v1/machines", headers={"Authorization": "Bearer x"}, timeout=10)
    assert metrics_of(server).value("milldash_login_failures_total") == before + 2


# -- metrics off ----------------------------------------------------------------------------------


def test_metrics_off_answers_404_and_everything_else_works(tmp_path: Path) -> None:
    live = LiveServer(tmp_path, MILLDASH_METRICS="0")
    add_machines(live.db, 1)
    live.tokens["metrics"] = create_token(live.db, "metrics", "prometheus")
    live.start()
    try:
        url = f"{live.url}/metrics"
        for headers in ({}, live.headers("metrics"), live.headers("admin")):
            off = requests.get(url, headers=headers, timeout=10)
            assert off.status_code == 404, off.text
            assert off.headers["Content-Type"].startswith("application/json")
            assert off.json()["error"]["code"] == "not_found"
            assert "MILLDASH_METRICS" in off.json()["error"]["message"]
        # Sockets, tickets, a resume and a refused sign-in work as ever.
        ws = live.connect("subscribe=maintenance")
        assert recv_json(ws)["type"] == "welcome"
        ticket_id = ticket(live, "With metrics off")
        alert = recv_until(ws, lambda f: f["type"] == "maintenance_alert")[-1]
        assert alert["data"]["ticket_id"] == ticket_id
        ws.close()
        seq = live.get("/events?since=0&limit=1").json()["seq"]
        resumed = live.connect(f"since={seq - 1}")
        assert recv_json(resumed)["type"] == "welcome"
        assert recv_json(resumed)["seq"] == seq
        resumed.close()
        assert live.get(f"/tickets/{ticket_id}").status_code == 200
        wrong = requests.post(
            f"{live.url}/login", data={"name": "nobody", "password": "wrong-pass"}, timeout=10
        )
        assert wrong.status_code == 401
        assert requests.get(f"{live.url}/api/v1/health", timeout=10).json()["status"] == "ok"
    finally:
        live.stop()
    assert "Traceback" not in live.log_path.read_text(errors="replace")


def test_metrics_off_makes_every_helper_return_at_once(tmp_path: Path) -> None:
    """In this process: building an app with metrics off flips the module's switch, and the
    helpers the realtime code calls then count nothing."""
    from app import metrics
    from app.config import Config
    from app.factory import create_app

    def totals() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in metrics.REGISTRY.collect()
            if family.name.startswith("milldash_")
            for s in family.samples
        }

    config = Config(database_url=f"sqlite:///{tmp_path / 'off.db'}", demo=False, metrics=False)
    app = create_app(config)
    try:
        assert not metrics.enabled()
        client = app.server.test_client()
        answer = client.get("/metrics")
        assert answer.status_code == 404
        assert answer.get_json()["error"]["code"] == "not_found"
        before = totals()
        metrics.socket_opened("viewer", ["maintenance"])
        metrics.socket_resubscribed("viewer", ["maintenance"], ["production"])
        metrics.frames_sent(3, 900)
        metrics.bytes_sent(100)
        metrics.event_delivered(datetime.now(UTC))
        metrics.events_published(2)
        metrics.events_relayed(1)
        metrics.replayed()
        metrics.resynced()
        metrics.login_failed()
        metrics.login_throttled()
        metrics.socket_gone("viewer", ["production"])
        metrics.socket_closed(1000, too_slow=True)
        assert client.get("/api/v1/health").status_code == 200
        assert totals() == before
    finally:
        metrics.set_enabled(True)
        app.server.extensions["milldash"].db.dispose()
    assert metrics.enabled()


# -- two worker processes -----------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


class Workers:
    """`python -m app --no-demo --workers 2 --redis-url URL` on a free port, its log in a file."""

    def __init__(self, workdir: Path, redis_url: str, **env: str) -> None:
        self.db_url = f"sqlite:///{workdir / 'cluster.db'}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        key = f"milldash:test:{uuid.uuid4().hex[:8]}"
        self.argv = [sys.executable, "-m", "app", "--no-demo", "--workers", "2"]
        self.argv += ["--redis-url", redis_url, "--port", str(self.port)]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MILLDASH_")}
        self.env.update(
            MILLDASH_DATABASE_URL=self.db_url,
            MILLDASH_SECRET_KEY="metrics-test-secret",
            MILLDASH_REDIS_STREAM=key,
            MILLDASH_REDIS_PREFIX=key,
            **env,
        )
        self.log_path = workdir / "workers.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.tokens: dict[str, str] = {}

    def start(self) -> Workers:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_until_healthy(f"{self.url}/api/v1/health", self.proc, 90, self.log_path)
        wait_until(lambda: len(self.worker_pids()) >= 2, timeout=30, message=self.log)
        db = Database(self.db_url)  # migrated by the server
        add_machines(db, 1)
        roles = ("viewer", "operator", "admin", "metrics")
        self.tokens = {r: create_token(db, r, f"{r}-test") for r in roles}
        db.dispose()
        return self

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        stop_process(self.proc, grace=20)
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"worker (\d+) serving", self.log())]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def ticket(self, title: str) -> None:
        body = {"machine_id": 1, "title": title, "priority": "high", "description": ""}
        answer = requests.post(
            f"{self.url}/api/v1/tickets", json=body, headers=self.headers("operator"), timeout=30
        )
        assert answer.status_code == 201, answer.text

    def connect(self, query: str) -> websocket.WebSocket:
        url = f"ws://127.0.0.1:{self.port}/api/v1/ws?token={self.tokens['viewer']}&{query}"
        ws = websocket.create_connection(url, timeout=10)
        assert recv_json(ws)["type"] == "welcome"
        return ws


@pytest.fixture
def workers(
    tmp_path: Path,
    redis_server: RedisServer,
) -> Iterator[Workers]:
    temp = tmp_path / "tmp"
    temp.mkdir()
    # TMPDIR: where the master makes its metrics folder. The kernel may give many sockets in
    # a row to one worker, and a test opens up to 60 until both hold some: the per-user cap
    # (20 by default) must not refuse them first.
    cluster = Workers(
        tmp_path, redis_server.url, TMPDIR=str(temp), MILLDASH_WS_MAX_PER_USER="70"
    ).start()
    try:
        yield cluster
    finally:
        cluster.stop()


def session_on_each_worker(cluster: Workers) -> dict[int, requests.Session]:
    """A keep-alive HTTP session per worker process (a connection stays with the worker that
    accepted it; `GET /api/v1/ws/stats` says which one that is)."""
    sessions: dict[int, requests.Session] = {}
    for _ in range(60):
        session = requests.Session()
        pid = session.get(
            f"{cluster.url}/api/v1/ws/stats", headers=cluster.headers("admin"), timeout=10
        ).json()["pid"]
        if pid in sessions:
            session.close()
        else:
            sessions[pid] = session
        if len(sessions) == 2:
            return sessions
    raise AssertionError(f"every connection went to the same worker: {sorted(sessions)}")


def pid_of(cluster: Workers, session: requests.Session) -> int:
    stats = session.get(
        f"{cluster.url}/api/v1/ws/stats", headers=cluster.headers("admin"), timeout=10
    )
    return int(stats.json()["pid"])


def test_two_workers_each_scrape_sums_both(workers: Workers, tmp_path: Path) -> None:
    token = workers.tokens["metrics"]
    folders = list((tmp_path / "tmp").glob("milldash-metrics-*"))
    assert len(folders) == 1  # made by the master before the fork
    sessions = session_on_each_worker(workers)
    pids = set(sessions)
    assert pids == set(workers.worker_pids())

    held: dict[int, int] = {}

    def count_held() -> dict[int, int]:
        for pid, session in sessions.items():
            held[pid] = session.get(
                f"{workers.url}/api/v1/ws/stats", headers=workers.headers("admin"), timeout=10
            ).json()["connections"]
        return held

    def open_on_both(at_least: int) -> list[websocket.WebSocket]:
        """Sockets until there are `at_least` and each worker holds some (the kernel picks
        the worker that accepts each connection)."""
        opened: list[websocket.WebSocket] = []
        while len(opened) < at_least or not all(count_held().values()):
            assert len(opened) < 60, f"all sockets went to one worker: {held}"
            opened.append(workers.connect("subscribe=maintenance"))  # after its welcome
        return opened

    sockets = open_on_both(12)
    total = len(sockets)
    # Neither worker alone holds every socket: every scrape that counts all summed both.
    for pid, session in sessions.items():
        scraped = scrape(workers.url, token, session)
        assert pid_of(workers, session) == pid  # still that worker's connection
        assert scraped.value("milldash_ws_connections", topic="maintenance") == total
        assert scraped.value("milldash_ws_sockets") == total
        assert scraped.value("milldash_up", part="broker") == 1
        for name, kind in CONTRACT_FAMILIES.items():
            assert scraped.families[name].type == kind, name

    before = scrape(workers.url, token, sessions[min(pids)])
    workers.ticket("Through one worker")
    for ws in sockets:
        recv_until(ws, lambda f: f["type"] == "maintenance_alert")

    def moved(session: requests.Session) -> Scrape | None:
        now = scrape(workers.url, token, session)
        ok = (
            now.value("milldash_events_published_total")
            == before.value("milldash_events_published_total") + 2
            and now.value("milldash_ws_frames_sent_total")
            >= before.value("milldash_ws_frames_sent_total") + total
            # each worker had sockets for the alert: one delivery each
            and now.value("milldash_event_delivery_seconds_count")
            >= before.value("milldash_event_delivery_seconds_count") + 2
        )
        return now if ok else None

    for session in sessions.values():
        wait_until(lambda s=session: moved(s), timeout=10)

    for ws in sockets:
        ws.close()
    for session in sessions.values():
        closed = wait_until(
            lambda s=session: (
                (m := scrape(workers.url, token, s)).value("milldash_ws_sockets") == 0 and m
            ),
            timeout=15,
        )
        assert closed.value("milldash_ws_closes_total", code="1000") >= total
        assert closed.value("milldash_ws_connections") == 0

    # A worker that dies: its open sockets stop counting (gunicorn's child_exit), its
    # counters stay in the totals.
    victim, survivor = sorted(pids)
    more = open_on_both(4)
    frames_before = scrape(workers.url, token, sessions[survivor]).value(
        "milldash_ws_frames_sent_total"
    )
    os.kill(victim, signal.SIGKILL)

    def only_the_survivor_counts() -> bool:
        kept = (
            sessions[survivor]
            .get(f"{workers.url}/api/v1/ws/stats", headers=workers.headers("admin"), timeout=10)
            .json()["connections"]
        )
        now = scrape(workers.url, token, sessions[survivor])
        return now.value("milldash_ws_sockets") == kept == held[survivor]

    wait_until(only_the_survivor_counts, timeout=20)
    after = scrape(workers.url, token, sessions[survivor])
    assert after.value("milldash_ws_frames_sent_total") >= frames_before
    for ws in more:
        ws.close()
    for session in sessions.values():
        session.close()
    assert workers.stop() == 0
    assert not folders[0].exists()  # the master removed its metrics folder
    assert "Traceback" not in workers.log()


def test_two_workers_with_metrics_off(tmp_path: Path, redis_server: RedisServer) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    cluster = Workers(tmp_path, redis_server.url, TMPDIR=str(temp), MILLDASH_METRICS="0")
    cluster.start()
    try:
        assert not list(temp.glob("milldash-metrics-*"))  # nothing to share between workers
        for _ in range(6):  # new connections: the kernel picks the worker of each
            headers = {**cluster.headers("metrics"), "Connection": "close"}
            answer = requests.get(f"{cluster.url}/metrics", headers=headers, timeout=10)
            assert answer.status_code == 404
            assert answer.json()["error"]["code"] == "not_found"
        ws = cluster.connect("subscribe=maintenance")
        cluster.ticket("Metrics off, two workers")
        recv_until(ws, lambda f: f["type"] == "maintenance_alert")
        ws.close()
    finally:
        code = cluster.stop()
    assert code == 0  # a worker's exit needs no metrics folder (child_exit)
    assert "Traceback" not in cluster.log()
