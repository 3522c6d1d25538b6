"""The two single-process servers of the fan-out bench: Mill Dash itself and the asyncio
reference broadcaster, each in a child process, and a warm-up through the whole path
(several processes: bench/fanout_cluster.py). Every Mill Dash variant runs with metrics on
(`MILLDASH_METRICS=1`) or, as `metrics_off(kind)`, off; `Scraper` reads `/metrics` the way
Prometheus would while a run publishes."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from devtools.processes import stop_process, wait_until_healthy

ROOT = Path(__file__).resolve().parent.parent
# Every child process the bench started, stopped at the end whatever happened.
children: list[subprocess.Popen[Any]] = []
# The name suffix of a Mill Dash variant run with MILLDASH_METRICS=0.
METRICS_OFF = "metrics-off"


def metrics_env(on: bool) -> dict[str, str]:
    """The server's metrics switch, set either way so the caller's environment cannot."""
    return {"MILLDASH_METRICS": "1" if on else "0"}


def ping_env(interval: float | None) -> dict[str, str]:
    """MILLDASH_WS_PING_INTERVAL when `--ping-interval` was given; else the server's own."""
    return {} if interval is None else {"MILLDASH_WS_PING_INTERVAL": f"{interval:g}"}


def ping_interval_s(flag: float | None) -> float:
    """The interval Mill Dash pings every socket at: `--ping-interval`, else its configuration
    (MILLDASH_WS_PING_INTERVAL as this environment sets it, default 25 s); 0: never."""
    from app.config import Config

    return Config.from_env().ws_ping_interval_s if flag is None else flag


def metrics_off(kind: type) -> type:
    """The same Mill Dash variant with MILLDASH_METRICS=0, named `<name> metrics-off`."""
    attrs = {"metrics": False, "name": f"{kind.name} {METRICS_OFF}"}
    return type(f"{kind.__name__}MetricsOff", (kind,), attrs)


class OursServer:
    """`python -m app --no-demo` via devtools.live_server.LiveServer on a temp SQLite file."""

    name = "mill-dash"
    processes = 1
    metrics = True
    infra_pids: list[int] = []

    def __init__(self, workdir: Path, n: int, ping_interval: float | None = None) -> None:
        from devtools.factories import add_machines
        from devtools.live_server import LiveServer

        # Every bench client shares one token and one address: lift the per-user and
        # per-address socket caps (defaults 20 and 200) just above N.
        cap = str(n + 10)
        self.live = LiveServer(
            workdir,
            MILLDASH_WS_MAX_PER_USER=cap,
            MILLDASH_WS_MAX_PER_ADDRESS=cap,
            **metrics_env(self.metrics),
            **ping_env(ping_interval),
        )
        self.machine_ids = add_machines(self.live.db, 4)
        try:
            self.live.start()
        except BaseException:
            self.live.stop()  # a server that never answered is still running
            raise
        assert self.live.proc is not None
        children.append(self.live.proc)
        self.pid = self.live.proc.pid
        self.pids = [self.pid]
        self.port = self.live.port
        self.token = self.live.tokens["operator"]
        self.ws_url = f"{self.live.ws_url}?subscribe=maintenance&token={self.live.tokens['viewer']}"
        self.scrape_token = self.live.tokens["admin"]
        self.scrape_urls = [f"{self.live.url}/metrics"]

    def stop(self) -> None:
        self.live.stop()


class ReferenceServer:
    """bench/reference_broadcaster.py: WebSocket on one port, the POST on another; it pings
    every socket as often as Mill Dash does in the same run."""

    name = "reference"
    processes = 1
    infra_pids: list[int] = []

    def __init__(self, workdir: Path, n: int, ping_interval: float | None = None) -> None:
        from devtools.live_server import free_port

        ws_port, self.port = free_port(), free_port()
        self.machine_ids = [1, 2, 3, 4]
        self.token = "unused"
        self.ws_url = f"ws://127.0.0.1:{ws_port}/api/v1/ws?subscribe=maintenance"
        log_path = workdir / "reference.log"
        log = open(log_path, "ab")  # noqa: SIM115 - lives as long as the process
        args = ["--ws-port", str(ws_port), "--http-port", str(self.port)]
        args += ["--ping-interval", f"{ping_interval_s(ping_interval):g}"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.reference_broadcaster", *args],
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        children.append(self.proc)
        self.pid = self.proc.pid
        self.pids = [self.pid]
        health = f"http://127.0.0.1:{self.port}/api/v1/health"
        wait_until_healthy(health, self.proc, 10.0, log_path, poll=0.05)

    def stop(self) -> None:
        stop_process(self.proc)


def warm_up(server: Any, sockets: int = 1) -> None:
    """`sockets` sockets and as many tickets through the whole path, each ticket to every
    socket, so first-use costs are not counted (several, so every process of a cluster is
    likely to hold one and to write one)."""
    import requests
    import websocket

    opened = []
    try:
        for _ in range(sockets):
            opened.append(websocket.create_connection(server.ws_url, timeout=10))
            assert json.loads(opened[-1].recv())["type"] == "welcome"
        for i in range(sockets):
            body = {"machine_id": server.machine_ids[0], "title": f"warm-up {i}", "priority": "low"}
            answer = requests.post(
                f"http://127.0.0.1:{server.port}/api/v1/tickets",
                json=body,
                headers={"Authorization": f"Bearer {server.token}"},
                timeout=10,
            )
            answer.raise_for_status()
            for ws in opened:
                assert json.loads(ws.recv())["type"] == "maintenance_alert"
    finally:
        for ws in opened:
            ws.close()


class Scraper:
    """`GET /metrics` on each URL every `interval` seconds on a thread of the bench process,
    as Prometheus scrapes a target, from `start()` to `stop()`; the first one after
    `interval`."""

    def __init__(self, urls: list[str], token: str, interval: float) -> None:
        self.urls, self.interval = urls, interval
        self.headers = {"Authorization": f"Bearer {token}"}
        self.seconds: list[float] = []
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scraper", daemon=True)

    def start(self) -> Scraper:
        self._thread.start()
        return self

    def _run(self) -> None:
        import requests

        with requests.Session() as session:
            while not self._stop.wait(self.interval):
                for url in self.urls:
                    began = time.perf_counter()
                    try:
                        ok = session.get(url, headers=self.headers, timeout=10).status_code == 200
                    except requests.RequestException:
                        ok = False
                    if ok:
                        self.seconds.append(time.perf_counter() - began)
                    else:
                        self.errors += 1

    def stop(self) -> dict[str, Any]:
        """Stop scraping; the count, the failures and the median time of a scrape."""
        self._stop.set()
        self._thread.join(15)
        median = statistics.median(self.seconds) * 1000 if self.seconds else float("nan")
        return {"scrapes": len(self.seconds), "scrape_errors": self.errors, "scrape_ms": median}
