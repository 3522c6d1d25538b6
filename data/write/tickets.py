"""Ticket aggregate: opening a ticket and changing it along the workflow
(data/write/workflow.py), with its history rows and the events that say so. Runs inside an
outbox transaction (data/write/outbox.py); nothing here commits or publishes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, insert, select

from data.errors import NotFound, ServiceError
from data.events import (
    Changes,
    DashboardRefresh,
    DomainEvent,
    MaintenanceAlert,
    TicketStatusChange,
    TicketUpdated,
)
from data.read.records import TicketRow, ticket_etag, ticket_record
from data.store.models import StatusPeriod, Ticket, TicketHistory
from data.store.prepared import Prepared
from data.validation import MAX_ID, TicketCreate, TicketUpdate
from data.write import machines
from data.write.outbox import Transaction
from data.write.workflow import DONE_STATUSES, check_move

# Rendered once and run on the driver's cursor (data/store/prepared.py): they run for every
# new ticket, before its alert goes out.
_NEW_TICKET = Prepared(insert(Ticket.__table__).returning(Ticket.id))
_NEW_HISTORY = Prepared(insert(TicketHistory.__table__))
_OPEN_PERIOD = Prepared(
    select(StatusPeriod.id).where(
        StatusPeriod.machine_id == bindparam("machine_id"), StatusPeriod.ended_at.is_(None)
    )
)

# Status first: the workflow check refuses a bad move before anything else is written.
UPDATABLE = ("status", "assignee", "priority")


class PreconditionFailed(ServiceError):
    """The ticket changed since the client read it (its `If-Match` names an older ETag);
    `ticket` is the current one, with its history."""

    code = "precondition_failed"
    http_status = 412

    def __init__(self, ticket: dict[str, Any]) -> None:
        super().__init__(
            f"Ticket {ticket['id']} was changed by someone else since you read it; "
            "read it again and repeat your change.",
            {"version": ticket["version"]},
        )
        self.ticket = ticket


def create_ticket(tx: Transaction, form: TicketCreate, actor: str) -> dict[str, Any]:
    """Open a ticket (linked to the machine's open down period, if it is down) with its first
    history row; emits `maintenance_alert` + `dashboard_refresh`; returns the ticket's record."""
    conn = tx.connection
    machine = machines.machine_brief(conn, form.machine_id)
    down_period = None
    if machine.status == "down":
        down_period = _OPEN_PERIOD.scalar(conn, {"machine_id": machine.id})
    values = {
        "machine_id": machine.id,
        "title": form.title,
        "description": form.description,
        "priority": form.priority,
        "status": "open",
        "assignee": form.assignee or None,
        "reported_by": actor,
        "created_at": tx.now,
        "updated_at": tx.now,
        "down_period_id": down_period,
        "version": 1,
    }
    # One INSERT, past the ORM's unit of work (this runs before every new ticket's alert
    # goes out).
    ticket = TicketRow(id=_NEW_TICKET.scalar(conn, values), machine=machine, **values)
    _history(tx, ticket.id, "status", None, "open", actor)
    new = alert(ticket)
    tx.emit(new, DashboardRefresh.after(new))
    return ticket_record(ticket)


def update_ticket(
    tx: Transaction,
    ticket_id: int,
    form: TicketUpdate,
    actor: str,
    if_match: Callable[[str], bool] | None = None,
) -> dict[str, Any]:
    """Change status (along the workflow), assignee or priority; each change is history and
    every change is an event; resolving a ticket ends its machine's down period. A request
    that changes nothing writes nothing, not even `updated_at` or `version`: clients compare
    them to tell whether a ticket changed. Returns the ticket's record with its history.

    `if_match` is asked about the ticket's current ETag after the row is locked, so of two
    concurrent updates that read the same version only the first passes; the other gets
    PreconditionFailed with the ticket as the first one left it."""
    ticket = locked_ticket(tx, ticket_id)
    if if_match is not None and not if_match(ticket_etag(ticket.id, ticket.version)):
        raise PreconditionFailed(ticket_record(ticket, with_history=True))
    changes = requested_changes(ticket, form)
    events = apply_changes(tx, ticket, changes, actor)
    if changes.get("status", {}).get("new") == "resolved":
        repaired = machines.end_down_period(tx, ticket)
        if repaired is not None:
            events.append(repaired)
    if events:
        # The refresh names the ticket event: ticket_status_change or ticket_updated.
        tx.emit(*events, DashboardRefresh.after(events[0]))
    tx.session.refresh(ticket)  # the new history rows
    return ticket_record(ticket, with_history=True)


def alert(ticket: Ticket | TicketRow, old_priority: str | None = None) -> MaintenanceAlert:
    """The `maintenance_alert`: the same for a new ticket and an escalated one (which adds
    `escalated` and `old_priority`), so the UI's critical toast and the wall's takeover treat
    both alike."""
    return MaintenanceAlert(
        ticket_id=ticket.id,
        machine_id=ticket.machine_id,
        machine_name=ticket.machine.name,
        priority=ticket.priority,
        title=ticket.title,
        description=ticket.description,
        escalated=old_priority is not None,
        old_priority=old_priority,
    )


def locked_ticket(tx: Transaction, ticket_id: int) -> Ticket:
    """The ticket, row-locked on PostgreSQL (SQLite's write transaction is already exclusive),
    so two concurrent updates never both see the old value: history's `from` stays true and
    an escalation alerts once."""
    # OF tickets: the machine is joined in (an outer join), and PostgreSQL refuses to lock
    # the nullable side of one.
    lock = {"of": Ticket}
    ticket = (
        tx.session.get(Ticket, ticket_id, with_for_update=lock) if 0 < ticket_id <= MAX_ID else None
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
    tx: Transaction, ticket: Ticket, changes: Changes, actor: str
) -> list[DomainEvent]:
    """Write `changes` (a status move along the workflow only) with one history row each and
    return the ticket's events: `ticket_status_change` when the status moved, else
    `ticket_updated`, both carrying `changes`; plus a `maintenance_alert` when the ticket was
    raised to critical while still needing work. No changes: nothing written, no events."""
    if not changes:
        return []
    if "status" in changes:
        check_move(ticket.status, str(changes["status"]["new"]))
    for field, change in changes.items():
        _history(tx, ticket.id, field, change["old"], change["new"], actor)
        setattr(ticket, field, change["new"])
    if "status" in changes:
        _stamp_move(ticket, str(changes["status"]["old"]), tx)
    ticket.updated_at = tx.now
    ticket.version += 1
    tx.session.flush()
    after: dict[str, Any] = {
        "ticket_id": ticket.id,
        "machine_id": ticket.machine_id,
        "changes": changes,
        "priority": ticket.priority,
        "assignee": ticket.assignee,
        "status": ticket.status,
        "by": actor,
    }
    events: list[DomainEvent] = [TicketUpdated(**after)]
    if "status" in changes:
        # The contract's event for a move, with the changes of the same request alongside.
        move = changes["status"]
        old, new = str(move["old"]), str(move["new"])
        events = [TicketStatusChange(**after, old_status=old, new_status=new)]
    if escalated(changes, ticket.status):
        events.append(alert(ticket, old_priority=changes["priority"]["old"]))
    return events


def escalated(changes: Changes, status: str) -> bool:
    """Raised to critical from a lower priority on a ticket that still needs work."""
    return (
        changes.get("priority", {}).get("new") == "critical"
        and changes["priority"]["old"] != "critical"
        and status not in DONE_STATUSES
    )


def _stamp_move(ticket: Ticket, old: str, tx: Transaction) -> None:
    """The timestamps a status move sets: first response, resolved (cleared on reopen), closed."""
    new = ticket.status
    if old == "open" and ticket.first_response_at is None:
        ticket.first_response_at = tx.now
    if new == "resolved":
        ticket.resolved_at = tx.now
    elif new == "open":
        ticket.resolved_at = None
    if new == "closed":
        ticket.closed_at = tx.now


def _history(
    tx: Transaction, ticket_id: int, field: str, old: str | None, new: str | None, actor: str
) -> None:
    # Written at once, past the ORM's unit of work: readers of `ticket.history` refresh it.
    row = {
        "ticket_id": ticket_id,
        "field": field,
        "from_value": old,
        "to_value": new,
        "changed_by": actor,
        "changed_at": tx.now,
    }
    _NEW_HISTORY.execute(tx.connection, row).close()
