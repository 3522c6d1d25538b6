"""The fan-out bench's efficiency targets and heartbeat figures, from made-up rows: what PASS,
FAIL and "not measured" mean, without running a server."""

from __future__ import annotations

from typing import Any

import pytest

from bench.fanout_report import (
    efficiency_checks,
    heartbeat_check,
    print_efficiency_targets,
    print_ranks,
)
from bench.fanout_summary import heartbeats, rank_points, summarise


def row(server: str, n: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "server": server,
        "n": n,
        "rss_per_conn_kb": 20.0,
        "rss_idle_kb": 300 * 1024,
        "cpu_us_per_delivery": 12.0,
        "p99_ms": 40.0,
        "missing": 0,
        "expected": 150 * n,
        "ping_interval_s": 10.0,
        "ping_sockets": n,
        "ping_max_gap_s": 10.1,
        "ping_max_wait_s": 4.0,
        "open_max_s": 30.0,
    }
    return {**base, **fields}


def verdicts(checks: list[tuple[str, str, bool | None]]) -> dict[str, bool | None]:
    return {name: ok for name, _, ok in checks}


def test_heartbeats_gaps_and_waits() -> None:
    figures = heartbeats(
        [
            (0.0, [10.0, 20.5], 25.0),  # gaps 10, 10.5; waiting 4.5 at the end
            (1.0, [], 9.0),  # no ping yet: waited 8 since its welcome
        ]
    )
    assert figures["ping_sockets"] == 1 and figures["pings"] == 2
    assert figures["ping_max_gap_s"] == pytest.approx(10.5)
    assert figures["ping_max_wait_s"] == pytest.approx(8.0)
    assert figures["open_max_s"] == pytest.approx(25.0)


def test_heartbeat_check() -> None:
    ref = row("reference", 1000)
    ok = heartbeat_check(row("mill-dash", 1000), ref)
    assert ok[2] is True and "max gap 10.1 s vs interval 10 s" in ok[1]
    late = heartbeat_check(row("mill-dash", 1000, ping_max_gap_s=12.5), ref)
    assert late[2] is False
    # A socket open past interval + 2 s without any ping: its wait is the gap that fails.
    unpinged = row("mill-dash", 1000, ping_sockets=999, ping_max_wait_s=13.0)
    assert heartbeat_check(unpinged, ref)[2] is False
    silent = row("mill-dash", 1000, ping_sockets=0, ping_max_gap_s=float("nan"))
    silent["ping_max_wait_s"] = silent["open_max_s"]  # without a ping: since its welcome
    assert heartbeat_check(silent, ref)[2] is False  # open 30 s, interval 10 s: one was due
    short = {**silent, "ping_max_wait_s": 8.0, "open_max_s": 8.0, "ping_interval_s": 25.0}
    _, value, verdict = heartbeat_check(short, ref)
    assert verdict is None and value.startswith("not measured (no ping seen")
    assert heartbeat_check({**short, "ping_interval_s": 0.0}, ref)[2] is None


def test_efficiency_checks_at_1000() -> None:
    ours = row("mill-dash", 1000, rss_per_conn_kb=28.0, cpu_us_per_delivery=15.0, p99_ms=41.0)
    ref = row("reference", 1000, rss_per_conn_kb=15.0, cpu_us_per_delivery=12.0, p99_ms=40.0)
    assert verdicts(efficiency_checks(1000, ours, ref)) == {
        "RSS per idle socket <= 30 KB": True,
        "RSS per idle socket <= 2x reference": True,
        "server CPU per frame <= 1.2x reference": False,  # 1.25x
        "p99 <= 1.0x reference": False,  # 1.03x
        "heartbeats on time": True,
    }


def test_efficiency_checks_at_8000() -> None:
    ours = row("mill-dash", 8000, rss_per_conn_kb=31.0, rss_idle_kb=610 * 1024, missing=3)
    ref = row("reference", 8000, rss_per_conn_kb=15.0)
    checks = efficiency_checks(8000, ours, ref)
    assert verdicts(checks) == {
        "RSS per idle socket <= 30 KB": False,
        "RSS per idle socket <= 2x reference": False,  # 2.07x
        "server CPU per frame <= 1.2x reference": True,
        "every event reaches every socket": False,
        "heartbeats on time": True,
        "server RSS, 8,000 sockets open, <= 600 MB": False,
    }
    assert "610.0 MB (reference 300.0 MB)" in dict((n, v) for n, v, _ in checks).values()


def test_printed_for_1000_and_8000_with_both_servers(capsys: pytest.CaptureFixture[str]) -> None:
    results = [
        row("mill-dash", 500),
        row("reference", 500),
        row("mill-dash", 1000),
        row("reference", 1000),
        row("mill-dash", 8000),
    ]
    print_efficiency_targets(results)
    out = capsys.readouterr().out
    assert "efficiency targets at N=1000:" in out
    assert "efficiency targets at N=8000: need both servers in the run" in out
    assert "N=500" not in out


def test_shown_for_the_largest_n_otherwise(capsys: pytest.CaptureFixture[str]) -> None:
    print_efficiency_targets([row("mill-dash", 50), row("reference", 50)])
    out = capsys.readouterr().out
    assert "efficiency targets at N=50 (set for 1,000 and 8,000):" in out
    assert "p99 <= 1.0x reference" in out


def test_rank_points() -> None:
    assert rank_points(1000) == [1, 10, 100, 500, 900, 1000]
    assert rank_points(10) == [1, 5, 9, 10]
    assert rank_points(1) == [1]


def test_arrival_by_rank_from_frames(capsys: pytest.CaptureFixture[str]) -> None:
    """Three tickets to 10 sockets: ticket i reaches socket c at i + 1 + c ms after its POST
    (socket 9 never gets ticket 2); each rank is the median over the tickets that reached it."""
    titles = {f"t{i}": i for i in range(3)}
    sends = [(201, 10.0 * i, 10.0 * i + 0.5) for i in range(3)]
    frames = []
    for i in range(3):
        for c in range(10):
            if (i, c) == (2, 9):
                continue
            msg = f'{{"type":"maintenance_alert","data":{{"title":"t{i}"}}}}'.encode()
            frames.append((10.0 * i + (i + 1 + c) / 1000, c, msg))
    result = summarise(frames, sends, titles, 10)
    ranks = {k: round(v, 3) for k, v in result["rank_ms"].items()}
    # rank 1: 1, 2, 3 ms -> 2; rank 5: 5, 6, 7 -> 6; rank 9: 9, 10, 11 -> 10; rank 10: 10, 11 -> 10
    assert ranks == {"1": 2.0, "5": 6.0, "9": 10.0, "10": 10.0}
    assert result["missing"] == 1
    print_ranks([{"n": 10, "server": "mill-dash", **result}], 9)
    assert "   10 mill-dash 1: 2.0  5: 6.0  9: 10.0  10: 10.0" in capsys.readouterr().out
