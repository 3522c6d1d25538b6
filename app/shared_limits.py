"""Caps that must hold for the whole cluster, counted in Redis when a Redis URL is configured:
the sign-in throttle (`app/redis_throttle.py`) and the sockets per user and per address
(`app/realtime/limits.py`). Without Redis nothing changes: the in-process throttle and the
hub's own counts apply (docs/deploy.md, "What is shared").

`install_shared_limits(server)` is called while the app is built, after the socket
handshake's checks are registered and before the sign-in routes take their throttle.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, g, request

from app.api import error_response
from app.realtime.handoff import AFTER_END
from app.realtime.handshake import WS_PATHS, client_address

SLOT = "milldash_socket_slot"  # the key in `g` of the slot a socket holds
MESSAGES = {
    "user": "At most {user} sockets per user.",
    "address": "At most {address} sockets per address.",
}


def redis_prefix() -> str:
    """The prefix of every key these limits keep in Redis (MILLDASH_REDIS_PREFIX): installations
    sharing one Redis need different ones."""
    return os.environ.get("MILLDASH_REDIS_PREFIX", "").strip() or "milldash"


def install_shared_limits(server: Flask) -> None:
    """With a Redis URL: the Redis-counted throttle in `extras["login_throttle"]`, the socket
    slots in `extras["socket_slots"]`, and the request hooks that take and return slots."""
    app_ctx = server.extensions["milldash"]
    config = app_ctx.config
    if not config.redis_url:
        return
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    from app.realtime.limits import SocketSlots
    from app.redis_throttle import RedisLoginThrottle

    # A request never waits out a backoff: one immediate retry replaces a pooled connection
    # that a Redis restart broke; past that the limits fall back to this process.
    client = redis.Redis.from_url(
        config.redis_url,
        decode_responses=True,
        socket_timeout=1.0,
        socket_connect_timeout=1.0,
        retry=Retry(NoBackoff(), 1),
    )
    prefix = redis_prefix()
    app_ctx.extras["login_throttle"] = RedisLoginThrottle(
        client, prefix=prefix, enabled=config.login_throttle
    )
    slots = SocketSlots(client, config.ws_max_per_user, config.ws_max_per_address, prefix)
    app_ctx.extras["socket_slots"] = slots

    def take_slot() -> Any:
        return _take_slot(slots, config)

    def return_slot(_exc: BaseException | None = None) -> None:
        slot = g.pop(SLOT, None)
        after_end = request.environ.get(AFTER_END)
        if slot is not None and after_end is not None:
            after_end(lambda: slots.release(slot))  # the socket outlives its request
        else:
            slots.release(slot)

    server.before_request(take_slot)
    server.teardown_request(return_slot)


def _take_slot(slots: Any, config: Any) -> Any:
    """After the handshake's own checks passed (they run first and stop at a refusal): a slot
    for this socket, or 429 as the handshake answers when this process alone is over a cap."""
    if request.path not in WS_PATHS or request.method != "GET":
        return None
    principal = g.get("principal")
    if principal is None:
        return None  # not admitted by the handshake's checks: nothing to count
    anonymous = principal.name == "anonymous" and principal.token_id is None
    admission = slots.reserve(None if anonymous else principal.name, client_address())
    if admission.refused is not None:
        message = MESSAGES[admission.refused].format(
            user=config.ws_max_per_user, address=config.ws_max_per_address
        )
        return error_response(429, "too_many_sockets", message)
    g.setdefault(SLOT, admission.slot)
    return None
