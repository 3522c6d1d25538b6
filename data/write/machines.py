"""Machine aggregate: status changes and the status periods (down periods among them) they
open and close. Runs inside an outbox transaction (data/write/outbox.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from data.errors import NotFound
from data.events import DashboardRefresh, MachineStatusUpdate
from data.read.machine_sums import machine_utilization
from data.read.records import machine_record
from data.store.models import Machine, StatusPeriod, Ticket
from data.store.prepared import Prepared
from data.validation import MAX_ID, StatusReport
from data.write.outbox import Transaction
from data.write.rollups import forget_day

UTILIZATION_WINDOW = timedelta(hours=24)
T = TypeVar("T")


# Rendered once and run on the driver's cursor: a new ticket reads its machine before its
# alert can go out.
_BRIEF = Prepared(
    select(Machine.id, Machine.name, Machine.status).where(Machine.id == bindparam("id"))
)


class MachineBrief(NamedTuple):
    id: int
    name: str
    status: str


def get_machine(session: Session, machine_id: int) -> Machine:
    """The machine, or NotFound."""
    machine = session.get(Machine, machine_id) if 0 < machine_id <= MAX_ID else None
    return _found(machine, machine_id)


def machine_brief(conn: Connection, machine_id: int) -> MachineBrief:
    """The machine's id, name and status (not an entity), or NotFound."""
    found = None
    if 0 < machine_id <= MAX_ID:
        row = _BRIEF.first(conn, {"id": machine_id})
        found = None if row is None else MachineBrief(*row)
    return _found(found, machine_id)


def _found(machine: T | None, machine_id: int) -> T:
    if machine is None:
        raise NotFound(f"Machine {machine_id} does not exist.")
    return machine


def report_status(tx: Transaction, machine_id: int, report: StatusReport) -> dict[str, Any]:
    """Set a machine's status: `machine_status_update` + `dashboard_refresh`; returns the
    machine's record."""
    machine = get_machine(tx.session, machine_id)
    update = change_status(tx, machine, report.status, report.reason)
    tx.emit(update, DashboardRefresh.after(update))
    return machine_record(machine, _utilization(tx, machine))


def change_status(
    tx: Transaction, machine: Machine, status: str, reason: str | None
) -> MachineStatusUpdate:
    """Close the current period and open one in `status` (the same status again only updates
    the reason); returns the event that says so, for the caller to emit."""
    session, now = tx.session, tx.now
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
        forget_day(session, machine.id, now)
    session.flush()
    return MachineStatusUpdate(
        machine_id=machine.id,
        machine_name=machine.name,
        area=machine.area,
        status=status,
        old_status=old,
        reason=reason,
        utilization=round(_utilization(tx, machine), 4),
    )


def end_down_period(tx: Transaction, ticket: Ticket) -> MachineStatusUpdate | None:
    """A repaired machine leaves the down period its ticket is linked to: it becomes idle,
    ready to run. None when that period has already ended."""
    if ticket.down_period_id is None:
        return None
    period = tx.session.get(StatusPeriod, ticket.down_period_id)
    machine = tx.session.get(Machine, ticket.machine_id)
    if period is None or machine is None or period.ended_at is not None:
        return None
    return change_status(tx, machine, "idle", f"repaired (ticket #{ticket.id})")


def _utilization(tx: Transaction, machine: Machine) -> float:
    return machine_utilization(tx.session, machine.id, tx.now - UTILIZATION_WINDOW, tx.now)
