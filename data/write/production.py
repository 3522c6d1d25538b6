"""Production aggregate: parts counted per machine. Runs inside an outbox transaction."""

from __future__ import annotations

from typing import Any

from data.events import ProductionUpdate
from data.store.models import ProductionCount
from data.store.sqltypes import as_utc
from data.validation import ProductionReport
from data.write.machines import get_machine
from data.write.outbox import Transaction
from data.write.rollups import forget_day


def record_production(tx: Transaction, report: ProductionReport) -> dict[str, Any]:
    """Add good and scrap parts for a machine at `report.ts` (default: the transaction's
    time); emits `production_update` and returns its payload."""
    ts = as_utc(report.ts) if report.ts else tx.now
    machine = get_machine(tx.session, report.machine_id)
    row = ProductionCount(machine_id=machine.id, ts=ts, good=report.good, scrap=report.scrap)
    tx.session.add(row)
    forget_day(tx.session, machine.id, ts)
    tx.session.flush()
    update = ProductionUpdate(
        id=row.id, machine_id=machine.id, good=report.good, scrap=report.scrap, ts=ts
    )
    tx.emit(update)
    return update.data()
