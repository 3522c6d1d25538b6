"""The transactional outbox: one serialised write transaction per service call, its events
appended to the event log with a gap-free seq inside it, published after commit."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from data.events import DomainEvent, Event, NullPublisher, Publisher
from data.store.db import Database
from data.store.models import EventLog
from data.store.sqltypes import utcnow

# Any constant works; it names the lock that serialises event-log appends on PostgreSQL.
_EVENT_LOCK_KEY = 7_340_001
# Built once: every write runs them, and a statement built per call costs more than the
# query itself (its cache key and result map are made again each time).
_EVENT_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_LAST_SEQ = select(func.coalesce(func.max(EventLog.seq), 0))
_APPEND = insert(EventLog.__table__)  # one INSERT for all of a write's events


@dataclass
class Transaction:
    """One write in progress: its session, its time, the events it emits; after commit,
    `committed` holds them with their seq."""

    session: Session
    now: datetime
    events: list[DomainEvent] = field(default_factory=list)
    committed: list[Event] = field(default_factory=list)

    def emit(self, *events: DomainEvent) -> None:
        """Record events; they are appended to the log when the transaction ends."""
        self.events.extend(events)


class Outbox:
    """Runs writes: `with outbox.write() as tx:` changes rows through `tx.session` and emits
    events with `tx.emit`; leaving the block appends them, commits, then publishes."""

    def __init__(
        self,
        db: Database,
        publisher: Publisher | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.publisher: Publisher = publisher or NullPublisher()
        self.clock = clock

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        """A serialised write transaction; an exception rolls back rows and events alike and
        publishes nothing."""
        now = self.clock()
        with self.db.write() as session:
            tx = Transaction(session, now)
            yield tx
            tx.committed = self.append(session, tx.events, now)
        if tx.committed:
            self.publisher.publish(tx.committed)

    def append(self, session: Session, events: Sequence[DomainEvent], now: datetime) -> list[Event]:
        """Append to the event log inside the caller's transaction; seq stays gap-free because
        writers are serialised (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock) and a
        rollback removes the rows along with the change."""
        if not events:
            return []
        # The rows first: the event lock is the last lock a write takes, and the statements
        # below go past the session (they would not flush it).
        session.flush()
        conn = session.connection()
        if not self.db.is_sqlite:
            conn.execute(_EVENT_LOCK, {"k": _EVENT_LOCK_KEY})
        last = conn.execute(_LAST_SEQ).scalar() or 0
        committed = [
            Event(seq=seq, type=event.type, topic=event.topic, timestamp=now, data=event.data())
            for seq, event in enumerate(events, start=last + 1)
        ]
        # Without the ORM's unit of work: nothing reads them back.
        rows = [
            {"seq": e.seq, "type": e.type, "topic": e.topic, "payload": e.data, "created_at": now}
            for e in committed
        ]
        conn.execute(_APPEND, rows)
        return committed
