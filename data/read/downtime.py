"""Down time in a window, by reason."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import func, literal_column, or_, select, true
from sqlalchemy.orm import Session

from data.read import kpis
from data.read.periods_by_end import SP
from data.store.sqltypes import overlap_seconds

UNSPECIFIED = "unspecified"


def downtime_by_reason(
    session: Session,
    lo: datetime,
    hi: datetime,
    limit: int = 10,
    machine_ids: list[int] | None = None,
) -> pd.DataFrame:
    """`down` time in [lo, hi) by reason (NULL as "unspecified"): reason, seconds, count (the
    down periods overlapping the window), seconds descending, then reason; at most `limit`.
    For the whole plant, or only the machines in `machine_ids`."""
    lo, hi, _ = kpis.window(lo, hi)
    # Inlined (not bound) so GROUP BY repeats exactly the selected expression on PostgreSQL.
    reason = func.coalesce(SP.reason, literal_column(f"'{UNSPECIFIED}'")).label("reason")
    seconds = func.sum(overlap_seconds(SP.started_at, SP.ended_at, lo, hi)).label("seconds")
    stmt = (
        select(reason, seconds, func.count().label("count"))
        .where(
            SP.status == "down",
            SP.started_at < hi,
            or_(SP.ended_at.is_(None), SP.ended_at > lo),
        )
        .where(SP.machine_id.in_(machine_ids) if machine_ids is not None else true())
        .group_by(reason)
        .order_by(seconds.desc(), reason)
        .limit(limit)
    )
    df = pd.DataFrame(session.execute(stmt).all(), columns=["reason", "seconds", "count"])
    return df.astype({"reason": str, "seconds": float, "count": "int64"})
