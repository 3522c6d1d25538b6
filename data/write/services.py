"""The only writers. Each call changes rows and appends its events to the event log in one
transaction, then hands the committed events to the injected publisher."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from data.errors import NotFound
from data.events import EVENT_TOPICS, Event, NullPublisher, Publisher
from data.read import queries
from data.read.records import machine_record, ticket_record
from data.store.db import Database
from data.store.models import EventLog, Machine, ProductionCount, StatusPeriod, Ticket
from data.store.sqltypes import as_utc, utcnow
from data.validation import (
    MAX_ID,
    ProductionReport,
    StatusReport,
    TicketCreate,
    TicketUpdate,
    parse,
)
from data.write import tickets as ticket_service
from data.write.tickets import WORKFLOW, PendingEvent

# Any constant works; it names the lock that serialises event-log appends on PostgreSQL.
_EVENT_LOCK_KEY = 7_340_001

__all__ = ["WORKFLOW", "PendingEvent", "Services"]  # WORKFLOW: re-exported for callers


class Services:
    """Write side of the plant. `publisher` gets events after commit; `clock` is injectable."""

    def __init__(
        self,
        db: Database,
        publisher: Publisher | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.publisher: Publisher = publisher or NullPublisher()
        self.clock = clock

    # -- machines ---------------------------------------------------------------------------

    def report_status(
        self, machine_id: int, payload: dict[str, Any], actor: str = "system"
    ) -> dict[str, Any]:
        """Set a machine's status; closes the current period and opens a new one."""
        report = parse(StatusReport, payload)
        now = self.clock()
        with self.db.write() as session:
            machine = _machine(session, machine_id)
            pending = self._change_status(session, machine, report.status, report.reason, now)
            events = self._append(session, pending, now)
            util = queries.machine_utilization(session, machine.id, now - timedelta(hours=24), now)
            record = machine_record(machine, util)
        self._publish(events)
        return record

    def _change_status(
        self, session: Session, machine: Machine, status: str, reason: str | None, now: datetime
    ) -> list[PendingEvent]:
        old = machine.status
        current = session.scalars(
            select(StatusPeriod).where(
                StatusPeriod.machine_id == machine.id, StatusPeriod.ended_at.is_(None)
            )
        ).all()
        if status == old and len(current) == 1:
            # The same status again (a new reason, say) continues the period: one breakdown
            # stays one failure for MTBF and one repair for MTTR.
            if reason is not None:
                current[0].reason = reason
        else:
            for period in current:
                period.ended_at = max(now, period.started_at)
            session.add(
                StatusPeriod(machine_id=machine.id, status=status, reason=reason, started_at=now)
            )
            machine.status = status
            machine.status_since = now
        session.flush()
        util = queries.machine_utilization(session, machine.id, now - timedelta(hours=24), now)
        return [
            (
                "machine_status_update",
                {
                    "machine_id": machine.id,
                    "machine_name": machine.name,
                    "area": machine.area,
                    "status": status,
                    "old_status": old,
                    "reason": reason,
                    "utilization": round(util, 4),
                },
            ),
            ("dashboard_refresh", {"refresh_all": False, "reason": "machine_status_update"}),
        ]

    def record_production(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Add good and scrap parts for a machine at `ts` (default now)."""
        report = parse(ProductionReport, payload)
        now = self.clock()
        ts = as_utc(report.ts) if report.ts else now
        with self.db.write() as session:
            machine = _machine(session, report.machine_id)
            row = ProductionCount(
                machine_id=machine.id, ts=ts, good=report.good, scrap=report.scrap
            )
            session.add(row)
            session.flush()
            data = {
                "id": row.id,
                "machine_id": machine.id,
                "good": report.good,
                "scrap": report.scrap,
                "ts": ts.isoformat().replace("+00:00", "Z"),
            }
            events = self._append(session, [("production_update", data)], now)
        self._publish(events)
        return data

    # -- tickets (rows and events: data/write/tickets.py) ------------------------------------

    def create_ticket(self, payload: dict[str, Any], actor: str) -> dict[str, Any]:
        """Open a ticket; one against a machine that is down is linked to that down period."""
        form = parse(TicketCreate, payload)
        now = self.clock()
        with self.db.write() as session:
            machine = _machine(session, form.machine_id)
            ticket, pending = ticket_service.open_ticket(session, form, machine, actor, now)
            events = self._append(session, pending, now)
            record = ticket_record(ticket)
        self._publish(events)
        return record

    def update_ticket(self, ticket_id: int, payload: dict[str, Any], actor: str) -> dict[str, Any]:
        """Change status (along the workflow), assignee or priority; each change is history
        and every change is an event. A request that changes nothing writes nothing, not
        even `updated_at`: clients compare it to tell whether a ticket changed."""
        form = parse(TicketUpdate, payload)
        now = self.clock()
        with self.db.write() as session:
            ticket = ticket_service.locked_ticket(session, ticket_id)
            changes = ticket_service.requested_changes(ticket, form)
            pending = ticket_service.apply_changes(session, ticket, changes, actor, now)
            resolved = changes.get("status", {}).get("new") == "resolved"
            if resolved and ticket.down_period_id is not None:
                pending += self._end_linked_down_period(session, ticket, now)
            if pending:
                reason = pending[0][0]  # ticket_status_change or ticket_updated
                pending.append(("dashboard_refresh", {"refresh_all": False, "reason": reason}))
            events = self._append(session, pending, now)
            session.refresh(ticket)  # the new history rows
            record = ticket_record(ticket, with_history=True)
        self._publish(events)
        return record

    def _end_linked_down_period(
        self, session: Session, ticket: Ticket, now: datetime
    ) -> list[PendingEvent]:
        """A repaired machine leaves its down period: it becomes idle, ready to run."""
        period = session.get(StatusPeriod, ticket.down_period_id)
        machine = session.get(Machine, ticket.machine_id)
        if period is None or machine is None or period.ended_at is not None:
            return []
        reason = f"repaired (ticket #{ticket.id})"
        return [
            e
            for e in self._change_status(session, machine, "idle", reason, now)
            if e[0] == "machine_status_update"
        ]

    # -- the outbox -------------------------------------------------------------------------

    def append_events(self, pending: list[PendingEvent]) -> list[Event]:
        """Record events that change no rows (e.g. a broadcast system_alert) and publish them."""
        now = self.clock()
        with self.db.write() as session:
            events = self._append(session, pending, now)
        self._publish(events)
        return events

    def _append(self, session: Session, pending: list[PendingEvent], now: datetime) -> list[Event]:
        """Append to the event log inside the caller's transaction; seq stays gap-free because
        writers are serialised (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock) and a
        rollback removes the rows along with the change."""
        if not pending:
            return []
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _EVENT_LOCK_KEY})
        last = session.scalar(select(func.coalesce(func.max(EventLog.seq), 0))) or 0
        events: list[Event] = []
        for offset, (etype, data) in enumerate(pending, start=1):
            topic = EVENT_TOPICS[etype]
            row = EventLog(seq=last + offset, type=etype, topic=topic, payload=data, created_at=now)
            session.add(row)
            events.append(Event(seq=row.seq, type=etype, topic=topic, timestamp=now, data=data))
        session.flush()
        return events

    def _publish(self, events: list[Event]) -> None:
        if events:
            self.publisher.publish(events)


def _machine(session: Session, machine_id: int) -> Machine:
    machine = session.get(Machine, machine_id) if 0 < machine_id <= MAX_ID else None
    if machine is None:
        raise NotFound(f"Machine {machine_id} does not exist.")
    return machine
