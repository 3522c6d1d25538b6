"""Sign-in throttling: growing delays after repeated failures, per account and per address.

Three counters, each a bounded table in this process's memory; with a Redis URL the same
counters live in Redis, shared by every process (`app/redis_throttle.py`, docs/deploy.md):

- (account, address): 5 failures, then 1 s, doubling per further failure up to 5 min. This is
  the strong one: one address guessing one account's password.
- address: 20 failures over any names, then the same growing delay up to 5 min. It stops one
  address from spraying many names (each name would stay under its own threshold).
- account, from anywhere: 10 failures, then 1 s doubling up to only 30 s. It slows guessing
  spread over many addresses, and its short cap bounds what someone who knows a name can do to
  its owner. A browser that signed in to the account before carries a signed "known device"
  cookie, and that browser is exempt from this counter: a guesser cannot lock a returning user
  out at all.

A throttled attempt is answered without checking the password, so it costs no Argon2 time. A
success resets its account's counters; the address counter stays, so an attacker with one
valid account cannot launder an address's guessing through it. Entries are forgotten an hour
after their last failure, and each table holds at most MAX_KEYS entries (least recently
failed dropped first), so memory stays bounded whatever arrives.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_KEYS = 20_000


@dataclass(frozen=True)
class Rule:
    """After `threshold` failures each further one locks for `first_delay_s`, doubling up to
    `cap_s`; an entry without failures for `forget_after_s` is dropped."""

    threshold: int
    first_delay_s: float
    cap_s: float
    forget_after_s: float = 3600.0

    def delay(self, failures: int) -> float:
        if failures < self.threshold:
            return 0.0
        return min(self.cap_s, self.first_delay_s * 2 ** min(failures - self.threshold, 30))


PAIR_RULE = Rule(threshold=5, first_delay_s=1.0, cap_s=300.0)
ADDRESS_RULE = Rule(threshold=20, first_delay_s=1.0, cap_s=300.0)
ACCOUNT_RULE = Rule(threshold=10, first_delay_s=1.0, cap_s=30.0, forget_after_s=900.0)


class FailureTable:
    """Failures per key with a lock-out time; bounded (LRU) and expiring."""

    def __init__(self, rule: Rule, clock: Callable[[], float], max_keys: int = MAX_KEYS) -> None:
        self.rule = rule
        self.clock = clock
        self.max_keys = max_keys
        # key -> [failures, locked_until, last_failure]
        self._entries: OrderedDict[object, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def _entry(self, key: object, now: float) -> list[float] | None:
        entry = self._entries.get(key)
        if entry is not None and now - entry[2] > self.rule.forget_after_s:
            del self._entries[key]
            return None
        return entry

    def retry_after(self, key: object) -> float:
        """Seconds until `key` may try again (0: now)."""
        now = self.clock()
        entry = self._entry(key, now)
        return max(0.0, entry[1] - now) if entry else 0.0

    def fail(self, key: object) -> None:
        now = self.clock()
        entry = self._entry(key, now) or [0.0, 0.0, now]
        entry[0] += 1
        entry[2] = now
        delay = self.rule.delay(int(entry[0]))
        if delay:
            entry[1] = now + delay
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_keys:
            self._entries.popitem(last=False)

    def reset(self, key: object) -> None:
        self._entries.pop(key, None)


class LoginThrottle:
    """The three counters together; `enabled=False` (a benchmark of the password check
    itself) lets every attempt through."""

    def __init__(
        self,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.enabled = enabled
        self.pairs = FailureTable(PAIR_RULE, clock, max_keys)
        self.addresses = FailureTable(ADDRESS_RULE, clock, max_keys)
        self.accounts = FailureTable(ACCOUNT_RULE, clock, max_keys)
        # Greenlets never interleave inside these methods, but a threaded server could.
        self._lock = threading.Lock()

    @staticmethod
    def account_key(name: str) -> str:
        return name.strip().casefold()

    def retry_after(self, name: str, address: str, known_device: bool = False) -> int:
        """Whole seconds to wait before this attempt may be checked (0: check it now)."""
        if not self.enabled:
            return 0
        account = self.account_key(name)
        with self._lock:
            waits = [
                self.pairs.retry_after((account, address)),
                self.addresses.retry_after(address),
                0.0 if known_device else self.accounts.retry_after(account),
            ]
        return math.ceil(max(waits))

    def failed(self, name: str, address: str) -> None:
        if not self.enabled:
            return
        account = self.account_key(name)
        with self._lock:
            self.pairs.fail((account, address))
            self.addresses.fail(address)
            self.accounts.fail(account)

    def succeeded(self, name: str, address: str) -> None:
        account = self.account_key(name)
        with self._lock:
            self.pairs.reset((account, address))
            self.accounts.reset(account)
