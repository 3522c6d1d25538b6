"""Flask-Sock endpoints /api/v1/ws and /api/v1/ws/admin, and the checks before the upgrade."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable
from typing import Any

from flask import Flask, jsonify, request
from flask_sock import Sock

from app import metrics
from app.api.auth import ANONYMOUS, check_role, current_principal
from app.context import ctx
from app.realtime.connection import OVERFLOW, POLICY, Connection, text_frame
from app.realtime.handoff import AFTER_END, detach, own_socket
from app.realtime.handshake import client_address, register_handshake
from app.realtime.hub import Hub
from app.realtime.presence import may_announce
from app.realtime.protocol import FrameError, parse_frame, parse_topics
from app.realtime.session import SERVER_OPTIONS, SocketSession
from data.events import SystemAlert
from data.read.records import iso
from data.store.sqltypes import utcnow

log = logging.getLogger(__name__)
WS_PATHS = ("/api/v1/ws", "/api/v1/ws/admin")


def _encode(frame: dict[str, Any]) -> bytes:
    """One JSON text frame (json.dumps escapes non-ASCII: one byte per character)."""
    return text_frame(json.dumps(frame, separators=(",", ":")))


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


def _on_message(conn: Connection, hub: Any, services: Any) -> Callable[[str], None]:
    """What the reader does with each client frame: answer it through the connection."""

    def on_message(text: str) -> None:
        if not conn.rate.allow():
            if conn.rate.exhausted:
                conn.end(POLICY)
                return
            reply: dict[str, Any] | None = {
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
            conn.offer(_encode(reply))

    return on_message


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
    """Take what the socket needs from the request, then serve it apart from the request
    (`detach`): the request, its greenlet and its buffers end with the upgrade."""
    app_ctx = ctx()
    principal = current_principal()
    assert principal is not None  # checked before the upgrade
    topics = set(parse_topics(request.args.get("subscribe") or "all")) if not admin else set()
    since = request.args.get("since")
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
        principal=principal,
    )
    session = SocketSession(ws, conn, own_socket(ws, _server_socket(request.environ)))
    replay_from = int(since) if since is not None and not admin else None
    request.environ[AFTER_END] = session.after_end
    run = lambda: _run(session, app_ctx.realtime.hub, app_ctx.services, replay_from)  # noqa: E731
    detach(run, request.environ)


def _run(session: SocketSession, hub: Hub, services: Any, since: int | None) -> None:
    """Welcome, replay from the log, then live: read the client's frames until the end."""
    conn = session.conn
    live_after = hub.attach(conn)
    try:
        session.send_now(
            _encode(
                {
                    "type": "welcome",
                    "client_id": conn.client_id,
                    "seq": live_after,
                    "subscriptions": sorted(conn.topics),
                    "server_time": iso(utcnow()),
                    "role": conn.role,
                    "presence": may_announce(conn),
                }
            )
        )
        if since is not None:
            _replay(session, hub, conn, since, live_after)
        session.go_live()
        session.read(_on_message(conn, hub, services))
    except OSError:
        conn.close()
    finally:
        hub.forget(conn)
        code = _close_code(session.ws, session.close_code)
        metrics.socket_closed(code, too_slow=conn.signal == OVERFLOW)
        session.end()


def _replay(session: SocketSession, hub: Any, conn: Connection, since: int, upto: int) -> None:
    if hub.replay_plan(since, upto) == "resync":
        metrics.resynced()
        session.send_now(_encode({"type": "resync", "seq": upto}))
        return
    metrics.replayed()
    for event in hub.replay(since, upto, sorted(conn.topics)):
        session.send_now(_encode(event.to_frame()))


def _server_socket(environ: dict[str, Any]) -> socket.socket | None:
    """The WSGI server's own socket for this connection (simple-websocket works on a dup)."""
    stream = environ.get("wsgi.input")
    if stream is not None and not hasattr(stream, "raw"):
        stream = getattr(stream, "rfile", None)
    return getattr(getattr(stream, "raw", None), "_sock", None)


def register_realtime(server: Flask) -> None:
    """Add the socket endpoints and the admin stats endpoint."""
    config = server.extensions["milldash"].config
    server.config["SOCK_SERVER_OPTIONS"] = {
        "max_message_size": config.ws_max_message_bytes,
        **SERVER_OPTIONS,  # no thread, no timer per socket: see app/realtime/session.py
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
