"""Every benchmark and script the README and docs name runs, on small inputs: a documented
command that is missing or broken fails here. Benchmarks are measurements (they exit 1 when a
target is missed, which a small or busy run may do); what is checked is that each one runs to
its report, not its figures."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devtools.browser import require_chromium
from devtools.cluster import NGINX, REDIS_SERVER
from scripts import screenshots
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
TOOL = re.compile(r"python -m ((?:bench|scripts)\.[a-z_]+)")

# Small inputs for each documented tool; the browser ones need Chromium.
CASES: dict[str, tuple[list[str], bool]] = {
    "bench.queries": (["--machines", "2", "--days", "2", "--runs", "2"], False),
    "bench.fanout": (
        [
            "--clients",
            "5",
            "--seconds",
            "1",
            "--rate",
            "5",
            "--drain",
            "2",
            "--servers",
            "reference,mill-dash",
        ],
        False,
    ),
    "bench.export": (["--rows", "2000", "--repeat", "1"], False),
    "bench.redis_stream": (["--quick"], False),
    "bench.login_flood": (["--clients", "2", "--seconds", "1", "--cycles", "1"], False),
    "bench.ui_latency": (
        ["--tickets", "3", "--gap-ms", "100", "--wall-tickets", "3", "--burst", "5"],
        True,
    ),
    "scripts.screenshots": (["--out", "{tmp}"], True),
}


# Servers a tool starts itself, which must be installed (in CI they are).
NEEDS: dict[str, list[tuple[str, str | None]]] = {
    "bench.redis_stream": [("redis-server", REDIS_SERVER)],
    "bench.export": [("sqlite3", shutil.which("sqlite3"))],  # the shell is a reference way
}


def require(needs: list[tuple[str, str | None]]) -> None:
    """Skip without these programs, or fail under CI=true."""
    missing = [name for name, path in needs if not path]
    if missing:
        if IN_CI:
            pytest.fail(f"CI=true but {' and '.join(missing)} not installed")
        pytest.skip(f"{' and '.join(missing)} not installed")


def documented_tools() -> set[str]:
    return {m for doc in DOCS for m in TOOL.findall(doc.read_text())}


def test_every_documented_tool_has_a_case() -> None:
    assert documented_tools() <= set(CASES), documented_tools() - set(CASES)
    assert documented_tools(), "the README names its benchmarks"


@pytest.mark.parametrize("module", sorted(CASES))
def test_documented_tool_runs(module: str, tmp_path: Path) -> None:
    argv, needs_browser = CASES[module]
    if needs_browser:
        require_chromium()
    require(NEEDS.get(module, []))
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = done.stdout + done.stderr
    assert "Traceback" not in report, report[-3000:]
    assert done.returncode in (0, 1), report[-3000:]
    assert done.stdout.strip() or module.startswith("scripts."), report[-3000:]
    if module == "scripts.screenshots":
        shots = sorted(tmp_path.glob("*.png"))
        expected = len(screenshots.PAGES) + len(screenshots.ADMIN_PAGES) + len(screenshots.EXTRA)
        assert len(shots) == expected and all(p.stat().st_size > 20_000 for p in shots), shots


# The documented smoke form of the fan-out bench on several processes (its own redis-server and
# nginx): every server delivers every ticket, and both processes of each cluster hold sockets.
FANOUT_SEVERAL = ["--quick", "--processes", "1,2", "--via", "direct,nginx"]


def run_documented_fanout(argv: list[str], tmp_path: Path) -> tuple[str, dict[str, Any]]:
    """Run `python -m bench.fanout ARGV` as docs/benchmarks/fanout.md writes it: its stdout
    and its rows by server, each of which delivered every ticket once."""
    doc = (ROOT / "docs" / "benchmarks" / "fanout.md").read_text()
    assert f"python -m bench.fanout {' '.join(argv)}" in doc
    out = tmp_path / "fanout.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.fanout", *argv, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0 and "Traceback" not in report, report[-3000:]
    rows = {row["server"]: row for row in json.loads(out.read_text())}
    for row in rows.values():
        assert row["missing"] == 0 and row["duplicates"] == 0, row
        assert row["post_errors"] == 0, row
    return done.stdout, rows


def test_fanout_on_several_processes_delivers_everything(tmp_path: Path) -> None:
    require([("nginx", NGINX), ("redis-server", REDIS_SERVER)])
    stdout, rows = run_documented_fanout(FANOUT_SEVERAL, tmp_path)
    assert set(rows) == {
        "mill-dash",
        "mill-dash x1 nginx",  # the proxy hop alone: the nginx rows' baseline
        "mill-dash x2 direct",
        "mill-dash x2 nginx",
        "reference",
    }
    for name in ("mill-dash x2 direct", "mill-dash x2 nginx"):
        counts = rows[name]["sockets_per_process"]
        assert len(counts) == 2 and min(counts) > 0 and sum(counts) == 50, (name, counts)
    assert min(rows["mill-dash x2 nginx"]["posts_per_process"]) > 0  # round robin: both wrote
    assert "cross-process delivery adds p50 <= 5 ms (direct vs x1)" in stdout
    assert "cross-process delivery adds p50 <= 5 ms (nginx vs x1 nginx)" in stdout
    assert "x1 nginx - x1" in stdout


# The documented smoke form of the metrics comparison: one server with metrics on (and scraped
# while it publishes) and the same with MILLDASH_METRICS=0, side by side, and the target's line.
FANOUT_METRICS = ["--quick", "--servers", "mill-dash", "--metrics", "on,off", "--scrape-every", "1"]


def test_fanout_with_metrics_on_and_off(tmp_path: Path) -> None:
    stdout, rows = run_documented_fanout(FANOUT_METRICS, tmp_path)
    assert set(rows) == {"mill-dash", "mill-dash metrics-off"}
    on, off = rows["mill-dash"], rows["mill-dash metrics-off"]
    assert on["metrics"] is True and off["metrics"] is False
    assert on["scrapes"] >= 1 and on["scrape_errors"] == 0, on
    assert "scrapes" not in off  # nothing to scrape: its /metrics answers 404
    assert "metrics on/off" in stdout
    assert "metrics cost: p99 with metrics within 5 % of without" in stdout


# The documented smoke form of the heartbeat figures and the efficiency targets: both servers
# ping every socket every second, every socket sees the pings, and the targets' block prints
# (for N = 50, the largest of this run).
FANOUT_PINGS = ["--quick", "--ping-interval", "1"]


def test_fanout_heartbeats_and_efficiency_targets(tmp_path: Path) -> None:
    stdout, rows = run_documented_fanout(FANOUT_PINGS, tmp_path)
    assert set(rows) == {"mill-dash", "reference"}
    for row in rows.values():
        assert row["ping_interval_s"] == 1.0 and row["closed_early"] == 0, row
        assert row["ping_sockets"] == 50 and row["pings"] >= 100, row
        assert 0 < row["ping_max_gap_s"] < 10, row
    assert "efficiency targets at N=50 (set for 1,000 and 8,000):" in stdout
    assert "heartbeats on time" in stdout and "vs interval 1 s" in stdout
