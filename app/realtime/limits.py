"""Limits on sockets: a token bucket for one connection's client frames, and the caps on open
sockets per user and per address counted in Redis for every process that shares it.

Without Redis the caps are counted by this process's hub (`Hub.counts`, checked in
`app/realtime/handshake.py`). With Redis each admitted socket also holds a *slot*: a member of
one sorted set per user and one per address, scored with the time it expires. The check and the
take are one Lua script, so two processes admitting at once cannot both take the last slot.
Each process renews the expiry of its own open slots every `refresh_s` seconds and removes a
slot when its socket ends; the slots of a process that crashed simply expire `ttl_s` later.
Times are Redis's own clock (`TIME`), so the hosts' clocks do not need to agree.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

import redis

from app.redis_clock import NOW_MS

log = logging.getLogger(__name__)

SLOT_TTL_S = 20.0
SLOT_REFRESH_S = 5.0
REFRESH_CHUNK = 500  # slots per script call: bounds one call's length under many sockets


# KEYS[1]: the user's set, KEYS[2]: the address's set. ARGV: slot, ttl ms, user cap (-1: the
# user is not counted, e.g. anonymous), address cap. Returns 0 (taken), 1 (user), 2 (address).
RESERVE = (
    NOW_MS
    + """
local ttl = tonumber(ARGV[2])
local user_cap = tonumber(ARGV[3])
if user_cap >= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= user_cap then return 1 end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 2 end
local keys = {KEYS[2]}
if user_cap >= 0 then keys[2] = KEYS[1] end
for _, key in ipairs(keys) do
  redis.call('ZADD', key, now + ttl, ARGV[1])
  redis.call('PEXPIRE', key, ttl)
end
return 0
"""
)

# KEYS: sets; ARGV[1]: ttl ms, ARGV[i + 1]: the slot held in KEYS[i].
REFRESH = (
    NOW_MS
    + """
local ttl = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + ttl, ARGV[i + 1])
  redis.call('PEXPIRE', key, ttl)
end
return #KEYS
"""
)


@dataclass
class FrameRate:
    """Allows `rate` frames a second with bursts of `burst`. Past that a frame is refused;
    after `strikes` refusals the connection is to be closed (1008)."""

    rate: float = 20.0
    burst: float = 40.0
    strikes: int = 3
    _tokens: float = field(default=-1.0)
    _stamp: float = field(default_factory=time.monotonic)
    refused: int = 0

    def allow(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if self._tokens < 0:
            self._tokens = self.burst
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        self.refused += 1
        return False

    @property
    def exhausted(self) -> bool:
        return self.refused >= self.strikes


@dataclass(frozen=True)
class Admission:
    """The answer to a socket asking for a slot: `refused` is None, "user" or "address";
    `slot` is the slot to release when the socket ends (None: nothing was counted)."""

    slot: str | None = None
    refused: str | None = None


class SocketSlots:
    """Sockets per user and per address across every process on one Redis."""

    def __init__(
        self,
        client: redis.Redis,
        max_per_user: int,
        max_per_address: int,
        prefix: str = "milldash",
        ttl_s: float = SLOT_TTL_S,
        refresh_s: float = SLOT_REFRESH_S,
    ) -> None:
        self.max_per_user = max_per_user
        self.max_per_address = max_per_address
        self.prefix = prefix
        self.ttl_ms = int(ttl_s * 1000)
        self.refresh_s = refresh_s
        self._redis = client
        self._reserve = client.register_script(RESERVE)
        self._refresh = client.register_script(REFRESH)
        self._live: dict[str, tuple[str, ...]] = {}  # slot -> the sets it is counted in
        # Held around every change to Redis of a live slot, so a renewal never puts back a
        # slot that a socket's end has just removed.
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None
        self._error: str | None = None

    def user_key(self, user: str) -> str:
        return f"{self.prefix}:sockets:user:{user}"

    def address_key(self, address: str) -> str:
        return f"{self.prefix}:sockets:address:{address}"

    @property
    def live(self) -> int:
        """Slots this process holds."""
        return len(self._live)

    def reserve(self, user: str | None, address: str) -> Admission:
        """Take a slot for a socket of `user` (None: not counted per user) from `address`.

        While Redis is unreachable every socket is admitted uncounted: this process's own
        caps (`Hub.counts`) still hold, and health says the broker failed."""
        slot = uuid.uuid4().hex
        user_key = self.user_key(user if user is not None else "")
        keys = [user_key, self.address_key(address)]
        user_cap = -1 if user is None else self.max_per_user
        try:
            answer = self._reserve(
                keys=keys, args=[slot, self.ttl_ms, user_cap, self.max_per_address]
            )
        except redis.RedisError as exc:
            self._failed(exc)
            return Admission()
        self._recovered()
        if answer == 1:
            return Admission(refused="user")
        if answer == 2:
            return Admission(refused="address")
        with self._lock:
            self._live[slot] = tuple(keys[1:] if user is None else keys)
        self._start_refresher()
        return Admission(slot=slot)

    def release(self, slot: str | None) -> None:
        """The socket holding `slot` ended; never raises (an unremoved slot expires)."""
        if slot is None:
            return
        with self._lock:
            keys = self._live.pop(slot, None)
            if not keys or self._error is not None:
                return  # during an outage the slot expires on its own
            try:
                pipe = self._redis.pipeline(transaction=False)
                for key in keys:
                    pipe.zrem(key, slot)
                pipe.execute()
            except redis.RedisError as exc:
                self._failed(exc)

    def refresh(self) -> None:
        """Renew the expiry of every slot this process holds (the refresher's step)."""
        with self._lock:
            pairs = [(key, slot) for slot, keys in self._live.items() for key in keys]
            try:
                for start in range(0, len(pairs), REFRESH_CHUNK):
                    chunk = pairs[start : start + REFRESH_CHUNK]
                    keys = [key for key, _ in chunk]
                    self._refresh(keys=keys, args=[self.ttl_ms, *(slot for _, slot in chunk)])
            except redis.RedisError as exc:
                self._failed(exc)
                return
        self._recovered()

    def close(self, release: bool = True) -> None:
        """Stop renewing; `release` also removes this process's slots now (else they expire)."""
        self._stop.set()
        if self._refresher is not None:
            self._refresher.join(5.0)
            self._refresher = None
        if release:
            for slot in list(self._live):
                self.release(slot)
        self._live.clear()

    # -- internals ------------------------------------------------------------------------------

    def _start_refresher(self) -> None:
        if self._refresher is not None and self._refresher.is_alive():
            return
        with self._lock:
            if self._refresher is not None and self._refresher.is_alive():
                return
            self._stop.clear()
            self._refresher = threading.Thread(target=self._run, name="socket-slots", daemon=True)
            self._refresher.start()

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_s):
            try:
                self.refresh()
            except Exception:  # the renewals must outlive a bug in one step
                log.exception("renewing socket slots failed")

    def _failed(self, exc: Exception) -> None:
        if self._error is None:
            log.warning(
                "Redis unreachable (%s: %s): sockets are capped per process until it answers",
                type(exc).__name__,
                exc,
            )
        self._error = type(exc).__name__

    def _recovered(self) -> None:
        if self._error is not None:
            self._error = None
            log.info("Redis answers again: sockets are capped across processes")
