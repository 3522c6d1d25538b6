"""HTTPS awareness: which proxies to believe, `Secure` cookies and HSTS.

Behind nginx the app sees plain HTTP from 127.0.0.1. With MILLDASH_TRUSTED_PROXIES=n it
believes the last n hops of X-Forwarded-For and X-Forwarded-Proto (werkzeug's ProxyFix), so
`request.remote_addr` is the client (sign-in throttling, socket caps) and `request.is_secure`
says whether the browser used HTTPS. Never more hops than there are proxies: a client can
write any X-Forwarded-* header it likes, and only what our own proxies appended is true.
Cookies get `Secure`, and answers `Strict-Transport-Security`, on HTTPS requests, or always
with MILLDASH_SECURE_COOKIES=1 (TLS ended by something that sends no X-Forwarded-Proto).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from app.context import ctx

# One year: browsers then refuse plain HTTP to this host for that long after one HTTPS visit.
HSTS = "max-age=31536000"


def https_request() -> bool:
    """Whether this request's cookies must be `Secure`: configured so, or it came over HTTPS."""
    return bool(ctx().config.secure_cookies or request.is_secure)


class SecureAwareSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, `Secure` decided per request (HTTPS or configured)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # Without a cookie there is nothing to verify, so no serializer to build (Flask builds
        # one per request): API calls carry a token, not a cookie, and a new ticket's alert
        # waits for this.
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or https_request()


def _hsts(response: Any) -> Any:
    if https_request():
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def register_transport(server: Flask) -> None:
    """Trust the configured proxies, mark cookies `Secure` over HTTPS, send HSTS there."""
    hops = ctx_config(server).trusted_proxies
    if hops > 0:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    server.session_interface = SecureAwareSessionInterface()
    server.after_request(_hsts)


def ctx_config(server: Flask) -> Any:
    """The config of an app being built (no request context yet)."""
    return server.extensions["milldash"].config
