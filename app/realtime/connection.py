"""One socket's outbound side: a bounded queue drained by exactly one writer."""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

from app import metrics
from app.realtime.limits import FrameRate
from data.events import ALL

_ids = itertools.count(1)


def text_frame(payload: str) -> bytes:
    """One unmasked, unfragmented WebSocket text frame (server to client, RFC 6455 §5.2).

    Built once per event and sent as is to every client: without compression the bytes are
    the same for all of them."""
    data = payload.encode()
    size = len(data)
    if size < 126:
        head = bytes((0x81, size))
    elif size < 65536:
        head = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return head + data


class Offer(IntEnum):
    """What `Connection.offer` did with a frame; falsy when it was refused."""

    REFUSED = 0  # the bound was passed, or the connection is closing
    QUEUED = 1  # the writer sends it
    SENT = 2  # written to the socket whole, now


class _Signal:
    """Why the writer should wake up besides a frame."""

    OVERFLOW = "overflow"
    CLOSED = "closed"
    POLICY = "policy"
    ENDED = "ended"
    GOING_AWAY = "going_away"


@dataclass
class Connection:
    """Pending frames for one client, bounded in frames and bytes.

    `offer` never blocks: the hub calls it for every client in turn, so a slow client must not
    slow the others. Past the bound the connection is marked overflowed; its writer then
    closes it with 4008 and the client resumes with `since`.
    """

    principal_name: str
    role: str
    topics: set[str]
    max_frames: int = 1000
    max_bytes: int = 1024 * 1024
    client_id: str = field(default_factory=lambda: f"c{next(_ids)}-{int(time.time())}")
    connected_since: float = field(default_factory=time.time)
    admin: bool = False
    address: str = ""
    signed_in: bool = False  # a session or a token, not anonymous read access
    rate: FrameRate = field(default_factory=FrameRate)

    def __post_init__(self) -> None:
        self._frames: deque[bytes] = deque()
        self._writing = False
        # Set once the welcome and the replay are out: a non-blocking write straight to the
        # socket, returning the bytes written (-1: not now).
        self.direct: Callable[[bytes], int] | None = None
        self._bytes = 0
        self._cond = threading.Condition(threading.Lock())
        self.signal: str | None = None
        self.dropped = 0

    def wants(self, topic: str) -> bool:
        if self.admin:  # the admin socket is a control channel, not an event stream
            return False
        return topic == ALL or ALL in self.topics or topic in self.topics

    def offer(self, frame: bytes, count: bool = True) -> Offer:
        """Send or queue an encoded frame; REFUSED (and overflowed) when the bound is passed.

        With nothing queued and the writer idle, the frame goes straight to the socket from
        here (one non-blocking send): most frames then cost no wake-up and no second copy.
        Whatever the socket does not take now is queued for the writer, in order (and
        counted in the metrics when the writer sends it). A frame sent here is counted too,
        unless `count` is False: the hub counts a fan-out's frames once for all sockets."""
        with self._cond:
            if self.signal is not None:
                self.dropped += 1
                return Offer.REFUSED
            if self.direct is not None and not self._frames and not self._writing:
                written = self.direct(frame)
                if written == len(frame):
                    if count:
                        metrics.frames_sent(1, written)
                    return Offer.SENT
                if written > 0:
                    metrics.bytes_sent(written)  # the writer counts the frame itself
                    frame = frame[written:]
            if len(self._frames) >= self.max_frames or self._bytes + len(frame) > self.max_bytes:
                self.signal = _Signal.OVERFLOW
                self.dropped += 1 + len(self._frames)
                self._frames.clear()
                self._bytes = 0
                self._cond.notify()
                return Offer.REFUSED
            self._frames.append(frame)
            self._bytes += len(frame)
            self._cond.notify()
            return Offer.QUEUED

    def end(self, signal: str) -> None:
        """Ask the writer to close the socket for `signal` (policy, ended) once it has sent
        what is already queued."""
        with self._cond:
            self.signal = signal
            self._cond.notify()

    def close(self) -> None:
        """Ask the writer to stop (the client went away or the server shuts down)."""
        with self._cond:
            if self.signal is None:
                self.signal = _Signal.CLOSED
            self._cond.notify()

    def take(self, timeout: float | None = None) -> list[bytes] | str | None:
        """Every pending frame (a list; call `done` once written), a signal (a str), or None
        after `timeout`."""
        with self._cond:
            if not self._frames and self.signal is None:
                self._cond.wait(timeout)
            if not self._frames:
                return self.signal  # None after the timeout
            # Frames queued before a policy close (its warnings, say) still go out first.
            frames = list(self._frames)
            self._frames.clear()
            self._bytes = 0
            self._writing = True
            return frames

    def done(self) -> None:
        """The writer has written what `take` gave it."""
        with self._cond:
            self._writing = False

    @property
    def pending(self) -> int:
        return len(self._frames)


OVERFLOW = _Signal.OVERFLOW
CLOSED = _Signal.CLOSED
POLICY = _Signal.POLICY
ENDED = _Signal.ENDED
GOING_AWAY = _Signal.GOING_AWAY
