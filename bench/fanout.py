"""Fan-out benchmark: N WebSocket clients on the real server vs an asyncio `websockets` reference.

    python -m bench.fanout                        # N = 100, 500, 1000; 15 s at 10 tickets/s each
    python -m bench.fanout --clients 1000 --seconds 30 --rate 10 --json out.json
    python -m bench.fanout --wait-quiet 600       # on a shared box: wait for idle CPUs first
    python -m bench.fanout --quick                # smoke run: N = 50 for 3 s

For each N and each server -- Mill Dash (`python -m app --no-demo` on a temp SQLite file,
started by devtools.live_server.LiveServer) and the reference (bench/reference_broadcaster.py) --
one client process opens N sockets (`?subscribe=maintenance`) in a single asyncio loop, driving
the `websockets` Sans-I/O client protocol, and waits for every welcome frame. Then the same
process POSTs `/api/v1/tickets` (operator token) on a fixed schedule, so one clock serves both
ends: latency is `perf_counter()` when a client reads the ticket's `maintenance_alert` (matched
by title) minus `perf_counter()` just before the POST's bytes were written. RSS per idle
connection is the server's VmRSS after opening the N sockets minus before, over N; CPU figures
come from /proc. Results and analysis: docs/benchmarks/fanout.md. It is a measurement: the exit
status is 0 whether the targets hold or not (2 for bad flags, 130 when interrupted).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

ROOT = Path(__file__).resolve().parent.parent
TARGET_N = 1000
POST_TIMEOUT_S = 30.0
IDLE_S = 3.0  # how long the server's CPU is watched with N idle sockets
DESCRIPTION = "Spindle vibration above threshold on the bench; raised by bench.fanout."
_children: list[subprocess.Popen[Any]] = []


def raise_nofile() -> int:
    """Soft open-file limit up to the hard one (children inherit it); returns the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (nan when empty)."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def vmrss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (from /proc/stat)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(max_wait_s: float, limit: float = 0.25) -> float:
    """Wait (up to `max_wait_s`) until the machine's other load stays under `limit` cores
    for two seconds in a row; returns the last reading. Other jobs share these cores."""
    deadline, calm, load = time.monotonic() + max_wait_s, 0, 0.0
    while time.monotonic() < deadline:
        busy0 = machine_busy_seconds()
        time.sleep(1.0)
        load = machine_busy_seconds() - busy0
        calm = calm + 1 if load < limit else 0
        if calm >= 2:
            break
        if calm == 0:
            print(
                f"  waiting for a quiet machine: other jobs use {load:.2f} cores", file=sys.stderr
            )
    return load


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the client process: N sockets and the publisher in one asyncio loop --------------------------


def _emit(kind: str, **data: Any) -> None:
    print(json.dumps({"event": kind, **data}), flush=True)


def _say(label: str, text: str) -> None:
    print(f"  [{label}] {text}", file=sys.stderr, flush=True)


class HttpPublisher:
    """Minimal HTTP/1.1 keep-alive POSTer; a pool so a slow answer never delays the schedule."""

    def __init__(self, host: str, port: int, path: str, token: str) -> None:
        self.host, self.port = host, port
        self.head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nContent-Length: "
        ).encode()
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def warm(self, count: int) -> None:
        for _ in range(count):
            self.idle.append(await asyncio.open_connection(self.host, self.port))

    async def post(self, body: bytes) -> tuple[int, float, float]:
        """(status or 0 on a transport error, perf_counter before the write, after the answer)."""
        request = self.head + str(len(body)).encode() + b"\r\n\r\n" + body
        try:
            conn = (
                self.idle.pop()
                if self.idle
                else await asyncio.open_connection(self.host, self.port)
            )
        except OSError:
            return 0, time.perf_counter(), time.perf_counter()
        reader, writer = conn
        sent = time.perf_counter()
        try:
            writer.write(request)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), POST_TIMEOUT_S)
            status = int(head.split(b" ", 2)[1])
            lower = head.lower()
            length = int(lower.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            await asyncio.wait_for(reader.readexactly(length), POST_TIMEOUT_S)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError, TimeoutError):
            writer.close()
            return 0, sent, time.perf_counter()
        if b"connection: close" in lower:
            writer.close()
        else:
            self.idle.append(conn)
        return status, sent, time.perf_counter()


class _Client(asyncio.Protocol):
    """One socket: the `websockets` Sans-I/O client protocol fed straight from data_received.

    With a thousand sockets in one loop the client's cost per frame is part of every latency;
    this way a frame costs a parse and an append (no future, no task switch), and all frames
    that arrive in one read share one receive time.
    """

    def __init__(self, index: int, uri: Any, frames: list[tuple[float, int, bytes]]) -> None:
        self.index, self.frames = index, frames
        self.protocol = ClientProtocol(uri)  # no extensions offered: no compression
        self.welcome: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.transport: Any = None
        self.lost = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Frame):
                if event.opcode is not Opcode.TEXT:
                    continue  # pings are answered by the protocol (see _flush)
                if self.welcome.done():
                    self.frames.append((now, self.index, event.data))
                else:
                    self.welcome.set_result(event.data)
            elif self.protocol.handshake_exc is not None and not self.welcome.done():
                self.welcome.set_exception(self.protocol.handshake_exc)
        self._flush()

    def _flush(self) -> None:
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.transport.write(chunk)
            elif self.transport.can_write_eof():
                self.transport.write_eof()

    def close(self) -> None:
        if not self.lost:
            with contextlib.suppress(Exception):
                self.protocol.send_close()
                self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.welcome.done():
            self.welcome.set_exception(exc or ConnectionError("closed before the welcome"))


async def _worker(cfg: dict[str, Any]) -> None:
    label, n = cfg["label"], cfg["n"]
    loop = asyncio.get_running_loop()
    uri = parse_uri(cfg["ws_url"])
    gate = asyncio.Semaphore(cfg["connect_concurrency"])  # the server's listen backlog is 128
    frames: list[tuple[float, int, bytes]] = []
    opened = 0

    async def open_one(index: int) -> _Client:
        nonlocal opened
        async with gate:
            _, client = await asyncio.wait_for(
                loop.create_connection(lambda: _Client(index, uri, frames), uri.host, uri.port),
                60,
            )
            welcome = json.loads(await asyncio.wait_for(client.welcome, 30))
            if welcome.get("type") != "welcome":
                raise RuntimeError(f"expected a welcome frame, got {welcome}")
            opened += 1
            return client

    async def report(text: Any) -> None:
        while True:
            await asyncio.sleep(1.0)
            _say(label, text())

    began = time.perf_counter()
    ticker = asyncio.create_task(report(lambda: f"{opened}/{n} clients connected"))
    conns = await asyncio.gather(*(open_one(i) for i in range(n)))
    ticker.cancel()
    connect_s = time.perf_counter() - began
    _say(label, f"{n}/{n} clients connected in {connect_s:.1f} s (all welcomed)")
    _emit("connected", connect_s=connect_s)
    if (await loop.run_in_executor(None, sys.stdin.readline)).strip() != "go":
        return

    count = max(1, round(cfg["seconds"] * cfg["rate"]))
    titles = {f"fanout {cfg['tag']} #{i:05d}": i for i in range(count)}
    bodies = [
        json.dumps(
            {
                "machine_id": cfg["machine_ids"][i % len(cfg["machine_ids"])],
                "title": title,
                "description": DESCRIPTION,
                "priority": "high",
            }
        ).encode()
        for title, i in titles.items()
    ]
    sends: list[tuple[int, float, float] | None] = [None] * count
    publisher = HttpPublisher(cfg["http_host"], cfg["http_port"], cfg["post_path"], cfg["token"])
    await publisher.warm(4)

    async def publish(i: int) -> None:
        sends[i] = await publisher.post(bodies[i])

    done_count = 0
    ticker = asyncio.create_task(
        report(lambda: f"sent {done_count}/{count} tickets, {len(frames):,}/{count * n:,} frames")
    )
    _emit("publishing")
    start = time.perf_counter() + 0.05
    posts = []
    for i in range(count):  # a schedule, not sleep drift: each POST has its own due time
        delay = start + i / cfg["rate"] - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        posts.append(asyncio.create_task(publish(i)))
        done_count = i + 1
    await asyncio.gather(*posts)
    last, idle_since = -1, time.perf_counter()
    while len(frames) < count * n and time.perf_counter() - idle_since < cfg["drain_s"]:
        await asyncio.sleep(0.05)
        if len(frames) != last:
            last, idle_since = len(frames), time.perf_counter()
    ticker.cancel()
    _emit("drained")
    _say(label, f"sent {count}/{count} tickets, {len(frames):,}/{count * n:,} frames")
    result = _summarise(frames, sends, titles, n)
    result["closed_early"] = sum(c.lost for c in conns)
    for client in conns:
        client.close()
    await asyncio.sleep(0.5)
    for client in conns:
        client.transport.abort()
    _emit("result", **result)


def _summarise(
    frames: list[tuple[float, int, bytes]],
    sends: list[tuple[int, float, float] | None],
    titles: dict[str, int],
    n: int,
) -> dict[str, Any]:
    count = len(sends)
    seen: set[int] = set()
    latencies: list[float] = []
    dup = other = size = 0
    first = last = None
    worst = [0.0] * count  # each ticket's slowest delivery: shows when the tail happens
    for t, client, msg in frames:
        frame = json.loads(msg)
        i = titles.get(frame.get("data", {}).get("title"))
        if frame.get("type") != "maintenance_alert" or i is None:
            other += 1
            continue
        key = client * count + i
        if key in seen:
            dup += 1
            continue
        seen.add(key)
        size += len(msg)
        latency = t - sends[i][1]  # type: ignore[index]
        latencies.append(latency)
        worst[i] = max(worst[i], latency)
        first = t if first is None else min(first, t)
        last = t if last is None else max(last, t)
    latencies.sort()
    ok = [s for s in sends if s is not None and s[0] == 201]
    answer = sorted(s[2] - s[1] for s in ok)
    sent_times = [s[1] for s in sends if s is not None]
    offered_span = (max(sent_times) - min(sent_times)) if count > 1 else 1.0
    delivered_span = (last - first) if first is not None and last != first else float("nan")
    return {
        "tickets": count,
        "post_errors": count - len(ok),
        "post_p50_ms": percentile(answer, 50) * 1000,
        "expected": count * n,
        "delivered": len(seen),
        "missing": count * n - len(seen),
        "duplicates": dup,
        "other_frames": other,
        "frame_bytes": size / len(seen) if seen else 0,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p90_ms": percentile(latencies, 90) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": (latencies[-1] if latencies else float("nan")) * 1000,
        # Both spans cover count-1 intervals, so a server that keeps up gives equal rates.
        "offered_rate": count * n / offered_span,
        "delivered_rate": len(seen) / delivered_span,
        "ticket_worst_ms": [round(w * 1000, 1) for w in worst],
    }


def worker_main() -> int:
    raise_nofile()
    cfg = json.loads(sys.stdin.readline())
    asyncio.run(_worker(cfg))
    return 0


# -- the bench process: servers, the client process, /proc readings, the table ------------------


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
        _children.append(self.live.proc)
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
        import requests

        from devtools.live_server import free_port

        ws_port, self.port = free_port(), free_port()
        self.machine_ids = [1, 2, 3, 4]
        self.token = "unused"
        self.ws_url = f"ws://127.0.0.1:{ws_port}/api/v1/ws?subscribe=maintenance"
        log = open(workdir / "reference.log", "ab")  # noqa: SIM115 - lives as long as the process
        args = ["--ws-port", str(ws_port), "--http-port", str(self.port)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.reference_broadcaster", *args],
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        _children.append(self.proc)
        self.pid = self.proc.pid
        for _ in range(200):
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(f"http://127.0.0.1:{self.port}/api/v1/health", timeout=1).ok:
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"reference broadcaster did not start: see {workdir}/reference.log")

    def stop(self) -> None:
        _stop(self.proc)


def _stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _warm_up(server: Any) -> None:
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


def run_one(kind: type, n: int, args: argparse.Namespace, tag: str) -> dict[str, Any]:
    """One server, N clients, one publishing run; returns the measurements."""
    workdir: Any = (
        contextlib.nullcontext(tempfile.mkdtemp(prefix="fanout-"))
        if args.keep
        else tempfile.TemporaryDirectory(prefix="fanout-")
    )
    with workdir as tmp:
        server = kind(Path(tmp), n)
        label = f"{server.name} N={n}"
        if args.keep:
            _say(label, f"logs kept in {tmp}")
        worker = None
        try:
            _warm_up(server)
            time.sleep(0.5)
            rss_before = vmrss_kb(server.pid)
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
            _children.append(worker)
            assert worker.stdin is not None and worker.stdout is not None
            worker.stdin.write(json.dumps(cfg) + "\n")
            worker.stdin.flush()
            out: dict[str, Any] = {"server": server.name, "n": n, "rss_before_kb": rss_before}
            for line in worker.stdout:
                msg = json.loads(line)
                if msg["event"] == "connected":
                    time.sleep(1.0)  # let the handshakes' garbage settle
                    out["rss_idle_kb"] = vmrss_kb(server.pid)
                    idle0 = cpu_seconds(server.pid)
                    time.sleep(IDLE_S)
                    out["idle_cpu"] = (cpu_seconds(server.pid) - idle0) / IDLE_S
                    out["connect_s"] = msg["connect_s"]
                    worker.stdin.write("go\n")
                    worker.stdin.flush()
                elif msg["event"] == "publishing":
                    srv0, cli0 = cpu_seconds(server.pid), cpu_seconds(worker.pid)
                    busy0, wall0 = machine_busy_seconds(), time.perf_counter()
                elif msg["event"] == "drained":
                    wall = time.perf_counter() - wall0
                    out["server_cpu_s"] = cpu_seconds(server.pid) - srv0
                    out["window_s"] = wall
                    out["server_cpu"] = out["server_cpu_s"] / wall
                    out["client_cpu"] = (cpu_seconds(worker.pid) - cli0) / wall
                    # Whatever else ran on the machine meanwhile (other jobs share these cores).
                    busy = (machine_busy_seconds() - busy0) / wall
                    out["other_cpu"] = busy - out["client_cpu"] - out["server_cpu"]
                    out["rss_loaded_kb"] = vmrss_kb(server.pid)
                elif msg["event"] == "result":
                    out.update({k: v for k, v in msg.items() if k != "event"})
                    break
            else:
                raise RuntimeError(f"client process for {label} failed (its error is above)")
            out["rss_per_conn_kb"] = (out["rss_idle_kb"] - rss_before) / n
            # Server CPU per delivered frame beyond what the idle sockets cost anyway: unlike
            # latency, it barely moves when other jobs share the cores.
            busy = out["server_cpu_s"] - out["idle_cpu"] * out["window_s"]
            out["cpu_us_per_delivery"] = busy / max(1, out["delivered"]) * 1e6
            return out
        finally:
            if worker is not None:
                _stop(worker)
            server.stop()


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
        help="which servers to run (default mill-dash,reference)",
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
    args.kinds = [k for k in (OursServer, ReferenceServer) if k.name in args.servers.split(",")]
    if not args.kinds:
        parser.error("--servers must name mill-dash and/or reference")
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
        for proc in _children:
            _stop(proc)
    print_table(results, args)
    print_targets(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
