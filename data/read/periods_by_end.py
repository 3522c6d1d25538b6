"""status_periods for the window queries, read through its ended_at index on SQLite."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import TableClause

from data.store.models import StatusPeriod


class _PeriodsByEnd(TableClause):
    """status_periods, read through its ended_at index on SQLite.

    For `started_at < hi AND (ended_at IS NULL OR ended_at >= lo)` SQLite's planner picks the
    (machine_id, started_at) index, i.e. nearly every row of a year of history (~70 ms for 360k
    periods, whatever ANALYZE says); `INDEXED BY ix_status_periods_ended` answers a recent window
    in under 1 ms. PostgreSQL's statistics find that plan by themselves."""

    inherit_cache = True


@compiles(_PeriodsByEnd, "sqlite")
def _periods_by_end_sqlite(element: _PeriodsByEnd, compiler: Any, **kw: Any) -> str:
    sql: str = compiler.visit_table(element, **kw)
    return f"{sql} INDEXED BY ix_status_periods_ended" if kw.get("asfrom") else sql


# Columns of status_periods for the window queries (never mix with StatusPeriod's: two FROMs).
SP = _PeriodsByEnd(
    StatusPeriod.__tablename__, *(column(c.name, c.type) for c in StatusPeriod.__table__.c)
).c


def periods(by_start: bool) -> Any:
    """The status_periods columns to read a window through: the ended_at index (SP), or with
    `by_start` the plain table and so its (machine_id, started_at) index (see `by_start`)."""
    return StatusPeriod.__table__.c if by_start else SP


def by_start(first: datetime | None, lo: datetime, hi: datetime, now: datetime) -> bool:
    """Whether a window is cheaper read by start than by end: `ended_at > lo` walks the
    history from lo to now, `started_at < hi` the history from its first period to hi (the
    first day of a year's window is the case for it)."""
    return first is not None and hi - first < now - lo
