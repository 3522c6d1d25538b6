"""Ticket search: one filter model shared by the list, the export and the grid."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy import Select, String, func, or_, select
from sqlalchemy.orm import Session, joinedload

from data.read.records import ticket_record
from data.store.models import Machine, Ticket
from data.store.sqltypes import as_utc
from data.validation import MAX_ID, _Input, in_range, parse
from data.vocabulary import TICKET_PRIORITIES, TICKET_STATUSES

SORTABLE = {
    "id": Ticket.id,
    "created_at": Ticket.created_at,
    "updated_at": Ticket.updated_at,
    "resolved_at": Ticket.resolved_at,
    "priority": Ticket.priority,
    "status": Ticket.status,
    "title": Ticket.title,
    "assignee": Ticket.assignee,
    "machine_id": Ticket.machine_id,
    "machine_name": Machine.name,
}
# Priority sorts by severity, not alphabetically.
_PRIORITY_RANK = {p: i for i, p in enumerate(TICKET_PRIORITIES)}
MAX_LIMIT = 1000


class TicketFilter(_Input):
    status: list[str] | None = None
    priority: list[str] | None = None
    machine_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    q: str | None = Field(default=None, max_length=200)
    created_from: datetime | None = None
    created_to: datetime | None = None
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0, le=MAX_ID)
    sort: str = "-created_at"

    @field_validator("status")
    @classmethod
    def _statuses(cls, value: list[str] | None) -> list[str] | None:
        return _one_of(value, TICKET_STATUSES)

    @field_validator("priority")
    @classmethod
    def _priorities(cls, value: list[str] | None) -> list[str] | None:
        return _one_of(value, TICKET_PRIORITIES)

    @field_validator("created_from", "created_to")
    @classmethod
    def _times(cls, value: datetime | None) -> datetime | None:
        return in_range(value)

    @field_validator("sort")
    @classmethod
    def _sort(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip().lstrip("-+") not in SORTABLE:
                raise ValueError(f"unknown sort field {part!r}; use one of {', '.join(SORTABLE)}")
        return value


def _one_of(value: list[str] | None, allowed: tuple[str, ...]) -> list[str] | None:
    if value is None:
        return None
    bad = [v for v in value if v not in allowed]
    if bad:
        raise ValueError(f"unknown value(s) {', '.join(bad)}; use {', '.join(allowed)}")
    return value


def parse_ticket_filter(args: Mapping[str, str]) -> TicketFilter:
    """Query-string arguments (comma lists allowed) into a TicketFilter, or ValidationFailed."""
    payload: dict[str, Any] = {}
    for key, raw in args.items():
        if key in ("status", "priority"):
            payload[key] = [v.strip() for v in raw.split(",") if v.strip()] or None
        elif raw != "":
            payload[key] = raw
    return parse(TicketFilter, payload)


def _filtered(f: TicketFilter) -> Select[Any]:
    stmt = select(Ticket).join(Machine, Ticket.machine_id == Machine.id)
    if f.status:
        stmt = stmt.where(Ticket.status.in_(f.status))
    if f.priority:
        stmt = stmt.where(Ticket.priority.in_(f.priority))
    if f.machine_id is not None:
        stmt = stmt.where(Ticket.machine_id == f.machine_id)
    if f.q:
        # Plain text, not a pattern: autoescape makes `%`, `_` (and the escape character `/`)
        # match themselves on SQLite and PostgreSQL alike, so `q=%` no longer matches every
        # ticket. Shared by the list, the grid, the CSV download and the CLI export.
        needle = f.q.lower()
        stmt = stmt.where(
            or_(
                *(
                    func.lower(column, type_=String).contains(needle, autoescape=True)
                    for column in (Ticket.title, Ticket.description, Machine.name)
                )
            )
        )
    if f.created_from is not None:
        stmt = stmt.where(Ticket.created_at >= as_utc(f.created_from))
    if f.created_to is not None:
        stmt = stmt.where(Ticket.created_at < as_utc(f.created_to))
    return stmt


def _ordered(stmt: Select[Any], sort: str) -> Select[Any]:
    from sqlalchemy import case

    order = []
    for part in sort.split(","):
        part = part.strip()
        desc = part.startswith("-")
        name = part.lstrip("-+")
        col: Any = SORTABLE[name]
        if name == "priority":
            col = case(_PRIORITY_RANK, value=Ticket.priority)
        order.append(col.desc() if desc else col.asc())
    order.append(Ticket.id.desc() if sort.strip().startswith("-") else Ticket.id.asc())
    return stmt.order_by(*order)


def search_tickets(session: Session, f: TicketFilter) -> dict[str, Any]:
    """One page of tickets and the total that match."""
    base = _filtered(f)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    stmt = (
        _ordered(base, f.sort).options(joinedload(Ticket.machine)).limit(f.limit).offset(f.offset)
    )
    items = [ticket_record(t) for t in session.scalars(stmt).unique()]
    return {"items": items, "total": total}


def select_matching(f: TicketFilter, *columns: Any) -> Select[Any]:
    """`columns` (of Ticket and Machine, joined) of every ticket matching `f`, in the list's
    sort order; limit and offset are ignored. For readers that stream plain rows (the export)."""
    stmt = _filtered(f).with_only_columns(*columns, maintain_column_froms=False)
    return _ordered(stmt, f.sort)


def count_matching(session: Session, f: TicketFilter) -> int:
    """How many tickets match `f` (limit and offset ignored)."""
    return session.scalar(select(func.count()).select_from(_filtered(f).subquery())) or 0


def get_ticket(session: Session, ticket_id: int) -> Ticket | None:
    return session.get(Ticket, ticket_id) if 0 < ticket_id <= MAX_ID else None


def ticket_matches(session: Session, f: TicketFilter, ticket_id: int) -> bool:
    """Whether ticket `ticket_id` is among those `f` selects (limit and offset ignored)."""
    stmt = _filtered(f).where(Ticket.id == ticket_id).with_only_columns(Ticket.id)
    return session.scalar(stmt.limit(1)) is not None


def ticket_versions(session: Session, ids: list[int]) -> dict[int, int]:
    """Each ticket's version (what its ETag names), by id."""
    if not ids:
        return {}
    rows = session.execute(select(Ticket.id, Ticket.version).where(Ticket.id.in_(ids)))
    return {int(i): int(v) for i, v in rows}
