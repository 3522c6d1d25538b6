"""Portable column types and SQL expressions (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

# Times a window may start or end at: a day inside datetime's range, so arithmetic is safe.
UTC_MIN = datetime(1, 1, 2, tzinfo=UTC)
UTC_MAX = datetime(9999, 12, 30, tzinfo=UTC)


def utcnow() -> datetime:
    """Current time, timezone-aware UTC, to the microsecond."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Interpret a naive datetime as UTC; convert an aware one to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC on every backend, returned as aware UTC.

    One representation everywhere keeps SQL date arithmetic identical on SQLite and
    PostgreSQL and avoids mixing naive and aware values in Python.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)


class epoch(FunctionElement[float]):
    """Seconds since 1970 of a UTCDateTime column or bound datetime."""

    type = Float()
    inherit_cache = True
    name = "epoch"


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: epoch, compiler: Any, **kw: Any) -> str:
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch, "postgresql")
def _epoch_pg(element: epoch, compiler: Any, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS FLOAT)"


class least(FunctionElement[Any]):
    """Smallest of its arguments (scalar MIN on SQLite, LEAST on PostgreSQL)."""

    inherit_cache = True
    name = "least"


class greatest(FunctionElement[Any]):
    """Largest of its arguments (scalar MAX on SQLite, GREATEST on PostgreSQL)."""

    inherit_cache = True
    name = "greatest"


@compiles(least, "sqlite")
def _least_sqlite(element: least, compiler: Any, **kw: Any) -> str:
    return f"min({compiler.process(element.clauses, **kw)})"


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


@compiles(least)
def _least_default(element: least, compiler: Any, **kw: Any) -> str:
    return f"LEAST({compiler.process(element.clauses, **kw)})"


@compiles(greatest)
def _greatest_default(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"GREATEST({compiler.process(element.clauses, **kw)})"


def overlap_seconds(
    start: ColumnElement[datetime],
    end: ColumnElement[datetime],
    lo: datetime | ColumnElement[datetime],
    hi: datetime | ColumnElement[datetime],
) -> ColumnElement[float]:
    """Seconds that [start, end) overlaps [lo, hi); `end` may be NULL (still open, ends at hi).
    `lo` and `hi` are datetimes or SQL expressions (bound parameters of a prebuilt statement)."""
    from sqlalchemy import func, literal

    hi_lit = literal(hi, UTCDateTime()) if isinstance(hi, datetime) else hi
    lo_lit = literal(lo, UTCDateTime()) if isinstance(lo, datetime) else lo
    clipped_end = least(func.coalesce(end, hi_lit), hi_lit)
    clipped_start = greatest(start, lo_lit)
    return greatest(epoch(clipped_end) - epoch(clipped_start), literal(0.0))
