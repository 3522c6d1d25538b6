"""Plant-wide counts right now: open tickets per priority, machines per status."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.read import kpis
from data.store.models import Machine, Ticket
from data.vocabulary import MACHINE_STATUSES, TICKET_PRIORITIES

OPEN_TICKET_STATUSES = ("open", "in_progress", "on_hold")


def open_tickets_by_priority(session: Session) -> dict[str, int]:
    """Tickets in status open, in_progress or on_hold, counted per priority (all four keys)."""
    rows = session.execute(
        select(Ticket.priority, func.count())
        .where(Ticket.status.in_(OPEN_TICKET_STATUSES))
        .group_by(Ticket.priority)
    ).all()
    return kpis.full_counts(dict(rows), TICKET_PRIORITIES)  # type: ignore[arg-type]


def machines_by_status(session: Session) -> dict[str, int]:
    """Machines counted by current status (all six statuses present)."""
    rows = session.execute(select(Machine.status, func.count()).group_by(Machine.status)).all()
    return kpis.full_counts(dict(rows), MACHINE_STATUSES)  # type: ignore[arg-type]
