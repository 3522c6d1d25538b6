"""Fan-out benchmark: N WebSocket clients on the real server vs an asyncio `websockets` reference.

    python -m bench.fanout                        # N = 100, 500, 1000; 15 s at 10 tickets/s each
    python -m bench.fanout --clients 1000 --seconds 30 --rate 10 --json out.json
    python -m bench.fanout --wait-quiet 600       # on a shared box: wait for idle CPUs first
    python -m bench.fanout --quick                # smoke run: N = 50 for 3 s
    python -m bench.fanout --clients 2000 --processes 1,2 --via direct,nginx
    python -m bench.fanout --clients 1000 --servers mill-dash --metrics on,off --scrape-every 15
    python -m bench.fanout --clients 1000,8000 --ping-interval 10   # the efficiency targets

For each N and each server -- Mill Dash (`python -m app --no-demo` on a temp SQLite file,
started by devtools.live_server.LiveServer) and the reference (bench/reference_broadcaster.py) --
one client process opens N sockets (`?subscribe=maintenance`) in a single asyncio loop, driving
the `websockets` Sans-I/O client protocol, and waits for every welcome frame. Then the same
process POSTs `/api/v1/tickets` (operator token) on a fixed schedule, so one clock serves both
ends: latency is `perf_counter()` when a client reads the ticket's `maintenance_alert` (matched
by title) minus `perf_counter()` just before the POST's bytes were written. RSS per idle
connection is the server's VmRSS after opening the N sockets minus before, over N; CPU figures
come from /proc. With `--processes 2` Mill Dash also runs as two processes on one Redis, either
as `--workers 2` on one port (`--via direct`) or as two processes behind nginx (`--via nginx`):
bench/fanout_cluster.py. With `--metrics on,off` each Mill Dash variant also runs with
MILLDASH_METRICS=0 (`mill-dash metrics-off`), and `--scrape-every S` reads /metrics every S
seconds while the variants with metrics publish, as Prometheus would. Every socket records
when the server's pings arrive (`--ping-interval S` sets MILLDASH_WS_PING_INTERVAL, and the
reference pings as often). At N = 1000 and 8000 the efficiency targets set memory per socket,
CPU per frame and latency beside the reference's. Results and analysis:
docs/benchmarks/fanout.md. It is a measurement:
the exit status is 0 whether the targets hold or not (2 for bad flags, 130 when interrupted).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.fanout_clients import say, worker_main
from bench.fanout_cluster import VIAS, cluster_kind, missing_binaries
from bench.fanout_report import (
    print_efficiency_targets,
    print_metrics_targets,
    print_scale_targets,
    print_table,
    print_targets,
)
from bench.fanout_servers import (
    ROOT,
    OursServer,
    ReferenceServer,
    Scraper,
    children,
    metrics_off,
    ping_interval_s,
    warm_up,
)
from bench.proc_stats import (
    cpu_seconds,
    machine_busy_seconds,
    raise_nofile,
    total_cpu_seconds,
    total_vmrss_kb,
    wait_for_quiet,
)
from devtools.processes import stop_process

IDLE_S = 3.0  # how long the server's CPU is watched with N idle sockets
METRICS_CHOICES = ("on", "off")
SERVER_CHOICES = ("mill-dash", "reference")


def run_one(kind: type, n: int, args: argparse.Namespace, tag: str) -> dict[str, Any]:
    """One server, N clients, one publishing run; returns the measurements."""
    workdir: Any = (
        contextlib.nullcontext(tempfile.mkdtemp(prefix="fanout-"))
        if args.keep
        else tempfile.TemporaryDirectory(prefix="fanout-")
    )
    with workdir as tmp:
        server = kind(Path(tmp), n, args.ping_interval)
        label = f"{server.name} N={n}"
        if args.keep:
            say(label, f"logs kept in {tmp}")
        worker = None
        scraper: Scraper | None = None
        pids, infra = server.pids, server.infra_pids  # servers' figures summed; nginx, Redis
        try:
            warm_up(server, 1 if server.processes == 1 else 2 * server.processes)
            time.sleep(0.5)
            rss_before, infra_before = total_vmrss_kb(pids), total_vmrss_kb(infra)
            cfg = {
                "label": label,
                "n": n,
                "ws_url": server.ws_url,
                "http_host": "127.0.0.1",
                "http_port": server.port,
                "post_path": "/api/v1/tickets",
                "token": server.token,
                "machine_ids": server.machine_ids,
                "seconds": args.seconds,
                "rate": args.rate,
                "tag": tag,
                "connect_concurrency": args.connect_concurrency,
                "drain_s": args.drain,
            }
            worker = subprocess.Popen(
                [sys.executable, "-m", "bench.fanout", "--worker"],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            children.append(worker)
            assert worker.stdin is not None and worker.stdout is not None
            worker.stdin.write(json.dumps(cfg) + "\n")
            worker.stdin.flush()
            out: dict[str, Any] = {
                "server": server.name,
                "n": n,
                "processes": server.processes,
                "via": getattr(server, "via", ""),
                "metrics": getattr(server, "metrics", None),  # None: the reference
                "ping_interval_s": args.ping_interval_s,
                "server_pids": pids,
                "rss_before_kb": rss_before,
            }
            for line in worker.stdout:
                msg = json.loads(line)
                if msg["event"] == "connected":
                    time.sleep(1.0)  # let the handshakes' garbage settle
                    out["rss_idle_kb"] = total_vmrss_kb(pids)
                    out["infra_rss_per_conn_kb"] = (total_vmrss_kb(infra) - infra_before) / n
                    idle0 = total_cpu_seconds(pids)
                    time.sleep(IDLE_S)
                    out["idle_cpu"] = (total_cpu_seconds(pids) - idle0) / IDLE_S
                    out["connect_s"] = msg["connect_s"]
                    if server.processes > 1:  # after the idle reading: asking costs CPU
                        out["socket_holders"] = server.holders
                        out["sockets_per_process"] = server.socket_counts()
                        say(label, f"sockets per process: {out['sockets_per_process']}")
                    worker.stdin.write("go\n")
                    worker.stdin.flush()
                elif msg["event"] == "publishing":
                    srv0, cli0 = total_cpu_seconds(pids), cpu_seconds(worker.pid)
                    infra0 = total_cpu_seconds(infra)
                    busy0, wall0 = machine_busy_seconds(), time.perf_counter()
                    if args.scrape_every > 0 and getattr(server, "metrics", False):
                        urls, token = server.scrape_urls, server.scrape_token
                        scraper = Scraper(urls, token, args.scrape_every).start()
                elif msg["event"] == "drained":
                    wall = time.perf_counter() - wall0
                    out["server_cpu_s"] = total_cpu_seconds(pids) - srv0
                    out["window_s"] = wall
                    out["server_cpu"] = out["server_cpu_s"] / wall
                    out["client_cpu"] = (cpu_seconds(worker.pid) - cli0) / wall
                    out["infra_cpu"] = (total_cpu_seconds(infra) - infra0) / wall
                    # Whatever else ran on the machine meanwhile (other jobs share these cores).
                    busy = (machine_busy_seconds() - busy0) / wall
                    mine = out["client_cpu"] + out["server_cpu"] + out["infra_cpu"]
                    out["other_cpu"] = busy - mine
                    out["rss_loaded_kb"] = total_vmrss_kb(pids)
                    if scraper is not None:  # after the CPU readings: its join may wait
                        out.update(scraper.stop(), scrape_every_s=args.scrape_every)
                elif msg["event"] == "result":
                    out.update({k: v for k, v in msg.items() if k != "event"})
                    break
            else:
                raise RuntimeError(f"client process for {label} failed (its error is above)")
            out["rss_per_conn_kb"] = (out["rss_idle_kb"] - rss_before) / n
            if server.processes > 1:
                out["posts_per_process"] = server.post_counts()
            # Server CPU per delivered frame beyond what the idle sockets cost anyway: unlike
            # latency, it barely moves when other jobs share the cores.
            busy = out["server_cpu_s"] - out["idle_cpu"] * out["window_s"]
            out["cpu_us_per_delivery"] = busy / max(1, out["delivered"]) * 1e6
            return out
        finally:
            if scraper is not None:
                scraper.stop()
            if worker is not None:
                stop_process(worker)
            server.stop()


def _our_kinds(processes: list[int], vias: list[str], metrics: list[str]) -> list[type]:
    """The Mill Dash variants to run: each process count (and way in), metrics on and off."""
    ours: list[type] = []
    for count in dict.fromkeys(processes):
        if count == 1:
            ours.append(OursServer)
            if "nginx" in vias:  # the proxy hop alone: what the xN nginx rows compare to
                ours.append(cluster_kind(1, "nginx"))
        else:
            ours += [cluster_kind(count, via) for via in dict.fromkeys(vias)]
    # On and off one right after the other, in the order given.
    return [kind if m == "on" else metrics_off(kind) for kind in ours for m in metrics]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--clients", default="100,500,1000", help="comma list of N (default 100,500,1000)"
    )
    parser.add_argument(
        "--seconds", type=float, default=15.0, help="publishing time per run (default 15)"
    )
    parser.add_argument("--rate", type=float, default=10.0, help="tickets per second (default 10)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: N=50 for 3 s (overrides both)"
    )
    parser.add_argument("--connect-concurrency", type=int, default=50, help=argparse.SUPPRESS)
    parser.add_argument(
        "--drain",
        type=float,
        default=5.0,
        help="seconds without a new frame before giving up on stragglers (default 5)",
    )
    parser.add_argument(
        "--servers",
        default="mill-dash,reference",
        help="which servers to run, in this order (default mill-dash,reference; "
        "reference,mill-dash runs the reference first)",
    )
    parser.add_argument(
        "--processes",
        default="1",
        help="comma list of Mill Dash process counts (default 1); more than one runs on a "
        "redis-server of the bench's own",
    )
    parser.add_argument(
        "--via",
        default="direct",
        help="for more than one process, comma list of: direct (`--workers N` on one port), "
        "nginx (N processes behind nginx); default direct",
    )
    parser.add_argument(
        "--metrics",
        default="on",
        help="comma list of on, off: run every Mill Dash variant with MILLDASH_METRICS=1 "
        "and/or =0 (`... metrics-off`), side by side (default on)",
    )
    parser.add_argument(
        "--scrape-every",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="while publishing, GET /metrics every SECONDS on the variants with metrics on, "
        "as Prometheus would (default 0: never)",
    )
    parser.add_argument(
        "--ping-interval",
        type=float,
        metavar="SECONDS",
        help="ping every socket every SECONDS (MILLDASH_WS_PING_INTERVAL; the reference "
        "the same); default: the server's own (25 s), also for the reference",
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each run wait up to this long for other jobs to leave the CPUs idle",
    )
    parser.add_argument("--keep", action="store_true", help="keep each run's server log")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.seconds = "50", 3.0
    try:
        args.ns = [int(x) for x in args.clients.split(",") if x.strip()]
    except ValueError:
        parser.error("--clients must be a comma list of whole numbers, e.g. 100,500,1000")
    try:
        processes = [int(x) for x in args.processes.split(",") if x.strip()]
    except ValueError:
        parser.error("--processes must be a comma list of whole numbers, e.g. 1,2")
    vias = [v.strip() for v in args.via.split(",") if v.strip()]
    if not processes or min(processes) < 1 or not vias or set(vias) - set(VIAS):
        parser.error("--processes must be positive and --via a comma list of direct, nginx")
    metrics = list(dict.fromkeys(m.strip() for m in args.metrics.split(",") if m.strip()))
    if not metrics or set(metrics) - set(METRICS_CHOICES):
        parser.error("--metrics must be a comma list of on, off (e.g. on,off)")
    if args.scrape_every < 0:
        parser.error("--scrape-every must be 0 (never) or a positive number of seconds")
    if args.ping_interval is not None and args.ping_interval < 0:
        parser.error("--ping-interval must be 0 (no pings) or a positive number of seconds")
    args.ping_interval_s = ping_interval_s(args.ping_interval)
    servers = list(dict.fromkeys(s.strip() for s in args.servers.split(",") if s.strip()))
    if not servers or set(servers) - set(SERVER_CHOICES):
        parser.error("--servers must name mill-dash and/or reference")
    args.kinds = []
    for name in servers:  # in the order given: the machine may change between the runs
        if name == "reference":
            args.kinds.append(ReferenceServer)
        else:
            args.kinds += _our_kinds(processes, vias, metrics)
    missing = missing_binaries(processes, vias) if "mill-dash" in servers else []
    if missing:
        parser.error(f"{' and '.join(missing)} not installed (needed for --processes > 1)")
    if not args.ns or min(args.ns) < 1 or args.seconds <= 0 or args.rate <= 0:
        parser.error("--clients, --seconds and --rate must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker_main()
    limit = raise_nofile()
    if limit < max(args.ns) + 100:
        print(
            f"warning: open-file limit {limit} is low for {max(args.ns)} clients", file=sys.stderr
        )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    results: list[dict[str, Any]] = []
    tag = f"{int(time.time())}"
    try:
        for n in args.ns:
            for kind in args.kinds:
                if args.wait_quiet > 0:
                    wait_for_quiet(args.wait_quiet)
                print(f"{kind.name} with {n} clients ...", file=sys.stderr, flush=True)
                results.append(run_one(kind, n, args, tag))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        for proc in children:
            stop_process(proc)
    print_table(results, args)
    print_targets(results)
    print_scale_targets(results)
    print_metrics_targets(results)
    print_efficiency_targets(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
