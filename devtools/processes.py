"""Child processes of tests and benches: wait for a server's health check, stop it for sure."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import requests


def stop_process(proc: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within `grace` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def wait_until_healthy(
    url: str,
    proc: subprocess.Popen[Any],
    timeout: float,
    log: Path,
    poll: float = 0.1,
) -> None:
    """Poll GET `url` until it answers 200. RuntimeError (with the end of `log`, the server's
    output) if the process exits first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(poll)
    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
