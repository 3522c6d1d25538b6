"""`python -m app --workers N --redis-url URL` for real (CONTRACT §1): gunicorn's gevent workers
on one port, a real redis-server of this module's own, SQLite or PostgreSQL
(MILLDASH_TEST_POSTGRES_URL). Both workers serve sockets; an event written through either
reaches every socket in seq order; migrations, the first admin and the demo seed happen once;
the demo simulator runs in exactly one process and moves when its holder dies; SIGTERM stops
everything; several workers without Redis are refused in one line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket
from sqlalchemy import create_engine, text

from data.accounts.tokens import create_token
from data.store.db import Database
from devtools.cluster import RedisServer
from devtools.factories import add_machines
from devtools.live_server import close_code, free_port, recv_json, recv_until
from devtools.processes import stop_process, wait_until_healthy
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
BANNER = "First run: created user 'admin'"
SIMULATOR_LINE = re.compile(r"demo simulator runs in this process \(pid (\d+);")


class Workers:
    """`python -m app --workers N --redis-url URL` on a free port; its whole log in a file."""

    def __init__(
        self, workdir: Path, db_url: str, redis_url: str, *args: str, workers: int = 2, **env: str
    ) -> None:
        self.db_url = db_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key = f"milldash:test:{uuid.uuid4().hex[:8]}"
        self.argv = [sys.executable, "-m", "app", *args, "--workers", str(workers)]
        self.argv += ["--redis-url", redis_url, "--port", str(self.port)]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MILLDASH_")}
        self.env.update(
            MILLDASH_DATABASE_URL=db_url,
            MILLDASH_SECRET_KEY="workers-test-secret",
            MILLDASH_REDIS_STREAM=self.key,
            MILLDASH_REDIS_PREFIX=self.key,
            **env,
        )
        self.log_path = workdir / f"workers-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.tokens: dict[str, str] = {}

    def start(self, timeout: float = 90.0) -> Workers:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_until_healthy(f"{self.url}/api/v1/health", self.proc, timeout, self.log_path)
        wait_until(lambda: len(self.worker_pids()) >= 2, timeout=30, message=self.log)
        db = Database(self.db_url)  # migrated by the server
        self.tokens = {r: create_token(db, r, f"{r}-test") for r in ("viewer", "operator", "admin")}
        db.dispose()
        return self

    def stop(self) -> int | None:
        if self.proc is not None:
            stop_process(self.proc, grace=20)
            return self.proc.returncode
        return None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """Every worker that came up so far (`worker N serving`), in order."""
        return [int(pid) for pid in re.findall(r"worker (\d+) serving", self.log())]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def stats(self) -> dict[str, Any]:
        """The socket statistics of whichever worker takes this (new) connection."""
        answer = requests.get(
            f"{self.url}/api/v1/ws/stats", headers=self.headers("admin"), timeout=10
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def ticket(self, title: str) -> int:
        body = {"machine_id": 1, "title": title, "priority": "high", "description": ""}
        answer = requests.post(
            f"{self.url}/api/v1/tickets", json=body, headers=self.headers("operator"), timeout=30
        )
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    def connect(self, query: str = "subscribe=all") -> websocket.WebSocket:
        url = f"ws://127.0.0.1:{self.port}/api/v1/ws?token={self.tokens['viewer']}&{query}"
        ws = websocket.create_connection(url, timeout=10)
        assert recv_json(ws)["type"] == "welcome"
        return ws


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def cluster(
    tmp_path: Path,
    db_url: str,
    redis_server: RedisServer,
) -> Iterator[Workers]:
    """Two workers on an empty database (SQLite file or a fresh PostgreSQL database)."""
    workers = Workers(
        tmp_path,
        db_url,
        redis_server.url,
        "--no-demo",
        MILLDASH_WS_MAX_PER_USER="200",
    )
    workers.start()
    db = Database(db_url)
    add_machines(db, 1)
    db.dispose()
    try:
        yield workers
    finally:
        workers.stop()


def test_two_workers_serve_one_port_and_every_event_reaches_every_socket(
    cluster: Workers,
) -> None:
    master = cluster.proc.pid if cluster.proc else 0
    pids = cluster.worker_pids()
    assert len(set(pids)) == 2 and master not in pids
    log = cluster.log()
    # Prepared once, in the master, before the fork.
    assert len(re.findall(r"database \S+ migrated", log)) == 1
    assert log.count(BANNER) == 1

    # The kernel hands each new connection to whichever worker accepts first, so 20 may all
    # land on one; more are opened, up to 100, until both workers hold some.
    sockets: list[websocket.WebSocket] = []
    counts: dict[int, int] = {}

    def counted() -> bool:
        stats = cluster.stats()
        counts[stats["pid"]] = stats["connections"]
        return set(counts) == set(pids) and sum(counts.values()) == len(sockets)

    while len(sockets) < 100:
        sockets += [cluster.connect() for _ in range(20 if not sockets else 10)]
        counts.clear()
        wait_until(counted, timeout=20, interval=0.01, message=lambda: str(counts))
        if all(count > 0 for count in counts.values()):
            break
    assert all(count > 0 for count in counts.values()), counts  # both workers hold sockets

    first = cluster.ticket("Coolant leak")
    for ws in sockets:
        frames = recv_until(ws, lambda f: f["type"] == "maintenance_alert")
        assert frames[-1]["data"]["ticket_id"] == first
    start_seq = frames[-1]["seq"]

    # 100 tickets from four writers at once, each request on a new connection, so both
    # workers write; every socket gets every event, in seq order, none missing, none twice.
    created: list[int] = []

    def write(tag: str) -> None:
        for i in range(25):
            created.append(cluster.ticket(f"{tag}-{i}"))

    writers = [threading.Thread(target=write, args=(t,)) for t in "abcd"]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
    assert len(created) == 100
    for ws in sockets:
        frames = []
        seen: set[int] = set()
        while seen != set(created):
            frame = recv_json(ws, timeout=20)
            frames.append(frame)
            if frame["type"] == "maintenance_alert":
                seen.add(frame["data"]["ticket_id"])
        seqs = [f["seq"] for f in frames]
        # The socket is subscribed to everything: each seq after the first ticket's events.
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
        assert seqs[0] > start_seq
    for ws in sockets[:-1]:
        ws.close()

    # SIGTERM: the workers close their sockets with 1001, then everything exits.
    last = sockets[-1]
    assert cluster.proc is not None
    cluster.proc.send_signal(signal.SIGTERM)
    assert close_code(last, timeout=15.0) == 1001
    assert cluster.stop() == 0
    assert not any(alive(pid) for pid in pids)
    assert "Traceback" not in cluster.log()


def test_demo_simulator_runs_in_exactly_one_process(
    tmp_path: Path,
    db_url: str,
    redis_server: RedisServer,
) -> None:
    """Demo on: the plant is seeded once; the simulator's lock (Redis with SQLite, an advisory
    lock with PostgreSQL) names one worker; when that worker dies, another takes over."""
    postgres = db_url.startswith("postgresql")
    cluster = Workers(tmp_path, db_url, redis_server.url, MILLDASH_LOCK_TTL_S="3")
    cluster.start()
    lock_key = f"{cluster.key}:simulator"

    def holder_in_redis() -> int | None:
        value = redis_server.client().get(lock_key)
        return None if value is None else int(value.split(":")[1])  # host:pid:random

    try:
        pids = cluster.worker_pids()
        holders = wait_until(
            lambda: SIMULATOR_LINE.findall(cluster.log()), timeout=15, message=cluster.log
        )
        holder = int(holders[0])
        assert holder in pids
        kind = "PostgreSQL advisory lock" if postgres else f"Redis key {lock_key}"
        assert f"pid {holder}; {kind}" in cluster.log()
        if not postgres:
            assert holder_in_redis() == holder

        time.sleep(2.5)  # more rounds of the other worker's attempts: still one holder
        log = cluster.log()
        assert len(SIMULATOR_LINE.findall(log)) == 1, log
        assert log.count("seeding the demo plant") == 1
        assert log.count(BANNER) == 1

        # The holder dies without letting go: another process takes over (after the ttl;
        # PostgreSQL lets go of a dead connection's lock at once).
        os.kill(holder, signal.SIGKILL)
        taken = wait_until(
            lambda: SIMULATOR_LINE.findall(cluster.log())[1:], timeout=20, message=cluster.log
        )
        successor = int(taken[0])
        assert successor != holder and successor in cluster.worker_pids()
        assert len(SIMULATOR_LINE.findall(cluster.log())) == 2
        if not postgres:
            assert holder_in_redis() == successor
    finally:
        code = cluster.stop()
    assert code == 0
    assert holder_in_redis() is None  # let go on the way out
    if postgres:
        engine = create_engine(db_url)
        with engine.connect() as conn:
            held = conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                    "WHERE l.locktype = 'advisory' AND d.datname = current_database()"
                )
            ).scalar()
        engine.dispose()
        assert held == 0


def run_app(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MILLDASH_")}
    clean.update(MILLDASH_DATABASE_URL=f"sqlite:///{tmp_path / 'never.db'}", **env)
    return subprocess.run(
        [sys.executable, "-m", "app", *argv],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["--no-demo", "--workers", "2"], {}),
        (["--no-demo"], {"MILLDASH_WORKERS": "2"}),
    ],
)
def test_several_workers_without_redis_exit_2_in_one_line(
    tmp_path: Path, argv: list[str], env: dict[str, str]
) -> None:
    done = run_app(tmp_path, *argv, "--port", str(free_port()), **env)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: --workers 2 needs --redis-url/MILLDASH_REDIS_URL: the worker processes share "
        "live events through Redis (or run one with --workers 1)"
    ]
    assert not (tmp_path / "never.db").exists()  # refused before anything was opened


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_a_bad_worker_count_exits_2_in_one_line(tmp_path: Path, value: str) -> None:
    done = run_app(tmp_path, "--no-demo", f"--workers={value}", "--port", str(free_port()))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: --workers/MILLDASH_WORKERS must be a whole number of 1 or more, not {value!r}"
    ]
