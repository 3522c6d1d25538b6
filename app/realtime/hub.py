"""The hub: puts committed events in seq order, serialises each once and offers it to every
matching connection; a relay catches events whose publish step never happened."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, func, select, update

from app import metrics
from app.outage import OutageLog
from app.realtime.backend import Backend
from app.realtime.connection import GOING_AWAY, Connection, Offer, text_frame
from app.realtime.presence import Presence
from app.realtime.topic_index import TopicIndex
from data.events import TOPICS, Event
from data.read.event_queries import latest_seq, oldest_seq
from data.store.db import Database
from data.store.models import EventLog
from data.store.prepared import Prepared
from data.store.sqltypes import utcnow

log = logging.getLogger(__name__)
REPLAY_PAGE = 1000
# Rendered once, run on the driver's cursor: the relay runs it twice a second on the thread
# that serves the sockets.
_MARK_PUBLISHED = Prepared(
    update(EventLog)
    .where(EventLog.seq <= bindparam("upto"), EventLog.published_at.is_(None))
    .values(published_at=bindparam("now"))
)


@dataclass
class Retention:
    """Events are pruned once they are both beyond the last `events` and older than `hours`."""

    events: int = 10_000
    hours: float = 24.0


class Hub:
    """Publisher for the services (after commit) and fan-out to socket connections."""

    def __init__(self, db: Database, backend: Backend, retention: Retention | None = None) -> None:
        self.db = db
        self.backend = backend
        self.retention = retention or Retention()
        self._lock = threading.RLock()
        self._connections: dict[str, Connection] = {}
        self._subscribers = TopicIndex()  # who takes which topic: the fan-out's list
        self._by_name: Counter[str] = Counter()  # open sockets per user name
        self._by_address: Counter[str] = Counter()  # and per address
        self.presence = Presence()  # who has which ticket open; no events, no seq
        with db.read() as session:
            published = session.scalar(
                select(func.coalesce(func.max(EventLog.seq), 0)).where(
                    EventLog.published_at.is_not(None)
                )
            )
        self.last_seq = int(published or 0)
        self._marked_seq = self.last_seq
        self.events_published = 0
        self._dropped_closed = 0  # frames dropped on connections that are gone
        self._stop = threading.Event()
        self._relay_thread: threading.Thread | None = None
        backend.subscribe(self._on_events)

    # -- Publisher port (services call this after commit) ---------------------------------------

    def publish(self, events: list[Event]) -> None:
        metrics.events_published(len(events))
        self.backend.publish(events)

    # -- ordering and fan-out -------------------------------------------------------------------

    def _on_events(self, events: list[Event]) -> None:
        with self._lock:
            for event in sorted(events, key=lambda e: e.seq):
                if event.seq <= self.last_seq:
                    continue  # already delivered (relay or another publisher got there first)
                if event.seq > self.last_seq + 1:
                    self._fill_gap(event.seq - 1)
                if event.seq == self.last_seq + 1:
                    self._fanout(event)

    def _fill_gap(self, upto: int) -> None:
        """Deliver committed events before `upto` that were not announced (yet) in order."""
        while self.last_seq < upto:
            batch = self.backend.replay(self.last_seq, None, min(REPLAY_PAGE, upto - self.last_seq))
            if not batch:
                log.warning("event log has no seq after %s though %s arrived", self.last_seq, upto)
                return
            if batch[0].seq > self.last_seq + 1:
                # Pruned before this process delivered them (it lagged beyond the retention):
                # go on from what is left; clients see the jump in seq and refetch.
                log.warning("events %s..%s left the log", self.last_seq + 1, batch[0].seq - 1)
                self.last_seq = batch[0].seq - 1
            relayed = 0
            for event in batch:
                if event.seq == self.last_seq + 1:
                    self._fanout(event)
                    relayed += 1
            metrics.events_relayed(relayed)

    def _fanout(self, event: Event) -> None:
        frame = text_frame(json.dumps(event.to_frame(), separators=(",", ":")))
        sent = taken = 0
        for conn in self._subscribers.recipients(event.topic):
            offered = conn.offer(frame, count=False)
            sent += offered == Offer.SENT
            taken += offered != Offer.REFUSED
        # Counted once per event for all sockets (the writer counts what it sends later).
        metrics.frames_sent(sent, sent * len(frame))
        if taken:
            metrics.event_delivered(event.timestamp)
        self.last_seq = event.seq
        self.events_published += 1

    def catch_up(self) -> None:
        """Deliver whatever the log holds beyond what was delivered (the relay's step)."""
        with self.db.lookup() as conn:
            latest = latest_seq(conn)
        if latest > self.last_seq:
            with self._lock:
                self._fill_gap(latest)

    # -- connections ----------------------------------------------------------------------------

    def attach(self, conn: Connection) -> int:
        """Register a connection for live events; returns the seq it goes live after."""
        with self._lock:
            replaced = self._connections.get(conn.client_id)
            if replaced is not None:  # never with the process's own ids; kept out of the index
                self._subscribers.remove(replaced)
            self._connections[conn.client_id] = conn
            self._subscribers.add(conn)
            self._by_name[conn.principal_name] += 1
            self._by_address[conn.address] += 1
            metrics.socket_opened(conn.role, conn.topics)
            return self.last_seq

    def detach(self, conn: Connection) -> None:
        with self._lock:
            if self._connections.pop(conn.client_id, None) is not None:
                self._subscribers.remove(conn)
                _decrement(self._by_name, conn.principal_name)
                _decrement(self._by_address, conn.address)
                metrics.socket_gone(conn.role, conn.topics)
        conn.close()
        self.presence.leave(conn)  # after close: a late announce from its reader is refused

    def counts(self, name: str, address: str) -> tuple[int, int]:
        """Open sockets of this user name and of this address."""
        with self._lock:
            return self._by_name[name], self._by_address[address]

    def connections(self) -> list[Connection]:
        """The open connections now."""
        with self._lock:
            return list(self._connections.values())

    def close_all(self) -> int:
        """Ask every connection's writer to close with 1001 (the server is stopping);
        returns how many were open."""
        conns = self.connections()
        for conn in conns:
            conn.end(GOING_AWAY)
        return len(conns)

    def set_topics(self, conn: Connection, topics: Iterable[str]) -> None:
        with self._lock:
            new = set(topics)
            attached = conn.client_id in self._connections
            if attached:
                metrics.socket_resubscribed(conn.role, conn.topics, new)
                self._subscribers.remove(conn)
            conn.topics = new
            if attached:
                self._subscribers.add(conn)

    def replay_plan(self, since: int, live_after: int) -> str:
        """'ok' when every event in (since, live_after] is still retained, else 'resync'."""
        if since > live_after:
            return "resync"
        if since == live_after:
            return "ok"
        with self.db.read() as session:
            oldest = oldest_seq(session)
        if oldest is None or since < oldest - 1:
            return "resync"
        return "ok"

    def replay(self, since: int, upto: int, topics: Iterable[str]) -> Iterable[Event]:
        """Retained events in (since, upto] for `topics`, in pages, in order."""
        cursor = since
        wanted = list(topics)
        while cursor < upto:
            batch = self.backend.replay(cursor, wanted, REPLAY_PAGE)
            for event in batch:
                if event.seq > upto:
                    return
                yield event
            if len(batch) < REPLAY_PAGE:
                return
            cursor = batch[-1].seq

    def stats(self) -> dict[str, object]:
        conns = self.connections()
        by_topic = {t: sum(1 for c in conns if c.wants(t)) for t in TOPICS}
        return {
            "type": "stats",
            "connections": len(conns),
            "by_topic": by_topic,
            "events_published": self.events_published,
            "events_dropped": sum(c.dropped for c in conns) + self._dropped_closed,
            "seq": self.last_seq,
            "pid": os.getpid(),  # which server process answered (several run behind one port)
        }

    def forget(self, conn: Connection) -> None:
        """Detach and keep the connection's drop count in the totals."""
        self.detach(conn)
        with self._lock:
            self._dropped_closed += conn.dropped

    # -- relay: publish what was committed but never announced; mark; prune ---------------------

    def start_relay(self, interval_s: float = 0.5, prune_every_s: float = 60.0) -> None:
        """Every `interval_s`: deliver what the log holds beyond `last_seq`, mark, prune. It
        runs whatever the backend does, so while Redis is down the events of the other
        processes still reach this process's sockets from the log."""

        self._stop.clear()

        outage = OutageLog(log, "event relay")

        def run() -> None:
            next_prune = 0.0
            while not self._stop.wait(interval_s):
                try:
                    self.catch_up()
                    self.mark_published()
                    if time.monotonic() >= next_prune:
                        self.prune()
                        next_prune = time.monotonic() + prune_every_s
                    outage.succeeded()
                except Exception as exc:  # the relay must outlive a database outage
                    outage.failed(exc)

        self._relay_thread = threading.Thread(target=run, name="event-relay", daemon=True)
        self._relay_thread.start()

    def stop(self) -> None:
        """Stop the relay (the backend's reader is stopped by whoever started it)."""
        self._stop.set()
        if self._relay_thread is not None:
            self._relay_thread.join(5.0)
            self._relay_thread = None

    def mark_published(self) -> None:
        upto = self.last_seq
        if upto <= self._marked_seq:
            return
        with self.db.transaction() as conn:
            _MARK_PUBLISHED.execute(conn, {"upto": upto, "now": utcnow()}).close()
        self._marked_seq = upto

    def prune(self) -> int:
        """Delete events outside the retention; returns how many."""
        cutoff = utcnow() - timedelta(hours=self.retention.hours)
        with self.db.write() as session:
            latest = latest_seq(session)
            result = session.execute(
                delete(EventLog).where(
                    EventLog.seq <= latest - self.retention.events,
                    EventLog.created_at < cutoff,
                    EventLog.seq <= self._marked_seq,
                )
            )
        return int(result.rowcount or 0)


def _decrement(counts: Counter[str], key: str) -> None:
    counts[key] -= 1
    if counts[key] <= 0:
        del counts[key]
