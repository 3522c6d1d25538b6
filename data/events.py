"""Events: one frozen dataclass per type (what services emit), the committed `Event` the hub
delivers, and the publisher port that services hand committed events to.

A new type is one class here: its `type`, its `topic` and its payload fields. Defining the
class registers it (`EVENT_CLASSES`, `EVENT_TOPICS`); the outbox stores `data()` as the
event's payload, which is what clients receive as the frame's `data`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar, Protocol

TOPICS = ("dashboard", "maintenance", "machines", "production")
ALL = "all"
ALERT_LEVELS = ("info", "warning", "critical")

# What a ticket change changed: {field: {"old": ..., "new": ...}}.
Changes = dict[str, dict[str, str | None]]

EVENT_CLASSES: dict[str, type[DomainEvent]] = {}
# type -> topic, derived from the classes (the API documents it, tests check against it).
EVENT_TOPICS: dict[str, str] = {}


def absent_unless_set(default: Any = None) -> Any:
    """A payload field that is left out of `data()` while it holds its default (e.g. an
    escalation's `old_priority`: a new ticket's alert carries no such key at all)."""
    return field(default=default, metadata={"absent_when_default": True})


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Something a service recorded, before the outbox gives it a seq. Subclasses name their
    `type` and `topic` and declare their payload as fields, in wire order."""

    type: ClassVar[str]
    topic: ClassVar[str]

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        """Register the class (`abstract=True`: a base that shares fields, not a type)."""
        super().__init_subclass__(**kwargs)
        if abstract:
            return
        etype, topic = cls.__dict__.get("type"), cls.__dict__.get("topic")
        if not isinstance(etype, str) or not isinstance(topic, str):
            raise TypeError(f"{cls.__name__} must set the class attributes `type` and `topic`.")
        if topic not in (*TOPICS, ALL):
            raise ValueError(f"{cls.__name__}: unknown topic {topic!r}.")
        if etype in EVENT_CLASSES:
            raise ValueError(f"{cls.__name__}: event type {etype!r} is already defined.")
        EVENT_CLASSES[etype] = cls
        EVENT_TOPICS[etype] = topic

    def data(self) -> dict[str, Any]:
        """The payload as stored in the event log and sent as the frame's `data`: JSON-ready
        (datetimes as ISO 8601 UTC with `Z`), optional keys left out while unset."""
        payload: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.metadata.get("absent_when_default") and value == f.default:
                continue
            payload[f.name] = _wire(value)
        return payload


def _wire(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {key: _wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(item) for item in value]
    return value


@dataclass(frozen=True, kw_only=True)
class MaintenanceAlert(DomainEvent):
    """A ticket was opened, or raised to critical while it still needs work (the same frame,
    so the critical toast and the wall's takeover treat both alike)."""

    type: ClassVar[str] = "maintenance_alert"
    topic: ClassVar[str] = "maintenance"

    ticket_id: int
    machine_id: int
    machine_name: str
    priority: str
    title: str
    description: str
    escalated: bool = absent_unless_set(False)
    old_priority: str | None = absent_unless_set()


@dataclass(frozen=True, kw_only=True)
class TicketChange(DomainEvent, abstract=True):
    """What both ticket events carry: the ticket after the change and what changed."""

    ticket_id: int
    machine_id: int
    changes: Changes
    priority: str
    assignee: str | None
    status: str
    by: str


@dataclass(frozen=True, kw_only=True)
class TicketUpdated(TicketChange):
    """A ticket change without a status move (assignee, priority): `changes` says what."""

    type: ClassVar[str] = "ticket_updated"
    topic: ClassVar[str] = "maintenance"


@dataclass(frozen=True, kw_only=True)
class TicketStatusChange(TicketChange):
    """A ticket's status moved; `changes` also holds the other changes of the same request."""

    type: ClassVar[str] = "ticket_status_change"
    topic: ClassVar[str] = "maintenance"

    old_status: str
    new_status: str


@dataclass(frozen=True, kw_only=True)
class MachineStatusUpdate(DomainEvent):
    """A machine reported a status (also when a resolved ticket ends its down period)."""

    type: ClassVar[str] = "machine_status_update"
    topic: ClassVar[str] = "machines"

    machine_id: int
    machine_name: str
    area: str
    status: str
    old_status: str
    reason: str | None
    utilization: float


@dataclass(frozen=True, kw_only=True)
class ProductionUpdate(DomainEvent):
    """Parts were counted for a machine at `ts`."""

    type: ClassVar[str] = "production_update"
    topic: ClassVar[str] = "production"

    id: int
    machine_id: int
    good: int
    scrap: int
    ts: datetime


@dataclass(frozen=True, kw_only=True)
class DashboardRefresh(DomainEvent):
    """The dashboard should re-read; `reason` is the type of the event it follows."""

    type: ClassVar[str] = "dashboard_refresh"
    topic: ClassVar[str] = "dashboard"

    refresh_all: bool = False
    reason: str

    @classmethod
    def after(cls, event: DomainEvent) -> DashboardRefresh:
        """The refresh that follows `event`."""
        return cls(reason=event.type)


@dataclass(frozen=True, kw_only=True)
class SystemAlert(DomainEvent):
    """An admin's broadcast to every client."""

    type: ClassVar[str] = "system_alert"
    topic: ClassVar[str] = ALL

    message: str
    level: str = "info"

    def __post_init__(self) -> None:
        if self.level not in ALERT_LEVELS:
            raise ValueError(f"level must be one of {', '.join(ALERT_LEVELS)}, not {self.level!r}")


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
