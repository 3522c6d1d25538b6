"""The time window a page's range selector stands for."""

from __future__ import annotations

from datetime import datetime, timedelta

from components.pages import RANGE_HOURS
from data.store.sqltypes import utcnow


def window(range_value: str | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[now - range, now); an unknown range means 24 h."""
    hi = now or utcnow()
    return hi - timedelta(hours=RANGE_HOURS.get(range_value or "24h", 24)), hi
