"""Typed events: one class per type, topics derived from the classes, and payloads that are
exactly what the wire carried as plain dicts before the classes existed."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from data import events as events_module
from data.events import (
    ALL,
    EVENT_CLASSES,
    EVENT_TOPICS,
    TOPICS,
    DashboardRefresh,
    DomainEvent,
    MachineStatusUpdate,
    MaintenanceAlert,
    ProductionUpdate,
    SystemAlert,
    TicketStatusChange,
    TicketUpdated,
)
from data.store.models import EventLog
from data.write.services import Services

# Each class with a sample, and the payload the services wrote for it as a plain dict (the
# event log rows of one run before the classes existed), keys in the same order.
SAMPLES: list[tuple[DomainEvent, dict[str, Any]]] = [
    (
        MaintenanceAlert(
            ticket_id=1,
            machine_id=1,
            machine_name="MILL-01",
            priority="high",
            title="Leak",
            description="oil",
        ),
        {
            "ticket_id": 1,
            "machine_id": 1,
            "machine_name": "MILL-01",
            "priority": "high",
            "title": "Leak",
            "description": "oil",
        },
    ),
    (
        MaintenanceAlert(
            ticket_id=1,
            machine_id=1,
            machine_name="MILL-01",
            priority="critical",
            title="Leak",
            description="oil",
            escalated=True,
            old_priority="high",
        ),
        {
            "ticket_id": 1,
            "machine_id": 1,
            "machine_name": "MILL-01",
            "priority": "critical",
            "title": "Leak",
            "description": "oil",
            "escalated": True,
            "old_priority": "high",
        },
    ),
    (
        TicketUpdated(
            ticket_id=1,
            machine_id=1,
            changes={"assignee": {"old": "dora", "new": None}},
            priority="critical",
            assignee=None,
            status="open",
            by="olga",
        ),
        {
            "ticket_id": 1,
            "machine_id": 1,
            "changes": {"assignee": {"old": "dora", "new": None}},
            "priority": "critical",
            "assignee": None,
            "status": "open",
            "by": "olga",
        },
    ),
    (
        TicketStatusChange(
            ticket_id=1,
            machine_id=1,
            changes={"status": {"old": "open", "new": "in_progress"}},
            priority="high",
            assignee="kim",
            status="in_progress",
            by="olga",
            old_status="open",
            new_status="in_progress",
        ),
        {
            "ticket_id": 1,
            "machine_id": 1,
            "changes": {"status": {"old": "open", "new": "in_progress"}},
            "priority": "high",
            "assignee": "kim",
            "status": "in_progress",
            "by": "olga",
            "old_status": "open",
            "new_status": "in_progress",
        },
    ),
    (
        MachineStatusUpdate(
            machine_id=1,
            machine_name="MILL-01",
            area="Milling",
            status="running",
            old_status="idle",
            reason=None,
            utilization=0.0,
        ),
        {
            "machine_id": 1,
            "machine_name": "MILL-01",
            "area": "Milling",
            "status": "running",
            "old_status": "idle",
            "reason": None,
            "utilization": 0.0,
        },
    ),
    (
        ProductionUpdate(
            id=2, machine_id=2, good=3, scrap=0, ts=datetime(2026, 3, 2, 7, 1, tzinfo=UTC)
        ),
        {"id": 2, "machine_id": 2, "good": 3, "scrap": 0, "ts": "2026-03-02T07:01:00Z"},
    ),
    (
        DashboardRefresh(reason="machine_status_update"),
        {"refresh_all": False, "reason": "machine_status_update"},
    ),
    (
        SystemAlert(message="Shift change", level="warning"),
        {"message": "Shift change", "level": "warning"},
    ),
]


def test_every_type_has_one_class_and_a_known_topic() -> None:
    assert set(EVENT_CLASSES) == {
        "maintenance_alert",
        "ticket_status_change",
        "ticket_updated",
        "machine_status_update",
        "production_update",
        "dashboard_refresh",
        "system_alert",
    }
    for etype, cls in EVENT_CLASSES.items():
        assert cls.type == etype
        assert cls.topic in (*TOPICS, ALL), cls
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen


def test_event_topics_is_derived_from_the_classes() -> None:
    assert {cls.type: cls.topic for cls in EVENT_CLASSES.values()} == EVENT_TOPICS
    assert EVENT_TOPICS == {
        "maintenance_alert": "maintenance",
        "ticket_status_change": "maintenance",
        "ticket_updated": "maintenance",
        "machine_status_update": "machines",
        "production_update": "production",
        "dashboard_refresh": "dashboard",
        "system_alert": "all",
    }


@pytest.mark.parametrize(("event", "wire"), SAMPLES, ids=lambda v: getattr(v, "type", ""))
def test_payload_is_what_the_wire_carried(event: DomainEvent, wire: dict[str, Any]) -> None:
    data = event.data()
    assert list(data.items()) == list(wire.items())  # same keys, same order, same values
    assert json.dumps(data) == json.dumps(wire)


def test_every_class_has_a_sample() -> None:
    assert {type(event) for event, _ in SAMPLES} == set(EVENT_CLASSES.values())


def test_an_alert_carries_escalation_keys_only_when_escalated() -> None:
    fresh, escalated = SAMPLES[0][0].data(), SAMPLES[1][0].data()
    assert "escalated" not in fresh and "old_priority" not in fresh
    assert escalated["escalated"] is True and escalated["old_priority"] == "high"


def test_production_ts_is_utc_with_z() -> None:
    ts = datetime(2026, 3, 2, 8, 1, tzinfo=timezone(timedelta(hours=1))).astimezone(UTC)
    event = ProductionUpdate(id=1, machine_id=1, good=1, scrap=0, ts=ts)
    assert event.data()["ts"] == "2026-03-02T07:01:00Z"


def test_payload_is_a_copy() -> None:
    changes = {"priority": {"old": "low", "new": "high"}}
    event = TicketUpdated(
        ticket_id=1,
        machine_id=1,
        changes=changes,
        priority="high",
        assignee=None,
        status="open",
        by="ann",
    )
    event.data()["changes"]["priority"]["new"] = "changed"
    assert changes["priority"]["new"] == "high"


def test_events_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        SystemAlert(message="x").message = "y"  # type: ignore[misc]


def test_refresh_names_the_event_it_follows() -> None:
    assert DashboardRefresh.after(SAMPLES[0][0]) == DashboardRefresh(reason="maintenance_alert")


def test_system_alert_level_is_checked() -> None:
    assert SystemAlert(message="x").data() == {"message": "x", "level": "info"}
    with pytest.raises(ValueError, match="level"):
        SystemAlert(message="x", level="loud")


def test_a_class_with_an_unknown_topic_or_a_taken_type_is_refused() -> None:
    before = dict(EVENT_TOPICS)
    with pytest.raises(ValueError, match="unknown topic"):

        class Nowhere(DomainEvent):
            type: ClassVar[str] = "nowhere"
            topic: ClassVar[str] = "nowhere"

    with pytest.raises(ValueError, match="already defined"):

        class Twice(DomainEvent):
            type: ClassVar[str] = "system_alert"
            topic: ClassVar[str] = ALL

    with pytest.raises(TypeError, match="type"):

        class Untyped(DomainEvent):
            pass

    assert before == EVENT_TOPICS


@pytest.fixture
def registry() -> Iterator[None]:
    """Undo what a throwaway event class registers."""
    classes, topics = dict(EVENT_CLASSES), dict(EVENT_TOPICS)
    yield
    events_module.EVENT_CLASSES.clear()
    events_module.EVENT_CLASSES.update(classes)
    events_module.EVENT_TOPICS.clear()
    events_module.EVENT_TOPICS.update(topics)


def test_a_new_type_is_one_class(registry, services: Services, publisher, db) -> None:
    """docs/architecture.md, "Add an event type": the class is all the outbox needs."""

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class ShiftStarted(DomainEvent):
        type: ClassVar[str] = "shift_started"
        topic: ClassVar[str] = "dashboard"

        shift: str
        at: datetime

    assert EVENT_TOPICS["shift_started"] == "dashboard"
    at = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    (event,) = services.append_events([ShiftStarted(shift="early", at=at)])
    assert (event.type, event.topic) == ("shift_started", "dashboard")
    assert event.data == {"shift": "early", "at": "2026-03-02T06:00:00Z"}
    assert publisher.events == [event]
    with db.read() as session:
        row = session.scalars(select(EventLog)).one()
    assert (row.seq, row.type, row.topic, row.payload) == (
        1,
        "shift_started",
        "dashboard",
        event.data,
    )
