"""Why each machine is in its state, and since when: the machines page's cards and the wall's
cells read this one query.

Per machine: its status, the reason of its current status period, since when, how many
tickets are open on it (open, in progress, on hold), the highest priority among them, and its
lead ticket: the most urgent open ticket, the newest among equally urgent ones (so an old
critical ticket is not hidden behind a newer low one). The lead ticket's id, title, priority
and assignee come along.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from data.read.plant_counts import OPEN_TICKET_STATUSES
from data.read.records import iso
from data.store.models import Machine, StatusPeriod, Ticket
from data.vocabulary import TICKET_PRIORITIES

# low 0 ... critical 3: a higher rank is more urgent.
_RANK = case({p: i for i, p in enumerate(TICKET_PRIORITIES)}, value=Ticket.priority, else_=-1)


def _open_tickets() -> Any:
    """Open tickets ranked per machine (1 = lead ticket), with the machine's open count."""
    order = (_RANK.desc(), Ticket.created_at.desc(), Ticket.id.desc())
    return (
        select(
            Ticket.machine_id,
            Ticket.id,
            Ticket.title,
            Ticket.priority,
            Ticket.assignee,
            func.row_number().over(partition_by=Ticket.machine_id, order_by=order).label("rn"),
            func.count().over(partition_by=Ticket.machine_id).label("n"),
        )
        .where(Ticket.status.in_(OPEN_TICKET_STATUSES))
        .subquery()
    )


def _current_periods() -> Any:
    """Each machine's open status period (the newest, should a machine have two)."""
    order = (StatusPeriod.started_at.desc(), StatusPeriod.id.desc())
    return (
        select(
            StatusPeriod.machine_id,
            StatusPeriod.reason,
            func.row_number()
            .over(partition_by=StatusPeriod.machine_id, order_by=order)
            .label("rn"),
        )
        .where(StatusPeriod.ended_at.is_(None))
        .subquery()
    )


def machine_states(session: Session, area: str | None = None) -> list[dict[str, Any]]:
    """Every machine (of one area, or all), ordered by area then name: id, name, area, kind,
    status, reason (None without one), since (ISO 8601 UTC), open_tickets (count),
    top_priority (None without open tickets), ticket_id, ticket_title, ticket_priority and
    assignee of the lead ticket (None without one)."""
    t = _open_tickets()
    p = _current_periods()
    stmt = (
        select(
            Machine.id,
            Machine.name,
            Machine.area,
            Machine.kind,
            Machine.status,
            Machine.status_since,
            p.c.reason,
            func.coalesce(t.c.n, 0).label("n"),
            t.c.id.label("ticket_id"),
            t.c.title.label("ticket_title"),
            t.c.priority.label("ticket_priority"),
            t.c.assignee,
        )
        .outerjoin(p, and_(p.c.machine_id == Machine.id, p.c.rn == 1))
        .outerjoin(t, and_(t.c.machine_id == Machine.id, t.c.rn == 1))
        .order_by(Machine.area, Machine.name)
    )
    if area is not None:
        stmt = stmt.where(Machine.area == area)
    return [
        {
            "id": r.id,
            "name": r.name,
            "area": r.area,
            "kind": r.kind,
            "status": r.status,
            "reason": r.reason or None,
            "since": iso(r.status_since),
            "open_tickets": int(r.n),
            "top_priority": r.ticket_priority,
            "ticket_id": r.ticket_id,
            "ticket_title": r.ticket_title,
            "ticket_priority": r.ticket_priority,
            "assignee": r.assignee or None,
        }
        for r in session.execute(stmt)
    ]
