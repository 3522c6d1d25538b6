"""Readiness: can every table still be read? `SELECT 1` (Database.ping) proves a connection,
not that the data is readable: a database whose table pages are damaged answers it and then
fails every real query.

Each table's newest row is read by primary key, every column: the read walks the table's
b-tree from its root through the interior pages to the newest leaf (and the row's overflow
pages), which is where current writes land. It costs one index lookup per table, a fraction
of a millisecond each, whatever the table's size, so a load balancer may ask every few
seconds. It does not scan every page: a whole-file check (SQLite's `PRAGMA quick_check`,
~8 ms on the 5 MB demo database and growing with it; PostgreSQL's amcheck) is for
maintenance windows, not for probes.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import Select, Table, select

from data.store.db import Database
from data.store.models import Base


def newest_row(table: Table) -> Select[Any]:
    """Every column of `table`'s row with the highest primary key."""
    return select(table).order_by(*[c.desc() for c in table.primary_key.columns]).limit(1)


@cache
def _schema_probes() -> tuple[tuple[str, Select[Any]], ...]:
    # Built once: sorting the metadata and building the statements cost ~2 ms per call,
    # ten times the reads themselves.
    return tuple((t.name, newest_row(t)) for t in Base.metadata.sorted_tables)


def unreadable_tables(db: Database, tables: Iterable[Table] | None = None) -> list[str]:
    """Names of the tables (default: every table of the schema) whose newest row cannot be
    read; empty when all are readable. Each table is tried even after one failed, so the
    answer names every broken part."""
    probes = _schema_probes() if tables is None else [(t.name, newest_row(t)) for t in tables]
    failed: list[str] = []
    with db.engine.connect() as conn:
        for name, statement in probes:
            try:
                conn.execute(statement).all()
            except Exception:  # a driver error, a row that cannot be decoded: unreadable
                failed.append(name)
                # PostgreSQL refuses every statement after an error until the rollback.
                conn.rollback()
    return failed
