"""Flask-Sock endpoints /api/v1/ws and /api/v1/ws/admin, and the checks before the upgrade."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from typing import Any

from flask import Flask, jsonify, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from app import metrics
from app.api.auth import ANONYMOUS, check_role, current_principal
from app.context import ctx
from app.outage import first_line
from app.realtime.connection import (
    CLOSED,
    ENDED,
    GOING_AWAY,
    OVERFLOW,
    POLICY,
    Connection,
    text_frame,
)
from app.realtime.handshake import client_address, register_handshake
from app.realtime.hub import Hub
from app.realtime.presence import may_announce
from app.realtime.protocol import FrameError, parse_frame, parse_topics
from data.accounts.tokens import still_valid
from data.events import SystemAlert
from data.read.records import iso
from data.store.db import is_unreachable
from data.store.sqltypes import utcnow

log = logging.getLogger(__name__)
WS_PATHS = ("/api/v1/ws", "/api/v1/ws/admin")
SEND_TIMEOUT_S = 30.0
SEND_BUFFER_BYTES = 64 * 1024
# How often an open socket re-checks that its session, token or user is still valid.
SESSION_CHECK_S = 5.0
CLOSE_CODES = {
    OVERFLOW: (4008, "too slow: pending frames passed the bound"),
    POLICY: (1008, "too many frames"),
    ENDED: (4001, "session ended"),
    GOING_AWAY: (1001, "server stopping"),
}


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

    def try_send(self, data: bytes) -> int:
        """Write what the socket takes now without waiting: bytes written, -1 if busy."""
        raw = getattr(self._sock, "_sock", None)  # gevent's socket wraps a non-blocking one
        if raw is None or not self._lock.acquire(blocking=False):
            return -1
        try:
            return int(raw.send(data))
        except BlockingIOError:
            return 0
        except OSError:
            return -1  # the writer meets the same error and ends the connection
        finally:
            self._lock.release()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


_VERDICTS: dict[tuple[object, ...], tuple[float, bool]] = {}


def _still_valid(db: Any, principal: Any) -> bool:
    """`still_valid`, asked at most once per SESSION_CHECK_S for all sockets of one session,
    token or user (a thousand sockets of one wall user cost one query, not a thousand)."""
    key = (principal.session_id, principal.token_id, principal.user_id)
    now = time.monotonic()
    cached = _VERDICTS.get(key)
    if cached is not None and now - cached[0] < SESSION_CHECK_S:
        return cached[1]
    try:
        verdict = still_valid(db, principal)
    except Exception as exc:
        if not is_unreachable(exc):
            raise
        # A database outage ends no socket: the last verdict holds until the next check.
        log.warning("socket session check skipped: %s", first_line(exc))
        verdict = True if cached is None else cached[1]
    if len(_VERDICTS) > 10_000:
        _VERDICTS.clear()
    _VERDICTS[key] = (now, verdict)
    return verdict


def _send(ws: Any, frame: dict[str, Any]) -> None:
    """Send one JSON text frame through simple-websocket, and count it (json.dumps escapes
    non-ASCII: the payload has one byte per character)."""
    text = json.dumps(frame, separators=(",", ":"))
    ws.send(text)
    metrics.frames_sent(1, metrics.frame_size(len(text)))


def _close_code(ws: Any, sent: int | None) -> int:
    """How a socket ended: the code the server sent, else the client's (1005: its close frame
    had none), 1009 for a client frame over the limit (simple-websocket closes those itself),
    else 1006 (the connection dropped without a close frame)."""
    if sent is not None:
        return sent
    if getattr(ws, "close_message", None) is not None:  # set when a client close arrived
        return int(ws.close_reason)
    limit = getattr(ws, "max_message_size", None)
    if limit and getattr(ws, "incoming_message_len", 0) > limit:
        return 1009
    return 1006


def _reader(ws: Any, conn: Connection, hub: Any, services: Any) -> None:
    """Reads client frames and answers through the connection's queue (never writes)."""
    try:
        while True:
            text = ws.receive()
            if text is None:
                continue
            if not conn.rate.allow():
                if conn.rate.exhausted:
                    conn.end(POLICY)
                    return
                reply = {
                    "type": "error",
                    "code": "rate_limited",
                    "message": "Too many frames; slow down or the socket closes (1008).",
                }
            else:
                try:
                    frame = parse_frame(text, admin=conn.admin)
                    reply = _handle(frame, conn, hub, services)
                except FrameError as exc:
                    reply = exc.frame()
            if reply is not None:
                conn.offer(text_frame(json.dumps(reply, separators=(",", ":"))))
    except ConnectionClosed:
        pass
    except Exception:
        log.exception("socket reader of %s failed", conn.client_id)
    finally:
        conn.close()


def _handle(frame: Any, conn: Connection, hub: Any, services: Any) -> dict[str, Any] | None:
    """The reply to a client frame (None: already answered through the connection)."""
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
    if frame.type == "presence":
        hub.presence.announce(conn, frame.ticket_id)  # answers in order with the others' news
        return None
    if frame.type == "stats":
        return hub.stats()
    if frame.type == "broadcast":
        data = frame.data or {}
        alert = SystemAlert(message=data["message"], level=data["level"])
        events = services.append_events([alert])
        return {"type": "broadcasted", "seq": events[-1].seq}
    raise FrameError("unknown_type", f"Unknown frame type {frame.type!r}.")


def _from_ts(ts: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC)


def ctx_hub() -> Hub:
    return ctx().realtime.hub


def _serve(ws: Any, admin: bool) -> None:
    """The writer: welcome, replay from the log, then live frames from the queue."""
    app_ctx = ctx()
    hub = app_ctx.realtime.hub
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
        address=client_address(),
        topics=topics,
        max_frames=config.ws_queue_max_frames,
        max_bytes=config.ws_queue_max_bytes,
        admin=admin,
        signed_in=principal != ANONYMOUS,
    )
    live_after = hub.attach(conn)
    close_code: int | None = None
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
                "presence": may_announce(conn),
            },
        )
        reader.start()
        since = request.args.get("since")
        if since is not None and not admin:
            _replay(ws, hub, conn, int(since), live_after)
        conn.direct = ws.sock.try_send
        next_check = time.monotonic() + SESSION_CHECK_S
        while True:
            item = conn.take(timeout=SESSION_CHECK_S)
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + SESSION_CHECK_S
                if not _still_valid(app_ctx.db, principal):
                    conn.end(ENDED)
                    item = ENDED
            if isinstance(item, str) and item in CLOSE_CODES:
                close_code, message = CLOSE_CODES[item]
                ws.close(reason=close_code, message=message)
                _await_close_reply()
                return
            if item == CLOSED:
                return
            if isinstance(item, list):
                try:
                    batch = b"".join(item)
                    ws.sock.send(batch)  # one locked sendall for the whole batch
                    metrics.frames_sent(len(item), len(batch))
                finally:
                    conn.done()
    except (ConnectionClosed, OSError):
        pass
    finally:
        hub.forget(conn)
        metrics.socket_closed(_close_code(ws, close_code), too_slow=conn.signal == OVERFLOW)
        _shutdown(_server_socket(request.environ) or raw)


def _await_close_reply(limit_s: float = 2.0) -> None:
    """Read (and drop) what the client still sends until it answers our close frame and
    ends its side, so ending the TCP connection does not reset it before the client has read
    the close code. simple-websocket stops reading once it has sent the close frame."""
    sock = _server_socket(request.environ)
    if sock is None:
        return
    deadline = time.monotonic() + limit_s
    with contextlib.suppress(OSError):
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            if not sock.recv(65536):
                return


def _replay(ws: Any, hub: Any, conn: Connection, since: int, live_after: int) -> None:
    if hub.replay_plan(since, live_after) == "resync":
        metrics.resynced()
        _send(ws, {"type": "resync", "seq": live_after})
        return
    metrics.replayed()
    for event in hub.replay(since, live_after, sorted(conn.topics)):
        _send(ws, event.to_frame())


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


def register_realtime(server: Flask) -> None:
    """Add the socket endpoints and the admin stats endpoint."""
    config = server.extensions["milldash"].config
    server.config["SOCK_SERVER_OPTIONS"] = {
        "ping_interval": config.ws_ping_interval_s,
        "max_message_size": config.ws_max_message_bytes,
    }
    register_handshake(server)
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
