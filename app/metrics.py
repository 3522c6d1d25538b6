"""Every Prometheus family of Mill Dash (CONTRACT §5, docs/metrics.md) and the few helpers the
code that counts calls.

One process: the metric objects live in prometheus_client's default registry. Several worker
processes (`--workers N`): app/workers.py points PROMETHEUS_MULTIPROC_DIR at a fresh folder
before this module is first imported, each process writes its values to files there, and a
scrape sums every process's files (`multiprocess.MultiProcessCollector`), whichever worker
answers it.

Hot paths add up locally and call here once per batch (`frames_sent` once per event for all
the sockets that took it straight away, `event_delivered` once per event): a metric update
costs about a microsecond, a fan-out reaches a thousand sockets.

`MILLDASH_METRICS=0` switches all of it off: app/metrics_http.py calls `set_enabled(False)` when
the app is built (in the master, before any worker is forked, so every process agrees), every
helper below then returns at once, and `/metrics` answers 404. The code that counts calls the
helpers, never the metric objects (but for the request timing, which is not installed when
off), so that switch covers every count. The objects stay, at 0, for whoever reads them:
`enabled()` says whether they move.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import Metric

from data.events import ALL, TOPICS
from data.roles import UI_ROLES

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The classic text format (version 0.0.4), which every Prometheus scrapes.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# `milldash_ws_connections{topic}` of a socket that subscribes to nothing (the admin socket).
NO_TOPIC = "none"
# Methods a client may send are free text: anything else is counted as "other".
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# `_created` series are per process and meaningless summed over workers: off everywhere, so one
# process and several show the same families.
disable_created_metrics()

WS_CONNECTIONS = Gauge(
    "milldash_ws_connections",
    "Open WebSocket connections, once per topic each subscribes to ('none': no subscription).",
    ["topic", "role"],
    multiprocess_mode="livesum",
)
WS_SOCKETS = Gauge(
    "milldash_ws_sockets",
    "Open WebSocket connections, each counted once (event and admin sockets).",
    ["role"],
    multiprocess_mode="livesum",
)
WS_FRAMES_SENT = Counter(
    "milldash_ws_frames_sent_total",
    "WebSocket text frames written to clients (events, replays, welcome and replies).",
)
WS_BYTES_SENT = Counter(
    "milldash_ws_bytes_sent_total", "Bytes of the WebSocket text frames written to clients."
)
WS_CLOSES = Counter(
    "milldash_ws_closes_total",
    "WebSocket connections ended, by close code (the server's, else the client's; "
    "1006: the connection dropped without a close frame).",
    ["code"],
)
WS_SLOW_DROPS = Counter(
    "milldash_ws_slow_consumer_drops_total",
    "Sockets dropped because their pending frames passed the bound (closed with 4008).",
)
EVENTS_PUBLISHED = Counter(
    "milldash_events_published_total",
    "Events committed by this server and handed to the hub (each event once, cluster-wide).",
)
EVENTS_RELAYED = Counter(
    "milldash_events_relayed_total",
    "Events a hub delivered from the event log because no announcement brought them "
    "(the relay, gap fills).",
)
REPLAYS = Counter(
    "milldash_replays_total", "Sockets that resumed with since= and got the events they missed."
)
RESYNCS = Counter(
    "milldash_resyncs_total",
    "Sockets that resumed with a since= older than the retained history (told to resync).",
)
EVENT_DELIVERY = Histogram(
    "milldash_event_delivery_seconds",
    "From an event's commit (its timestamp) to its frame written to every ready socket of "
    "the process delivering it; once per event and process that had a socket for it.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HTTP_DURATION = Histogram(
    "milldash_http_request_duration_seconds",
    "HTTP requests by URL rule (never the raw path; 'unmatched' without one), method, status.",
    ["route", "method", "status"],
)
LOGIN_FAILURES = Counter(
    "milldash_login_failures_total",
    "Refused sign-ins: a wrong name or password at /login, a wall link without a valid "
    "display token, an unknown or revoked bearer token.",
)
LOGIN_THROTTLED = Counter(
    "milldash_login_throttled_total",
    "Sign-ins at /login refused unchecked because of earlier failures (429).",
)
DB_POOL_IN_USE = Gauge(
    "milldash_db_pool_in_use",
    "Database connections checked out of the pool right now.",
    multiprocess_mode="livesum",
)


# Whether anything is counted (MILLDASH_METRICS): read by every helper below, set once per
# process before it serves (`set_enabled`).
_enabled = True


def set_enabled(on: bool) -> None:
    """Count (True, the default) or make every helper return at once (MILLDASH_METRICS=0)."""
    global _enabled
    _enabled = bool(on)


def enabled() -> bool:
    """Whether this process counts: False when the server runs with MILLDASH_METRICS=0."""
    return _enabled


# Series that exist from the start (at 0), so a dashboard shows 0 rather than no data and
# rate() has a start: every topic and role a socket can have, the close codes the server
# sends and the usual ones from clients.
CLOSE_CODES = (1000, 1001, 1006, 1008, 1009, 4001, 4008)
MAX_RFC_CODE = 1015
for _role in UI_ROLES:
    WS_SOCKETS.labels(_role)
    for _topic in (*TOPICS, ALL, NO_TOPIC):
        WS_CONNECTIONS.labels(_topic, _role)
for _code in CLOSE_CODES:
    WS_CLOSES.labels(str(_code))


# -- sockets --------------------------------------------------------------------------------


def topic_labels(topics: Iterable[str]) -> list[str]:
    """The `topic` label values of a socket with these subscriptions."""
    return sorted(topics) or [NO_TOPIC]


def socket_opened(role: str, topics: Iterable[str]) -> None:
    """A socket with this role and these subscriptions is now open."""
    if not _enabled:
        return
    WS_SOCKETS.labels(role).inc()
    for topic in topic_labels(topics):
        WS_CONNECTIONS.labels(topic, role).inc()


def socket_resubscribed(role: str, old: Iterable[str], new: Iterable[str]) -> None:
    """An open socket's subscriptions changed from `old` to `new`."""
    if not _enabled:
        return
    before, after = set(topic_labels(old)), set(topic_labels(new))
    for topic in before - after:
        WS_CONNECTIONS.labels(topic, role).dec()
    for topic in after - before:
        WS_CONNECTIONS.labels(topic, role).inc()


def socket_gone(role: str, topics: Iterable[str]) -> None:
    """An open socket with this role and these subscriptions is gone."""
    if not _enabled:
        return
    WS_SOCKETS.labels(role).dec()
    for topic in topic_labels(topics):
        WS_CONNECTIONS.labels(topic, role).dec()


def socket_closed(code: int, too_slow: bool) -> None:
    """A socket ended with `code` (sent by the server, else received, else 1006); `too_slow`:
    its pending frames had passed the bound (closed with 4008, or dropped when even that close
    could not be written). A client may send any code: those outside RFC 6455's own
    (1000-1015) and the server's are counted as "other", so clients cannot add series."""
    if not _enabled:
        return
    known = code <= MAX_RFC_CODE or code in CLOSE_CODES
    WS_CLOSES.labels(str(code) if known else "other").inc()
    if too_slow:
        WS_SLOW_DROPS.inc()


def frames_sent(frames: int, size: int) -> None:
    """`frames` text frames of `size` bytes in all were written to sockets."""
    if frames and _enabled:
        WS_FRAMES_SENT.inc(frames)
        WS_BYTES_SENT.inc(size)


def bytes_sent(size: int) -> None:
    """`size` bytes of a frame were written, the rest of it is queued (its writer counts the
    frame when it sends that rest)."""
    if _enabled:
        WS_BYTES_SENT.inc(size)


def frame_size(payload: int) -> int:
    """Bytes of a server's unmasked text frame carrying `payload` bytes (RFC 6455 §5.2)."""
    return payload + (2 if payload < 126 else 4 if payload < 65536 else 10)


def event_delivered(timestamp: datetime) -> None:
    """An event committed at `timestamp` has just been written to the ready sockets."""
    if not _enabled:
        return
    stamp = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
    EVENT_DELIVERY.observe(max(0.0, time.time() - stamp.timestamp()))


# -- events, resumes and sign-ins ---------------------------------------------------------------


def events_published(count: int) -> None:
    """`count` events committed by this process were handed to its hub."""
    if _enabled and count:
        EVENTS_PUBLISHED.inc(count)


def events_relayed(count: int) -> None:
    """`count` events were delivered from the event log (no announcement brought them)."""
    if _enabled and count:
        EVENTS_RELAYED.inc(count)


def replayed() -> None:
    """A socket resumed with `since=` and is replayed what it missed."""
    if _enabled:
        REPLAYS.inc()


def resynced() -> None:
    """A socket resumed with a `since` older than the retained history."""
    if _enabled:
        RESYNCS.inc()


def login_failed() -> None:
    """A sign-in was refused (wrong password, bad display token, unknown bearer token)."""
    if _enabled:
        LOGIN_FAILURES.inc()


def login_throttled() -> None:
    """A sign-in at /login was answered 429 without checking the password."""
    if _enabled:
        LOGIN_THROTTLED.inc()


# -- the database pool ----------------------------------------------------------------------


def watch_pool(engine: Any) -> None:
    """Count the connections checked out of `engine`'s pool (and of the pools a dispose
    creates: listeners on an engine move with its pool)."""
    from sqlalchemy import event

    event.listen(engine, "checkout", _checked_out)
    event.listen(engine, "checkin", _checked_in)


# The pool entries counted as out. SQLAlchemy also fires "checkin" for an entry whose
# connection could not be opened (the database is down), which never fired "checkout".
_OUT: weakref.WeakSet[Any] = weakref.WeakSet()


def _checked_out(_dbapi: Any, record: Any, _proxy: Any) -> None:
    if record not in _OUT:
        _OUT.add(record)
        DB_POOL_IN_USE.inc()


def _checked_in(_dbapi: Any, record: Any) -> None:
    if record in _OUT:
        _OUT.discard(record)
        DB_POOL_IN_USE.dec()


# -- scraping -------------------------------------------------------------------------------


def multiprocess_dir() -> str | None:
    """The folder the worker processes share their values through, if several serve."""
    return os.environ.get(MULTIPROC_ENV) or None


class _Joined:
    """Several collectors read as one (`generate_latest` only calls `collect`)."""

    def __init__(self, *sources: Any) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            yield from source.collect()


def scrape(*extra: Any) -> bytes:
    """The text exposition of every family: this process's registry, or the sum of every
    worker's files, plus `extra` collectors computed now (in this process)."""
    path = multiprocess_dir()
    if path is None:
        base: Any = REGISTRY
    else:
        from prometheus_client import multiprocess

        base = CollectorRegistry()
        multiprocess.MultiProcessCollector(base, path=path)
    return generate_latest(_Joined(base, *extra))
