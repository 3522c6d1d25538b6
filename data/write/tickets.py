"""Ticket write side: the rows that opening or changing a ticket writes, and the events that
say so. `Services` (data/write/services.py) runs these inside its transaction and appends the events
to the outbox; nothing here commits or publishes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.errors import Conflict, NotFound
from data.store.models import Machine, StatusPeriod, Ticket, TicketHistory
from data.validation import MAX_ID, TicketCreate, TicketUpdate

# Allowed ticket moves (CONTRACT §2); everything else is refused with a reason.
WORKFLOW: dict[str, tuple[str, ...]] = {
    "open": ("in_progress", "on_hold", "cancelled"),
    "in_progress": ("on_hold", "resolved"),
    "on_hold": ("in_progress", "resolved", "cancelled"),
    "resolved": ("closed", "open"),
    "closed": (),
    "cancelled": (),
}
# A ticket in one of these needs nobody any more: raising its priority alerts no one.
DONE_STATUSES = ("resolved", "closed", "cancelled")
# Status first: the workflow check refuses a bad move before anything else is written.
UPDATABLE = ("status", "assignee", "priority")

PendingEvent = tuple[str, dict[str, Any]]
Changes = dict[str, dict[str, str | None]]


def open_ticket(
    session: Session, form: TicketCreate, machine: Machine, actor: str, now: datetime
) -> tuple[Ticket, list[PendingEvent]]:
    """Insert a ticket (linked to the machine's open down period, if it is down), its first
    history row, and its `maintenance_alert` + `dashboard_refresh`."""
    down_period = None
    if machine.status == "down":
        down_period = session.scalar(
            select(StatusPeriod.id).where(
                StatusPeriod.machine_id == machine.id, StatusPeriod.ended_at.is_(None)
            )
        )
    ticket = Ticket(
        machine_id=machine.id,
        title=form.title,
        description=form.description,
        priority=form.priority,
        status="open",
        assignee=form.assignee or None,
        reported_by=actor,
        created_at=now,
        updated_at=now,
        down_period_id=down_period,
    )
    session.add(ticket)
    session.flush()
    _history(session, ticket, "status", None, "open", actor, now)
    session.flush()
    session.refresh(ticket)
    return ticket, [
        ("maintenance_alert", alert(ticket)),
        ("dashboard_refresh", {"refresh_all": False, "reason": "maintenance_alert"}),
    ]


def alert(ticket: Ticket, **extra: Any) -> dict[str, Any]:
    """The `maintenance_alert` payload: the same for a new ticket and an escalated one, so the
    UI's critical toast and the wall's takeover treat both alike."""
    return {
        "ticket_id": ticket.id,
        "machine_id": ticket.machine_id,
        "machine_name": ticket.machine.name,
        "priority": ticket.priority,
        "title": ticket.title,
        "description": ticket.description,
        **extra,
    }


def locked_ticket(session: Session, ticket_id: int) -> Ticket:
    """The ticket, row-locked on PostgreSQL (SQLite's write transaction is already exclusive),
    so two concurrent updates never both see the old value: history's `from` stays true and
    an escalation alerts once."""
    # OF tickets: the machine is joined in (an outer join), and PostgreSQL refuses to lock
    # the nullable side of one.
    lock = {"of": Ticket}
    ticket = (
        session.get(Ticket, ticket_id, with_for_update=lock) if 0 < ticket_id <= MAX_ID else None
    )
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} does not exist.")
    return ticket


def requested_changes(ticket: Ticket, form: TicketUpdate) -> Changes:
    """What `form` really changes: {field: {"old", "new"}}. A field that is absent, repeats the
    current value, or sets priority/status to null (neither may be empty) is no change."""
    given = form.model_dump(exclude_unset=True)
    if "assignee" in given:
        given["assignee"] = given["assignee"] or None  # "" clears, like None
    changes: Changes = {}
    for field in UPDATABLE:
        if field not in given:
            continue
        new, old = given[field], getattr(ticket, field)
        if new == old or (new is None and field != "assignee"):
            continue
        changes[field] = {"old": old, "new": new}
    return changes


def apply_changes(
    session: Session, ticket: Ticket, changes: Changes, actor: str, now: datetime
) -> list[PendingEvent]:
    """Write `changes` (a status move along the workflow only) with one history row each and
    return the ticket's events: `ticket_status_change` when the status moved, else
    `ticket_updated`, both carrying `changes`; plus a `maintenance_alert` when the ticket was
    raised to critical while still needing work. No changes: nothing written, no events."""
    if not changes:
        return []
    if "status" in changes:
        _check_move(ticket.status, str(changes["status"]["new"]))
    for field, change in changes.items():
        _history(session, ticket, field, change["old"], change["new"], actor, now)
        setattr(ticket, field, change["new"])
    if "status" in changes:
        _stamp_move(ticket, str(changes["status"]["old"]), now)
    ticket.updated_at = now
    session.flush()
    base = {
        "ticket_id": ticket.id,
        "machine_id": ticket.machine_id,
        "changes": changes,
        "priority": ticket.priority,
        "assignee": ticket.assignee,
        "status": ticket.status,
        "by": actor,
    }
    pending: list[PendingEvent] = [("ticket_updated", base)]
    if "status" in changes:
        # The contract's event for a move, with the changes of the same request alongside.
        move = {"old_status": changes["status"]["old"], "new_status": changes["status"]["new"]}
        pending = [("ticket_status_change", {**base, **move})]
    if escalated(changes, ticket.status):
        old = changes["priority"]["old"]
        pending.append(("maintenance_alert", alert(ticket, escalated=True, old_priority=old)))
    return pending


def escalated(changes: Changes, status: str) -> bool:
    """Raised to critical from a lower priority on a ticket that still needs work."""
    return (
        changes.get("priority", {}).get("new") == "critical"
        and changes["priority"]["old"] != "critical"
        and status not in DONE_STATUSES
    )


def _check_move(old: str, new: str) -> None:
    if new not in WORKFLOW[old]:
        allowed = ", ".join(WORKFLOW[old]) or "none (final state)"
        raise Conflict(
            f"A ticket cannot move from {old} to {new}; allowed from {old}: {allowed}.",
            {"from": old, "to": new, "allowed": list(WORKFLOW[old])},
        )


def _stamp_move(ticket: Ticket, old: str, now: datetime) -> None:
    """The timestamps a status move sets: first response, resolved (cleared on reopen), closed."""
    new = ticket.status
    if old == "open" and ticket.first_response_at is None:
        ticket.first_response_at = now
    if new == "resolved":
        ticket.resolved_at = now
    elif new == "open":
        ticket.resolved_at = None
    if new == "closed":
        ticket.closed_at = now


def _history(
    session: Session,
    ticket: Ticket,
    field: str,
    old: str | None,
    new: str | None,
    actor: str,
    now: datetime,
) -> None:
    session.add(
        TicketHistory(
            ticket_id=ticket.id,
            field=field,
            from_value=old,
            to_value=new,
            changed_by=actor,
            changed_at=now,
        )
    )
