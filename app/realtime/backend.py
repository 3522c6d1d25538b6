"""The hub's backend: how committed events reach every server process, and where the
history for replays is read. In-process by default; a Redis backend implements the same."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from data.events import Event
from data.read.event_queries import events_after
from data.store.db import Database

Listener = Callable[[list[Event]], None]


class Backend(Protocol):
    def publish(self, events: list[Event]) -> None:
        """Announce committed events to every process's hub."""

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` with each announced batch (from any process)."""

    def replay(self, since: int, topics: Iterable[str] | None, limit: int) -> list[Event]:
        """Events after `since` from the event log, in order."""

    def health(self) -> str:
        """'ok', 'n/a' (nothing to check) or an error text."""

    def start(self) -> None:
        """Begin receiving other processes' announcements (serving only; idempotent)."""

    def stop(self) -> None:
        """Stop receiving and let go of connections."""


class InProcessBackend:
    """One process: announcing is a direct call; the event log is the history."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._listeners: list[Listener] = []

    def publish(self, events: list[Event]) -> None:
        for listener in self._listeners:
            listener(events)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def replay(self, since: int, topics: Iterable[str] | None, limit: int) -> list[Event]:
        with self.db.read() as session:
            return events_after(session, since, topics, limit)

    def health(self) -> str:
        return "n/a"

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None
