"""The transactional outbox: one serialised write transaction per service call, its events
appended to the event log with a gap-free seq inside it, published after commit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, select
from sqlalchemy.orm import Session

from data.events import DomainEvent, Event, NullPublisher, Publisher
from data.read.event_queries import latest_seq
from data.store.db import Database
from data.store.models import EventLog
from data.store.prepared import Prepared
from data.store.sqltypes import utcnow

# Any constant works; it names the lock that serialises event-log appends on PostgreSQL.
_EVENT_LOCK_KEY = 7_340_001
# Rendered once and run on the driver's cursor (data/store/prepared.py): every write runs
# them, before its events can go out.
_EVENT_LOCK = Prepared(select(func.pg_advisory_xact_lock(bindparam("k"))))
_APPEND = Prepared(insert(EventLog.__table__))  # one driver call for all of a write's events


@dataclass
class Transaction:
    """One write in progress: its connection (in the transaction), its time, the events it
    emits; after commit, `committed` holds them with their seq.

    `session` is an ORM session in the same transaction, opened when an aggregate first asks
    for it: a write that runs only prepared statements on `connection` (a new ticket) never
    pays for one."""

    connection: Connection
    now: datetime
    events: list[DomainEvent] = field(default_factory=list)
    committed: list[Event] = field(default_factory=list)
    _session: Session | None = field(default=None, repr=False)

    @classmethod
    def in_session(cls, session: Session, now: datetime) -> Transaction:
        """A transaction that runs in `session`'s (whoever made it commits it)."""
        return cls(session.connection(), now, _session=session)

    @property
    def session(self) -> Session:
        if self._session is None:
            # Joined to the connection's transaction: it flushes into it and never commits
            # or rolls it back; the outbox does.
            self._session = Session(bind=self.connection, expire_on_commit=False)
        return self._session

    def flush(self) -> None:
        """Write what the session holds (if one was opened) into the transaction."""
        if self._session is not None:
            self._session.flush()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def emit(self, *events: DomainEvent) -> None:
        """Record events; they are appended to the log when the transaction ends."""
        self.events.extend(events)


class Outbox:
    """Runs writes: `with outbox.write() as tx:` changes rows through `tx.session` (or with
    statements on `tx.connection`) and emits events with `tx.emit`; leaving the block appends
    them, commits, then publishes."""

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
        with self.db.transaction() as conn:
            tx = Transaction(conn, now)
            try:
                yield tx
                # The rows first: the event lock is the last lock a write takes, and the
                # statements of `append` go past the session (they would not flush it).
                tx.flush()
                tx.committed = self.append(tx)
            finally:
                tx.close()
        if tx.committed:
            self.publisher.publish(tx.committed)

    def append(self, tx: Transaction) -> list[Event]:
        """Append `tx`'s events to the event log inside its transaction, after its rows were
        flushed (`write` does that); seq stays gap-free because writers are serialised
        (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock) and a rollback removes the
        rows along with the change."""
        events, now = tx.events, tx.now
        if not events:
            return []
        conn = tx.connection
        if not self.db.is_sqlite:
            _EVENT_LOCK.execute(conn, {"k": _EVENT_LOCK_KEY}).close()
        last = latest_seq(conn)
        committed = [
            Event(seq=seq, type=event.type, topic=event.topic, timestamp=now, data=event.data())
            for seq, event in enumerate(events, start=last + 1)
        ]
        # Without the ORM's unit of work: nothing reads them back.
        rows = [
            {"seq": e.seq, "type": e.type, "topic": e.topic, "payload": e.data, "created_at": now}
            for e in committed
        ]
        _APPEND.execute_many(conn, rows)
        return committed
