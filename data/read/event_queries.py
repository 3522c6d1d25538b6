"""Reading the event log: replay for resuming sockets and the polling endpoint."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, func, or_, select
from sqlalchemy.orm import Session

from data.events import ALL, Event
from data.store.models import EventLog
from data.store.prepared import Prepared

# Rendered once, run on the driver's cursor: every write asks it (data/write/outbox.py), and
# the relay twice a second.
_LATEST = Prepared(select(func.coalesce(func.max(EventLog.seq), 0)))


def latest_seq(source: Session | Connection) -> int:
    """The newest event's seq; 0 while the log is empty."""
    conn = source.connection() if isinstance(source, Session) else source
    return int(_LATEST.scalar(conn) or 0)


def oldest_seq(session: Session) -> int | None:
    return session.scalar(select(func.min(EventLog.seq)))


def events_after(
    session: Session, since: int, topics: Iterable[str] | None = None, limit: int = 1000
) -> list[Event]:
    """Events with seq > since, in order, matching `topics` (system alerts always match)."""
    stmt = select(EventLog).where(EventLog.seq > since)
    wanted = set(topics or [ALL])
    if ALL not in wanted:
        stmt = stmt.where(or_(EventLog.topic.in_(wanted), EventLog.topic == ALL))
    rows = session.scalars(stmt.order_by(EventLog.seq).limit(limit))
    return [_event(r) for r in rows]


def latest_events(session: Session, types: Iterable[str], limit: int) -> list[Event]:
    """The newest `limit` events of the given types, newest first."""
    rows = session.scalars(
        select(EventLog)
        .where(EventLog.type.in_(tuple(types)))
        .order_by(EventLog.seq.desc())
        .limit(limit)
    )
    return [_event(r) for r in rows]


def _event(row: EventLog) -> Event:
    return Event(
        seq=row.seq, type=row.type, topic=row.topic, timestamp=row.created_at, data=row.payload
    )
