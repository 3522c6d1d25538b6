"""The realtime runtime as one Flask extension: the hub's backend, the hub, the relay, the
socket endpoints, and their start and stop.

    realtime = Realtime()
    services = Services(db, realtime)      # the services publish through it after commit
    ...
    realtime.init_app(server)              # builds backend + hub, adds /api/v1/ws*
    realtime.start()                       # serving only: tail Redis, run the relay, the keeper
    realtime.stop()

`create_app` builds it (reached as `AppContext.realtime`); whoever serves starts it, once per
process (each gunicorn worker after the fork); tests start and stop it when they need the
relay or the Redis reader.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING

from app.realtime.backend import Backend, InProcessBackend
from app.realtime.hub import Hub, Retention
from app.realtime.keeper import Keeper
from data.events import Event
from data.store.db import Database

if TYPE_CHECKING:
    from flask import Flask

    from app.config import Config

log = logging.getLogger(__name__)
EXTENSION_KEY = "milldash.realtime"


def make_backend(config: Config, db: Database) -> Backend:
    """In-process unless a Redis URL is configured: then the Redis stream backend
    (docs/architecture.md, "Redis backend"), its stream key from MILLDASH_REDIS_STREAM."""
    if config.redis_url:
        from app.realtime.redis_backend import RedisBackend

        return RedisBackend(config.redis_url, db, key=stream_key())
    return InProcessBackend(db)


def stream_key() -> str:
    """The Redis stream of this plant (one per database), from MILLDASH_REDIS_STREAM."""
    from app.realtime.redis_backend import DEFAULT_KEY

    return os.environ.get("MILLDASH_REDIS_STREAM", "").strip() or DEFAULT_KEY


class Realtime:
    """Owns the backend and the hub of one app, and whether they run in this process.

    Also the services' publisher port: `publish` hands committed events to the hub."""

    def __init__(self, app: Flask | None = None, *, backend: Backend | None = None) -> None:
        self._backend: Backend | None = backend
        self._hub: Hub | None = None
        self._keeper: Keeper | None = None
        self._state = threading.Lock()
        self.running = False
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Build the backend (unless one was given) and the hub from the app's config and
        database (its `AppContext`), and register the socket endpoints."""
        from app.realtime.endpoints import register_realtime

        app_ctx = app.extensions["milldash"]
        config, db = app_ctx.config, app_ctx.db
        if self._backend is None:
            self._backend = make_backend(config, db)
        self._hub = Hub(db, self._backend, Retention(config.retain_events, config.retain_hours))
        self._keeper = Keeper(db, self._hub.connections, config.ws_ping_interval_s)
        app.extensions[EXTENSION_KEY] = self
        app_ctx.realtime = self
        register_realtime(app)

    # -- what the rest of the app reaches -------------------------------------------------------

    @property
    def hub(self) -> Hub:
        if self._hub is None:
            raise RuntimeError("Realtime.init_app(app) has not run")
        return self._hub

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            raise RuntimeError("Realtime.init_app(app) has not run")
        return self._backend

    def publish(self, events: list[Event]) -> None:
        """The services' publisher port (after commit)."""
        self.hub.publish(events)

    def health(self) -> str:
        """The broker's state for /api/v1/health: 'ok', 'n/a' or what is wrong."""
        return self.backend.health()

    # -- running ------------------------------------------------------------------------------

    def start(self, relay_interval_s: float = 0.5) -> None:
        """Tail the other processes' announcements (Redis) and run the relay; idempotent.
        Call it in the process that serves (after a fork, never before)."""
        with self._state:
            if self.running:
                return
            self.backend.start()  # tails the Redis stream when one is configured
            self.hub.start_relay(relay_interval_s)
            if self._keeper is not None:
                self._keeper.start()
            self.running = True

    def stop(self) -> None:
        """Stop the relay and the backend's reader and let go of its connections; the
        runtime may be started again."""
        with self._state:
            if self._hub is not None:
                self._hub.stop()
            if self._keeper is not None:
                self._keeper.stop()
            if self._backend is not None:
                self._backend.stop()
            self.running = False

    def wait_closed(self, timeout_s: float) -> bool:
        """Wait until this process has no open socket (True) or `timeout_s` passed."""
        deadline = time.monotonic() + timeout_s
        while self.hub.connections():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def going_away(self) -> int:
        """Close every open socket of this process with 1001 (the server is stopping), so
        clients reconnect (to another process) at once; returns how many."""
        return self.hub.close_all()
