"""Plain-dict forms of rows, as the API and the UI show them (times ISO 8601 UTC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from data.store.models import Machine, Ticket


class Named(Protocol):
    name: str


@dataclass(frozen=True, slots=True)
class TicketRow:
    """A ticket just inserted, as its record and its alert read it: its columns and its
    machine (not an entity: the ORM's bookkeeping costs more than the INSERT)."""

    id: int
    machine: Named
    machine_id: int
    title: str
    description: str
    priority: str
    status: str
    assignee: str | None
    reported_by: str
    created_at: datetime
    updated_at: datetime
    down_period_id: int | None
    version: int
    resolved_at: datetime | None = None


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z suffix, or None."""
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def machine_record(machine: Machine, utilization_24h: float) -> dict[str, Any]:
    return {
        "id": machine.id,
        "name": machine.name,
        "area": machine.area,
        "kind": machine.kind,
        "status": machine.status,
        "status_since": iso(machine.status_since),
        "utilization_24h": round(utilization_24h, 4),
    }


def ticket_etag(ticket_id: int, version: int) -> str:
    """The ticket's entity tag (unquoted): strong, it changes with every change of the ticket.
    `GET /tickets/<id>` sends it quoted as `ETag`; `PATCH` compares `If-Match` with it."""
    return f"ticket-{ticket_id}-v{version}"


def ticket_record(ticket: Ticket | TicketRow, with_history: bool = False) -> dict[str, Any]:
    """A ticket as the API answers it. The detailed form (`with_history`, what GET and PATCH
    of one ticket answer, of a Ticket) adds its history and its `version`, which rises with
    every change (see ticket_etag)."""
    record: dict[str, Any] = {
        "id": ticket.id,
        "machine_id": ticket.machine_id,
        "machine_name": ticket.machine.name,
        "title": ticket.title,
        "description": ticket.description,
        "priority": ticket.priority,
        "status": ticket.status,
        "assignee": ticket.assignee,
        "reported_by": ticket.reported_by,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "resolved_at": iso(ticket.resolved_at),
    }
    if with_history:
        assert isinstance(ticket, Ticket)
        record["version"] = ticket.version
        record["history"] = [
            {
                "field": h.field,
                "from": h.from_value,
                "to": h.to_value,
                "by": h.changed_by,
                "at": iso(h.changed_at),
            }
            for h in ticket.history
        ]
    return record
