"""Host header check against DNS rebinding.

A page on evil.example whose name is re-pointed at 127.0.0.1 reaches this server as
same-origin: its requests carry `Host: evil.example:PORT` and `Origin: http://evil.example:PORT`,
which agree with each other, so comparing Origin with Host cannot catch it. Only answering
known host names does (MILLDASH_ALLOWED_HOSTS; default: the bind address and loopback names).
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from flask import Flask, request

from app.api import client_error
from app.context import ctx

log = logging.getLogger(__name__)


def hostname(host: str) -> str | None:
    """The host name of a Host header value without its port, lower case; None if malformed.

    `[::1]:8050` -> `::1`, `Example.COM.:80` -> `example.com`.
    """
    host = host.strip().lower()
    if not host:
        return None
    if host.startswith("["):
        name, sep, rest = host[1:].partition("]")
        if not sep or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
        try:
            ipaddress.IPv6Address(name)
        except ValueError:
            return None
        return name
    name, sep, port = host.partition(":")
    if sep and not port.isdigit():
        return None  # also an unbracketed IPv6 address: RFC 9110 wants brackets
    name = name.rstrip(".")  # `localhost.` is the same name in DNS
    if not name or any(c in name for c in "@/\\ ?#%"):
        return None
    return name


def host_allowed(host: str, allowed: list[str]) -> bool:
    """Whether a Host header names this server: its name is listed, or `*` is."""
    if "*" in allowed:
        return True
    name = hostname(host)
    if name is None:
        return False
    return name in {a.strip().lower().strip("[]").rstrip(".") for a in allowed}


def check_host() -> Any:
    """400 for a request to a host name this server does not answer to."""
    if "HTTP_HOST" not in request.environ:
        # Only HTTP/1.0 clients omit Host, and browsers never do: no rebinding risk.
        return None
    host = request.host  # the header; "" when werkzeug finds invalid characters in it
    if host_allowed(host, ctx().config.hosts()):
        return None
    return client_error(
        400,
        "bad_host",
        "This server does not answer to that host name; see MILLDASH_ALLOWED_HOSTS.",
        log_detail=f"Host {host[:100]!r}",
    )


def register_host_check(server: Flask) -> None:
    """Run the host check before every other check and view (the socket handshake's checks,
    the session from `?token=`, Dash's endpoints): nothing may answer a foreign host name."""
    server.before_request_funcs.setdefault(None, []).insert(0, check_host)
