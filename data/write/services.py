"""The only writers, behind one facade: each call parses its payload (data/validation.py),
runs one aggregate (machines, production, tickets) inside one outbox transaction
(data/write/outbox.py) and returns what the API answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from data.calendar.parsing import parse_calendar
from data.events import DomainEvent, Event, Publisher
from data.read.calendar_queries import calendar_json, load_calendar
from data.store.db import Database
from data.store.sqltypes import utcnow
from data.validation import ProductionReport, StatusReport, TicketCreate, TicketUpdate, parse
from data.write import calendar, machines, production, tickets
from data.write.outbox import Outbox
from data.write.ticket_input import parse_ticket


class Services:
    """Write side of the plant. `publisher` gets events after commit; `clock` is injectable."""

    def __init__(
        self,
        db: Database,
        publisher: Publisher | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.outbox = Outbox(db, publisher, clock)

    @property
    def db(self) -> Database:
        """The database the services write to."""
        return self.outbox.db

    @property
    def clock(self) -> Callable[[], datetime]:
        """The clock that stamps every write (the simulator ticks on it too)."""
        return self.outbox.clock

    def report_status(
        self, machine_id: int, payload: dict[str, Any], actor: str = "system"
    ) -> dict[str, Any]:
        """Set a machine's status; closes the current period and opens a new one."""
        report = parse(StatusReport, payload)
        with self.outbox.write() as tx:
            return machines.report_status(tx, machine_id, report)

    def record_production(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Add good and scrap parts for a machine at `ts` (default now)."""
        report = parse(ProductionReport, payload)
        with self.outbox.write() as tx:
            return production.record_production(tx, report)

    def create_ticket(self, payload: dict[str, Any], actor: str) -> dict[str, Any]:
        """Open a ticket; one against a machine that is down is linked to that down period."""
        form = parse_ticket(TicketCreate, payload)
        with self.outbox.write() as tx:
            return tickets.create_ticket(tx, form, actor)

    def update_ticket(
        self,
        ticket_id: int,
        payload: dict[str, Any],
        actor: str,
        if_match: Callable[[str], bool] | None = None,
    ) -> dict[str, Any]:
        """Change status (along the workflow), assignee or priority; a request that changes
        nothing writes nothing. `if_match` (given the ticket's current ETag, inside the write
        transaction) false: tickets.PreconditionFailed and nothing written."""
        form = parse_ticket(TicketUpdate, payload)
        with self.outbox.write() as tx:
            return tickets.update_ticket(tx, ticket_id, form, actor, if_match)

    def replace_calendar(self, payload: Any) -> dict[str, Any]:
        """Replace the plant's time zone, shifts and planned stops (422 naming the problem when
        the document cannot be used); every screen is told to recompute."""
        document = parse_calendar(payload)
        with self.outbox.write() as tx:
            calendar.replace_calendar(tx, document)
        with self.db.read() as session:
            return calendar_json(load_calendar(session))

    def append_events(self, events: Sequence[DomainEvent]) -> list[Event]:
        """Record events that change no rows (e.g. a broadcast SystemAlert) and publish them."""
        with self.outbox.write() as tx:
            tx.emit(*events)
        return tx.committed
