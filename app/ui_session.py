"""UI sign-in: the login page (name and password, throttled), a wall's `/wall?token=T` link,
and sign-out (POST only). Sessions are recorded server-side so that ending one closes its
sockets too; a person's session lasts a working day, a wall's a year
(data/accounts/tokens.py)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, current_app, redirect, request, session
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app import metrics
from app.api.auth import ui_principal
from app.context import ctx
from app.cpu_pool import Busy, CpuPool, default_limit, verify_off_loop
from app.login_throttle import LoginThrottle
from app.transport import https_request, register_transport
from data.accounts.tokens import (
    DISPLAY_SESSION_LIFETIME,
    Principal,
    end_session,
    start_session,
    verify_token,
)
from data.accounts.users import MAX_NAME, MAX_PASSWORD, authenticate

WALL_PATH = "/wall"
LOGIN_PAGE = (Path(__file__).parent / "login.html").read_text()
NOTICE_PAGE = (Path(__file__).parent / "notice.html").read_text()
# A browser that signed in to an account before is exempt from that account's global
# throttle (app/login_throttle.py); the cookie names up to KNOWN_MAX accounts, signed.
KNOWN_COOKIE = "milldash_known"
KNOWN_MAX = 5
KNOWN_AGE_S = 90 * 24 * 3600


def _current_session_id() -> str | None:
    return (session.get("principal") or {}).get("session_id")


def remember(principal: Principal) -> None:
    """Put a newly signed-in principal in the session cookie (and the session table); any
    session this browser had before ends."""
    old = _current_session_id()
    if old:
        end_session(ctx().db, old)
    principal = start_session(ctx().db, principal)
    session.clear()
    # A wall's cookie outlives browser restarts; a person's ends with the browser, and the
    # server ends it after PERSON_SESSION_LIFETIME whatever the browser keeps.
    session.permanent = principal.user_id is None
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


def _html(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    # no-store: these pages may carry a token or a name, and answer one moment only.
    head = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
    return body, status, {**head, **(headers or {})}


def _notice(title: str, body: str, status: int = 200, **headers: str) -> Any:
    return _html(NOTICE_PAGE.format(title=escape(title), body=body), status, headers)


def _login_page(
    error: str = "",
    name: str = "",
    next_url: str = "/",
    status: int = 200,
    headers: dict[str, str] | None = None,
    level: str = "danger",
) -> Any:
    block = (
        f'<div class="alert alert-{level} py-2" id="login-error" role="alert">{escape(error)}</div>'
        if error
        else ""
    )
    html = LOGIN_PAGE.format(error=block, next=escape(next_url), name=escape(name[:MAX_NAME]))
    return _html(html, status, headers)


# -- the wall's token link ------------------------------------------------------------------


def _signed_in_person() -> Principal | None:
    """The person (not a wall) whose valid session this browser carries, if any."""
    if not session.get("principal"):
        return None
    who = ui_principal()
    return who if who is not None and who.user_id is not None else None


def _wall_choice(person: Principal, token: str, target: str) -> Any:
    """Ask before a wall link replaces a person's session: following a link must never
    silently sign somebody out (or into another identity)."""
    body = (
        f"<p>You are signed in as <strong>{escape(person.name)}</strong> "
        f"({escape(person.role)}). This link would turn this browser into a wall display "
        "and sign you out.</p>"
        f'<a class="btn btn-primary w-100 mb-2" id="wall-keep" href="{escape(target)}">'
        f"Stay signed in as {escape(person.name)} and open the wall</a>"
        '<form method="post" action="/login/wall">'
        f'<input type="hidden" name="token" value="{escape(token)}">'
        f'<input type="hidden" name="next" value="{escape(target)}">'
        '<button class="btn btn-outline-warning w-100" id="wall-switch" type="submit">'
        "Sign out and use this screen as a wall</button></form>"
    )
    return _notice("Open the wall", body)


def _display_principal(token: str) -> Principal | None:
    principal = verify_token(ctx().db, token)
    return principal if principal is not None and principal.role == "display" else None


def _wall_target(target: str | None) -> str:
    target = _safe_next(target)
    return target if target.split("?")[0] == WALL_PATH else WALL_PATH


def _token_link() -> Any:
    """`/wall?token=T` with a display token starts the wall's session; the token leaves the
    URL. A token on any other page is not used (such a link could swap the session of whoever
    follows it), only dropped from the URL."""
    if request.method != "GET" or "token" not in request.args:
        return None
    if request.path.startswith(("/api/", "/_dash", "/assets/")):
        return None
    token = request.args.get("token", "")
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
    target = request.path + (f"?{urlencode(rest)}" if rest else "")
    if request.path != WALL_PATH:
        return redirect(target, code=303)
    principal = _display_principal(token)
    if principal is None:
        metrics.login_failed()
        return redirect(f"/login?{urlencode({'next': target, 'error': 'token'})}", code=303)
    person = _signed_in_person()
    if person is not None:
        return _wall_choice(person, token, target)
    remember(principal)
    return redirect(target, code=303)


# -- throttling helpers ----------------------------------------------------------------------


def _known_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="milldash-known-device")


def _known_accounts() -> list[str]:
    raw = request.cookies.get(KNOWN_COOKIE)
    if not raw:
        return []
    try:
        value = _known_serializer().loads(raw, max_age=KNOWN_AGE_S)
    except BadSignature:
        return []
    return [v for v in value if isinstance(v, str)][:KNOWN_MAX] if isinstance(value, list) else []


def _mark_known(response: Any, name: str) -> None:
    key = LoginThrottle.account_key(name)
    names = [key, *[n for n in _known_accounts() if n != key]][:KNOWN_MAX]
    response.set_cookie(
        KNOWN_COOKIE,
        _known_serializer().dumps(names),
        max_age=KNOWN_AGE_S,
        path="/login",
        httponly=True,
        samesite="Lax",
        secure=https_request(),
    )


def _throttle() -> LoginThrottle:
    return ctx().extras["login_throttle"]


# -- routes ----------------------------------------------------------------------------------


def _login() -> Any:
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    next_url = _safe_next(request.form.get("next"))
    if len(password) > MAX_PASSWORD:
        # Refused, never cut: a cut password would be checked as a different one.
        message = f"Passwords have at most {MAX_PASSWORD} characters."
        return _login_page(message, name, next_url, 400)
    address = request.remote_addr or "unknown"
    known = LoginThrottle.account_key(name) in _known_accounts()
    wait = _throttle().retry_after(name, address, known_device=known)
    if wait:
        metrics.login_throttled()
        message = f"Too many attempts; try again in {wait} s."
        return _login_page(message, name, next_url, 429, {"Retry-After": str(wait)}, "warning")
    try:
        principal = authenticate(ctx().db, name, password, verifier=verify_off_loop)
    except Busy:
        message = "Many sign-ins are being checked right now; try again in a moment."
        return _login_page(message, name, next_url, 503, {"Retry-After": "1"}, "warning")
    if principal is None:
        metrics.login_failed()
        _throttle().failed(name, address)
        return _login_page("Wrong name or password.", name, next_url, 401)
    _throttle().succeeded(name, address)
    remember(principal)
    response = redirect(next_url, code=303)
    _mark_known(response, name)
    return response


def _logout_page() -> Any:
    """GET /logout changes nothing (a link or an image on another site could send it)."""
    body = (
        "<p>Sign out of Mill Dash on this browser?</p>"
        '<form method="post" action="/logout">'
        '<button class="btn btn-primary w-100" id="logout-submit" type="submit">Sign out'
        "</button></form>"
    )
    return _notice("Sign out", body, 405, Allow="POST")


def _logout() -> Any:
    # A POST from another site never gets here: app/security.py refuses unsafe methods whose
    # Origin is foreign, and SameSite=Lax keeps the session cookie off cross-site POSTs.
    sid = _current_session_id()
    if sid:
        end_session(ctx().db, sid)
    session.clear()
    return redirect("/login", code=303)


def _wall_switch() -> Any:
    """The confirmed choice of the wall page: end the person's session, start the wall's."""
    principal = _display_principal(request.form.get("token", ""))
    target = _wall_target(request.form.get("next"))
    if principal is None:
        metrics.login_failed()
        return redirect(f"/login?{urlencode({'next': target, 'error': 'token'})}", code=303)
    remember(principal)
    return redirect(target, code=303)


def _login_form() -> Any:
    error = ""
    if request.args.get("error") == "token":
        error = "That wall link's token is unknown, revoked or not a display token."
    return _login_page(error, next_url=_safe_next(request.args.get("next")))


def register_ui_session(server: Flask) -> None:
    """Sign-in routes, the wall's token link, HTTPS handling and the password-check pool."""
    app_ctx = server.extensions["milldash"]
    config = app_ctx.config
    app_ctx.extras.setdefault("password_pool", CpuPool(config.password_checks or default_limit()))
    app_ctx.extras.setdefault("login_throttle", LoginThrottle(enabled=config.login_throttle))
    register_transport(server)
    # The longest any session cookie lives (a wall's); a person's is a browser-session cookie
    # whose server-side row expires after a working day.
    server.permanent_session_lifetime = DISPLAY_SESSION_LIFETIME
    server.before_request(_token_link)
    server.add_url_rule("/login", "login_form", _login_form, methods=["GET"])
    server.add_url_rule("/login", "login", _login, methods=["POST"])
    server.add_url_rule("/login/wall", "login_wall", _wall_switch, methods=["POST"])
    server.add_url_rule("/logout", "logout_form", _logout_page, methods=["GET"])
    server.add_url_rule("/logout", "logout", _logout, methods=["POST"])
