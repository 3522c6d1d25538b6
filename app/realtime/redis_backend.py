"""The Redis backend: several server processes on one database announce committed events to
each other through one capped Redis stream.

- `publish` hands the events to this process's hub at once, then XADDs each one
  (`XADD key MAXLEN ~ N * seq S origin O frame JSON`). Read back, an entry of this process is
  skipped by its origin, and the hub drops any seq it has already delivered: a socket never
  gets an event twice.
- A reader (`start`) tails the stream with a blocking XREAD from the last id it saw and hands
  each batch to the hub, which delivers in seq order and reads anything missing from the
  event log first (`Hub._fill_gap`).
- The event log is the source of truth. On start, after an outage, and when the stream was
  reset (the key is gone, or its newest id is behind ours: a flushed or restarted Redis),
  the reader takes the stream's end as its cursor and hands the hub the log's newest event;
  the hub then delivers everything before it from the log.
- While Redis is unreachable nothing raises into a request (the commit already happened),
  the outage is logged once, `health()` names it, the hub's relay polls the log, and the
  reader reconnects with backoff.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.outage import OutageLog
from app.realtime.backend import Listener
from data.events import Event
from data.read.event_queries import events_after, latest_seq
from data.store.db import Database

log = logging.getLogger(__name__)
DEFAULT_KEY = "milldash:events"
DEFAULT_MAXLEN = 10_000
READ_COUNT = 500
START = "0-0"  # the cursor before any entry


def stream_id(raw: str) -> tuple[int, int]:
    """'1700000000000-3' as a tuple that compares like Redis compares stream ids."""
    ms, _, seq = raw.partition("-")
    return int(ms), int(seq or 0)


def event_from_entry(fields: dict[str, str]) -> Event:
    """The event an entry announces (its frame, as clients receive it)."""
    frame = json.loads(fields["frame"])
    return Event(
        seq=int(fields["seq"]),
        type=frame["type"],
        topic=frame["topic"],
        timestamp=datetime.fromisoformat(frame["timestamp"]),
        data=frame.get("data") or {},
    )


class RedisBackend:
    """Announce through a Redis stream; replay from the event log."""

    def __init__(
        self,
        url: str,
        db: Database,
        key: str = DEFAULT_KEY,
        maxlen: int = DEFAULT_MAXLEN,
        block_ms: int = 1000,
        timeout_s: float = 1.0,
        backoff_max_s: float = 5.0,
    ) -> None:
        self.db = db
        self.key = key
        self.maxlen = maxlen
        self.block_ms = block_ms
        self.backoff_max_s = backoff_max_s
        self._origin = ("", 0)  # (mark, pid): see `origin`
        common: dict[str, Any] = {"decode_responses": True, "socket_connect_timeout": timeout_s}
        # A request never waits out a backoff: one immediate retry replaces a pooled connection
        # that a Redis restart broke; reconnecting with backoff is the reader's job.
        self._pub = redis.Redis.from_url(
            url, socket_timeout=timeout_s, retry=Retry(NoBackoff(), 1), **common
        )
        self._sub = redis.Redis.from_url(
            url, socket_timeout=block_ms / 1000 + 5, retry=Retry(NoBackoff(), 0), **common
        )
        self._listeners: list[Listener] = []
        self._cursor: str | None = None  # None: take position again (start, outage, reset)
        self._error: str | None = None  # why Redis is unusable; None while it answers
        self._state = threading.Lock()
        self._stop = threading.Event()
        self._reader: threading.Thread | None = None
        self.outages = 0
        self.resets = 0
        self._db_outage = OutageLog(log, f"reading the Redis stream {key}")

    @property
    def origin(self) -> str:
        """This process's mark on its stream entries, which it skips when it reads them back.
        Per process: under `--workers` the backend is built in the master and copied into
        every forked worker, and a shared mark would make each skip the others' entries."""
        mark, pid = self._origin
        if pid != os.getpid():
            mark = uuid.uuid4().hex
            self._origin = (mark, os.getpid())
        return mark

    # -- the Backend port ---------------------------------------------------------------------

    def publish(self, events: list[Event]) -> None:
        """Deliver locally, then announce to the other processes; never raises for Redis."""
        try:
            self._deliver(events)
        finally:
            self._announce(events)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def replay(self, since: int, topics: Iterable[str] | None, limit: int) -> list[Event]:
        with self.db.read() as session:
            return events_after(session, since, topics, limit)

    def health(self) -> str:
        """'ok', or what is wrong (the exception's type only: health is public)."""
        error = self._error
        if error is None and (self._cursor is None or not self._reading()):
            # Not tailing (yet): nothing has told us, so ask.
            try:
                self._pub.ping()
            except redis.RedisError as exc:
                error = type(exc).__name__
        return "ok" if error is None else f"unreachable ({error})"

    def start(self) -> None:
        """Tail the stream in a background thread (a greenlet once gevent has patched)."""
        if self._reading():
            return
        self._stop.clear()
        self._reader = threading.Thread(target=self._run, name="redis-reader", daemon=True)
        self._reader.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._reader is not None:
            self._reader.join(timeout)
            self._reader = None
        self._pub.close()
        self._sub.close()

    # -- publishing ---------------------------------------------------------------------------

    def _deliver(self, events: list[Event]) -> None:
        for listener in self._listeners:
            listener(events)

    def _announce(self, events: list[Event]) -> None:
        if not events or (self._error is not None and self._reading()):
            return  # during an outage the other processes' relays read these from the log
        try:
            pipe = self._pub.pipeline(transaction=False)
            for event in events:
                frame = json.dumps(event.to_frame(), separators=(",", ":"))
                fields: dict[Any, Any] = {"seq": event.seq, "origin": self.origin, "frame": frame}
                pipe.xadd(self.key, fields, maxlen=self.maxlen, approximate=True)
            pipe.execute()
        except redis.RedisError as exc:
            self._failed(exc)
            return
        except Exception:  # a bug, not an outage: still not the request's problem
            log.exception("announcing events %s.. failed", events[0].seq)
            return
        if self._error is not None:
            self._recovered()

    def _failed(self, exc: Exception) -> None:
        with self._state:
            first = self._error is None
            self._error = type(exc).__name__
        if first:
            self.outages += 1
            log.warning(
                "Redis unreachable (%s: %s): events reach the other processes through the "
                "event log until it answers again",
                type(exc).__name__,
                exc,
            )

    def _recovered(self) -> None:
        with self._state:
            was = self._error
            self._error = None
        if was is not None:
            log.info("Redis answers again: events go through the stream %s", self.key)

    # -- reading ------------------------------------------------------------------------------

    def _reading(self) -> bool:
        return self._reader is not None and self._reader.is_alive()

    def _run(self) -> None:
        delay = 0.0
        while not self._stop.is_set():
            try:
                if self._cursor is None or self._error is not None:
                    self._take_position()
                self._read()
                delay = 0.0
            except redis.RedisError as exc:
                if self._stop.is_set():
                    return
                self._failed(exc)
                self._cursor = None
                delay = min(max(delay * 2, 0.25), self.backoff_max_s)
                self._stop.wait(delay * random.uniform(0.8, 1.2))
            except Exception as exc:  # the database failed during a fill: try again from the log
                self._db_outage.failed(exc)
                self._cursor = None
                self._stop.wait(1.0)
            else:
                self._db_outage.succeeded()

    def _take_position(self) -> None:
        """Take the stream's end as the cursor, then have the hub catch up from the log.

        Every entry up to that end was committed before the log is read here, so the hub's
        gap fill delivers it; entries after it come from XREAD. Raises while Redis is down."""
        end = self._newest_id()
        self._recovered()
        self._fill_from_log()
        self._cursor = end or START

    def _newest_id(self) -> str | None:
        newest = self._sub.xrevrange(self.key, "+", "-", count=1)
        return str(newest[0][0]) if newest else None

    def _fill_from_log(self) -> None:
        """Hand the hub the log's newest event; it reads whatever it lacks before it by seq."""
        with self.db.read() as session:
            latest = latest_seq(session)
            newest = events_after(session, latest - 1, None, 1) if latest else []
        if newest:
            self._deliver(newest)

    def _read(self) -> None:
        cursor = self._cursor or START
        reply: Any = self._sub.xread({self.key: cursor}, count=READ_COUNT, block=self.block_ms)
        entries = reply.get(self.key, []) if isinstance(reply, dict) else (reply or [[0, []]])[0][1]
        if not entries:
            self._check_reset(cursor)
            return
        events: list[Event] = []
        for entry_id, fields in entries:
            if fields.get("origin") == self.origin:
                continue  # delivered when it was published
            try:
                events.append(event_from_entry(fields))
            except (KeyError, TypeError, ValueError):
                log.warning("skipping malformed entry %s in %s", entry_id, self.key)
        self._cursor = str(entries[-1][0])
        if events:
            self._deliver(events)

    def _check_reset(self, cursor: str) -> None:
        """A quiet read: is the stream still the one we were reading?"""
        end = self._newest_id()
        gone = end is None and cursor != START
        behind = end is not None and stream_id(end) < stream_id(cursor)
        if gone or behind:
            self.resets += 1
            log.warning(
                "the Redis stream %s was reset (%s): catching up from the event log",
                self.key,
                "key gone" if gone else "ids went back",
            )
            self._take_position()
