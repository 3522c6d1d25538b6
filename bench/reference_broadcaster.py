"""The lower bound for fan-out in Python: a bare asyncio `websockets` broadcaster.

`python -m bench.reference_broadcaster --ws-port P --http-port Q` accepts WebSocket clients on P
(each gets a welcome frame) and answers `POST /api/v1/tickets` on Q (HTTP/1.1, keep-alive, the
same request the bench sends to Mill Dash) by sending one `maintenance_alert` frame of the same
shape and size as Mill Dash's to every client with `websockets.broadcast`, then 201. No
database, no auth, no per-client queue: that is the point of a reference.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import resource
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve

CLIENTS: set[ServerConnection] = set()
_seq = itertools.count(1)
_ticket_ids = itertools.count(1)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


async def _socket(ws: ServerConnection) -> None:
    welcome = {"type": "welcome", "client_id": f"r{id(ws)}", "seq": 0, "server_time": _now()}
    await ws.send(json.dumps(welcome, separators=(",", ":")))
    CLIENTS.add(ws)
    try:
        async for _ in ws:  # read (and ignore) client frames so pings and closes are answered
            pass
    finally:
        CLIENTS.discard(ws)


def _publish(body: dict[str, Any]) -> dict[str, Any]:
    """Build the frame Mill Dash would send for a new ticket, serialise once, send to all."""
    ticket_id = next(_ticket_ids)
    machine_id = int(body.get("machine_id", 1))
    data = {
        "ticket_id": ticket_id,
        "machine_id": machine_id,
        "machine_name": f"MILL-{machine_id:02d}",
        "priority": body.get("priority", "high"),
        "title": body.get("title", ""),
        "description": body.get("description", ""),
    }
    frame = {
        "type": "maintenance_alert",
        "seq": next(_seq),
        "topic": "maintenance",
        "timestamp": _now(),
        "data": data,
    }
    broadcast(CLIENTS, json.dumps(frame, separators=(",", ":")))
    return {"id": ticket_id, "status": "open", **data}


def _response(status: str, payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload).encode()
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


async def _http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Just enough HTTP/1.1 for the bench's publisher: Content-Length bodies, keep-alive."""
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {
                k.strip().lower(): v.strip()
                for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if method == "POST" and path == "/api/v1/tickets":
                out = _response("201 Created", _publish(json.loads(body or b"{}")))
            elif method == "GET" and path == "/api/v1/health":
                out = _response("200 OK", {"status": "ok", "clients": len(CLIENTS)})
            else:
                out = _response("404 Not Found", {"error": {"code": "not_found"}})
            writer.write(out)
            await writer.drain()
    finally:
        writer.close()


async def main(
    ws_port: int, http_port: int, ping_interval: float = 25.0, host: str = "127.0.0.1"
) -> None:
    http = await asyncio.start_server(_http, host, http_port, backlog=1024)
    sockets = serve(
        _socket,
        host,
        ws_port,
        compression=None,
        ping_interval=ping_interval or None,  # 0: no pings, as Mill Dash
        backlog=1024,
    )
    async with sockets, http:
        print(f"reference broadcaster: ws {ws_port}, http {http_port}", flush=True)
        await asyncio.Future()  # until killed


def raise_nofile() -> int:
    """Lift the soft open-file limit to the hard one; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ws-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument(
        "--ping-interval",
        type=float,
        default=25.0,
        help="seconds between the pings every socket gets (default 25, as Mill Dash; 0: none)",
    )
    args = parser.parse_args()
    raise_nofile()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.ws_port, args.http_port, args.ping_interval))
