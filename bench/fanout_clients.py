"""The fan-out client process: N WebSocket sockets (the `websockets` Sans-I/O protocol) and
the ticket publisher in one asyncio loop; it reports to the bench process as JSON lines."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import sys
import time
from typing import Any

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

from bench.fanout_summary import heartbeats, summarise
from bench.proc_stats import raise_nofile

POST_TIMEOUT_S = 30.0
DESCRIPTION = "Spindle vibration above threshold on the bench; raised by bench.fanout."


def _emit(kind: str, **data: Any) -> None:
    print(json.dumps({"event": kind, **data}), flush=True)


def say(label: str, text: str) -> None:
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
    that arrive in one read share one receive time. The server's pings are answered (see
    _flush) and their arrival times kept, from the welcome on, for the heartbeat figures.
    """

    def __init__(self, index: int, uri: Any, frames: list[tuple[float, int, bytes]]) -> None:
        self.index, self.frames = index, frames
        self.protocol = ClientProtocol(uri)  # no extensions offered: no compression
        self.welcome: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.transport: Any = None
        self.lost = False
        self.opened = self.closed = float("nan")  # perf_counter at the welcome, at the loss
        self.pings: list[float] = []

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.PING:
                    self.pings.append(now)  # the protocol queued the pong (see _flush)
                elif event.opcode is Opcode.TEXT:
                    self._text(now, event.data)
            elif self.protocol.handshake_exc is not None and not self.welcome.done():
                self.welcome.set_exception(self.protocol.handshake_exc)
        self._flush()

    def _text(self, now: float, data: bytes) -> None:
        if self.welcome.done():
            self.frames.append((now, self.index, data))
        else:
            self.opened = now
            self.welcome.set_result(data)

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

    def heartbeat(self, now: float) -> tuple[float, list[float], float]:
        """(opened, ping arrival times, end): end is `now`, or when the socket was lost."""
        return self.opened, self.pings, self.closed if self.lost else now

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.closed = time.perf_counter()
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
            say(label, text())

    began = time.perf_counter()
    ticker = asyncio.create_task(report(lambda: f"{opened}/{n} clients connected"))
    conns = await asyncio.gather(*(open_one(i) for i in range(n)))
    ticker.cancel()
    connect_s = time.perf_counter() - began
    say(label, f"{n}/{n} clients connected in {connect_s:.1f} s (all welcomed)")
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
    # The client's own garbage collector stays out of the measured window: a full collection
    # over the sockets' objects stalled this loop for 30-100 ms mid-run (it delayed whichever
    # ticket was arriving, for either server). What connecting left is collected, the sockets'
    # objects frozen, and collection paused until the frames are in; the frames make no cycles.
    gc.collect()
    gc.freeze()
    gc.disable()
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
    gc.enable()
    say(label, f"sent {count}/{count} tickets, {len(frames):,}/{count * n:,} frames")
    result = summarise(frames, sends, titles, n)
    now = time.perf_counter()
    result.update(heartbeats([client.heartbeat(now) for client in conns]))
    result["closed_early"] = sum(c.lost for c in conns)
    for client in conns:
        client.close()
    await asyncio.sleep(0.5)
    for client in conns:
        client.transport.abort()
    _emit("result", **result)


def worker_main() -> int:
    raise_nofile()
    cfg = json.loads(sys.stdin.readline())
    asyncio.run(_worker(cfg))
    return 0
