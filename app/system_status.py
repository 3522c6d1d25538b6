"""What the System page (admins) reads about the serving process and the cluster: open sockets
by role, event delivery over the last minutes (app/delivery_window.py), the database's and the
broker's state (the checks of `GET /api/v1/health`, app/health.py), SQLite's WAL checkpoints
(app/checkpointer.py) and the recent errors (app/error_ring.py).

`create_app` builds one `SystemStatus` per app (`register_system_status`) and hands its
`report` to the page's callbacks through `Deps.system`; whoever serves calls
`start_system_status` once per process (each gunicorn worker after the fork): the error ring
goes on the root logger and a background thread keeps the delivery window's snapshots.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime
from typing import Any

from app import metrics
from app.delivery_window import DeliveryWindow, Snapshot, metric_source, read_snapshot
from app.error_ring import ErrorRing, install
from app.health import check_parts
from data.roles import UI_ROLES
from data.store.checkpoints import SAFETY_NET_PAGES
from data.store.sqltypes import utcnow
from data.system_report import (
    PART_ABSENT,
    PART_FAILED,
    PART_OK,
    Connections,
    PartState,
    SystemReport,
    WalCheckpoints,
)

log = logging.getLogger(__name__)
EXTRA_KEY = "system_status"


def read_now(at: float) -> Snapshot:
    """The snapshot of every process's metrics at `at`."""
    return read_snapshot(metric_source().collect(), at)


def connections(snapshot: Snapshot) -> Connections:
    """Open sockets by role (every UI role listed, in the roles' order, then any other)."""
    counts = {role: 0 for role in UI_ROLES}
    for role, value in snapshot.sockets.items():
        counts[role] = counts.get(role, 0) + max(0, round(value))
    return Connections(total=sum(counts.values()), by_role=counts)


def parts(health: dict[str, Any]) -> tuple[PartState, ...]:
    """The database and the broker as the page says them, from a health document."""
    database = health.get("database", "ok")
    if database == "ok":
        db_state = PartState("database", PART_OK)
    elif database == "failed":
        tables = ", ".join(health.get("failed", []))
        db_state = PartState("database", PART_FAILED, f"unreadable tables: {tables}")
    else:
        db_state = PartState("database", PART_FAILED, database.removeprefix("error: "))
    broker = health.get("broker", "n/a")
    if broker == "ok":
        broker_state = PartState("broker", PART_OK)
    elif broker == "n/a":
        broker_state = PartState("broker", PART_ABSENT)
    else:
        error = str(health.get("broker_error", "")).removeprefix("error: ")
        broker_state = PartState("broker", PART_FAILED, error or None)
    return (db_state, broker_state)


class SystemStatus:
    """One process's reader for the System page."""

    def __init__(self, app_ctx: Any, window: DeliveryWindow | None = None) -> None:
        self.app_ctx = app_ctx
        self.window = window or DeliveryWindow(read_now)
        self.ring = ErrorRing()
        self.processes = 1
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None
        # The values at start: the window's first baseline (everything counted since).
        self.window.sample()

    def start(self, processes: int = 1) -> None:
        """Serving, in this process: keep recent errors and sample the metrics every
        `window.sample_s`; idempotent."""
        self.processes = max(1, processes)
        install(self.ring)
        if self._sampler is not None and self._sampler.is_alive():
            return
        self._stop.clear()
        self._sampler = threading.Thread(target=self._run, name="system-sampler", daemon=True)
        self._sampler.start()

    def stop(self) -> None:
        self._stop.set()
        logging.getLogger().removeHandler(self.ring)

    def _run(self) -> None:
        while not self._stop.wait(self.window.sample_s):
            try:
                self.window.sample()
            except Exception:  # a folder that vanished while stopping: try again later
                log.debug("metrics snapshot failed", exc_info=True)

    def report(self) -> SystemReport:
        """Everything the page shows, read now."""
        snapshot, latency = self.window.latency()
        return SystemReport(
            at=utcnow(),
            pid=os.getpid(),
            processes=self.processes,
            connections=connections(snapshot),
            latency=latency,
            parts=parts(check_parts(self.app_ctx)),
            errors=tuple(self.ring.entries()),
            metrics_on=metrics.enabled(),
            wal=wal_checkpoints(self.app_ctx.extras.get("checkpointer")),
        )


def wal_checkpoints(checkpointer: Any) -> WalCheckpoints | None:
    """What this process's checkpointer (app/checkpointer.py) has done; None without one.
    Its `progress` is read once: one attempt's figures, never two mixed."""
    if checkpointer is None:
        return None
    done = checkpointer.progress
    return WalCheckpoints(
        every_s=checkpointer.interval_s,
        running=checkpointer.running,
        runs=done.runs,
        last_at=None if done.last_at is None else datetime.fromtimestamp(done.last_at, UTC),
        wal_pages=done.last.wal_frames if done.last else 0,
        copied=done.last.copied if done.last else 0,
        error=done.last_error,
        skipped=done.skipped,
        safety_net_pages=SAFETY_NET_PAGES,
    )


def register_system_status(app_ctx: Any) -> SystemStatus:
    """Build the app's reader (in `AppContext.extras`); nothing runs yet."""
    status = SystemStatus(app_ctx)
    app_ctx.extras[EXTRA_KEY] = status
    return status


def start_system_status(app_ctx: Any, processes: int = 1) -> None:
    """When serving, once per process: see `SystemStatus.start`."""
    app_ctx.extras[EXTRA_KEY].start(processes)
