"""Shared fixtures: a real database file per test (SQLite), or a real PostgreSQL schema when
MILLDASH_TEST_POSTGRES_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from data.events import RecordingPublisher
from data.store.db import Database
from data.write.services import Services
from devtools.cluster import REDIS_SERVER, RedisServer

PG_URL = os.environ.get("MILLDASH_TEST_POSTGRES_URL")
_TREE_BEFORE = pytest.StashKey[set[str] | None]()
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


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of the module's own on a free loopback port, without persistence: stop
    and start it to test outages (a stop is a crash, and the data is gone)."""
    if REDIS_SERVER is None:
        if IN_CI:
            pytest.fail("CI=true but redis-server is not installed")
        pytest.skip("redis-server not installed")
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


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
def sqlite_db(tmp_path) -> Iterator[Database]:
    """A migrated SQLite database file of the test's own, for what only SQLite does."""
    database = Database(f"sqlite:///{tmp_path / 'sqlite.db'}")
    database.migrate()
    yield database
    database.dispose()


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


def _git_status() -> set[str] | None:
    """The working tree's changed and untracked paths (None outside a git checkout)."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return set(done.stdout.splitlines()) if done.returncode == 0 else None


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_TREE_BEFORE] = _git_status()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The suite leaves the tree as it found it: tests write to temporary folders only."""
    before = session.config.stash.get(_TREE_BEFORE, None)
    after = _git_status()
    if before is None or after is None or session.config.option.collectonly:
        return
    dirtied = sorted(after - before)
    if dirtied:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("FAILED the test run changed tracked or new files:", red=True)
            for line in dirtied:
                reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
