"""The fan-out bench's table and its targets."""

from __future__ import annotations

import argparse
import os
from typing import Any

TARGET_N = 1000


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:,.{digits}f}"


COLUMNS = (  # header, width, row -> text
    ("p50 ms", 8, lambda r: _fmt(r["p50_ms"])),
    ("p99 ms", 8, lambda r: _fmt(r["p99_ms"])),
    ("max ms", 8, lambda r: _fmt(r["max_ms"])),
    ("deliv/s", 8, lambda r: _fmt(r["delivered_rate"], 0)),
    ("offer/s", 8, lambda r: _fmt(r["offered_rate"], 0)),
    ("missing", 7, lambda r: f"{r['missing']:,}"),
    ("KB/conn", 7, lambda r: _fmt(r["rss_per_conn_kb"])),
    ("us/msg", 6, lambda r: _fmt(r["cpu_us_per_delivery"])),
    ("idle", 5, lambda r: f"{r['idle_cpu']:.0%}"),
    ("server", 6, lambda r: f"{r['server_cpu']:.0%}"),
    ("client", 6, lambda r: f"{r['client_cpu']:.0%}"),
    ("other", 6, lambda r: f"{max(0.0, r['other_cpu']):.0%}"),
)
LEGEND = """\
latency: POST written -> maintenance_alert received, over every (ticket, client) pair
KB/conn: server VmRSS growth per idle socket; us/msg: server CPU per delivered frame beyond
its idle cost; idle: server CPU with the N sockets open and no events; server/client/other:
CPU while publishing in % of one core; other = the rest of the machine (other jobs):
latencies and rates are clean only while it stays near 0%"""


def print_table(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"\nfan-out: {args.rate:g} tickets/s for {args.seconds:g} s per run, clients subscribed "
        f"to 'maintenance'; {os.cpu_count()} CPUs\n"
    )
    head = f"{'N':>5} {'server':<9} " + " ".join(f"{h:>{w}}" for h, w, _ in COLUMNS)
    print(head)
    print("-" * len(head))
    for n in sorted({r["n"] for r in results}):
        rows = {r["server"]: r for r in results if r["n"] == n}
        for r in rows.values():
            print(f"{n:>5} {r['server']:<9} " + " ".join(f"{c(r):>{w}}" for _, w, c in COLUMNS))
        if len(rows) == 2:
            ours, ref = rows["mill-dash"], rows["reference"]
            p50, p99 = ours["p50_ms"] / ref["p50_ms"], ours["p99_ms"] / ref["p99_ms"]
            print(f"{n:>5} {'ours/ref':<9} {p50:>7.2f}x {p99:>7.2f}x")
    print("\n" + LEGEND)


def print_targets(results: list[dict[str, Any]]) -> None:
    n = TARGET_N if any(r["n"] == TARGET_N for r in results) else max(r["n"] for r in results)
    rows = {r["server"]: r for r in results if r["n"] == n}
    ours, ref = rows.get("mill-dash"), rows.get("reference")
    if ours is None or ref is None:
        print("\ntargets: need both servers in the run (--servers mill-dash,reference)")
        return
    note = "" if n == TARGET_N else f" (the targets are set for {TARGET_N}; shown for {n})"
    print(f"\ntargets at N={n}{note}:")
    rate_dev = ours["delivered_rate"] / ours["offered_rate"] - 1
    ratio = ours["p99_ms"] / ref["p99_ms"]
    checks = [
        ("zero missing deliveries", f"{ours['missing']:,} missing", ours["missing"] == 0),
        (
            "delivered rate = offered rate (+-2%)",
            f"{ours['delivered_rate']:,.0f}/s vs {ours['offered_rate']:,.0f}/s ({rate_dev:+.1%})",
            abs(rate_dev) <= 0.02,
        ),
        ("p99 <= 1.5x reference", f"{ratio:.2f}x", ratio <= 1.5),
        (
            "RSS per idle connection <= 100 KB",
            f"{ours['rss_per_conn_kb']:.1f} KB",
            ours["rss_per_conn_kb"] <= 100,
        ),
    ]
    for name, value, ok in checks:
        print(f"  {name:<38} {value:<36} {'PASS' if ok else 'FAIL'}")
