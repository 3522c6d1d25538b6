"""UI sessions: `?token=T` on any page starts a session (a wall's display token, say) and
the token is dropped from the URL; `/logout` ends it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Flask, redirect, request, session

from app.context import ctx
from data.access import verify_token

# A wall runs unattended for months: its session lasts long and is renewed on each page load.
SESSION_LIFETIME = timedelta(days=365)


def _start_session_from_token() -> Any:
    if request.method != "GET" or request.path.startswith(("/api/", "/_dash", "/assets/")):
        return None
    token = request.args.get("token")
    if not token:
        return None
    principal = verify_token(ctx().db, token)
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
    target = request.path + (f"?{urlencode(rest)}" if rest else "")
    if principal is None:
        return redirect(f"{target}{'&' if rest else '?'}auth=invalid", code=303)
    session.clear()
    session.permanent = True
    session["principal"] = {
        "name": principal.name,
        "role": principal.role,
        "token_id": principal.token_id,
    }
    return redirect(target, code=303)


def register_ui_session(server: Flask) -> None:
    server.permanent_session_lifetime = SESSION_LIFETIME
    server.before_request(_start_session_from_token)

    @server.get("/logout")
    def logout() -> Any:
        session.clear()
        return redirect("/", code=303)
