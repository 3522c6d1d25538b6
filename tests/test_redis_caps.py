"""Caps that hold across processes, counted in a real redis-server (started for this module on
a free loopback port): sockets per user and per address (`SocketSlots`) and the sign-in
throttle (`RedisLoginThrottle`). Each "process" is its own object with its own Redis client."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.config import Config
from app.factory import create_app
from app.login_throttle import ACCOUNT_RULE, PAIR_RULE, LoginThrottle, Rule
from app.realtime.limits import SocketSlots
from app.redis_throttle import RedisLoginThrottle
from devtools.cluster import RedisServer
from devtools.live_server import free_port
from tests.waiting import wait_until


@pytest.fixture
def prefix() -> str:
    """A fresh key prefix per test: the tests share one redis-server."""
    return f"t{uuid.uuid4().hex[:8]}"


def client(url: str) -> redis.Redis:
    """As the app builds it (app/shared_limits.py): no backoff on a refused connection."""
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=1.0,
        socket_connect_timeout=1.0,
        retry=Retry(NoBackoff(), 1),
    )


def slots(url: str, prefix: str, **kw: float) -> SocketSlots:
    options = {"max_per_user": 3, "max_per_address": 5, "prefix": prefix, **kw}
    return SocketSlots(client(url), **options)  # type: ignore[arg-type]


# -- sockets per user and per address ----------------------------------------------------------


def test_user_cap_holds_across_processes(redis_server, prefix):
    a, b = slots(redis_server.url, prefix), slots(redis_server.url, prefix)
    taken = [(a if i % 2 else b).reserve("kim", "10.0.0.1") for i in range(3)]
    assert all(t.slot and t.refused is None for t in taken)
    # Each process holds only one or two: alone, neither would refuse.
    assert a.reserve("kim", "10.0.0.2").refused == "user"
    assert b.reserve("kim", "10.0.0.3").refused == "user"
    assert a.reserve("lee", "10.0.0.1").slot is not None  # another user is not affected
    a.release(taken[1].slot)
    admitted = b.reserve("kim", "10.0.0.1")
    assert admitted.slot is not None
    assert b.reserve("kim", "10.0.0.1").refused == "user"
    a.close(), b.close()


def test_address_cap_holds_across_processes_and_users(redis_server, prefix):
    a, b = slots(redis_server.url, prefix), slots(redis_server.url, prefix)
    for i in range(5):
        assert (a, b)[i % 2].reserve(f"user{i}", "10.0.0.9").slot is not None
    assert a.reserve("someone", "10.0.0.9").refused == "address"
    assert b.reserve(None, "10.0.0.9").refused == "address"
    assert b.reserve(None, "10.0.0.10").slot is not None
    a.close(), b.close()


def test_anonymous_sockets_count_per_address_only(redis_server, prefix):
    a = slots(redis_server.url, prefix)
    taken = [a.reserve(None, "10.0.1.1") for _ in range(5)]
    assert all(t.slot for t in taken)  # more than the user cap of 3
    assert a.reserve(None, "10.0.1.1").refused == "address"
    keys = client(redis_server.url).keys(f"{prefix}:sockets:user:*")
    assert keys == []
    a.close()


def test_release_on_close_and_keys_left_clean(redis_server, prefix):
    a = slots(redis_server.url, prefix)
    taken = [a.reserve("kim", "10.0.2.1") for _ in range(3)]
    for t in taken:
        a.release(t.slot)
    a.release(taken[0].slot)  # twice: nothing happens
    a.release(None)
    r = client(redis_server.url)
    assert r.zcard(a.user_key("kim")) == 0
    assert r.zcard(a.address_key("10.0.2.1")) == 0
    held = a.reserve("kim", "10.0.2.1")
    assert 0 < r.pttl(a.user_key("kim")) <= a.ttl_ms  # nothing stays in Redis for ever
    a.close()
    assert r.zscore(a.user_key("kim"), held.slot or "") is None  # close released it


def test_a_crashed_process_slots_expire_while_a_living_one_keeps_its_own(redis_server, prefix):
    living = slots(redis_server.url, prefix, ttl_s=1.0, refresh_s=0.2)
    crashed = slots(redis_server.url, prefix, ttl_s=1.0, refresh_s=0.2)
    kept = living.reserve("kim", "10.0.3.1")
    lost = [crashed.reserve("kim", "10.0.3.1") for _ in range(2)]
    assert all(t.slot for t in lost)
    assert living.reserve("kim", "10.0.3.1").refused == "user"  # three of three
    crashed.close(release=False)  # stops renewing, removes nothing: a SIGKILL
    r = client(redis_server.url)
    wait_until(
        lambda: living.reserve("kim", "10.0.3.1").slot is not None,
        timeout=5,
        message="the crashed process's slots expired",
    )
    time.sleep(1.5)  # past the ttl: the living process's renewals keep its slots
    members = set(r.zrange(living.user_key("kim"), 0, -1))
    assert kept.slot in members
    assert not members & {t.slot for t in lost}
    assert len(members) == living.live == 2
    living.close()


def test_redis_down_admits_uncounted_then_counts_again(tmp_path, prefix, caplog):
    caplog.set_level(logging.INFO, logger="app.realtime.limits")
    own = RedisServer(tmp_path).start()  # this test's own, to stop and start again
    a = slots(own.url, prefix)
    try:
        assert a.reserve("kim", "10.0.4.1").slot is not None
        own.stop()
        admitted = [a.reserve("kim", "10.0.4.1") for _ in range(5)]
        assert all(t.refused is None and t.slot is None for t in admitted)  # uncounted
        a.refresh()  # the renewal fails quietly too
        own.start()  # empty: every slot is gone, and this process's one is renewed
        a.refresh()
        assert client(own.url).zcard(a.user_key("kim")) == 1
        assert a.reserve("kim", "10.0.4.1").slot is not None
        assert a.reserve("kim", "10.0.4.1").slot is not None
        assert a.reserve("kim", "10.0.4.1").refused == "user"  # counted again
    finally:
        a.close()
        own.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("Redis unreachable" in m for m in messages) == 1  # once, not once per socket
    assert sum("Redis answers again" in m for m in messages) == 1


# -- the sign-in throttle ----------------------------------------------------------------------


def throttle(url: str, prefix: str, **kw: object) -> RedisLoginThrottle:
    return RedisLoginThrottle(client(url), prefix=prefix, **kw)  # type: ignore[arg-type]


def test_failures_counted_by_two_processes_lock_the_pair(redis_server, prefix):
    a, b = throttle(redis_server.url, prefix), throttle(redis_server.url, prefix)
    for i in range(PAIR_RULE.threshold - 1):
        (a, b)[i % 2].failed("Kim", "10.1.0.1")
    assert a.retry_after("kim", "10.1.0.1") == b.retry_after("kim", "10.1.0.1") == 0
    b.failed("KIM ", "10.1.0.1")  # names count case-insensitively, as in memory
    assert a.retry_after("kim", "10.1.0.1") == 1
    assert b.retry_after("kim", "10.1.0.1") == 1
    a.failed("kim", "10.1.0.1")
    assert b.retry_after("kim", "10.1.0.1") == 2  # doubling
    assert b.retry_after("kim", "10.1.0.2") == 0  # another address is not locked
    assert b.retry_after("lee", "10.1.0.1") == 0  # nor another account from here


def test_success_resets_the_account_but_not_the_address(redis_server, prefix):
    rules = (Rule(2, 1.0, 5.0), Rule(3, 1.0, 5.0), Rule(2, 1.0, 5.0))
    a = throttle(redis_server.url, prefix, rules=rules)
    b = throttle(redis_server.url, prefix, rules=rules)
    a.failed("kim", "10.1.1.1"), b.failed("kim", "10.1.1.1")
    assert a.retry_after("kim", "10.1.1.1") == 1
    b.succeeded("kim", "10.1.1.1")
    assert a.retry_after("kim", "10.1.1.1") == 0
    a.failed("lee", "10.1.1.1")  # the address's third failure: the address counter locks
    assert b.retry_after("someone", "10.1.1.1") == 1
    a.succeeded("lee", "10.1.1.1")
    assert b.retry_after("someone", "10.1.1.1") == 1  # a success does not launder an address


def test_known_device_is_exempt_from_the_account_counter(redis_server, prefix):
    a, b = throttle(redis_server.url, prefix), throttle(redis_server.url, prefix)
    for i in range(ACCOUNT_RULE.threshold):
        (a, b)[i % 2].failed("kim", f"10.1.2.{i}")  # spread over addresses
    assert a.retry_after("kim", "10.1.2.200") == 1
    assert b.retry_after("kim", "10.1.2.200", known_device=True) == 0


def test_counters_are_forgotten(redis_server, prefix):
    rules = (Rule(1, 5.0, 5.0, forget_after_s=0.3),) * 3
    a = throttle(redis_server.url, prefix, rules=rules)
    a.failed("kim", "10.1.3.1")
    assert a.retry_after("kim", "10.1.3.1") == 5
    r = client(redis_server.url)
    wait_until(lambda: not r.keys(f"{prefix}:login:*"), timeout=5, message="keys expired")
    assert a.retry_after("kim", "10.1.3.1") == 0


def test_names_with_colons_do_not_collide(redis_server, prefix):
    a = throttle(redis_server.url, prefix)
    for _ in range(PAIR_RULE.threshold):
        a.failed("a:b", "c")
    assert a.retry_after("a:b", "c") == 1
    assert a.retry_after("a", "b:c") == 0


def test_switched_off_throttle_writes_nothing(redis_server, prefix):
    a = throttle(redis_server.url, prefix, enabled=False)
    for _ in range(30):
        a.failed("kim", "10.1.4.1")
    assert a.retry_after("kim", "10.1.4.1") == 0
    assert client(redis_server.url).keys(f"{prefix}:login:*") == []


def test_throttle_counts_in_memory_while_redis_is_down(caplog, prefix):
    caplog.set_level(logging.WARNING, logger="app.redis_throttle")
    gone = throttle(f"redis://127.0.0.1:{free_port()}/0", prefix)
    for _ in range(PAIR_RULE.threshold):
        gone.failed("kim", "10.1.5.1")
    assert gone.retry_after("kim", "10.1.5.1") == 1  # still throttled, by this process
    warnings = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(warnings) == 1


# -- wiring ------------------------------------------------------------------------------------


def test_the_app_counts_in_redis_exactly_when_a_redis_url_is_configured(tmp_path, redis_server):
    def extras(redis_url: str | None) -> dict[str, object]:
        config = Config(
            database_url=f"sqlite:///{tmp_path / 'w.db'}",
            demo=False,
            secret_key="t",
            redis_url=redis_url,
        )
        app = create_app(config)
        app_ctx = app.server.extensions["milldash"]
        found = dict(app_ctx.extras)
        app_ctx.realtime.stop()
        app_ctx.db.dispose()
        return found

    with_redis = extras(redis_server.url)
    assert isinstance(with_redis["login_throttle"], RedisLoginThrottle)
    assert isinstance(with_redis["socket_slots"], SocketSlots)
    alone = extras(None)
    assert type(alone["login_throttle"]) is LoginThrottle
    assert "socket_slots" not in alone
