"""SQLAlchemy 2 typed models: the plant, its history, tickets, the event log and access.
Statuses and priorities are plain strings; their values are in data/vocabulary.py, and
validation keeps to them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from data.store.sqltypes import UTCDateTime, utcnow


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class Machine(Base):
    __tablename__ = "machines"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    area: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    ideal_cycle_time_s: Mapped[float]
    status: Mapped[str] = mapped_column(String(20), default="idle")
    status_since: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StatusPeriod(Base):
    """One continuous stretch of a machine in one status; `ended_at` NULL while current."""

    __tablename__ = "status_periods"
    __table_args__ = (
        Index("ix_status_periods_machine_started", "machine_id", "started_at"),
        Index("ix_status_periods_started", "started_at"),
        Index("ix_status_periods_ended", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class ProductionCount(Base):
    """Parts made by a machine, reported at `ts` (good and scrap)."""

    __tablename__ = "production_counts"
    __table_args__ = (
        Index("ix_production_machine_ts", "machine_id", "ts"),
        Index("ix_production_ts", "ts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    ts: Mapped[datetime]
    good: Mapped[int] = mapped_column(Integer)
    scrap: Mapped[int] = mapped_column(Integer)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_priority", "status", "priority"),
        Index("ix_tickets_created", "created_at"),
        Index("ix_tickets_machine", "machine_id"),
        Index("ix_tickets_assignee", "assignee"),
        Index("ix_tickets_reported_by", "reported_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open")
    assignee: Mapped[str | None] = mapped_column(String(120))
    reported_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    down_period_id: Mapped[int | None] = mapped_column(ForeignKey("status_periods.id"))
    # Raised by every change (data/write/tickets.py): the ticket's ETag names it, so a client
    # that changes a ticket with If-Match knows nobody changed it since it was read.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    machine: Mapped[Machine] = relationship(lazy="joined")
    history: Mapped[list[TicketHistory]] = relationship(
        order_by="TicketHistory.id", lazy="selectin", cascade="all, delete-orphan"
    )


class TicketHistory(Base):
    """One change of one ticket field: who, when, from, to."""

    __tablename__ = "ticket_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    field: Mapped[str] = mapped_column(String(20))
    from_value: Mapped[str | None] = mapped_column(String(120))
    to_value: Mapped[str | None] = mapped_column(String(120))
    changed_by: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class EventLog(Base):
    """The transactional outbox; `seq` is the global, gap-free event position."""

    __tablename__ = "event_log"
    __table_args__ = (Index("ix_event_log_created", "created_at"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(40))
    topic: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(index=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]


class ApiToken(Base):
    """An API token; only the SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class UiSession(Base):
    """A signed-in browser session; revoking it ends the session everywhere, sockets included."""

    __tablename__ = "ui_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class PlantCalendar(Base):
    """The plant's time zone (one row). `edited_at` is NULL until an admin saves the calendar:
    until then the zone follows the server's configured default."""

    __tablename__ = "plant_calendar"

    id: Mapped[int] = mapped_column(primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    edited_at: Mapped[datetime | None]
    # New and random at every change: readers cache the parsed calendar under it.
    stamp: Mapped[str] = mapped_column(String(32), default=lambda: uuid.uuid4().hex)


class ShiftRow(Base):
    """A named shift in plant-local time: start and end as HH:MM, weekdays as "mon,tue,...",
    breaks as a JSON list of {"start", "end"}; `position` keeps the order an admin gave."""

    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40))
    start: Mapped[str] = mapped_column(String(5))
    end: Mapped[str] = mapped_column(String(5))
    days: Mapped[str] = mapped_column(String(27))
    breaks: Mapped[list[dict[str, str]]] = mapped_column(JSON)


class PlannedStopRow(Base):
    """Planned time without production (holiday, break, planned maintenance) for the plant
    (`machine_id` NULL) or one machine."""

    __tablename__ = "planned_stops"
    __table_args__ = (Index("ix_planned_stops_start", "start_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    machine_id: Mapped[int | None] = mapped_column(ForeignKey("machines.id"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(200), default="")


class KpiDay(Base):
    """One machine's KPI sums over one closed plant-local day [day_lo, day_hi): a rollup that
    long windows read instead of the day's history. Rows are dropped when the calendar changes
    and when history inside the day is written (data/write)."""

    __tablename__ = "kpi_days"
    __table_args__ = (Index("ix_kpi_days_day", "day"),)

    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    day_lo: Mapped[datetime]
    day_hi: Mapped[datetime]
    running_s: Mapped[float]
    offline_s: Mapped[float]
    failures: Mapped[int] = mapped_column(Integer)
    repairs: Mapped[int] = mapped_column(Integer)
    repair_s: Mapped[float]
    good: Mapped[int] = mapped_column(Integer)
    scrap: Mapped[int] = mapped_column(Integer)
    ideal_s: Mapped[float]
    planned_s: Mapped[float]
    running_planned_s: Mapped[float]
    calendar_s: Mapped[float]
    target_good: Mapped[float]
