"""One socket's outbound side: frames go straight to the socket when it takes them, else into a
bounded queue that a writer drains; the writer exists only while there is something to drain.

Every write to a socket goes through its Connection, in order: the fan-out's frames, the
replies to the client's frames, pings, pongs and the close frame. An idle socket then costs
no greenlet of its own besides the one that reads it.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

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
    """Why the writer should close the socket."""

    OVERFLOW = "overflow"
    CLOSED = "closed"
    POLICY = "policy"
    ENDED = "ended"
    GOING_AWAY = "going_away"
    HEARTBEAT = "heartbeat"


@dataclass(eq=False)
class Connection:
    """Pending frames for one client, bounded in frames and bytes.

    `offer` never blocks: the hub calls it for every client in turn, so a slow client must not
    slow the others. Past the bound the connection is marked overflowed; its writer then
    closes it with 4008 and the client resumes with `since`.

    The serving side sets `spawn_writer` (start a writer that drains the queue through `take`)
    and, once the welcome and the replay are out, calls `live` with a non-blocking send. Until
    then it writes itself and frames only queue. Without a serving side (tests, the hub alone)
    frames only queue, and `take` reads them.
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
    principal: Any = None  # who opened it, for the periodic session check

    def __post_init__(self) -> None:
        self._frames: deque[bytes] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self.direct: Callable[[bytes], int] | None = None
        # While the socket is live, nothing is queued, no writer works and no signal is set:
        # `direct`, so `offer` writes without taking the lock. None otherwise.
        self._send: Callable[[bytes], int] | None = None
        # Starts a writer that drains the queue through `take`; set by the serving side.
        self.spawn_writer: Callable[[], None] | None = None
        self._writer = True  # who writes: the serving side until `live`, then a writer if any
        self.signal: str | None = None
        self.dropped = 0
        self.awaiting_pong = False  # a heartbeat ping went out and no pong came back yet

    def wants(self, topic: str) -> bool:
        if self.admin:  # the admin socket is a control channel, not an event stream
            return False
        return topic == ALL or ALL in self.topics or topic in self.topics

    def offer(self, frame: bytes, count: bool = True) -> Offer:
        """Send or queue an encoded frame; REFUSED (and overflowed) when the bound is passed.

        With nothing queued and no writer at work, the frame goes straight to the socket from
        here (one non-blocking send): most frames then cost no wake-up and no second copy.
        Whatever the socket does not take now is queued for the writer, in order (and
        counted in the metrics when the writer sends it). A frame sent here is counted too,
        unless `count` is False: the hub counts a fan-out's frames once for all sockets."""
        send = self._send
        if send is not None:
            sent = _write_some(send, frame)
            if sent == len(frame):
                if count:
                    metrics.frames_sent(1, sent)
                return Offer.SENT
            if sent:
                metrics.bytes_sent(sent)  # the writer counts the frame itself
                frame = frame[sent:]
        return self._queue(frame)

    def _queue(self, frame: bytes) -> Offer:
        with self._lock:
            if self.signal is not None:
                self.dropped += 1
                return Offer.REFUSED
            if len(self._frames) >= self.max_frames or self._bytes + len(frame) > self.max_bytes:
                self.dropped += 1 + len(self._frames)
                self._frames.clear()
                self._bytes = 0
                self._signal(_Signal.OVERFLOW)
            else:
                self._frames.append(frame)
                self._bytes += len(frame)
                self._send = None
        self._kick()
        return Offer.REFUSED if self.signal is not None else Offer.QUEUED

    def control(self, data: bytes) -> None:
        """Send or queue protocol bytes (a ping, a pong, a close reply) in order with the
        frames, outside the bound, even while closing: the close handshake needs them."""
        send = self._send
        if send is not None:
            sent = _write_some(send, data)
            if sent == len(data):
                return
            data = data[sent:]
        with self._lock:
            self._frames.append(data)  # a control frame is a few bytes
            self._bytes += len(data)
            self._send = None
        self._kick()

    def _kick(self) -> None:
        """Start a writer unless one is at work (or the serving side still writes itself)."""
        with self._lock:
            if self._writer or self.spawn_writer is None:
                return
            self._writer = True
            self._send = None
        self.spawn_writer()

    def _signal(self, signal: str) -> None:
        """Set the first signal (call with the lock held)."""
        if self.signal is None:
            self.signal = signal
        self._send = None

    def end(self, signal: str) -> None:
        """Have the writer close the socket for `signal` (policy, ended, ...) once it has sent
        what is already queued; the first signal wins."""
        with self._lock:
            self._signal(signal)
        self._kick()

    def close(self) -> None:
        """Stop writing (the client went away or the socket is done)."""
        self.end(_Signal.CLOSED)

    def take(self) -> list[bytes] | str | None:
        """Every pending frame (a list, for the writer to write), else the signal (a str),
        else None. It never waits. None ends the
        writer's turn: frames go straight to the socket again, and the next one queued starts
        a new writer; after a signal none starts."""
        with self._lock:
            if not self._frames:
                if self.signal is None:
                    self._writer = False
                    self._send = self.direct
                return self.signal
            frames = list(self._frames)
            self._frames.clear()
            self._bytes = 0
            return frames

    def live(self, direct: Callable[[bytes], int] | None) -> None:
        """From now on write straight to the socket with `direct` (a non-blocking send: bytes
        written, or BlockingIOError/OSError) when nothing is queued; what queued meanwhile
        goes first, through a writer. None: every frame goes through a writer."""
        with self._lock:
            self.direct = direct
            self._writer = False
            if not self._frames and self.signal is None:
                self._send = direct
        if self._frames or self.signal is not None:
            self._kick()

    @property
    def pending(self) -> int:
        return len(self._frames)


def _write_some(send: Callable[[bytes], int], data: bytes) -> int:
    """Bytes a non-blocking send took (0 when it took none or failed: the writer then meets
    the failure and ends the connection)."""
    try:
        return send(data)
    except OSError:  # BlockingIOError included
        return 0


OVERFLOW = _Signal.OVERFLOW
CLOSED = _Signal.CLOSED
POLICY = _Signal.POLICY
ENDED = _Signal.ENDED
GOING_AWAY = _Signal.GOING_AWAY
HEARTBEAT = _Signal.HEARTBEAT
