"""Checks before the WebSocket upgrade, answered with plain HTTP: Origin, credentials, query,
and the caps on sockets per user and per address."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Flask, g, request

from app.api import client_error, error_response
from app.api.auth import check_role
from app.context import ctx
from app.realtime.protocol import FrameError, parse_topics
from app.security import origin_allowed
from data.errors import ServiceError

WS_PATHS = ("/api/v1/ws", "/api/v1/ws/admin")


def client_address() -> str:
    return request.remote_addr or "unknown"


def _authorize() -> Any:
    token = request.args.get("token")
    if token and "Authorization" not in request.headers:
        request.environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    g.pop("principal", None)
    if request.path.endswith("/admin"):
        return check_role("admin")
    return check_role("viewer", allow_display=True)


def _query_error() -> Any:
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


def _handshake_error() -> Any:
    """400 for an upgrade request the WebSocket library would fail on with a 500 after the
    checks (RFC 6455 section 4.2.1); 426 names the version we speak."""
    headers = request.headers
    connection = {t.strip().lower() for t in headers.get("Connection", "").split(",")}
    if headers.get("Upgrade", "").lower() != "websocket" or "upgrade" not in connection:
        return client_error(
            400, "websocket_required", "This endpoint takes WebSocket connections only."
        )
    version = headers.get("Sec-WebSocket-Version")
    if version != "13":
        refused = client_error(
            426 if version else 400, "bad_handshake", "Sec-WebSocket-Version must be 13."
        )
        refused.headers["Sec-WebSocket-Version"] = "13"
        return refused
    try:
        nonce = base64.b64decode(headers.get("Sec-WebSocket-Key", ""), validate=True)
    except (binascii.Error, ValueError):
        nonce = b""
    if len(nonce) != 16:
        return client_error(
            400, "bad_handshake", "Sec-WebSocket-Key must be 16 random bytes in base64."
        )
    return None


def _over_cap(principal: Any) -> Any:
    config = ctx().config
    hub = ctx().realtime.hub
    by_user, by_address = hub.counts(principal.name, client_address())
    anonymous = principal.name == "anonymous" and principal.token_id is None
    if not anonymous and by_user >= config.ws_max_per_user:
        return error_response(
            429, "too_many_sockets", f"At most {config.ws_max_per_user} sockets per user."
        )
    if by_address >= config.ws_max_per_address:
        return error_response(
            429, "too_many_sockets", f"At most {config.ws_max_per_address} sockets per address."
        )
    return None


def before_ws() -> Any:
    if request.path not in WS_PATHS or request.method not in ("GET", "HEAD"):
        return None  # other methods: the API's 405
    if not origin_allowed(request.headers.get("Origin")):
        return error_response(403, "origin_not_allowed", "This Origin may not open sockets here.")
    try:
        principal = _authorize()
    except ServiceError as exc:
        return error_response(exc.http_status, exc.code, exc.message)
    refused = _handshake_error() or _query_error() or _over_cap(principal)
    if refused is not None:
        return refused
    # Frames are small JSON; per-connection compression would cost CPU on every fan-out.
    request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
    return None


def register_handshake(server: Flask) -> None:
    server.before_request(before_ws)
