"""Read side of the shop-floor wall: per-area ticket counts and targets, downtime of a set of
machines, the open-ticket queue and the latest alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from data.read import downtime, kpis, plant_counts
from data.read.event_queries import latest_events
from data.read.records import ticket_record
from data.store.models import Machine, Ticket
from data.vocabulary import TICKET_PRIORITIES

ALERT_TYPES = ("maintenance_alert", "system_alert")
URGENCY = tuple(reversed(TICKET_PRIORITIES))  # critical first


def open_tickets_by_priority(session: Session, area: str | None) -> dict[str, int]:
    if area is None:
        return plant_counts.open_tickets_by_priority(session)
    rows = session.execute(
        select(Ticket.priority, func.count())
        .join(Machine, Machine.id == Ticket.machine_id)
        .where(Ticket.status.in_(plant_counts.OPEN_TICKET_STATUSES), Machine.area == area)
        .group_by(Ticket.priority)
    ).all()
    return kpis.full_counts(dict(rows), TICKET_PRIORITIES)  # type: ignore[arg-type]


def downtime_reasons(
    session: Session, lo: datetime, hi: datetime, machine_ids: list[int] | None, limit: int = 5
) -> list[dict[str, Any]]:
    """Top `down` reasons in [lo, hi) for the plant (None) or the given machines."""
    if machine_ids is not None and not machine_ids:
        return []
    df = downtime.downtime_by_reason(session, lo, hi, limit, machine_ids)
    if machine_ids is None:
        return df.to_dict("records")
    return df[["reason", "seconds"]].to_dict("records")


def open_ticket_list(session: Session, area: str | None, limit: int = 12) -> list[dict[str, Any]]:
    """The most urgent open tickets, oldest first within a priority (however old)."""
    rank = case({p: i for i, p in enumerate(URGENCY)}, value=Ticket.priority, else_=9)
    stmt = (
        select(Ticket)
        .join(Machine, Machine.id == Ticket.machine_id)
        .where(Ticket.status.in_(plant_counts.OPEN_TICKET_STATUSES))
        .order_by(rank, Ticket.created_at, Ticket.id)
        .limit(limit)
    )
    if area is not None:
        stmt = stmt.where(Machine.area == area)
    return [ticket_record(t) for t in session.scalars(stmt).unique()]


def latest_alerts(session: Session, limit: int = 3) -> list[dict[str, Any]]:
    """The newest ticket and system alerts as frames, newest first."""
    return [e.to_frame() for e in latest_events(session, ALERT_TYPES, limit)]
