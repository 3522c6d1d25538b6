"""`python -m app --workers N`: N gevent worker processes on one port under gunicorn.

The master (this process, gevent-patched by app/cli.py like the single server) prepares the
app once before any fork: migrations, the first admin and its banner, the demo seed
(`app.server.prepare`; gunicorn's `preload_app`). It then lets go of every database connection
and freezes the start-up objects, so each forked worker shares them copy-on-write and opens its
own pools: after the fork the engine is disposed again without touching the master's sockets,
and Redis clients connect on first use. Each worker then starts its realtime runtime (the
Redis reader and the relay) and competes for the demo simulator's cluster lock; exactly one
process runs the simulator.

Workers serve with gevent's pywsgi through the app's socket-aware handler (TCP_NODELAY, the
connection ends with its WebSocket). Metrics: the master points PROMETHEUS_MULTIPROC_DIR at a
fresh folder before the app (and prometheus_client) is imported; every process writes its
values there, a scrape of any worker sums them, and a worker that ends has its open-socket
gauges dropped (`child_exit`); the master removes the folder when it exits. With metrics off
(MILLDASH_METRICS=0) there is no folder: the switch is set in the master while the app is
prepared, and the forked workers inherit it.

SIGTERM stops gracefully: each worker closes its sockets with 1001 (clients reconnect to
whoever still serves), finishes its requests, stops the simulator (letting go of the lock) and
the runtime; SIGINT stops at once.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIServer

from app.config import Config
from app.log_format import error_stream, use_format
from app.redaction import RedactingStream, install_log_redaction
from app.server import freeze_startup_objects, handler_class, prepare, start_serving

log = logging.getLogger("milldash")
# How long a stopping worker may finish its requests (its sockets close at once).
GRACEFUL_TIMEOUT_S = 8
# Where prometheus_client's processes share their values (app/metrics.py reads it too).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Concurrent HTTP requests per worker (gunicorn's default is 1,000). Open sockets are not
# counted here: each is handed from its request to a greenlet of its own (app/realtime/handoff.py).
WORKER_CONNECTIONS = 10_000


class RedactingPyWSGIServer(PyWSGIServer):
    """pywsgi's request and error logs, tokens redacted, as in the single server."""

    log_format = "text"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["log"] = RedactingStream(sys.stderr)
        kwargs["error_log"] = error_stream(self.log_format)
        super().__init__(*args, **kwargs)


class Worker(GeventPyWSGIWorker):  # type: ignore[misc]
    """gunicorn's gevent pywsgi worker with the app's socket-aware handler (set per start by
    `worker_class`, which knows whether every request is logged)."""

    server_class = RedactingPyWSGIServer

    def handle_exit(self, sig: int, frame: Any) -> None:
        """SIGTERM: stop accepting (gunicorn), and close this worker's sockets with 1001 so
        the graceful wait is not spent on connections that never end by themselves."""
        super().handle_exit(sig, frame)
        import gevent

        realtime = self.wsgi.extensions["milldash"].realtime
        gevent.spawn(realtime.going_away)

    def run(self) -> None:
        """gunicorn's loop; then, as sockets are served apart from their requests (so the
        server's pool does not hold them), wait for their close handshakes too."""
        super().run()
        self.wsgi.extensions["milldash"].realtime.wait_closed(self.cfg.graceful_timeout)


def worker_class(access_log: bool, log_format: str = "text") -> type[Worker]:
    handler = handler_class(access_log, log_format)
    server = type("MillDashServer", (RedactingPyWSGIServer,), {"log_format": log_format})
    return type("MillDashWorker", (Worker,), {"wsgi_handler": handler, "server_class": server})


def logger_class(log_format: str) -> type[Logger]:
    """gunicorn's logger, writing JSON lines when the app does: gunicorn builds its handlers
    in `setup` (again on a reload), before its first line ("Starting gunicorn")."""

    class MillDashLogger(Logger):  # type: ignore[misc]
        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            if log_format == "json":
                use_format(self.error_log, "json")

    return MillDashLogger


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class WorkerHooks:
    """What gunicorn calls around each worker's life (in the worker, unless said otherwise)."""

    def __init__(self, flask_app: Any) -> None:
        self.flask_app = flask_app
        self.simulator: Any = None

    @property
    def app_ctx(self) -> Any:
        return self.flask_app.extensions["milldash"]

    def on_starting(self, _server: Any) -> None:
        """In the master, once gunicorn's own logger exists: redact its lines too."""
        install_log_redaction(logging.getLogger("gunicorn.error"))

    def post_fork(self, _server: Any, _worker: Any) -> None:
        """Right after the fork: forget pooled connections inherited from the master
        without closing them (they are the master's)."""
        self.app_ctx.db.engine.dispose(close=False)

    def post_worker_init(self, worker: Any) -> None:
        """In the worker, gevent re-initialised: start what every serving process runs
        (`start_serving`: the realtime runtime, the checkpointer, the System page's reader)
        and compete for the simulator."""
        import gevent

        gevent.get_hub().exception_stream = error_stream(self.app_ctx.config.log_format)
        self.simulator = start_serving(self.app_ctx, worker.cfg.workers)
        log.info("worker %s serving", os.getpid())

    def child_exit(self, _server: Any, worker: Any) -> None:
        """In the master, once a worker has ended: its open-socket and pool gauges no longer
        count (its counters and histograms still do). Nothing to do with metrics off (no
        shared folder)."""
        if not os.environ.get(MULTIPROC_ENV):
            return
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

    def worker_exit(self, _server: Any, worker: Any) -> None:
        """The worker is leaving: stop the simulator (another process takes over) and the
        runtime. gunicorn also calls this in the master for a worker already gone."""
        if os.getpid() != worker.pid:
            return
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None
        self.app_ctx.realtime.stop()


class WorkersApplication(BaseApplication):  # type: ignore[misc]
    """gunicorn, run from code, serving the app prepared in this process."""

    def __init__(self, config: Config, workers: int, flask_app: Any) -> None:
        self.config = config
        self.workers = workers
        self.flask_app = flask_app
        self.hooks = WorkerHooks(flask_app)
        super().__init__(prog="python -m app")

    def load_config(self) -> None:
        settings: dict[str, Any] = {
            "bind": [bind_address(self.config.host, self.config.port)],
            "workers": self.workers,
            "worker_class": worker_class(self.config.access_log, self.config.log_format),
            "worker_connections": WORKER_CONNECTIONS,
            "preload_app": True,
            "graceful_timeout": GRACEFUL_TIMEOUT_S,
            "proc_name": "milldash",
            "errorlog": "-",
            "logger_class": logger_class(self.config.log_format),
            "loglevel": "info",
            "control_socket_disable": True,
            "on_starting": self.hooks.on_starting,
            "post_fork": self.hooks.post_fork,
            "post_worker_init": self.hooks.post_worker_init,
            "worker_exit": self.hooks.worker_exit,
            "child_exit": self.hooks.child_exit,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.flask_app


def use_metrics_folder() -> str:
    """Point PROMETHEUS_MULTIPROC_DIR at a new empty folder, removed when this process (not
    a forked worker, which runs the same exit handlers) exits. Must run before anything
    imports prometheus_client: the library picks its value store at import."""
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before the metrics folder was set")
    path = tempfile.mkdtemp(prefix="milldash-metrics-")
    os.environ[MULTIPROC_ENV] = path
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:
            shutil.rmtree(path, ignore_errors=True)

    atexit.register(remove)
    return path


def serve_workers(config: Config, workers: int) -> int:
    """Prepare once, then run the gunicorn master until SIGTERM or SIGINT."""
    if config.metrics:  # off (MILLDASH_METRICS=0): nothing is counted, nothing to share
        use_metrics_folder()
    app = prepare(config)
    app_ctx = app.server.extensions["milldash"]
    # Nothing the workers inherit may be a live connection: the master opened the pool to
    # migrate and seed; Redis clients have not connected yet (they do on first use).
    app_ctx.db.dispose()
    log.info(
        "Mill Dash on http://%s/ with %s workers (database %s)",
        bind_address(config.host, config.port),
        workers,
        config.database_url.split("@")[-1],
    )
    freeze_startup_objects()
    WorkersApplication(config, workers, app.server).run()
    return 0
