"""A real Mill Dash server in a subprocess on a free port, for integration tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
import websocket

from data.accounts.tokens import create_token
from data.store.db import Database
from devtools.processes import stop_process, wait_until_healthy

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """`python -m app` on a temp SQLite file; tokens for every role."""

    def __init__(self, workdir: Path, demo: bool = False, **env: str) -> None:
        self.db_url = f"sqlite:///{workdir / 'milldash.db'}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/api/v1/ws"
        self.demo = demo
        self.env = {
            **os.environ,
            "MILLDASH_DATABASE_URL": self.db_url,
            "MILLDASH_SECRET_KEY": "live-test-secret",
            "MILLDASH_PORT": str(self.port),
            **env,
        }
        self.log_path = workdir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        db = Database(self.db_url)
        db.migrate()
        self.tokens = {
            r: create_token(db, r, f"{r}-test") for r in ("viewer", "operator", "admin", "display")
        }
        self.db = db
        self._people: list[str] = []

    def start(self, timeout: float = 30.0) -> LiveServer:
        args = [sys.executable, "-m", "app"] + ([] if self.demo else ["--no-demo"])
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the process's life
        self.proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        wait_until_healthy(f"{self.url}/api/v1/health", self.proc, timeout, self.log_path)
        return self

    def stop(self) -> None:
        if self.proc:
            stop_process(self.proc)
        self.proc = None

    def sign_in(self, page: Any, role: str = "operator", path: str = "/") -> None:
        """Sign a Playwright page in as a new person with `role` through the login form, then
        open `path` (only `/wall` takes a token in its URL)."""
        from data.accounts.users import create_user

        name = f"{role}-{len(self._people)}"
        self._people.append(name)
        password = create_user(self.db, name, role)
        page.goto(f"{self.url}/login?next={path}")
        page.fill("input[name=name]", name)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.press("input[name=password]", "Enter")

    def headers(self, role: str = "operator") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def post(self, path: str, body: dict[str, Any], role: str = "operator") -> requests.Response:
        return requests.post(
            f"{self.url}/api/v1{path}", json=body, headers=self.headers(role), timeout=10
        )

    def get(self, path: str, role: str = "viewer") -> requests.Response:
        return requests.get(f"{self.url}/api/v1{path}", headers=self.headers(role), timeout=10)

    def connect(
        self, query: str = "", role: str = "viewer", path: str = "", **kw: Any
    ) -> websocket.WebSocket:
        sep = "&" if query else ""
        url = f"{self.ws_url}{path}?token={self.tokens[role]}{sep}{query}"
        return websocket.create_connection(url, timeout=10, **kw)


def recv_json(ws: websocket.WebSocket, timeout: float = 5.0) -> dict[str, Any]:
    ws.settimeout(timeout)
    return json.loads(ws.recv())


def recv_until(ws: websocket.WebSocket, predicate: Any, timeout: float = 10.0) -> list[dict]:
    """Frames up to and including the first one that satisfies `predicate`."""
    frames: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = recv_json(ws, max(0.1, deadline - time.monotonic()))
        frames.append(frame)
        if predicate(frame):
            return frames
    raise TimeoutError(f"no matching frame; got {frames[-5:]}")


def close_code(ws: websocket.WebSocket, timeout: float = 10.0) -> int:
    """Read until the close frame; its status code (pings on the way are answered)."""
    ws.settimeout(timeout)
    while True:
        opcode, frame = ws.recv_data_frame(True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(frame.data[:2], "big")


def serve_plant(workdir: Path, machines: int, **env: str) -> Iterator[LiveServer]:
    """A started server with `machines` idle machines, stopped afterwards (for fixtures)."""
    from devtools.factories import add_machines

    live = LiveServer(workdir, **env)
    add_machines(live.db, machines)
    live.start()
    try:
        yield live
    finally:
        live.stop()
