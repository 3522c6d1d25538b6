"""Reading the event log: replay for resuming sockets and the polling endpoint."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from data.events import ALL, Event
from data.models import EventLog


def latest_seq(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(EventLog.seq), 0))) or 0)


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
    return [
        Event(seq=r.seq, type=r.type, topic=r.topic, timestamp=r.created_at, data=r.payload)
        for r in rows
    ]
