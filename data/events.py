"""Event types, topics and the publisher port that services hand committed events to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

TOPICS = ("dashboard", "maintenance", "machines", "production")
ALL = "all"

EVENT_TOPICS: dict[str, str] = {
    "maintenance_alert": "maintenance",
    "ticket_status_change": "maintenance",
    # A ticket change without a status move (assignee, priority): `changes` says what changed.
    "ticket_updated": "maintenance",
    "machine_status_update": "machines",
    "production_update": "production",
    "dashboard_refresh": "dashboard",
    "system_alert": ALL,
}


@dataclass(frozen=True)
class Event:
    """A committed event: its position in the log and what it says."""

    seq: int
    type: str
    topic: str
    timestamp: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> dict[str, Any]:
        """The wire form of CONTRACT §3."""
        return {
            "type": self.type,
            "seq": self.seq,
            "topic": self.topic,
            "timestamp": self.timestamp.isoformat().replace("+00:00", "Z"),
            "data": self.data,
        }


class Publisher(Protocol):
    """Receives events after their transaction committed, in seq order per call."""

    def publish(self, events: list[Event]) -> None: ...


class NullPublisher:
    """Publishes nothing; the relay picks the events up from the log."""

    def publish(self, events: list[Event]) -> None:
        return None


class RecordingPublisher:
    """Keeps every published event in memory (for the CLI and tests)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, events: list[Event]) -> None:
        self.events.extend(events)
