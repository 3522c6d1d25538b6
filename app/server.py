"""Serving: gevent's WSGI server (cooperative I/O suits many idle sockets), demo start-up.

One process (`--workers 1`, the default) serves with pywsgi here; several (`--workers N`) run
under gunicorn's gevent worker (app/workers.py). Either way `prepare` runs once per start:
migrations, the first admin, the demo seed.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import socket
import sys
from typing import Any

from app.config import Config
from app.redaction import RedactingStream, install_log_redaction

log = logging.getLogger("milldash")
# Requests slower than this are logged even without the full access log.
SLOW_REQUEST_S = 1.0
# Sign-ins and sign-outs are always worth a line.
ACCOUNT_PATHS = ("/login", "/login/wall", "/logout")


def worth_logging(status: str, path: str, seconds: float | None, websocket: bool) -> bool:
    """Without `--access-log` only errors, slow requests and sign-ins reach the log: one
    browser makes thousands of callback and socket requests an hour."""
    code = int(status[:3]) if status[:3].isdigit() else 0
    if code >= 400 or path in ACCOUNT_PATHS:
        return True
    # A socket's request lasts as long as the socket: its length says nothing.
    return not websocket and seconds is not None and seconds >= SLOW_REQUEST_S


def first_run_banner(password: str) -> str:
    """The first-run admin password in a frame, so it stands out from the log around it."""
    lines = [
        "First run: created user 'admin'",
        f"password: {password}",
        "It is shown only now: sign in at /login and keep it safe.",
    ]
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line.ljust(width)} |" for line in lines), rule])


def handler_class(access_log: bool, log_format: str = "text") -> type:
    from gevent.pywsgi import WSGIHandler

    from app.log_format import access_record
    from app.realtime.handoff import DETACHED

    access = logging.getLogger("milldash.access")

    class SocketAwareHandler(WSGIHandler):  # type: ignore[misc]
        """Ends the TCP connection after a WebSocket session.

        Otherwise pywsgi keeps the connection alive and parses the client's late frames
        (its close frame, say) as a new HTTP request.
        """

        def handle(self) -> None:
            # Headers and body go out in separate writes; with Nagle's algorithm and the
            # client's delayed ACK every keep-alive response would wait ~40 ms.
            with contextlib.suppress(OSError):
                self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().handle()

        def handle_one_response(self) -> None:
            super().handle_one_response()
            if self.environ.get("HTTP_UPGRADE", "").lower() == "websocket":
                self.close_connection = True
            if self.environ.get(DETACHED):
                # The socket is served on (app/realtime/session.py) over a duplicate: read
                # nothing more from this one (pywsgi drains it on the way out).
                self.socket = None

        def log_request(self) -> None:
            seconds = self.time_finish - self.time_start if self.time_finish else None
            status = str(self._orig_status or self.status or "000")
            path = (self.path or "").split("?", 1)[0]
            websocket = (self.environ or {}).get("HTTP_UPGRADE", "").lower() == "websocket"
            if not (access_log or worth_logging(status, path, seconds, websocket)):
                return
            if log_format != "json":
                super().log_request()
                return
            fields = access_record(self.environ or {}, status, seconds, self.client_address_text())
            access.info("%s %s %s", fields["method"], path, status[:3], extra=fields)

        def client_address_text(self) -> str | None:
            address = self.client_address
            if isinstance(address, tuple) and address:
                return str(address[0])
            return str(address) if address else None

    return SocketAwareHandler


def seed_demo(app_ctx: Any) -> None:
    """Seed an empty database with the demo plant."""
    from data.demo.seed import is_empty, seed_plant

    if is_empty(app_ctx.db):
        log.info("empty database: seeding the demo plant (24 machines, 30 days)")
        seed_plant(app_ctx.db, 24, 30, timezone=app_ctx.config.plant_tz)


def start_simulator(app_ctx: Any) -> Any:
    """Run the demo simulator in whichever process holds the cluster's simulator lock
    (app/cluster_lock.py); returns the runner (`stop()` ends it and lets go of the lock)."""
    from app.cluster_lock import cluster_lock
    from app.one_per_cluster import OnePerCluster
    from app.realtime.runtime import stream_key
    from data.demo.simulator import Simulator

    config = app_ctx.config
    lock = cluster_lock(
        config.database_url, config.redis_url, "simulator", f"{stream_key()}:simulator"
    )
    simulator = Simulator(
        app_ctx.services, app_ctx.db, interval_s=config.simulator_interval_s, may_run=lock.held
    )
    runner = OnePerCluster(lock, "demo simulator", simulator.start, simulator.stop)
    runner.start()
    return runner


def start_serving(app_ctx: Any, processes: int = 1) -> Any:
    """What each serving process starts once (the one process, or each worker after its
    fork): the realtime runtime, the WAL checkpointer, the System page's reader and, with the
    demo, its bid for the simulator. Returns the simulator's runner, or None."""
    app_ctx.realtime.start()  # tails the Redis stream when one is configured; the relay
    from app.checkpointer import start_checkpointer

    start_checkpointer(app_ctx)  # SQLite: the WAL checkpoints leave the requests
    # Imported here: it imports prometheus_client, which must come after the
    # metrics folder is set (app/workers.py, use_metrics_folder).
    from app.system_status import start_system_status

    start_system_status(app_ctx, processes)  # the error ring and metric snapshots
    return start_simulator(app_ctx) if app_ctx.config.demo else None


def configure_logging(workers: int = 1, log_format: str = "text") -> None:
    """Log lines on stderr, as text (each with its process when several serve) or JSON;
    tokens redacted."""
    from app.log_format import use_format

    logging.basicConfig(level=logging.INFO)
    use_format(logging.getLogger(), log_format, workers)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Tokens travel in URLs (`/wall?token=`) and reach log lines in many ways: redact them in
    # every one (Python logging here, gevent's own writers below).
    install_log_redaction()


def prepare(config: Config) -> Any:
    """Everything that happens once per start, before serving: the app (the database
    migrated), the first admin, the demo seed. Returns the Dash app."""
    from app.factory import create_app
    from data.accounts.users import ensure_first_admin

    app = create_app(config)
    app_ctx = app.server.extensions["milldash"]
    log.info("database %s migrated", config.database_url.split("@")[-1])
    password = ensure_first_admin(app_ctx.db)
    if password and config.log_format == "json":
        log.warning("First run: created user 'admin' with password %s; shown only now", password)
    elif password:
        print(first_run_banner(password), file=sys.stderr, flush=True)
    if config.demo:
        seed_demo(app_ctx)
    return app


def freeze_startup_objects() -> None:
    """Start-up objects (Dash, plotly, pandas) never die; frozen, full collections skip
    them: without this each one walked ~220,000 objects and stalled every socket."""
    gc.collect()
    gc.freeze()


def serve(config: Config, workers: int = 1) -> int:
    if workers > 1:
        from app.workers import serve_workers

        configure_logging(workers, config.log_format)
        return serve_workers(config, workers)
    import gevent
    from gevent.pywsgi import WSGIServer

    configure_logging(log_format=config.log_format)
    from app.log_format import error_stream

    app = prepare(config)
    start_serving(app.server.extensions["milldash"])
    url = f"http://{config.host}:{config.port}/"
    log.info("Mill Dash on %s (database %s)", url, config.database_url.split("@")[-1])
    http = WSGIServer(
        (config.host, config.port),
        app.server,
        log=RedactingStream(sys.stderr),
        # pywsgi writes a malformed request line, token and all, to its error log.
        error_log=error_stream(config.log_format),
        handler_class=handler_class(config.access_log, config.log_format),
    )
    # Tracebacks of failed greenlets print the WSGI environ (the query string included).
    gevent.get_hub().exception_stream = error_stream(config.log_format)
    with contextlib.suppress(KeyboardInterrupt):
        freeze_startup_objects()
        http.serve_forever()
    return 0
