"""Who has which ticket open in the maintenance drawer, kept beside the hub.

Presence is live state of this process, not an event: nothing goes to the event log, its
frames carry no seq and are never replayed. Each socket announces at most one ticket (the one
its drawer shows); announcing another one, announcing null or closing the socket leaves the
previous one. Whenever the set of names on a ticket changes, every socket on that ticket gets
`{"type":"presence","ticket_id":N,"viewers":[...]}` with the names of the others (its own
name left out, several sockets of one name counted once).
"""

from __future__ import annotations

import json
import threading

from app.realtime.connection import Connection, text_frame
from app.realtime.protocol import FrameError
from data.roles import allows


def may_announce(conn: Connection) -> bool:
    """A signed-in person (session or token, not anonymous) whose role reads tickets; the
    wall's display role does not."""
    return conn.signed_in and not conn.admin and allows(conn.role, "viewer")


def presence_frame(ticket_id: int | None, viewers: list[str]) -> bytes:
    """The encoded server -> client presence frame."""
    body = {"type": "presence", "ticket_id": ticket_id, "viewers": viewers}
    return text_frame(json.dumps(body, separators=(",", ":")))


class Presence:
    """Tickets and the sockets that have them open."""

    def __init__(self) -> None:
        # One lock for state and sends: frames about a ticket are offered in the order its
        # viewers changed, so the last frame a socket gets is the current state.
        self._lock = threading.Lock()
        self._ticket_of: dict[str, int] = {}  # client id -> ticket id
        self._sockets: dict[int, dict[str, Connection]] = {}  # ticket id -> client id -> conn

    def announce(self, conn: Connection, ticket_id: int | None) -> None:
        """`conn` now shows `ticket_id` (None: nothing). `conn` always gets the frame for what
        it now shows; the others on a ticket whose names changed get theirs. FrameError when
        `conn` may not announce."""
        if not may_announce(conn):
            raise FrameError(
                "forbidden", "Only a signed-in person who may read tickets can announce presence."
            )
        with self._lock:
            if conn.signal is not None:  # closing: `leave` may have run already
                self._leave(conn)
                return
            before = self._ticket_of.get(conn.client_id)
            if before != ticket_id:
                self._leave(conn)
                if ticket_id is not None:
                    self._join(conn, ticket_id)
            if ticket_id is None:
                conn.offer(presence_frame(None, []))
            elif before == ticket_id:
                conn.offer(presence_frame(ticket_id, _others(self._names(ticket_id), conn)))

    def leave(self, conn: Connection) -> None:
        """`conn` closed: it leaves its ticket, and the others there hear of it."""
        with self._lock:
            self._leave(conn)

    def _names(self, ticket_id: int) -> list[str]:
        return sorted({c.principal_name for c in self._sockets.get(ticket_id, {}).values()})

    def _join(self, conn: Connection, ticket_id: int) -> None:
        names = self._names(ticket_id)
        self._sockets.setdefault(ticket_id, {})[conn.client_id] = conn
        self._ticket_of[conn.client_id] = ticket_id
        self._tell(ticket_id, changed=self._names(ticket_id) != names, joined=conn)

    def _leave(self, conn: Connection) -> None:
        ticket_id = self._ticket_of.pop(conn.client_id, None)
        if ticket_id is None:
            return
        names = self._names(ticket_id)
        sockets = self._sockets[ticket_id]
        del sockets[conn.client_id]
        if not sockets:
            del self._sockets[ticket_id]
        self._tell(ticket_id, changed=self._names(ticket_id) != names)

    def _tell(self, ticket_id: int, changed: bool, joined: Connection | None = None) -> None:
        """Offer each socket on `ticket_id` its frame: all of them when the names changed,
        else only the one that just joined."""
        names = self._names(ticket_id)
        for conn in list(self._sockets.get(ticket_id, {}).values()):
            if changed or conn is joined:
                conn.offer(presence_frame(ticket_id, _others(names, conn)))


def _others(names: list[str], conn: Connection) -> list[str]:
    return [name for name in names if name != conn.principal_name]
