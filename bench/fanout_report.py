"""The fan-out bench's table and its targets (one process against the reference at N = 1000;
several processes against one at N = 2000; metrics on against off at N = 1000; memory, CPU,
latency and heartbeats against the reference at N = 1000 and 8000)."""

from __future__ import annotations

import argparse
import os
import statistics
from typing import Any

TARGET_N = 1000
SCALE_TARGET_N = 2000  # several processes
SCALE_P50_MS = 5.0  # what cross-process delivery may add to one process's p50
METRICS_P99 = 0.05  # how much the metrics may add to the p99 (5 %)
METRICS_OFF = " metrics-off"  # the name suffix of a variant run with MILLDASH_METRICS=0
LABEL = 19  # "mill-dash x2 direct"; wider when a run has longer names
IDLE_N = 8000  # many idle sockets on one process
KB_PER_SOCKET = 30.0  # resident memory per idle socket
KB_VS_REF = 2.0  # ... and at most this many times the reference's
CPU_VS_REF = 1.2  # server CPU per delivered frame against the reference's
P99_VS_REF = 1.0  # p99 against the reference's, at N = 1000
TOTAL_RSS_MB = 600  # the server's RSS with the IDLE_N sockets open
HEARTBEAT_SLACK_S = 2.0  # how late a ping may be: every gap <= interval + this

# A target's line: what, the measured value, and PASS (True), FAIL (False) or not measured.
Check = tuple[str, str, bool | None]


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:,.{digits}f}"


def last_ms(r: dict[str, Any]) -> float:
    """The median ticket's slowest delivery: when every socket, on every process, had it."""
    worst = r.get("ticket_worst_ms") or []
    return statistics.median(worst) if worst else float("nan")


COLUMNS = (  # header, width, row -> text
    ("p50 ms", 8, lambda r: _fmt(r["p50_ms"])),
    ("p99 ms", 8, lambda r: _fmt(r["p99_ms"])),
    ("max ms", 8, lambda r: _fmt(r["max_ms"])),
    ("last ms", 8, lambda r: _fmt(last_ms(r))),
    ("deliv/s", 8, lambda r: _fmt(r["delivered_rate"], 0)),
    ("offer/s", 8, lambda r: _fmt(r["offered_rate"], 0)),
    ("missing", 7, lambda r: f"{r['missing']:,}"),
    ("KB/conn", 7, lambda r: _fmt(r["rss_per_conn_kb"])),
    ("us/msg", 6, lambda r: _fmt(r["cpu_us_per_delivery"])),
    ("idle", 5, lambda r: f"{r['idle_cpu']:.0%}"),
    ("server", 6, lambda r: f"{r['server_cpu']:.0%}"),
    ("infra", 5, lambda r: f"{r['infra_cpu']:.0%}" if "infra_cpu" in r and r.get("via") else "-"),
    ("client", 6, lambda r: f"{r['client_cpu']:.0%}"),
    ("other", 6, lambda r: f"{max(0.0, r['other_cpu']):.0%}"),
)
LEGEND = """\
latency: POST written -> maintenance_alert received, over every (ticket, client) pair; last:
the median over tickets of each ticket's slowest delivery (every socket, every process, had it)
KB/conn: server VmRSS growth per idle socket; us/msg: server CPU per delivered frame beyond
its idle cost; idle: server CPU with the N sockets open and no events; server/infra/client/
other: CPU while publishing in % of one core; server sums every server process (gunicorn's
master and workers, or each process behind nginx); infra: nginx and redis-server; other = the
rest of the machine (other jobs): latencies and rates are clean only while it stays near 0%
xN - x1: what N processes add to one process's p50, p99 and last, in ms (the nginx rows: to one
process behind nginx, when the run has it; x1 nginx - x1: the proxy hop alone)
on/off: a variant's p50 and p99 with metrics over the same without (MILLDASH_METRICS=0)"""


def _split(counts: list[int] | None) -> str:
    if counts is None:
        return "-"
    return " + ".join("?" if c < 0 else f"{c:,}" for c in counts)


def _spread_ok(r: dict[str, Any]) -> bool:
    counts = r.get("sockets_per_process") or []
    return len(counts) == r["processes"] and min(counts) > 0 and sum(counts) == r["n"]


def print_table(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    scraped = getattr(args, "scrape_every", 0)
    scrape = f"; /metrics scraped every {scraped:g} s" if scraped else ""
    print(
        f"\nfan-out: {args.rate:g} tickets/s for {args.seconds:g} s per run, clients subscribed "
        f"to 'maintenance'; {os.cpu_count()} CPUs{scrape}\n"
    )
    label_w = max([LABEL, *(len(r["server"]) for r in results)])
    head = f"{'N':>5} {'server':<{label_w}} " + " ".join(f"{h:>{w}}" for h, w, _ in COLUMNS)
    print(head)
    print("-" * len(head))
    for n in sorted({r["n"] for r in results}):
        rows = {r["server"]: r for r in results if r["n"] == n}
        for r in rows.values():
            cells = " ".join(f"{c(r):>{w}}" for _, w, c in COLUMNS)
            print(f"{n:>5} {r['server']:<{label_w}} {cells}")
        ours, ref = rows.get("mill-dash"), rows.get("reference")
        if ours is not None and ref is not None:
            p50, p99 = ours["p50_ms"] / ref["p50_ms"], ours["p99_ms"] / ref["p99_ms"]
            print(f"{n:>5} {'ours/ref':<{label_w}} {p50:>7.2f}x {p99:>7.2f}x")
        for r in rows.values():
            base = baseline(rows, r)
            if base is not None and r is not base:
                d50, d99 = r["p50_ms"] - base["p50_ms"], r["p99_ms"] - base["p99_ms"]
                dlast = last_ms(r) - last_ms(base)
                label = f"x{r['processes']} {r['via']} - {base_name(base)}{_suffix(r)}"
                print(f"{n:>5} {label:<{label_w}} {d50:>+8.1f} {d99:>+8.1f} {'':>8} {dlast:>+8.1f}")
        for on, off in metrics_pairs(rows):
            p50, p99 = on["p50_ms"] / off["p50_ms"], on["p99_ms"] / off["p99_ms"]
            label = f"{on['server'].removeprefix('mill-dash')} metrics on/off".strip()
            print(f"{n:>5} {label:<{label_w}} {p50:>7.2f}x {p99:>7.2f}x")
    print_ranks(results, label_w)
    several = [r for r in results if r.get("processes", 1) > 1]
    if several:
        print("\nper process (sockets held once all were open; POSTs from nginx's access log):")
    for r in several:
        infra = r.get("infra_rss_per_conn_kb", float("nan"))
        print(
            f"{r['n']:>5} {r['server']:<{label_w}} sockets {_split(r.get('sockets_per_process'))}"
            f" of {r['n']:,}; POSTs {_split(r.get('posts_per_process'))}; "
            f"nginx+redis {_fmt(infra)} KB/conn; pids {r['server_pids']}"
        )
    print("\n" + LEGEND)


def print_ranks(results: list[dict[str, Any]], label_w: int) -> None:
    """When the k-th socket had a ticket, median over the tickets, in ms (`rank_ms`)."""
    rows = [r for r in results if r.get("rank_ms")]
    if not rows:
        return
    print("\narrival by rank: when the k-th socket had a ticket, ms (median over the tickets):")
    for r in rows:
        ranks = "  ".join(f"{k}: {v:.1f}" for k, v in r["rank_ms"].items())
        print(f"{r['n']:>5} {r['server']:<{label_w}} {ranks}")


def _suffix(r: dict[str, Any]) -> str:
    """` metrics-off` for a row run with MILLDASH_METRICS=0, else nothing."""
    return METRICS_OFF if r.get("metrics") is False else ""


def baseline(rows: dict[str, dict[str, Any]], r: dict[str, Any]) -> dict[str, Any] | None:
    """What a row of several processes is compared with: one process reached the same way
    (`mill-dash x1 nginx` for the nginx rows, when the run has it), else one process direct,
    with metrics on or off as the row. The one-process nginx row is compared with one process
    direct: the proxy hop alone."""
    suffix = _suffix(r)
    nginx_one = f"mill-dash x1 nginx{suffix}"
    if r.get("via") == "nginx" and r.get("processes", 1) > 1 and nginx_one in rows:
        return rows[nginx_one]
    if r.get("via") or r.get("processes", 1) > 1:
        return rows.get(f"mill-dash{suffix}")
    return None


def metrics_pairs(rows: dict[str, dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(with metrics, without) for every Mill Dash variant the run has both ways."""
    return [
        (r, rows[name + METRICS_OFF])
        for name, r in rows.items()
        if r.get("metrics") is True and name + METRICS_OFF in rows
    ]


def base_name(base: dict[str, Any]) -> str:
    return "x1 nginx" if base.get("via") == "nginx" else "x1"


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else "PASS" if ok else "FAIL"


def _print_checks(checks: list[Check], name_w: int, value_w: int) -> None:
    for name, value, ok in checks:
        print(f"  {name:<{name_w}} {value:<{value_w}} {_verdict(ok)}")


def ours_and_ref(
    results: list[dict[str, Any]], n: int
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """At N: Mill Dash on one process direct (with metrics, else without) and the reference."""
    rows = {r["server"]: r for r in results if r["n"] == n}
    return rows.get("mill-dash") or rows.get("mill-dash" + METRICS_OFF), rows.get("reference")


def print_targets(results: list[dict[str, Any]]) -> None:
    n = TARGET_N if any(r["n"] == TARGET_N for r in results) else max(r["n"] for r in results)
    ours, ref = ours_and_ref(results, n)
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
    _print_checks(checks, 38, 36)


def print_scale_targets(results: list[dict[str, Any]]) -> None:
    """At N = 2000 (else the largest N with several processes): zero missing for every
    server, sockets on every process, and what cross-process delivery adds to the p50."""
    several = [r for r in results if r.get("processes", 1) > 1]
    if not several:
        return
    ns = {r["n"] for r in several}
    n = SCALE_TARGET_N if SCALE_TARGET_N in ns else max(ns)
    note = "" if n == SCALE_TARGET_N else f" (the targets are set for {SCALE_TARGET_N:,})"
    print(f"\ntargets for several processes at N={n}{note}:")
    rows = [r for r in results if r["n"] == n]
    by_name = {r["server"]: r for r in rows}
    checks = []
    for r in rows:
        missing = f"{r['missing']:,} of {r['expected']:,} missing"
        checks.append((f"zero missing: {r['server']}", missing, r["missing"] == 0))
    for r in rows:
        if r.get("processes", 1) > 1:
            split = _split(r.get("sockets_per_process"))
            checks.append((f"sockets on every process: {r['server']}", split, _spread_ok(r)))
    for r in rows:
        if r.get("processes", 1) < 2:
            continue
        one = baseline(by_name, r)
        name = f"cross-process delivery adds p50 <= {SCALE_P50_MS:g} ms ({r['via']})"
        if one is None:
            checks.append((name, "needs --processes 1 in the run", False))
            continue
        name = name[:-1] + f" vs {base_name(one)}){_suffix(r)}"
        added = r["p50_ms"] - one["p50_ms"]
        value = f"{r['p50_ms']:.1f} - {one['p50_ms']:.1f} = {added:+.1f} ms"
        checks.append((name, value, added <= SCALE_P50_MS))
    _print_checks(checks, 52, 30)


def print_metrics_targets(results: list[dict[str, Any]]) -> None:
    """At N = 1000 (else the largest N the run has both ways): for every Mill Dash variant run
    with metrics and without (`--metrics on,off`), the p99 with them within 5 % of without."""
    both = [
        (n, pair)
        for n in sorted({r["n"] for r in results})
        for pair in metrics_pairs({r["server"]: r for r in results if r["n"] == n})
    ]
    if not both:
        return
    ns = {n for n, _ in both}
    n = TARGET_N if TARGET_N in ns else max(ns)
    note = "" if n == TARGET_N else f" (the target is set for {TARGET_N:,})"
    print(f"\nmetrics cost at N={n}{note}:")
    for on, off in (pair for at, pair in both if at == n):
        added = on["p99_ms"] / off["p99_ms"] - 1
        name = f"metrics cost: p99 with metrics within {METRICS_P99 * 100:g} % of without"
        variant = on["server"]
        if variant != "mill-dash":
            name += f" ({variant})"
        value = f"{on['p99_ms']:.1f} vs {off['p99_ms']:.1f} ms ({added:+.1%})"
        _print_checks([(name, value, added <= METRICS_P99)], 52, 30)
        if "scrapes" in on:
            print(
                f"    /metrics scraped {on['scrapes']} times every {on['scrape_every_s']:g} s, "
                f"median {_fmt(on['scrape_ms'])} ms, {on['scrape_errors']} failed"
            )


def _ratio(name: str, ours: float, ref: float, unit: str, limit: float, digits: int = 1) -> Check:
    """`ours vs ref unit = ratio x`, PASS when the ratio is at most `limit`."""
    ratio = ours / ref if ref else float("nan")
    value = f"{ours:,.{digits}f} vs {ref:,.{digits}f} {unit} = {ratio:.2f}x"
    return name, value, ratio <= limit


def _largest(*values: float) -> float:
    """The largest of the values that are numbers (nan: none is)."""
    return max((v for v in values if v == v), default=float("nan"))


def heartbeat_check(ours: dict[str, Any], ref: dict[str, Any]) -> Check:
    """On time: no socket went longer than the interval + HEARTBEAT_SLACK_S without a ping,
    from its welcome to its first ping, between two, or from its last to the end of the run
    (so a socket open that long without any ping fails too). Not measured when pings are off
    or no ping was due: no ping seen and no socket open that long."""
    name = "heartbeats on time"
    interval = ours.get("ping_interval_s", float("nan"))
    if not interval > 0:
        return name, "not measured (pings off)", None
    limit = interval + HEARTBEAT_SLACK_S
    if ours["ping_sockets"] == 0 and ours["open_max_s"] <= limit:
        return name, f"not measured (no ping seen; interval {interval:g} s)", None
    gap = _largest(ours["ping_max_gap_s"], ours["ping_max_wait_s"])
    ref_gap = _largest(ref["ping_max_gap_s"], ref["ping_max_wait_s"])
    pinged = f"{ours['ping_sockets']:,}/{ours['n']:,} pinged"
    value = f"max gap {gap:.1f} s vs interval {interval:g} s (ref {ref_gap:.1f} s), {pinged}"
    return name, value, gap <= limit


def efficiency_checks(n: int, ours: dict[str, Any], ref: dict[str, Any]) -> list[Check]:
    """The efficiency targets at N: memory per idle socket, CPU per frame, heartbeats; p99 at
    N = 1000 (below IDLE_N), and at IDLE_N every event delivered and the total RSS."""
    kb, ref_kb = ours["rss_per_conn_kb"], ref["rss_per_conn_kb"]
    checks: list[Check] = [
        (
            f"RSS per idle socket <= {KB_PER_SOCKET:g} KB",
            f"{kb:.1f} KB (reference {ref_kb:.1f} KB)",
            kb <= KB_PER_SOCKET,
        ),
        _ratio(f"RSS per idle socket <= {KB_VS_REF:g}x reference", kb, ref_kb, "KB", KB_VS_REF),
        _ratio(
            f"server CPU per frame <= {CPU_VS_REF:g}x reference",
            ours["cpu_us_per_delivery"],
            ref["cpu_us_per_delivery"],
            "us",
            CPU_VS_REF,
        ),
    ]
    if n < IDLE_N:
        name = f"p99 <= {P99_VS_REF:.1f}x reference"
        checks.append(_ratio(name, ours["p99_ms"], ref["p99_ms"], "ms", P99_VS_REF))
    else:
        missing = f"{ours['missing']:,} of {ours['expected']:,} missing"
        checks.append(("every event reaches every socket", missing, ours["missing"] == 0))
    checks.append(heartbeat_check(ours, ref))
    if n >= IDLE_N:
        mb, ref_mb = ours["rss_idle_kb"] / 1024, ref["rss_idle_kb"] / 1024
        checks.append(
            (
                f"server RSS, {n:,} sockets open, <= {TOTAL_RSS_MB} MB",
                f"{mb:,.1f} MB (reference {ref_mb:,.1f} MB)",
                mb <= TOTAL_RSS_MB,
            )
        )
    return checks


def print_efficiency_targets(results: list[dict[str, Any]]) -> None:
    """At N = 1000 and 8000, each the run has (else at its largest N): Mill Dash on one
    process against the reference of the same run."""
    ns = {r["n"] for r in results}
    wanted = [n for n in (TARGET_N, IDLE_N) if n in ns] or [max(ns)]
    for n in wanted:
        note = "" if n in (TARGET_N, IDLE_N) else f" (set for {TARGET_N:,} and {IDLE_N:,})"
        ours, ref = ours_and_ref(results, n)
        if ours is None or ref is None:
            print(f"\nefficiency targets at N={n}: need both servers in the run")
            continue
        print(f"\nefficiency targets at N={n}{note}:")
        _print_checks(efficiency_checks(n, ours, ref), 42, 66)
