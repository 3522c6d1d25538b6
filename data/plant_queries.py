"""Machine listings for the API and the status boards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from data import queries
from data.models import Machine
from data.records import machine_record


def machine_list(session: Session, lo: datetime, hi: datetime) -> list[dict[str, Any]]:
    """Every machine with its utilization over [lo, hi), ordered by area then name."""
    frame = queries.utilization_by_machine(session, lo, hi)
    utilization = dict(zip(frame["machine_id"], frame["utilization"], strict=True))
    machines = session.scalars(select(Machine).order_by(Machine.area, Machine.name))
    return [machine_record(m, float(utilization.get(m.id, 0.0))) for m in machines]
