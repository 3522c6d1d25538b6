"""Flask-Sock endpoints /api/v1/ws and /api/v1/ws/admin, and the checks before the upgrade."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, g, jsonify, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from app.api import error_response
from app.api.auth import check_role, current_principal
from app.context import ctx
from app.realtime.connection import CLOSED, OVERFLOW, Connection
from app.realtime.protocol import FrameError, parse_frame, parse_topics
from data.errors import ServiceError
from data.records import iso
from data.sqltypes import utcnow

log = logging.getLogger(__name__)
WS_PATHS = ("/api/v1/ws", "/api/v1/ws/admin")
SEND_TIMEOUT_S = 30.0
SEND_BUFFER_BYTES = 64 * 1024


class _LockedSocket:
    """Every write to the raw socket goes through one lock and is sent whole.

    simple-websocket's own thread writes pings, pongs and close replies directly; its `send`
    uses socket.send, which under gevent may write part of a large frame.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()

    def send(self, data: bytes) -> int:
        with self._lock:
            self._sock.sendall(data)
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def origin_allowed(origin: str | None) -> bool:
    """No Origin (a non-browser client), the server's own origin, or a configured one."""
    if not origin:
        return True
    allowed = ctx().config.allowed_origins
    if origin in allowed or "*" in allowed:
        return True
    own = f"{request.scheme}://{request.host}"
    parts = urlsplit(origin)
    return f"{parts.scheme.replace('ws', 'http')}://{parts.netloc}" == own


def _before_ws() -> Any:
    """Runs before the upgrade: refuse foreign origins and missing rights with plain HTTP."""
    if request.path not in WS_PATHS:
        return None
    if not origin_allowed(request.headers.get("Origin")):
        return error_response(403, "origin_not_allowed", "This Origin may not open sockets here.")
    token = request.args.get("token")
    if token and "Authorization" not in request.headers:
        request.environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    try:
        g.pop("principal", None)
        if request.path.endswith("/admin"):
            check_role("admin")
        else:
            check_role("viewer", allow_display=True)
    except ServiceError as exc:
        return error_response(exc.http_status, exc.code, exc.message)
    # Frames are small JSON; per-connection compression would cost CPU on every fan-out.
    request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
    return None


def _send(ws: Any, frame: dict[str, Any]) -> None:
    ws.send(json.dumps(frame, separators=(",", ":")))


def _reader(ws: Any, conn: Connection, hub: Any, services: Any) -> None:
    """Reads client frames and answers through the connection's queue (never writes)."""
    try:
        while True:
            text = ws.receive()
            if text is None:
                continue
            try:
                frame = parse_frame(text, admin=conn.admin)
                reply = _handle(frame, conn, hub, services)
            except FrameError as exc:
                reply = exc.frame()
            conn.offer(json.dumps(reply, separators=(",", ":")))
    except ConnectionClosed:
        pass
    except Exception:
        log.exception("socket reader of %s failed", conn.client_id)
    finally:
        conn.close()


def _handle(frame: Any, conn: Connection, hub: Any, services: Any) -> dict[str, Any]:
    if frame.type == "ping":
        reply = {"type": "pong", "server_time": iso(utcnow())}
        if frame.nonce is not None:
            reply["nonce"] = frame.nonce
        return reply
    if frame.type == "status":
        return {
            "type": "status",
            "client_id": conn.client_id,
            "subscriptions": sorted(conn.topics),
            "seq": hub.last_seq,
            "connected_since": iso(_from_ts(conn.connected_since)),
            "pending": conn.pending,
        }
    if frame.type == "subscribe":
        hub.set_topics(conn, conn.topics | set(frame.topics))
        return {"type": "subscribed", "subscriptions": sorted(conn.topics)}
    if frame.type == "unsubscribe":
        remaining = conn.topics - set(frame.topics)
        if "all" in frame.topics:
            remaining = set()
        hub.set_topics(conn, remaining)
        return {"type": "unsubscribed", "subscriptions": sorted(conn.topics)}
    if frame.type == "stats":
        return hub.stats()
    if frame.type == "broadcast":
        events = services.append_events([("system_alert", frame.data)])
        return {"type": "broadcasted", "seq": events[-1].seq}
    raise FrameError("unknown_type", f"Unknown frame type {frame.type!r}.")


def _from_ts(ts: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC)


def ctx_hub() -> Any:
    return ctx().extras["hub"]


def _serve(ws: Any, admin: bool) -> None:
    """The writer: welcome, replay from the log, then live frames from the queue."""
    app_ctx = ctx()
    hub = app_ctx.extras["hub"]
    raw = ws.sock
    ws.sock = _LockedSocket(raw)
    raw.settimeout(SEND_TIMEOUT_S)
    with contextlib.suppress(OSError):
        # Keep what the kernel buffers for a slow reader small, so the pending-frame bound
        # (not megabytes of socket buffer) decides when a client is too slow.
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
    principal = current_principal()
    assert principal is not None  # checked before the upgrade
    topics = set(parse_topics(request.args.get("subscribe") or "all")) if not admin else set()
    config = app_ctx.config
    conn = Connection(
        principal_name=principal.name,
        role=principal.role,
        topics=topics,
        max_frames=config.ws_queue_max_frames,
        max_bytes=config.ws_queue_max_bytes,
        admin=admin,
    )
    live_after = hub.attach(conn)
    reader = threading.Thread(target=_reader, args=(ws, conn, hub, app_ctx.services), daemon=True)
    try:
        _send(
            ws,
            {
                "type": "welcome",
                "client_id": conn.client_id,
                "seq": live_after,
                "subscriptions": sorted(conn.topics),
                "server_time": iso(utcnow()),
                "role": principal.role,
            },
        )
        reader.start()
        since = request.args.get("since")
        if since is not None and not admin:
            _replay(ws, hub, conn, int(since), live_after)
        while True:
            item = conn.take(timeout=60)
            if item == OVERFLOW:
                ws.close(reason=4008, message="too slow: pending frames passed the bound")
                return
            if item == CLOSED:
                return
            if isinstance(item, list):
                for text in item:
                    ws.send(text)
                conn.sent += len(item)
    except (ConnectionClosed, OSError):
        pass
    finally:
        hub.forget(conn)
        _shutdown(_server_socket(request.environ) or raw)


def _replay(ws: Any, hub: Any, conn: Connection, since: int, live_after: int) -> None:
    if hub.replay_plan(since, live_after) == "resync":
        _send(ws, {"type": "resync", "seq": live_after})
        return
    for event in hub.replay(since, live_after, sorted(conn.topics)):
        ws.send(json.dumps(event.to_frame(), separators=(",", ":")))


def _server_socket(environ: dict[str, Any]) -> socket.socket | None:
    """The WSGI server's own socket for this connection (simple-websocket works on a dup)."""
    stream = environ.get("wsgi.input")
    if stream is not None and not hasattr(stream, "raw"):
        stream = getattr(stream, "rfile", None)
    return getattr(getattr(stream, "raw", None), "_sock", None)


def _shutdown(raw: socket.socket) -> None:
    """End the TCP connection so the server does not read the close frame as a request."""
    with contextlib.suppress(OSError):
        raw.shutdown(socket.SHUT_RDWR)


def _validate_query() -> Any:
    """Bad ?subscribe= or ?since= values get a 400 before the upgrade."""
    if request.path != "/api/v1/ws":
        return None
    try:
        parse_topics(request.args.get("subscribe") or "all")
    except FrameError as exc:
        return error_response(400, exc.code, exc.message)
    since = request.args.get("since")
    if since is not None and (not since.isdigit() or len(since) > 18):
        return error_response(400, "bad_since", "'since' must be a non-negative whole number.")
    return None


def register_realtime(server: Flask) -> None:
    """Add the socket endpoints and the admin stats endpoint."""
    config = server.extensions["milldash"].config
    server.config["SOCK_SERVER_OPTIONS"] = {
        "ping_interval": config.ws_ping_interval_s,
        "max_message_size": config.ws_max_message_bytes,
    }
    server.before_request(_before_ws)
    server.before_request(_validate_query)
    sock = Sock(server)

    @sock.route("/api/v1/ws")
    def ws_events(ws: Any) -> None:
        _serve(ws, admin=False)

    @sock.route("/api/v1/ws/admin")
    def ws_admin(ws: Any) -> None:
        _serve(ws, admin=True)

    @server.get("/api/v1/ws/stats")
    def ws_stats() -> Any:
        check_role("admin")
        return jsonify(ctx_hub().stats())
