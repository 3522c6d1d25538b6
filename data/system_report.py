"""What the System page shows, as plain values: the app layer reads them (app/system_status.py),
the page's callbacks pass them on, the components draw them. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# The parts' states as the page says them.
PART_OK = "ok"
PART_FAILED = "failed"
PART_ABSENT = "not configured"


@dataclass(frozen=True)
class Connections:
    """Open sockets now: all of them and by role (summed over every worker process)."""

    total: int
    by_role: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Latency:
    """Event delivery over a window: quantiles of the delivery time (None when nothing was
    delivered), how many deliveries and how many events published in it."""

    window_s: float  # the window asked for (5 minutes)
    span_s: float  # how far back the oldest snapshot used goes (more when none is that old)
    delivered: int
    published: int
    p50_s: float | None = None
    p99_s: float | None = None


@dataclass(frozen=True)
class PartState:
    """A part the server needs: "database" or "broker"; `state` one of PART_OK, PART_FAILED,
    PART_ABSENT; `error` says how it failed."""

    name: str
    state: str
    error: str | None = None


@dataclass(frozen=True)
class WalCheckpoints:
    """SQLite's WAL checkpoints, taken by the answering process's own thread every `every_s`
    (app/checkpointer.py). `last_at` and the page counts are the last checkpoint taken;
    `error` is the last attempt's error, "" once one succeeds again. Without the thread,
    commits checkpoint themselves once the WAL passes `safety_net_pages`."""

    every_s: float
    running: bool  # the thread is alive
    runs: int  # checkpoints taken since the process started
    last_at: datetime | None = None  # aware, UTC
    wal_pages: int = 0  # pages in the WAL then
    copied: int = 0  # of which are back in the database file (the rest a reader still needs)
    error: str = ""
    skipped: int = 0  # attempts that found another process's checkpoint running
    safety_net_pages: int = 0


@dataclass(frozen=True)
class LoggedError:
    """One log record at WARNING or above, its message already redacted."""

    at: datetime  # aware, UTC
    level: str
    logger: str
    message: str
    request_id: str | None = None


@dataclass(frozen=True)
class SystemReport:
    """Everything the page shows, read at `at` by process `pid` (one of `processes`)."""

    at: datetime
    pid: int
    processes: int
    connections: Connections
    latency: Latency
    parts: tuple[PartState, ...]
    errors: tuple[LoggedError, ...]  # newest first
    metrics_on: bool = True  # False: the server counts nothing (MILLDASH_METRICS=0)
    wal: WalCheckpoints | None = None  # None: no checkpointer (PostgreSQL, or not serving)
