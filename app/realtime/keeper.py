"""One loop for every open socket of the process: heartbeats and session checks.

Each `ping_interval_s` every socket gets a ping; a socket whose previous ping is still without a
pong is closed (1008, "Ping/Pong timeout"). The pings go out in parts, one every `TICK_S` or
so, each socket always in the same part: a round of thousands of pings (and the pongs that
answer them) never holds up an event for long. Each `check_s` every socket's session, token or
user is checked, once per principal however many sockets it holds, and the sockets of one that
ended are closed (4001). A database outage ends no socket: the last verdict holds.

One loop instead of a timer per socket: an idle socket costs no wake-ups of its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from app.outage import first_line
from app.realtime.connection import ENDED, HEARTBEAT, Connection
from data.accounts.tokens import still_valid
from data.store.db import Database, is_unreachable

log = logging.getLogger(__name__)
SESSION_CHECK_S = 5.0
PING = b"\x89\x00"  # an unmasked ping frame without payload, the same for every socket
CHUNK = 256  # sockets handled between two yields to the event loop
TICK_S = 0.5  # how far apart the parts of one heartbeat round go out (each wake-up costs)


def _principal_key(principal: Any) -> tuple[object, ...]:
    return (principal.session_id, principal.token_id, principal.user_id)


class Keeper:
    """Heartbeats and session checks over `connections()`."""

    def __init__(
        self,
        db: Database,
        connections: Callable[[], list[Connection]],
        ping_interval_s: float,
        check_s: float = SESSION_CHECK_S,
    ) -> None:
        self.db = db
        self.connections = connections
        self.ping_interval_s = ping_interval_s
        self.check_s = check_s
        self._verdicts: dict[tuple[object, ...], bool] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def heartbeat(self, part: int = 0, parts: int = 1) -> int:
        """Ping the sockets of `part` (of `parts`; by default every socket); close those of it
        that did not answer their last ping. A socket's part is fixed (from its client id).
        Returns how many were closed."""
        closed = 0
        for i, conn in enumerate(self.connections()):
            if parts > 1 and hash(conn.client_id) % parts != part:
                continue
            if conn.awaiting_pong:
                conn.end(HEARTBEAT)
                closed += 1
            else:
                conn.awaiting_pong = True
                conn.control(PING)
            if i % CHUNK == CHUNK - 1:
                time.sleep(0)
        return closed

    def check_sessions(self) -> int:
        """Close the sockets whose session, token or user is no longer valid; returns how
        many."""
        verdicts: dict[tuple[object, ...], bool] = {}
        closed = 0
        for i, conn in enumerate(self.connections()):
            if conn.principal is None:
                continue
            key = _principal_key(conn.principal)
            if key not in verdicts:
                verdicts[key] = self._verdict(key, conn.principal)
            if not verdicts[key]:
                conn.end(ENDED)
                closed += 1
            if i % CHUNK == CHUNK - 1:
                time.sleep(0)
        self._verdicts = verdicts
        return closed

    def _verdict(self, key: tuple[object, ...], principal: Any) -> bool:
        try:
            return bool(still_valid(self.db, principal))
        except Exception as exc:
            if not is_unreachable(exc):
                raise
            log.warning("socket session check skipped: %s", first_line(exc))
            return self._verdicts.get(key, True)

    # -- running --------------------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="socket-keeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None

    def _run(self) -> None:
        now = time.monotonic()
        # Every socket is pinged once per interval: its part comes round every `parts` steps.
        parts = max(1, round(self.ping_interval_s / TICK_S))
        step, part = self.ping_interval_s / parts, 0
        next_ping = now + step if self.ping_interval_s > 0 else float("inf")
        next_check = now + self.check_s
        while not self._stop.wait(max(0.0, min(next_ping, next_check) - time.monotonic())):
            try:
                if time.monotonic() >= next_ping:
                    next_ping += step
                    self.heartbeat(part, parts)
                    part = (part + 1) % parts
                if time.monotonic() >= next_check:
                    next_check += self.check_s
                    self.check_sessions()
            except Exception:  # the keeper must outlive whatever one round meets
                log.exception("socket keeper round failed")
