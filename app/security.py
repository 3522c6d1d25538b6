"""Cross-site protection, sign-in gate for the UI, role checks on Dash callbacks, headers."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Flask, redirect, request

from app.api import error_response
from app.api.auth import ui_principal
from app.context import ctx

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
PUBLIC_PREFIXES = (
    "/api/",
    "/assets/",
    "/_dash-component-suites/",
    "/login",
    "/logout",
    "/_favicon.ico",
    "/favicon.ico",
)
DASH_PREFIX = "/_dash-"
# What a display (wall) session may update through Dash: the wall and the shell around it.
DISPLAY_OUTPUT_PREFIXES = ("wall", "page", "critical-", "system-", "ws", "reconnect-", "tick-")

CSP = (
    "default-src 'self'; "
    # Dash's renderer and dash-ag-grid's function strings need eval; inline styles are plotly's.
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def origin_allowed(origin: str | None) -> bool:
    """No Origin (a non-browser client), the server's own origin, or a configured one."""
    if not origin:
        return True
    allowed = ctx().config.allowed_origins
    if origin in allowed or "*" in allowed:
        return True
    parts = urlsplit(origin)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}" == f"{request.scheme}://{request.host}"


def _check_origin() -> Any:
    if request.method in UNSAFE_METHODS and not origin_allowed(request.headers.get("Origin")):
        return error_response(
            403, "origin_not_allowed", "Requests that change data must come from this site."
        )
    return None


def _outputs(body: Any) -> list[str]:
    outputs = body.get("outputs") if isinstance(body, dict) else None
    if isinstance(outputs, dict):
        outputs = [outputs]
    ids = []
    for item in outputs or []:
        ident = item.get("id") if isinstance(item, dict) else None
        ids.append(json.dumps(ident) if isinstance(ident, dict) else str(ident))
    return ids


def _gate_ui() -> Any:
    """Pages and Dash endpoints need a session unless anonymous reading is on."""
    path = request.path
    if path.startswith(PUBLIC_PREFIXES):
        return None
    who = ui_principal()
    if who is None:
        if path.startswith(DASH_PREFIX):
            return error_response(401, "unauthorized", "Sign in first.")
        target = request.full_path.rstrip("?")
        return redirect(f"/login?next={quote(target)}", code=303)
    if who.role == "display" and path == "/_dash-update-component":
        body = request.get_json(silent=True)
        if not all(o.startswith(DISPLAY_OUTPUT_PREFIXES) for o in _outputs(body)):
            return error_response(403, "forbidden", "A display session shows the wall only.")
    return None


def _headers(response: Any) -> Any:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", CSP)
    return response


def register_security(server: Flask) -> None:
    server.before_request(_check_origin)
    server.before_request(_gate_ui)
    server.after_request(_headers)
