"""Per-connection limits: a token bucket for client frames."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


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
