"""Shared fixtures: a real database file per test (SQLite), or a real PostgreSQL schema when
MILLDASH_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from data.db import Database
from data.events import RecordingPublisher
from data.services import Services

PG_URL = os.environ.get("MILLDASH_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI") == "true"


class FakeClock:
    """A settable clock: the one fake the tests use."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


def _backends() -> list[str]:
    return ["sqlite", "postgresql"]


@pytest.fixture(params=_backends())
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'milldash.db'}"
        return
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true but MILLDASH_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL not available: set MILLDASH_TEST_POSTGRES_URL")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = PG_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def services(db: Database, publisher: RecordingPublisher, clock: FakeClock) -> Services:
    return Services(db, publisher, clock)
