"""Work that one process of the whole cluster does (the demo simulator): whichever process
holds a lock, across gunicorn workers and across hosts.

- PostgreSQL: `pg_try_advisory_lock` on a dedicated connection (outside the pool, autocommit);
  the server lets go when that connection ends; each renewal checks that it still answers.
- Redis (SQLite behind several workers): `SET key holder NX PX ttl`, renewed every ttl/3 by a
  compare-and-PEXPIRE; once the holder stops renewing, another process takes over after the ttl.
- SQLite without Redis: there is one process, so it simply runs (`LocalLock`).

Every lock knows, without I/O, until when it surely holds (`held()`: from the start of the last
acquire or renewal that succeeded, the ttl less a margin). The job asks before each unit of
work, so a holder whose renewals stall (a blocked loop, Redis or the database out of reach)
stops working before anybody else can take over.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import time
import uuid
from typing import Any, Protocol

log = logging.getLogger(__name__)
DEFAULT_TTL_S = 15.0
TTL_ENV = "MILLDASH_LOCK_TTL_S"
# Redis: renew only while the key still names us; let go only of our own key.
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
)
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('del', KEYS[1]) else return 0 end"
)


class ClusterLock(Protocol):
    ttl_s: float

    def acquire(self) -> bool:
        """Try once; True when this process holds the lock now."""

    def renew(self) -> bool:
        """Extend (or confirm) the hold; False: lost, stop working."""

    def held(self) -> bool:
        """Whether the hold is surely still valid (no I/O: cheap enough for every tick)."""

    def release(self) -> None:
        """Let go (only of our own hold); never raises."""

    def describe(self) -> str:
        """What kind of lock, for the log."""


def holder_id() -> str:
    """Who holds it: host, pid and a random part (a pid is reused after a restart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _Lease:
    """The validity bookkeeping shared by the locks that can be lost."""

    def __init__(self, ttl_s: float) -> None:
        if ttl_s <= 0:
            raise ValueError(f"ttl must be positive, got {ttl_s!r}")
        self.ttl_s = ttl_s
        self._valid_until = 0.0

    def held(self) -> bool:
        return time.monotonic() < self._valid_until

    def _confirmed(self, asked_at: float) -> None:
        # The server's ttl runs from when it received the command, after `asked_at`; the
        # margin covers clocks that run at slightly different speeds.
        self._valid_until = asked_at + self.ttl_s * 0.8

    def _lost(self) -> None:
        self._valid_until = 0.0


class LocalLock:
    """One process on one database file: always held."""

    ttl_s = DEFAULT_TTL_S

    def acquire(self) -> bool:
        return True

    def renew(self) -> bool:
        return True

    def held(self) -> bool:
        return True

    def release(self) -> None:
        return None

    def describe(self) -> str:
        return "one process"


class RedisLock(_Lease):
    def __init__(self, url: str, key: str, ttl_s: float = DEFAULT_TTL_S) -> None:
        import redis

        super().__init__(ttl_s)
        self.key = key
        self.holder = holder_id()
        timeout = min(2.0, ttl_s / 4)
        self._redis = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)
        self._renew = self._redis.register_script(_RENEW)
        self._release = self._redis.register_script(_RELEASE)

    def acquire(self) -> bool:
        asked_at = time.monotonic()
        try:
            taken = self._redis.set(self.key, self.holder, nx=True, px=self._ttl_ms())
        except self._errors:
            return False
        if taken:
            self._confirmed(asked_at)
        return bool(taken)

    def renew(self) -> bool:
        asked_at = time.monotonic()
        try:
            kept = self._renew(keys=[self.key], args=[self.holder, self._ttl_ms()])
        except self._errors as exc:
            log.warning("renewing the lock %s failed: %s", self.key, exc)
            kept = 0
        if kept:
            self._confirmed(asked_at)
        else:
            self._lost()
        return bool(kept)

    def release(self) -> None:
        self._lost()
        with contextlib.suppress(*self._errors):  # else it expires by itself
            self._release(keys=[self.key], args=[self.holder])

    def describe(self) -> str:
        return f"Redis key {self.key}"

    def _ttl_ms(self) -> int:
        return max(1, int(self.ttl_s * 1000))


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for `pg_try_advisory_lock` from a name."""
    digest = hashlib.blake2b(f"milldash:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PostgresLock(_Lease):
    def __init__(self, url: str, name: str, ttl_s: float = DEFAULT_TTL_S) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.exc import SQLAlchemyError
        from sqlalchemy.pool import NullPool

        super().__init__(ttl_s)
        self.key = advisory_key(name)
        self._engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self._errors: tuple[type[Exception], ...] = (SQLAlchemyError,)
        self._conn: Any = None  # the dedicated connection that holds the lock

    def acquire(self) -> bool:
        asked_at = time.monotonic()
        try:
            if self._conn is None:
                self._conn = self._engine.connect()
            taken = self._scalar("SELECT pg_try_advisory_lock(:key)", key=self.key)
        except self._errors as exc:
            log.debug("taking the advisory lock failed: %s", exc)
            self._drop()
            return False
        if taken:
            self._confirmed(asked_at)
        return bool(taken)

    def renew(self) -> bool:
        """The lock lives as long as its connection: check that it still answers."""
        asked_at = time.monotonic()
        try:
            if self._conn is None:
                raise RuntimeError("not connected")
            self._scalar("SELECT 1")
        except (*self._errors, RuntimeError) as exc:
            log.warning("the advisory lock's connection failed: %s", exc)
            self._lost()
            self._drop()
            return False
        self._confirmed(asked_at)
        return True

    def release(self) -> None:
        self._lost()
        if self._conn is not None:
            with contextlib.suppress(*self._errors):  # closing the connection lets go too
                self._scalar("SELECT pg_advisory_unlock(:key)", key=self.key)
        self._drop()
        self._engine.dispose()

    def describe(self) -> str:
        return f"PostgreSQL advisory lock {self.key}"

    def _scalar(self, sql: str, **params: Any) -> Any:
        from sqlalchemy import text

        return self._conn.execute(text(sql), params).scalar()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # a dead connection may fail to close; it is gone either way
                log.debug("closing the advisory lock's connection failed", exc_info=True)


def cluster_lock(
    database_url: str, redis_url: str | None, name: str, redis_key: str
) -> ClusterLock:
    """The lock for `name`: PostgreSQL's when the database is PostgreSQL (its scope is the
    database the job writes to), else Redis's when one is configured, else a local one."""
    from sqlalchemy.engine import make_url

    ttl = float(os.environ.get(TTL_ENV) or DEFAULT_TTL_S)
    if make_url(database_url).get_backend_name() == "postgresql":
        return PostgresLock(database_url, name, ttl)
    if redis_url:
        return RedisLock(redis_url, redis_key, ttl)
    return LocalLock()
