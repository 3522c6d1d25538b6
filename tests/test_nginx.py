"""Two real `python -m app --no-demo` processes on one database and one real redis-server,
behind a real nginx running deploy/nginx.conf (round robin, no sticky sessions), as in
docs/deploy.md. Every request and socket of these tests goes through nginx; the processes
are told apart by the `X-Upstream` header the test's copy of the config adds, and by their
logs.

The database is PostgreSQL when MILLDASH_TEST_POSTGRES_URL is set (CI), else one SQLite file.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket
from sqlalchemy import create_engine, text

from data.accounts.tokens import create_token
from data.accounts.users import create_user
from data.store.db import Database
from devtools.cluster import NGINX, REDIS_SERVER, AppProcess, Nginx, RedisServer
from devtools.factories import add_machines
from devtools.live_server import recv_json, recv_until
from tests.conftest import IN_CI, PG_URL
from tests.waiting import wait_until

MAX_PER_USER = 3
MAX_PER_ADDRESS = 8
ADDRESS_KEY = "milldash:sockets:address:127.0.0.1"  # every test client is 127.0.0.1


@dataclass
class Cluster:
    nginx: Nginx
    apps: list[AppProcess]
    redis: RedisServer
    db: Database
    machine: int
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, name: str, role: str = "viewer") -> str:
        """A token of its own per name: socket caps count per token name."""
        if name not in self.tokens:
            self.tokens[name] = create_token(self.db, role, name)
        return self.tokens[name]

    def headers(self, name: str = "line-pc", role: str = "operator") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(name, role)}"}

    def post_ticket(self, title: str) -> requests.Response:
        body = {"machine_id": self.machine, "title": title, "priority": "high"}
        answer = requests.post(
            f"{self.nginx.url}/api/v1/tickets", json=body, headers=self.headers(), timeout=15
        )
        assert answer.status_code == 201, answer.text
        return answer

    def events_since(self, since: int) -> list[int]:
        answer = requests.get(
            f"{self.nginx.url}/api/v1/events",
            params={"since": since},
            headers=self.headers(),
            timeout=10,
        )
        return [frame["seq"] for frame in answer.json()["events"]]

    def connect(self, name: str, query: str = "") -> websocket.WebSocket:
        url = f"{self.nginx.ws_url}?token={self.token(name)}" + (f"&{query}" if query else "")
        return websocket.create_connection(url, timeout=10)

    def app_at(self, address: str) -> AppProcess:
        return next(app for app in self.apps if app.address == address)


def live_slots(redis_client: Any, key: str) -> int:
    """Slots in `key` that have not expired (an expired one stays a member until the next
    socket's check prunes it)."""
    seconds, micros = redis_client.time()
    return int(redis_client.zcount(key, f"({seconds * 1000 + micros // 1000}", "+inf"))


def upstream(headers: Any) -> str:
    """The process that answered (the last one nginx tried)."""
    value = {k.lower(): v for k, v in dict(headers or {}).items()}.get("x-upstream", "")
    assert value, f"no X-Upstream header in {headers!r}"
    return value.split(",")[-1].strip()


def _database_url(workdir: Path) -> Iterator[str]:
    if not PG_URL:
        yield f"sqlite:///{workdir / 'shared.db'}"
        return
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_URL.rpartition('/')[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    missing = [n for n, path in (("nginx", NGINX), ("redis-server", REDIS_SERVER)) if not path]
    if missing:
        if IN_CI:
            pytest.fail(f"CI=true but {' and '.join(missing)} not installed")
        pytest.skip(f"{' and '.join(missing)} not installed")
    workdir = tmp_path_factory.mktemp("cluster")
    urls = _database_url(workdir)
    db_url = next(urls)
    db = Database(db_url)
    db.migrate()  # once, before either process starts (docs/deploy.md)
    machine = add_machines(db, 1)[0]
    redis_server = RedisServer(workdir).start()
    env = {
        "MILLDASH_REDIS_URL": redis_server.url,
        "MILLDASH_SECRET_KEY": "cluster-test-secret",
        "MILLDASH_TRUSTED_PROXIES": "1",
        "MILLDASH_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MILLDASH_WS_MAX_PER_USER": str(MAX_PER_USER),
        "MILLDASH_WS_MAX_PER_ADDRESS": str(MAX_PER_ADDRESS),
        "MILLDASH_ACCESS_LOG": "1",
    }
    apps = [AppProcess(workdir, name, db_url, **env) for name in ("one", "two")]
    nginx: Nginx | None = None
    try:
        for app in apps:
            app.start()
        nginx = Nginx(workdir, [app.port for app in apps]).start()
        yield Cluster(nginx, apps, redis_server, db, machine)
    finally:
        if nginx is not None:
            nginx.stop()
        for app in apps:
            app.stop()
        redis_server.stop()
        db.dispose()
        next(urls, None)


@pytest.fixture(autouse=True)
def sockets_released(cluster: Cluster) -> Iterator[None]:
    """Each test starts with no socket counted, and leaves none behind once its sockets
    closed (a socket's end returns its slot; a killed process's slots expire)."""
    redis_client = cluster.redis.client()
    wait_until(lambda: live_slots(redis_client, ADDRESS_KEY) == 0, timeout=40, message="none")
    yield
    wait_until(
        lambda: live_slots(redis_client, ADDRESS_KEY) == 0,
        timeout=40,
        message=lambda: f"slots left: {redis_client.zrange(ADDRESS_KEY, 0, -1, withscores=True)}",
    )


def sign_in(cluster: Cluster, session: requests.Session, name: str, password: str) -> Any:
    return session.post(
        f"{cluster.nginx.url}/login",
        data={"name": name, "password": password, "next": "/"},
        # What a browser sends: the Origin check compares it with scheme://Host as nginx
        # passed them on.
        headers={"Origin": cluster.nginx.url},
        allow_redirects=False,
        timeout=15,
    )


def refused(open_socket: Any) -> websocket.WebSocketBadStatusException:
    with pytest.raises(websocket.WebSocketBadStatusException) as caught:
        open_socket()
    return caught.value


def closed_by_peer(ws: websocket.WebSocket, timeout: float = 15.0) -> bool:
    """Read (and drop) frames until the other side ends the socket; False on a timeout."""
    ws.settimeout(timeout)
    try:
        while ws.recv() not in ("", b""):
            pass
    except websocket.WebSocketTimeoutException:
        return False
    except (websocket.WebSocketException, OSError):
        pass
    return True


def event_seqs(frames: list[dict[str, Any]]) -> list[int]:
    return [f["seq"] for f in frames if "topic" in f]


# -- the tests -------------------------------------------------------------------------------


def test_sign_in_through_nginx_works_whichever_process_answers(cluster):
    people = {f"ana{i}": create_user(cluster.db, f"ana{i}", "operator") for i in range(2)}
    served: set[str] = set()
    for name, password in people.items():
        session = requests.Session()
        answer = sign_in(cluster, session, name, password)
        assert answer.status_code == 303, answer.text
        assert "Secure" not in answer.headers["Set-Cookie"]  # plain HTTP, said by nginx
        served.add(upstream(answer.headers))
        for _ in range(4):  # the session works on both processes
            reply = session.get(f"{cluster.nginx.url}/api/v1/machines", timeout=10)
            assert reply.status_code == 200, reply.text
            served.add(upstream(reply.headers))
    assert served == {app.address for app in cluster.apps}
    for app in cluster.apps:  # round robin: each process signed one person in
        assert app.log().count("POST /login") >= 1, app.log()[-2000:]
        assert "GET /api/v1/machines" in app.log()


def test_a_ticket_through_nginx_reaches_a_socket_on_the_other_process(cluster):
    ws = cluster.connect("ticket-wall", "subscribe=maintenance")
    try:
        assert recv_json(ws)["type"] == "welcome"
        holder = upstream(ws.getheaders())
        created = cluster.post_ticket("Coolant leak")
        if upstream(created.headers) == holder:
            created = cluster.post_ticket("Spindle noise")  # round robin: the other one
        assert upstream(created.headers) != holder
        ticket = created.json()["id"]
        # nginx names the request (its $request_id) and the app keeps that id.
        assert re.fullmatch(r"[0-9a-f]{32}", created.headers["X-Request-ID"])
        frames = recv_until(
            ws, lambda f: f["type"] == "maintenance_alert" and f["data"]["ticket_id"] == ticket
        )
        seqs = event_seqs(frames)
        assert seqs == sorted(set(seqs))
    finally:
        ws.close()


def test_resume_with_since_through_nginx_gets_every_missed_event(cluster):
    ws = cluster.connect("resume-wall")
    since = recv_json(ws)["seq"]
    ws.close()
    writers = {upstream(cluster.post_ticket(f"missed {i}").headers) for i in range(4)}
    assert writers == {app.address for app in cluster.apps}
    expected = cluster.events_since(since)
    assert len(expected) >= 8  # an alert and a refresh per ticket
    resumed_on: set[str] = set()
    for _ in range(2):  # round robin: one resume on each process
        ws = cluster.connect("resume-wall", f"since={since}")
        try:
            welcome = recv_json(ws)
            resumed_on.add(upstream(ws.getheaders()))
            assert welcome["seq"] == expected[-1]
            frames = recv_until(ws, lambda f: f.get("seq") == expected[-1] and "topic" in f)
            assert event_seqs(frames) == expected  # all, in order, none twice
        finally:
            ws.close()
    assert resumed_on == {app.address for app in cluster.apps}


def test_sockets_per_user_are_capped_across_both_processes(cluster):
    sockets: list[websocket.WebSocket] = []
    try:
        for _ in range(MAX_PER_USER):
            sockets.append(cluster.connect("capped-wall"))
            assert recv_json(sockets[-1])["type"] == "welcome"
        holders = [upstream(ws.getheaders()) for ws in sockets]
        # Each process holds at most MAX_PER_USER - 1 of them: alone, it would admit more.
        assert set(holders) == {app.address for app in cluster.apps}
        refusers = set()
        for _ in range(2):  # round robin: each process refuses once
            error = refused(lambda: cluster.connect("capped-wall"))
            assert error.status_code == 429
            body = json.loads(error.resp_body or b"{}")
            assert body["error"]["code"] == "too_many_sockets"
            assert body["error"]["message"] == f"At most {MAX_PER_USER} sockets per user."
            refusers.add(upstream(error.resp_headers))
        assert refusers == {app.address for app in cluster.apps}
        sockets.append(cluster.connect("other-wall"))  # another user is not affected
        assert recv_json(sockets[-1])["type"] == "welcome"
        sockets[0].close()
        sockets.pop(0)

        def admitted() -> bool:
            try:
                sockets.append(cluster.connect("capped-wall"))
            except websocket.WebSocketBadStatusException:
                return False
            return True

        wait_until(admitted, timeout=10, message="a slot freed by a closed socket")
    finally:
        for ws in sockets:
            ws.close()


def test_sockets_per_address_are_capped_across_both_processes(cluster):
    sockets: list[websocket.WebSocket] = []
    try:
        for i in range(MAX_PER_ADDRESS):
            sockets.append(cluster.connect(f"address-wall-{i % 3}"))  # 3 + 3 + 2
            assert recv_json(sockets[-1])["type"] == "welcome"
        error = refused(lambda: cluster.connect("address-wall-new"))
        assert error.status_code == 429
        message = json.loads(error.resp_body or b"{}")["error"]["message"]
        assert message == f"At most {MAX_PER_ADDRESS} sockets per address."
        # A client's own X-Forwarded-For is not believed: nginx appends the real address and
        # the app trusts only that last hop.
        spoofed = refused(
            lambda: websocket.create_connection(
                f"{cluster.nginx.ws_url}?token={cluster.token('address-wall-new')}",
                timeout=10,
                header=["X-Forwarded-For: 198.51.100.7"],
            )
        )
        assert spoofed.status_code == 429
    finally:
        for ws in sockets:
            ws.close()


def test_sign_in_throttle_holds_across_both_processes(cluster):
    password = create_user(cluster.db, "bo", "operator")
    session = requests.Session()
    failed_on: set[str] = set()
    for _ in range(5):  # the pair rule: 5 failures, then 1 s
        answer = sign_in(cluster, session, "bo", "not the password")
        assert answer.status_code == 401
        failed_on.add(upstream(answer.headers))
    assert failed_on == {app.address for app in cluster.apps}  # 2 and 3: alone, no lock
    throttled_on: set[str] = set()
    for _ in range(2):
        answer = sign_in(cluster, session, "bo", password)  # even the right one waits
        assert answer.status_code == 429, answer.text
        assert answer.headers["Retry-After"] == "1"
        throttled_on.add(upstream(answer.headers))
    assert throttled_on == {app.address for app in cluster.apps}
    spoofed = session.post(
        f"{cluster.nginx.url}/login",
        data={"name": "bo", "password": password},
        headers={"Origin": cluster.nginx.url, "X-Forwarded-For": "198.51.100.7"},
        allow_redirects=False,
        timeout=15,
    )
    assert spoofed.status_code == 429  # another "address" from the client is not believed
    answer = wait_until(
        lambda: (a := sign_in(cluster, session, "bo", password)).status_code == 303 and a,
        timeout=10,
        interval=0.3,
        message="signed in once the lock ended",
    )
    assert answer.status_code == 303
    # The success reset the account's counters in Redis, for both processes.
    for _ in range(2):
        assert sign_in(cluster, requests.Session(), "bo", "wrong again").status_code == 401


def test_a_killed_process_clients_resume_on_the_other_without_loss(cluster):
    first, second = cluster.connect("crash-wall"), cluster.connect("crash-wall")
    sockets = [first, second]
    victim: AppProcess | None = None
    try:
        for ws in sockets:
            assert recv_json(ws)["type"] == "welcome"
        holders = [upstream(ws.getheaders()) for ws in sockets]
        assert set(holders) == {app.address for app in cluster.apps}
        victim = cluster.app_at(holders[0])
        ticket = cluster.post_ticket("before the crash").json()["id"]
        seen = {}
        for i, ws in enumerate(sockets):
            frames = recv_until(ws, lambda f: f.get("data", {}).get("ticket_id") == ticket)
            frames += recv_until(ws, lambda f: f["type"] == "dashboard_refresh")
            seen[i] = event_seqs(frames)[-1]
        victim.kill()
        assert closed_by_peer(first)  # nginx ends the client's side once the upstream is gone
        written = [cluster.post_ticket(f"after the crash {i}") for i in range(3)]
        survivor = {app.address for app in cluster.apps} - {victim.address}
        assert {upstream(w.headers) for w in written} == survivor
        expected = cluster.events_since(seen[0])
        assert len(expected) >= 6

        resumed = cluster.connect("crash-wall", f"since={seen[0]}")
        sockets.append(resumed)
        welcome = recv_json(resumed)
        assert {upstream(resumed.getheaders())} == survivor
        assert welcome["seq"] == expected[-1]
        frames = recv_until(resumed, lambda f: f.get("seq") == expected[-1] and "topic" in f)
        assert event_seqs(frames) == expected  # nothing lost, nothing twice
        # The socket that was on the survivor all along missed nothing either.
        live = recv_until(second, lambda f: f.get("seq") == expected[-1] and "topic" in f)
        assert event_seqs(live) == [s for s in expected if s > seen[1]]

        # The killed process never returned its slot: it expires (docs/deploy.md).
        slots = cluster.redis.client()
        started = time.monotonic()
        wait_until(
            lambda: live_slots(slots, "milldash:sockets:user:crash-wall") == 2,
            timeout=40,
            message="the killed process's slot expired",
        )
        assert time.monotonic() - started < 30
    finally:
        for ws in sockets:
            ws.close()
        if victim is not None:
            victim.start()  # the next tests see two processes again
