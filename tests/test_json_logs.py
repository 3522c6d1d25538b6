"""`--log-format json` / MILLDASH_LOG_FORMAT=json: every line the server writes is one JSON
object (time, level, logger, message; and for a request its id, route, method, path, status
and duration), with one process and with gunicorn's workers; a request id follows the request."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from devtools.live_server import ROOT, LiveServer, free_port
from devtools.processes import stop_process, wait_until_healthy
from tests.waiting import wait_until

BASE_KEYS = {"time", "level", "logger", "message", "process"}


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of the log as JSON; a line that is not fails the test, named."""
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"line {number} is not JSON: {line[:300]!r}") from None
        assert set(entry) >= BASE_KEYS, entry
        entries.append(entry)
    return entries


def test_one_process_writes_json_lines_that_name_each_request(tmp_path: Path) -> None:
    live = LiveServer(tmp_path, MILLDASH_LOG_FORMAT="json", MILLDASH_ACCESS_LOG="1")
    live.start()
    try:
        health = requests.get(
            f"{live.url}/api/v1/health", headers={"X-Request-ID": "probe-1"}, timeout=10
        )
        assert health.headers["X-Request-ID"] == "probe-1"  # the caller's id is kept
        missing = live.get("/tickets/12345")
        assert missing.status_code == 404
        bad = live.post("/tickets", {"machine_id": 1, "title": "x", "priority": "p9"})
        assert bad.status_code == 400
        bad_id = bad.headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{16}", bad_id)  # a new id when none was sent
        odd = requests.get(
            f"{live.url}/api/v1/health", headers={"X-Request-ID": "no spaces allowed"}, timeout=10
        )
        assert odd.headers["X-Request-ID"] != "no spaces allowed"
        secret = requests.get(f"{live.url}/wall?token=mdt_{'s' * 30}", timeout=10)
        assert secret.status_code in (200, 303)
    finally:
        live.stop()
    entries = json_lines(live.log_path)
    assert any(e["message"].startswith("Mill Dash on http://") for e in entries)
    access = {e["request_id"]: e for e in entries if e["logger"] == "milldash.access"}
    assert access["probe-1"]["route"] == "/api/v1/health"
    assert access["probe-1"]["status"] == 200
    assert access["probe-1"]["duration_ms"] >= 0
    ticket = next(e for e in access.values() if e["path"] == "/api/v1/tickets/12345")
    assert (ticket["route"], ticket["status"]) == ("/api/v1/tickets/<int:ticket_id>", 404)
    assert (access[bad_id]["method"], access[bad_id]["status"]) == ("POST", 400)
    # A line written while serving the request carries the request's id and route.
    warning = next(e for e in entries if e["level"] == "WARNING" and "client error" in e["message"])
    assert (warning["request_id"], warning["route"]) == (bad_id, "/api/v1/tickets")
    assert "s" * 30 not in live.log_path.read_text()  # tokens are redacted in JSON too


def test_workers_write_json_lines_gunicorn_included(tmp_path: Path, redis_server) -> None:
    port = free_port()
    log = tmp_path / "workers.log"
    env = {
        "MILLDASH_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
        "MILLDASH_PORT": str(port),
        "MILLDASH_LOG_FORMAT": "json",
    }
    args = [sys.executable, "-m", "app", "--no-demo", "--workers", "2"]
    args += ["--redis-url", redis_server.url]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            args, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}/api/v1/health", proc, 60, log)
        wait_until(lambda: log.read_text().count("serving") >= 2, timeout=30, message="two workers")
    finally:
        stop_process(proc)
    entries = json_lines(log)
    loggers = {e["logger"] for e in entries}
    assert "gunicorn.error" in loggers  # gunicorn's own lines ("Booting worker ...")
    assert len({e["process"] for e in entries if "serving" in e["message"]}) == 2


def test_an_unknown_log_format_is_refused_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app", "--no-demo", "--log-format", "yaml"],
        cwd=ROOT,
        env={**os.environ, "MILLDASH_DATABASE_URL": f"sqlite:///{tmp_path / 'n.db'}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: --log-format/MILLDASH_LOG_FORMAT must be text or json, not 'yaml'"
    )
    assert not (tmp_path / "n.db").exists()
