"""The sign-in throttle with its counters in Redis, so its thresholds hold for every process
that shares the Redis (several workers or hosts behind a load balancer).

The rules are those of `app/login_throttle.py`; each counter is a hash (`failures`, `until`:
the end of its lock-out in Redis's milliseconds) whose expiry is set to the rule's
`forget_after_s` at every failure, so a counter is forgotten as in memory and Redis holds
nothing for long. A failure updates the three counters in one Lua script and the check reads
them in another, both on Redis's clock, so the hosts' clocks do not need to agree.

While Redis is unreachable the throttle counts in this process's memory (the in-process
throttle it extends) and logs that once; it goes back to Redis as soon as Redis answers.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import redis

from app.login_throttle import ACCOUNT_RULE, ADDRESS_RULE, MAX_KEYS, PAIR_RULE, LoginThrottle, Rule
from app.redis_clock import NOW_MS

log = logging.getLogger(__name__)


# KEYS: counters; ARGV: for each, threshold, first delay ms, cap ms, forget ms.
FAIL = (
    NOW_MS
    + """
for i, key in ipairs(KEYS) do
  local base = (i - 1) * 4
  local threshold = tonumber(ARGV[base + 1])
  local failures = redis.call('HINCRBY', key, 'failures', 1)
  if failures >= threshold then
    local steps = math.min(failures - threshold, 30)
    local delay = math.min(tonumber(ARGV[base + 3]), tonumber(ARGV[base + 2]) * 2 ^ steps)
    redis.call('HSET', key, 'until', string.format('%d', now + delay))
  end
  redis.call('PEXPIRE', key, ARGV[base + 4])
end
return 0
"""
)

# KEYS: counters. Returns the milliseconds until the last of their lock-outs ends (0: none).
WAIT = (
    NOW_MS
    + """
local wait = 0
for _, key in ipairs(KEYS) do
  local locked = tonumber(redis.call('HGET', key, 'until') or '0')
  if locked - now > wait then wait = locked - now end
end
return wait
"""
)


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


class RedisLoginThrottle(LoginThrottle):
    """`LoginThrottle` counted in Redis: the same interface, rules and answers."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = "milldash",
        enabled: bool = True,
        rules: tuple[Rule, Rule, Rule] = (PAIR_RULE, ADDRESS_RULE, ACCOUNT_RULE),
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        super().__init__(enabled=enabled, clock=clock, max_keys=max_keys)
        self.pairs.rule, self.addresses.rule, self.accounts.rule = rules
        self.rules = rules
        self.prefix = prefix
        self._redis = client
        self._fail = client.register_script(FAIL)
        self._wait = client.register_script(WAIT)
        self._error: str | None = None

    def keys(self, account: str, address: str) -> tuple[str, str, str]:
        """The pair, address and account counters (the account name's length keeps a name
        with a colon in it from reading as another pair)."""
        base = f"{self.prefix}:login"
        return (
            f"{base}:pair:{len(account)}:{account}:{address}",
            f"{base}:address:{address}",
            f"{base}:account:{account}",
        )

    def retry_after(self, name: str, address: str, known_device: bool = False) -> int:
        if not self.enabled:
            return 0
        pair, by_address, account = self.keys(self.account_key(name), address)
        keys = [pair, by_address] if known_device else [pair, by_address, account]
        try:
            wait_ms = int(self._wait(keys=keys))
        except redis.RedisError as exc:
            self._failed(exc)
            return super().retry_after(name, address, known_device)
        self._recovered()
        return math.ceil(max(0, wait_ms) / 1000)

    def failed(self, name: str, address: str) -> None:
        if not self.enabled:
            return
        args: list[int] = []
        for rule in self.rules:
            args += [rule.threshold, _ms(rule.first_delay_s), _ms(rule.cap_s)]
            args.append(_ms(rule.forget_after_s))
        try:
            self._fail(keys=list(self.keys(self.account_key(name), address)), args=args)
        except redis.RedisError as exc:
            self._failed(exc)
            super().failed(name, address)
            return
        self._recovered()

    def succeeded(self, name: str, address: str) -> None:
        # Also in memory: failures counted there during an outage end with this success too.
        super().succeeded(name, address)
        pair, _, account = self.keys(self.account_key(name), address)
        try:
            self._redis.delete(pair, account)
        except redis.RedisError as exc:
            self._failed(exc)
            return
        self._recovered()

    def _failed(self, exc: Exception) -> None:
        if self._error is None:
            log.warning(
                "Redis unreachable (%s: %s): sign-in failures are counted per process until "
                "it answers",
                type(exc).__name__,
                exc,
            )
        self._error = type(exc).__name__

    def _recovered(self) -> None:
        if self._error is not None:
            self._error = None
            log.info("Redis answers again: sign-in failures are counted across processes")
