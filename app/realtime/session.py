"""One open socket, served by a greenlet of its own (app/realtime/handoff.py): it reads the
client's frames; frames to the client go out through the Connection (straight from whoever
offers them, or by a writer that exists only while a backlog or a close handshake needs one).

simple-websocket (through Flask-Sock) does the handshake and keeps the wsproto state; its
per-socket reader thread is replaced by `read`, and its per-socket ping timer by the keeper's
one heartbeat for all sockets (app/realtime/keeper.py).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from wsproto.connection import ConnectionState
from wsproto.events import CloseConnection

from app import metrics
from app.realtime.connection import (
    CLOSED,
    ENDED,
    GOING_AWAY,
    HEARTBEAT,
    OVERFLOW,
    POLICY,
    Connection,
)

log = logging.getLogger(__name__)
SEND_TIMEOUT_S = 30.0
SEND_BUFFER_BYTES = 64 * 1024
RECEIVE_BYTES = 4096
# After our close frame: how long the client has to answer before the connection is cut.
CLOSE_WAIT_S = 2.0
CLOSE_CODES = {
    OVERFLOW: (4008, "too slow: pending frames passed the bound"),
    POLICY: (1008, "too many frames"),
    ENDED: (4001, "session ended"),
    GOING_AWAY: (1001, "server stopping"),
    HEARTBEAT: (1008, "Ping/Pong timeout"),
}
_CONTROL = (0x88, 0x89, 0x8A)  # close, ping, pong: not counted as frames


class NoThread:
    """simple-websocket's `thread_class`: the thread it would start to read the socket is never
    started (the session's greenlet reads instead, in `SocketSession.read`)."""

    def __init__(self, target: Callable[[], None]) -> None:
        self.name = "socket reader"

    def start(self) -> None:
        pass


class NoEvent:
    """simple-websocket's `event_class`: nobody waits for its messages, `read` takes them."""

    def set(self) -> None:
        pass

    def clear(self) -> None:
        pass

    def wait(self, timeout: float | None = None) -> bool:
        return True


SERVER_OPTIONS = {"thread_class": NoThread, "event_class": NoEvent}


class _Outbox:
    """What simple-websocket writes (pongs, close replies, its 1009 close) joins the
    connection's ordered output instead of going to the socket past it."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def send(self, data: bytes) -> int:
        self._conn.control(data)
        return len(data)

    def close(self) -> None:
        pass


@functools.cache
def _spawner() -> Callable[[Callable[[], None]], Any]:
    """Start `fn` beside the caller without waiting for it (gevent.spawn in the server: a
    Thread's start would switch away from a fan-out in progress)."""
    from app.cpu_pool import under_gevent

    if under_gevent():
        import gevent

        return gevent.spawn
    return lambda fn: threading.Thread(target=fn, daemon=True).start()


class SocketSession:
    """The reading side and the occasional writer of one socket."""

    def __init__(self, ws: Any, conn: Connection, raw: socket.socket) -> None:
        self.ws = ws
        self.conn = conn
        self.raw = raw
        self.close_code: int | None = None  # the code of the close frame we sent
        self.reading = True
        self._spawn = _spawner()
        ws.sock = _Outbox(conn)
        ws.pong_received = False
        ws.connected = False  # Flask-Sock's close after the view: the session closes, not it
        ws.environ = None  # the request's environ (and its buffers) need not outlive it
        raw.settimeout(SEND_TIMEOUT_S)
        with contextlib.suppress(OSError):
            # Keep what the kernel buffers for a slow reader small, so the pending-frame bound
            # (not megabytes of socket buffer) decides when a client is too slow.
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        self.writer_busy = False
        conn.spawn_writer = self._start_writer
        self._after: list[Callable[[], None]] | None = []  # None once ended

    # -- writing --------------------------------------------------------------------------------

    def send_now(self, frame: bytes) -> None:
        """Write a frame whole, waiting for the socket (the welcome and the replay, before
        `go_live`)."""
        self.raw.sendall(frame)
        metrics.frames_sent(1, len(frame))

    def go_live(self) -> None:
        """From now on frames go straight to the socket, or through a writer."""
        # gevent's socket wraps a non-blocking one: its send never waits.
        raw = getattr(self.raw, "_sock", None)
        self.conn.live(raw.send if raw is not None else None)

    def _start_writer(self) -> None:
        self.writer_busy = True
        self._spawn(self._write)

    def _write(self) -> None:
        """Drain the queue; on a signal, close the socket the way it asks."""
        conn = self.conn
        try:
            while isinstance(item := conn.take(), list):
                batch = b"".join(item)
                self.raw.sendall(batch)
                frames = sum(1 for f in item if f[0] not in _CONTROL)
                metrics.frames_sent(frames, len(batch))
            if item is not None and item != CLOSED:
                self._close_with(item)
        except Exception as exc:  # OSError: the client is gone or took no frame for 30 s
            if not isinstance(exc, OSError):
                log.exception("socket writer of %s failed", conn.client_id)
            conn.close()
            self.cut()
        finally:
            self.writer_busy = False

    def _close_with(self, signal: str) -> None:
        """Send the close frame for `signal`, give the client CLOSE_WAIT_S to answer it (the
        reader sees the answer), then cut the connection."""
        code, message = CLOSE_CODES[signal]
        if self.reading and self.ws.ws.state is ConnectionState.OPEN:
            self.close_code = code
            self.raw.sendall(self.ws.ws.send(CloseConnection(code, message)))
        deadline = time.monotonic() + CLOSE_WAIT_S
        while self.reading and time.monotonic() < deadline:
            time.sleep(0.05)
        self.cut()

    def cut(self) -> None:
        """End the TCP connection (the reader's recv returns at once)."""
        with contextlib.suppress(OSError):
            self.raw.shutdown(socket.SHUT_RDWR)

    def end(self) -> None:
        """The session is over: end the connection, let go of the socket, run `after_end`'s."""
        self.cut()
        with contextlib.suppress(OSError):
            self.raw.close()
        after, self._after = self._after or [], None
        for fn in after:
            try:
                fn()
            except Exception:
                log.exception("socket end hook failed")

    def after_end(self, fn: Callable[[], None]) -> None:
        """Run `fn` when the session ends (now if it has)."""
        if self._after is None:
            fn()
        else:
            self._after.append(fn)

    # -- reading --------------------------------------------------------------------------------

    def read(self, on_message: Callable[[str], None]) -> None:
        """Read client frames until the client or the server ends the socket; each text or
        binary message goes to `on_message` (from this greenlet) unless the socket is closing."""
        ws, conn = self.ws, self.conn
        try:
            while True:
                try:
                    data = self.raw.recv(RECEIVE_BYTES)
                except TimeoutError:
                    continue  # an idle client: the keeper's heartbeat watches it
                if not data:
                    break
                ws.ws.receive_data(data)
                going_on = ws._handle_events()  # answers pings and closes through the outbox
                if ws.pong_received:
                    ws.pong_received = False
                    conn.awaiting_pong = False
                while ws.input_buffer:
                    message = ws.input_buffer.pop(0)
                    if conn.signal is None:
                        on_message(message)
                if not going_on:
                    break  # a close (theirs or the answer to ours), a message too big, an error
        except OSError:
            pass
        finally:
            conn.close()
            self.reading = False
            self._flush()

    def _flush(self) -> None:
        """Give a writer at work (a close reply still queued, say) CLOSE_WAIT_S to finish."""
        deadline = time.monotonic() + CLOSE_WAIT_S
        while self.writer_busy and time.monotonic() < deadline:
            time.sleep(0.01)
