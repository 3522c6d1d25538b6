"""UI sign-in: a login page (name and password), `?token=T` on any page (a wall's display
token; the token is dropped from the URL), and `/logout`. Sessions are recorded server-side
so that ending one closes its sockets too."""

from __future__ import annotations

from datetime import timedelta
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, redirect, request, session

from app.context import ctx
from data.access import Principal, end_session, start_session, verify_token
from data.users import authenticate

# A wall runs unattended for months: its session lasts long.
SESSION_LIFETIME = timedelta(days=365)

LOGIN_PAGE = (Path(__file__).parent / "login.html").read_text()


def remember(principal: Principal) -> None:
    """Put a newly signed-in principal in the session cookie (and the session table)."""
    principal = start_session(ctx().db, principal)
    session.clear()
    session.permanent = True
    session["principal"] = {
        "name": principal.name,
        "role": principal.role,
        "token_id": principal.token_id,
        "user_id": principal.user_id,
        "session_id": principal.session_id,
    }


def _safe_next(target: str | None) -> str:
    target = target or "/"
    return target if target.startswith("/") and not target.startswith("//") else "/"


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
        return redirect(f"/login?next={target}&error=token", code=303)
    remember(principal)
    return redirect(target, code=303)


def _login_page(error: str = "", name: str = "", next_url: str = "/", status: int = 200) -> Any:
    block = (
        f'<div class="alert alert-danger py-2" role="alert">{escape(error)}</div>' if error else ""
    )
    html = LOGIN_PAGE.format(error=block, next=escape(next_url), name=escape(name))
    return html, status, {"Content-Type": "text/html; charset=utf-8"}


def register_ui_session(server: Flask) -> None:
    server.permanent_session_lifetime = SESSION_LIFETIME
    server.before_request(_start_session_from_token)

    @server.get("/login")
    def login_form() -> Any:
        error = "That token is unknown or revoked." if request.args.get("error") == "token" else ""
        return _login_page(error, next_url=_safe_next(request.args.get("next")))

    @server.post("/login")
    def login() -> Any:
        name = request.form.get("name", "")[:120]
        next_url = _safe_next(request.form.get("next"))
        principal = authenticate(ctx().db, name, request.form.get("password", "")[:200])
        if principal is None:
            return _login_page("Wrong name or password.", name, next_url, 401)
        remember(principal)
        return redirect(next_url, code=303)

    @server.route("/logout", methods=["GET", "POST"])
    def logout() -> Any:
        sid = (session.get("principal") or {}).get("session_id")
        if sid:
            end_session(ctx().db, sid)
        session.clear()
        return redirect("/login", code=303)
