"""Services: validation, the ticket workflow, and events written with the change."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from data.errors import Conflict, NotFound, ValidationFailed
from data.read.records import ticket_record
from data.store.models import EventLog, Machine, StatusPeriod, Ticket, TicketHistory
from data.write.outbox import Outbox
from data.write.services import Services
from data.write.workflow import WORKFLOW
from devtools.factories import add_machines


def count(db, model) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def machine_id(db) -> int:
    return add_machines(db, 1)[0]


def new_ticket(services: Services, machine_id: int, **extra) -> dict:
    payload = {"machine_id": machine_id, "title": "Coolant leak", "priority": "high", **extra}
    return services.create_ticket(payload, "ann")


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "Leak", "priority": "high"}, "machine_id"),
        ({"machine_id": "1", "title": "Leak", "priority": "high"}, "machine_id"),
        ({"machine_id": 1, "title": "x", "priority": "high"}, "title"),
        ({"machine_id": 1, "title": "Leak", "priority": "urgent"}, "priority"),
        ({"machine_id": 1, "title": "Leak", "priority": "high", "colour": "red"}, "colour"),
        (
            {"machine_id": 1, "title": "Leak", "priority": "high", "description": "d" * 10_001},
            "description",
        ),
    ],
)
def test_create_ticket_rejects_bad_fields(services, db, machine_id, payload, field):
    with pytest.raises(ValidationFailed) as info:
        services.create_ticket(payload, "ann")
    assert field in info.value.details
    assert count(db, Ticket) == 0
    assert count(db, EventLog) == 0


def test_create_ticket_unknown_machine(services, db):
    with pytest.raises(NotFound):
        services.create_ticket({"machine_id": 99, "title": "Leak", "priority": "low"}, "ann")
    assert count(db, EventLog) == 0


def test_body_must_be_object(services):
    with pytest.raises(ValidationFailed):
        services.create_ticket(["not", "an", "object"], "ann")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "payload",
    [{"status": "broken"}, {}, {"status": "down", "reason": "r" * 201}, {"status": 3}],
)
def test_report_status_rejects_bad_input(services, db, machine_id, payload):
    with pytest.raises(ValidationFailed):
        services.report_status(machine_id, payload)
    assert count(db, StatusPeriod) == 0
    assert count(db, EventLog) == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"machine_id": 1, "good": -1, "scrap": 0},
        {"machine_id": 1, "good": 1.5, "scrap": 0},
        {"machine_id": 1, "good": 1, "scrap": 0, "ts": "2026-01-01T00:00:00"},
        {"machine_id": 1, "good": True, "scrap": 0},
    ],
)
def test_record_production_rejects_bad_input(services, db, machine_id, payload):
    with pytest.raises(ValidationFailed):
        services.record_production(payload)
    assert count(db, EventLog) == 0


# -- machine status ---------------------------------------------------------------------------


def test_status_change_closes_period_and_emits_events(services, db, publisher, clock, machine_id):
    services.report_status(machine_id, {"status": "running"})
    clock.advance(minutes=30)
    record = services.report_status(machine_id, {"status": "down", "reason": "spindle"})
    assert record["status"] == "down"
    assert record["utilization_24h"] == pytest.approx(1800 / 86400, abs=1e-4)
    with db.read() as session:
        periods = session.scalars(select(StatusPeriod).order_by(StatusPeriod.id)).all()
    assert [p.status for p in periods] == ["running", "down"]
    assert periods[0].ended_at == periods[1].started_at == clock.now
    assert periods[1].ended_at is None and periods[1].reason == "spindle"
    types = [(e.seq, e.type) for e in publisher.events]
    assert types == [
        (1, "machine_status_update"),
        (2, "dashboard_refresh"),
        (3, "machine_status_update"),
        (4, "dashboard_refresh"),
    ]
    update = publisher.events[2]
    assert update.topic == "machines"
    assert update.data["old_status"] == "running" and update.data["status"] == "down"
    assert update.data["machine_id"] == machine_id


def test_production_recorded_with_event(services, db, publisher, machine_id):
    services.record_production({"machine_id": machine_id, "good": 40, "scrap": 2})
    assert publisher.events[-1].type == "production_update"
    assert publisher.events[-1].data["good"] == 40


# -- tickets and workflow ---------------------------------------------------------------------


def test_create_ticket_writes_history_and_alert(services, db, publisher, machine_id):
    ticket = new_ticket(services, machine_id, description="drips under the table")
    assert ticket["status"] == "open" and ticket["reported_by"] == "ann"
    alert = publisher.events[0]
    assert (alert.type, alert.topic) == ("maintenance_alert", "maintenance")
    assert alert.data["ticket_id"] == ticket["id"]
    assert alert.data["description"] == "drips under the table"
    assert publisher.events[1].type == "dashboard_refresh"
    assert count(db, TicketHistory) == 1


def test_a_new_tickets_record_and_alert_are_the_ticket_as_stored(
    services, db, publisher, machine_id
):
    # The record and the alert are built from the values written, not read back: they must
    # say what a later read says, down to the link to the machine's down period.
    services.report_status(machine_id, {"status": "down", "reason": "spindle"})
    ticket = new_ticket(services, machine_id, description="drips", assignee="dee")
    with db.read() as session:
        stored = session.get(Ticket, ticket["id"])
        assert stored is not None
        assert ticket == ticket_record(stored)
        assert (stored.version, stored.status) == (1, "open")
        down = session.scalar(select(StatusPeriod.id).where(StatusPeriod.ended_at.is_(None)))
        assert stored.down_period_id == down is not None
        name = stored.machine.name
    alert = [e for e in publisher.events if e.type == "maintenance_alert"][-1]
    assert (alert.data["ticket_id"], alert.data["machine_name"]) == (ticket["id"], name)
    assert ticket["machine_name"] == name


ALL_STATUSES = list(WORKFLOW)


@pytest.mark.parametrize("start", ["open", "in_progress", "on_hold", "resolved"])
@pytest.mark.parametrize("target", ALL_STATUSES)
def test_workflow_matrix(services, db, machine_id, start, target):
    ticket = new_ticket(services, machine_id)
    path = {
        "open": [],
        "in_progress": ["in_progress"],
        "on_hold": ["on_hold"],
        "resolved": ["in_progress", "resolved"],
    }[start]
    for step in path:
        services.update_ticket(ticket["id"], {"status": step}, "bob")
    if target == start:
        return
    before = count(db, EventLog)
    if target in WORKFLOW[start]:
        result = services.update_ticket(ticket["id"], {"status": target}, "bob")
        assert result["status"] == target
        assert result["history"][-1] == {
            **result["history"][-1],
            "from": start,
            "to": target,
            "by": "bob",
        }
    else:
        with pytest.raises(Conflict) as info:
            services.update_ticket(ticket["id"], {"status": target}, "bob")
        assert start in info.value.message and target in info.value.message
        assert count(db, EventLog) == before


def test_final_states_refuse_every_move(services, machine_id):
    ticket = new_ticket(services, machine_id)
    services.update_ticket(ticket["id"], {"status": "cancelled"}, "bob")
    for target in ("open", "in_progress", "resolved", "closed"):
        with pytest.raises(Conflict):
            services.update_ticket(ticket["id"], {"status": target}, "bob")


def test_resolve_sets_and_reopen_clears_resolved_at(services, clock, machine_id):
    ticket = new_ticket(services, machine_id)
    services.update_ticket(ticket["id"], {"status": "in_progress"}, "bob")
    clock.advance(hours=2)
    resolved = services.update_ticket(ticket["id"], {"status": "resolved"}, "bob")
    assert resolved["resolved_at"] == clock.now.isoformat().replace("+00:00", "Z")
    reopened = services.update_ticket(ticket["id"], {"status": "open"}, "bob")
    assert reopened["resolved_at"] is None


def test_assignee_and_priority_changes_are_history(services, publisher, machine_id):
    ticket = new_ticket(services, machine_id)
    published = len(publisher.events)
    result = services.update_ticket(
        ticket["id"], {"assignee": "carl", "priority": "critical"}, "bob"
    )
    assert result["assignee"] == "carl" and result["priority"] == "critical"
    fields = [(h["field"], h["from"], h["to"]) for h in result["history"][1:]]
    assert fields == [("assignee", None, "carl"), ("priority", "high", "critical")]
    # No status move, still an event (it used to be none: open screens never updated).
    kinds = [e.type for e in publisher.events[published:]]
    assert kinds == ["ticket_updated", "maintenance_alert", "dashboard_refresh"]


def test_update_unknown_ticket(services):
    with pytest.raises(NotFound):
        services.update_ticket(404, {"status": "closed"}, "bob")


def test_ticket_on_down_machine_links_period_and_resolve_ends_it(
    services, db, publisher, clock, machine_id
):
    services.report_status(machine_id, {"status": "down", "reason": "hydraulic leak"})
    ticket = new_ticket(services, machine_id)
    with db.read() as session:
        row = session.get(Ticket, ticket["id"])
        down = session.scalar(select(StatusPeriod).where(StatusPeriod.status == "down"))
        assert row.down_period_id == down.id
    services.update_ticket(ticket["id"], {"status": "in_progress"}, "bob")
    clock.advance(minutes=45)
    services.update_ticket(ticket["id"], {"status": "resolved"}, "bob")
    with db.read() as session:
        down = session.get(StatusPeriod, down.id)
        machine = session.get(Machine, machine_id)
    assert down.ended_at == clock.now
    assert machine.status == "idle"
    kinds = [e.type for e in publisher.events[-3:]]
    assert kinds == ["ticket_status_change", "machine_status_update", "dashboard_refresh"]


# -- the outbox -------------------------------------------------------------------------------


class ExplodingPublisher:
    def publish(self, events):
        raise AssertionError("nothing may be published after a rollback")


def test_failure_after_change_leaves_neither_change_nor_event(db, clock, machine_id, monkeypatch):
    services = Services(db, ExplodingPublisher(), clock)

    def fail_after_append(self, tx):
        original(self, tx)
        raise RuntimeError("disk full")

    original = Outbox.append
    monkeypatch.setattr(Outbox, "append", fail_after_append)
    with pytest.raises(RuntimeError):
        services.report_status(machine_id, {"status": "down"})
    with pytest.raises(RuntimeError):
        new_ticket(services, machine_id)
    assert count(db, EventLog) == 0
    assert count(db, Ticket) == 0
    assert count(db, StatusPeriod) == 0
    with db.read() as session:
        assert session.get(Machine, machine_id).status == "idle"


def test_seq_is_gap_free_after_rollback(services, publisher, db, machine_id):
    services.report_status(machine_id, {"status": "running"})
    with pytest.raises(ValidationFailed):
        services.report_status(machine_id, {"status": "exploded"})
    services.report_status(machine_id, {"status": "idle"})
    with db.read() as session:
        seqs = session.scalars(select(EventLog.seq).order_by(EventLog.seq)).all()
    assert seqs == [1, 2, 3, 4]
    assert [e.seq for e in publisher.events] == seqs


def run_together(count: int, work: Callable[[int], None]) -> None:
    """`work(0)` ... `work(count - 1)`, each in its own thread, released at once by a barrier;
    an exception in any of them fails the test."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            work(n)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_concurrent_writers_keep_seq_gap_free(db, machine_id):
    services = Services(db)

    def work(n: int) -> None:
        for i in range(10):
            services.record_production({"machine_id": machine_id, "good": n, "scrap": i})

    run_together(4, work)
    with db.read() as session:
        seqs = session.scalars(select(EventLog.seq).order_by(EventLog.seq)).all()
    assert seqs == list(range(1, 41))


def test_same_status_again_continues_the_period(services, db, clock, machine_id):
    services.report_status(machine_id, {"status": "down", "reason": "unknown"})
    started = clock.now
    clock.advance(minutes=10)
    record = services.report_status(machine_id, {"status": "down", "reason": "hydraulic leak"})
    assert record["status_since"] == started.isoformat().replace("+00:00", "Z")
    with db.read() as session:
        periods = session.scalars(select(StatusPeriod)).all()
    assert [(p.status, p.reason, p.ended_at) for p in periods] == [("down", "hydraulic leak", None)]


def test_concurrent_escalations_alert_once(db, machine_id):
    """Eight operators raise the same ticket to critical at once: one change, one history row,
    one alert. PostgreSQL reads under READ COMMITTED, so without the row lock every writer saw
    "high" and wrote its own change (SQLite's BEGIN IMMEDIATE serialises them anyway)."""
    services = Services(db)
    ticket = new_ticket(services, machine_id)
    run_together(
        8, lambda n: services.update_ticket(ticket["id"], {"priority": "critical"}, f"op-{n}")
    )
    with db.read() as session:
        types = session.scalars(select(EventLog.type).order_by(EventLog.seq)).all()
        rows = session.scalars(select(TicketHistory).where(TicketHistory.field == "priority"))
        changes = [(h.from_value, h.to_value) for h in rows]
    assert changes == [("high", "critical")]
    assert types.count("maintenance_alert") == 2  # the new ticket's and the escalation's
    assert types.count("ticket_updated") == 1
