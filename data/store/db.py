"""Engine, sessions and schema migration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
CONNECT_TIMEOUT_S = 5
# What a database that is down, restarting or out of connections raises (not a bug, not bad
# input): callers answer "try again" rather than "failed".
UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout, DisconnectionError)


def is_unreachable(exc: BaseException) -> bool:
    """True when `exc` means the database could not be reached or lost the connection."""
    if isinstance(exc, UNREACHABLE):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


class Database:
    """One engine per process; `read()` and `write()` give sessions in a transaction.

    SQLite write transactions start with BEGIN IMMEDIATE so two writers never deadlock on a
    lock upgrade; PostgreSQL writers of events serialise on an advisory lock
    (data/write/outbox.py).
    """

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        # The SQLite database file, or None (PostgreSQL, or in memory).
        name = parsed.database if self.is_sqlite else None
        self.sqlite_file: Path | None = Path(name) if name and name != ":memory:" else None
        if self.is_sqlite:
            if self.sqlite_file is not None:
                self.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            # A server that does not answer fails a request in seconds, not at the OS's
            # TCP timeout; pre-ping drops connections a database restart has ended.
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
            kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
        self.engine: Engine = create_engine(url, **kwargs)
        # Per-connection SQLite settings the connect hook applies (defer_checkpoints).
        self._sqlite_settings: dict[str, int] = {}
        if self.is_sqlite:
            _configure_sqlite(self.engine, self._sqlite_settings, self.sqlite_file is not None)
        self._write_engine = self.engine.execution_options(immediate=True)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(self._write_engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; closing it ends (rolls back) its transaction, and loaded
        objects stay readable afterwards."""
        with self._reader() as session:
            yield session

    @contextmanager
    def lookup(self) -> Iterator[Connection]:
        """A bare connection for the small reads every request makes (its token): a Session
        costs more than such a query. Its transaction ends (rolls back) on close."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection in a write transaction that commits at the end, or rolls back on
        error: the outbox's (data/write/outbox.py), which opens a Session on it only when a
        write needs the ORM."""
        with self._write_engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction commits at the end, or rolls back on error."""
        with self._writer() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring the schema to the latest Alembic revision."""
        from alembic import command

        command.upgrade(alembic_config(self.engine), "head")

    def ping(self) -> None:
        """Raise if the database cannot answer."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()

    def defer_checkpoints(self) -> bool:
        """SQLite: commits stop checkpointing (copying the WAL back into the database file,
        with its fsync) at the usual 1,000 pages; whoever calls this runs
        `data.store.checkpoints.passive_checkpoint` instead, off the requests (the server's
        checkpointer thread). A threshold far above the usual stays as a safety net. Pooled
        connections are dropped so that every new one takes the setting. False (nothing done)
        without a database file."""
        if self.sqlite_file is None:
            return False
        from data.store.checkpoints import SAFETY_NET_PAGES

        self._sqlite_settings["wal_autocheckpoint"] = SAFETY_NET_PAGES
        self.engine.dispose()
        return True


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def _configure_sqlite(engine: Engine, settings: dict[str, int], on_file: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN so write transactions can be IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if on_file:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            for name, value in settings.items():
                cur.execute(f"PRAGMA {name}={int(value)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("immediate")
        # Straight to the driver: every request opens a transaction or two, and a statement
        # through SQLAlchemy's execution machinery costs ten times this one.
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
