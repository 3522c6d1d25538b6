"""Who is calling (bearer token, session, or anonymous) and what their role allows."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request, session

from app import metrics
from app.context import ctx
from data.accounts.tokens import Principal, still_valid, verify_token
from data.errors import ServiceError
from data.roles import allows

ANONYMOUS = Principal(name="anonymous", role="viewer")
F = TypeVar("F", bound=Callable[..., Any])


class Unauthorized(ServiceError):
    code = "unauthorized"
    http_status = 401


class Forbidden(ServiceError):
    code = "forbidden"
    http_status = 403


def current_principal() -> Principal | None:
    """The caller, resolved once per request; None when nobody is identified."""
    if "principal" in g:
        return g.principal
    principal: Principal | None = None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            _refused_once()
            raise Unauthorized("Use 'Authorization: Bearer <token>'.")
        principal = verify_token(ctx().db, secret.strip())
        if principal is None:
            _refused_once()
            raise Unauthorized("The token is unknown or revoked.")
    elif session.get("principal"):
        principal = _session_principal(session["principal"])
    if principal is None and ctx().config.anonymous_read:
        principal = ANONYMOUS
    g.principal = principal
    return principal


def _refused_once() -> None:
    """Count a refused bearer token as a failed sign-in, once per request (several checks
    may ask who is calling)."""
    if not g.get("milldash_auth_refused"):
        g.milldash_auth_refused = True
        metrics.login_failed()


def _session_principal(data: Any) -> Principal | None:
    """The principal a session cookie names, if that session is still valid."""
    try:
        principal = Principal(
            name=data["name"],
            role=data["role"],
            token_id=data.get("token_id"),
            user_id=data.get("user_id"),
            session_id=data.get("session_id"),
        )
    except (KeyError, TypeError):
        return None
    if principal.session_id is None or not still_valid(ctx().db, principal):
        session.clear()
        return None
    return principal


def check_role(role: str, allow_display: bool = False) -> Principal:
    """The caller if their role is at least `role` (display passes only where allowed)."""
    principal = current_principal()
    if principal is None:
        raise Unauthorized("Sign in or send 'Authorization: Bearer <token>'.")
    if principal.role == "display" and allow_display:
        return principal
    if not allows(principal.role, role):
        raise Forbidden(f"This needs the {role} role; you have {principal.role}.")
    return principal


def require(role: str, allow_display: bool = False) -> Callable[[F], F]:
    """Decorator: refuse the request unless the caller's role suffices."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check_role(role, allow_display)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def json_body() -> Any:
    """The request's JSON body, or a 400 with a clear message."""
    from data.errors import ValidationFailed

    if not request.is_json:
        raise ValidationFailed("Send a JSON body with Content-Type: application/json.")
    body = request.get_json(silent=True)
    if body is None:
        raise ValidationFailed("The request body is not valid JSON.")
    return body


def ui_principal() -> Principal | None:
    """The caller of a Dash callback: session or anonymous; never raises."""
    try:
        return current_principal()
    except ServiceError:
        return None
