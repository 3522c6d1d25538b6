"""The two servers of the fan-out bench: Mill Dash itself and the asyncio reference
broadcaster, each in a child process, and a warm-up through the whole path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from devtools.processes import stop_process, wait_until_healthy

ROOT = Path(__file__).resolve().parent.parent
# Every child process the bench started, stopped at the end whatever happened.
children: list[subprocess.Popen[Any]] = []


class OursServer:
    """`python -m app --no-demo` via devtools.live_server.LiveServer on a temp SQLite file."""

    name = "mill-dash"

    def __init__(self, workdir: Path, n: int) -> None:
        from devtools.factories import add_machines
        from devtools.live_server import LiveServer

        # Every bench client shares one token and one address: lift the per-user and
        # per-address socket caps (defaults 20 and 200) just above N.
        cap = str(n + 10)
        self.live = LiveServer(
            workdir, MILLDASH_WS_MAX_PER_USER=cap, MILLDASH_WS_MAX_PER_ADDRESS=cap
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
        self.port = self.live.port
        self.token = self.live.tokens["operator"]
        self.ws_url = f"{self.live.ws_url}?subscribe=maintenance&token={self.live.tokens['viewer']}"

    def stop(self) -> None:
        self.live.stop()


class ReferenceServer:
    """bench/reference_broadcaster.py: WebSocket on one port, the POST on another."""

    name = "reference"

    def __init__(self, workdir: Path, n: int) -> None:
        from devtools.live_server import free_port

        ws_port, self.port = free_port(), free_port()
        self.machine_ids = [1, 2, 3, 4]
        self.token = "unused"
        self.ws_url = f"ws://127.0.0.1:{ws_port}/api/v1/ws?subscribe=maintenance"
        log_path = workdir / "reference.log"
        log = open(log_path, "ab")  # noqa: SIM115 - lives as long as the process
        args = ["--ws-port", str(ws_port), "--http-port", str(self.port)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.reference_broadcaster", *args],
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        children.append(self.proc)
        self.pid = self.proc.pid
        health = f"http://127.0.0.1:{self.port}/api/v1/health"
        wait_until_healthy(health, self.proc, 10.0, log_path, poll=0.05)

    def stop(self) -> None:
        stop_process(self.proc)


def warm_up(server: Any) -> None:
    """One socket and one ticket through the whole path, so first-use costs are not counted."""
    import requests
    import websocket

    ws = websocket.create_connection(server.ws_url, timeout=10)
    try:
        assert json.loads(ws.recv())["type"] == "welcome"
        body = {"machine_id": server.machine_ids[0], "title": "warm-up", "priority": "low"}
        answer = requests.post(
            f"http://127.0.0.1:{server.port}/api/v1/tickets",
            json=body,
            headers={"Authorization": f"Bearer {server.token}"},
            timeout=10,
        )
        answer.raise_for_status()
        assert json.loads(ws.recv())["type"] == "maintenance_alert"
    finally:
        ws.close()
