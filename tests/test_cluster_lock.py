"""The lock behind one-per-cluster work (app/cluster_lock.py) against a real redis-server and,
when MILLDASH_TEST_POSTGRES_URL is set, a real PostgreSQL: one holder at a time; a holder that
stops renewing knows it before anybody else can take over; takeover after the ttl, or at once
after a release; and the simulator does nothing while its lock is not held."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text

from app.cluster_lock import LocalLock, PostgresLock, RedisLock, cluster_lock
from app.one_per_cluster import OnePerCluster
from data.demo.seed import seed_plant
from data.demo.simulator import Simulator
from data.events import RecordingPublisher
from data.store.db import Database
from data.write.services import Services
from devtools.cluster import RedisServer
from tests.conftest import IN_CI, PG_URL, FakeClock
from tests.waiting import wait_until


def unique(prefix: str) -> str:
    return f"{prefix}:{uuid.uuid4().hex[:8]}"


def test_redis_lock_one_holder_then_takeover_after_the_ttl(redis_server: RedisServer) -> None:
    key = unique("milldash:test:lock")
    a, b = RedisLock(redis_server.url, key, ttl_s=1.0), RedisLock(redis_server.url, key, ttl_s=1.0)
    assert a.acquire() and a.held()
    assert not b.acquire() and not b.held()
    assert redis_server.client().get(key) == a.holder  # host:pid:random
    assert a.renew() and a.held()
    # A stops renewing: while it still counts itself the holder, nobody else can take it ...
    deadline = time.monotonic() + 2
    while a.held():
        assert not b.acquire()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    # ... and once its key has expired B takes over.
    wait_until(b.acquire, timeout=3, interval=0.02, message="b takes over")
    assert not a.renew() and not a.held()  # the key names B now: A's renewal is refused
    a.release()  # lets go only of its own
    assert redis_server.client().get(key) == b.holder
    b.release()
    assert redis_server.client().get(key) is None


def test_redis_lock_renewals_keep_it(redis_server: RedisServer) -> None:
    key = unique("milldash:test:lock")
    a, b = RedisLock(redis_server.url, key, ttl_s=0.5), RedisLock(redis_server.url, key, ttl_s=0.5)
    assert a.acquire()
    for _ in range(10):  # 1.5 s, three ttls
        time.sleep(0.15)
        assert a.renew() and a.held()
        assert not b.acquire()
    a.release()
    assert b.acquire()  # at once after a release
    b.release()


def test_unreachable_redis_is_never_held_and_never_raises() -> None:
    lock = RedisLock("redis://127.0.0.1:1/0", "k", ttl_s=1.0)
    assert not lock.acquire() and not lock.renew() and not lock.held()
    lock.release()


# Under CI=true a missing PostgreSQL is a failure, not a skip (as the `db_url` fixture does).
@pytest.mark.skipif(
    not PG_URL and not IN_CI, reason="PostgreSQL not available: set MILLDASH_TEST_POSTGRES_URL"
)
def test_postgres_advisory_lock() -> None:
    assert PG_URL is not None
    name = unique("simulator")
    a, b = PostgresLock(PG_URL, name, ttl_s=2.0), PostgresLock(PG_URL, name, ttl_s=2.0)
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        assert a.acquire() and a.held()
        assert not b.acquire()
        assert a.renew() and a.held()
        a.release()
        assert b.acquire()  # at once after a release
        assert not a.acquire()
        # The holder's connection ends (a server restart, a network cut): its next renewal
        # fails, so it stops; the server has let go, so another process takes over at once.
        pid = b._scalar("SELECT pg_backend_pid()")
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert not b.renew() and not b.held()
        wait_until(a.acquire, timeout=5, message="a takes over")
    finally:
        a.release(), b.release()
        admin.dispose()


def test_cluster_lock_picks_the_database_then_redis_then_local(tmp_path) -> None:
    sqlite = f"sqlite:///{tmp_path / 'x.db'}"
    assert isinstance(cluster_lock(sqlite, None, "simulator", "k"), LocalLock)
    redis_lock = cluster_lock(sqlite, "redis://127.0.0.1:1/0", "simulator", "plant:simulator")
    assert isinstance(redis_lock, RedisLock) and redis_lock.key == "plant:simulator"
    pg = "postgresql+psycopg://u:p@127.0.0.1:1/db"  # nothing connects until it is taken
    assert isinstance(cluster_lock(pg, "redis://127.0.0.1:1/0", "simulator", "k"), PostgresLock)


class Job:
    """Records when a runner starts and stops its job."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def start(self) -> None:
        self.log.append(f"{self.name} start")

    def stop(self) -> None:
        self.log.append(f"{self.name} stop")


def runner(url: str, key: str, name: str, log: list[str]) -> OnePerCluster:
    job = Job(name, log)
    return OnePerCluster(RedisLock(url, key, ttl_s=0.6), name, job.start, job.stop)


def test_the_job_runs_in_one_runner_and_moves_on_release(redis_server: RedisServer) -> None:
    key, log = unique("milldash:test:job"), []
    a, b = runner(redis_server.url, key, "a", log), runner(redis_server.url, key, "b", log)
    a.start(), b.start()
    try:
        wait_until(lambda: a.holding or b.holding, message="somebody holds it")
        deadline = time.monotonic() + 1.0  # several renewal rounds: never both
        while time.monotonic() < deadline:
            assert not (a.holding and b.holding)
            time.sleep(0.02)
        holder, other = (a, b) if a.holding else (b, a)
        assert log == [f"{holder.name} start"]
        holder.stop()  # a graceful stop releases: the other takes over within one round
        wait_until(lambda: other.holding, timeout=2, message="takeover")
        assert log == [f"{holder.name} start", f"{holder.name} stop", f"{other.name} start"]
    finally:
        a.stop(), b.stop()


def test_a_holder_that_loses_the_lock_stops_its_job(redis_server: RedisServer) -> None:
    key, log = unique("milldash:test:job"), []
    a = runner(redis_server.url, key, "a", log)
    a.start()
    try:
        wait_until(lambda: a.holding, message="a holds it")
        redis_server.client().set(key, "someone-else")  # e.g. it expired while a stalled
        wait_until(lambda: log == ["a start", "a stop"], timeout=3, message=lambda: str(log))
        assert not a.holding and not a.lock.held()
        assert redis_server.client().get(key) == "someone-else"  # not a's to delete
    finally:
        a.stop()


def test_simulator_does_nothing_while_it_may_not_run(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'sim.db'}")
    db.migrate()
    clock, publisher = FakeClock(), RecordingPublisher()
    seed_plant(db, 4, 1, now=clock())
    allowed = threading.Event()
    may_run: Callable[[], bool] = allowed.is_set
    sim = Simulator(
        Services(db, publisher, clock), db, interval_s=0.01, rng_seed=2, may_run=may_run
    )
    sim.start()
    try:

        def changed_something() -> bool:
            clock.advance(seconds=60)
            return bool(publisher.events)

        for _ in range(20):  # twenty ticks over twenty simulated minutes: none ran
            clock.advance(seconds=60)
            time.sleep(0.01)
        assert publisher.events == []
        allowed.set()
        wait_until(changed_something, timeout=5, interval=0.02, message="it never ran")
    finally:
        sim.stop()
        db.dispose()
