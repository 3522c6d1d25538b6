"""Statements run on the driver's cursor (data/store/prepared.py) write and read the same values
as SQLAlchemy does, on SQLite and PostgreSQL; a new ticket's write opens no ORM session."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from data.read.event_queries import latest_seq
from data.store.db import is_unreachable
from data.store.models import EventLog, Machine, Ticket
from data.store.prepared import Prepared
from data.validation import TicketCreate
from data.write import tickets
from data.write.outbox import Outbox
from data.write.ticket_input import parse_ticket
from devtools.factories import add_machines

BERLIN = timezone(timedelta(hours=1))
_DROP_EVENT = Prepared(delete(EventLog).where(EventLog.seq == bindparam("seq")))


def test_insert_converts_like_sqlalchemy(db):
    """A JSON payload and an aware time (not UTC) go through the columns' own processors: the
    ORM reads back the dict and the same instant in UTC."""
    at = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=BERLIN)
    payload = {"ticket_id": 7, "title": 'Spindle "A" ✓', "nested": [1, None, 2.5]}
    with db.transaction() as conn:
        row = {"seq": 1, "type": "t", "topic": "maintenance", "payload": payload, "created_at": at}
        Prepared(insert(EventLog.__table__)).execute(conn, row).close()
    with db.read() as session:
        event = session.get(EventLog, 1)
        assert event.payload == payload
        assert event.created_at == at
        assert event.created_at.tzinfo == UTC
        assert event.published_at is None


def test_select_reads_like_sqlalchemy(db):
    """Result processors apply: times come back aware UTC, as the same select through
    SQLAlchemy gives them; bound names and the statement's own literals both work."""
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    with db.transaction() as conn:
        for seq in (1, 2, 3):
            conn.execute(
                insert(EventLog),
                {"seq": seq, "type": "t", "topic": "x", "payload": {}, "created_at": at},
            )
    stmt = select(EventLog.seq, EventLog.created_at).where(EventLog.seq >= bindparam("low"))
    with db.lookup() as conn:
        prepared = Prepared(stmt).first(conn, {"low": 2})
        through_sqlalchemy = conn.execute(stmt, {"low": 2}).first()
        largest = Prepared(select(func.coalesce(func.max(EventLog.seq), 0))).scalar(conn)
        none = Prepared(select(EventLog.seq).where(EventLog.seq > bindparam("s"))).first(
            conn, {"s": 3}
        )
    assert prepared == tuple(through_sqlalchemy) == (2, at)
    assert prepared[1].tzinfo == UTC
    assert largest == 3
    assert none is None


def test_execute_many_writes_every_row(db):
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    rows = [
        {"seq": seq, "type": "t", "topic": "x", "payload": {"n": seq}, "created_at": at}
        for seq in range(1, 6)
    ]
    with db.transaction() as conn:
        Prepared(insert(EventLog.__table__)).execute_many(conn, rows)
    with db.read() as session:
        payloads = session.scalars(select(EventLog.payload).order_by(EventLog.seq)).all()
    assert payloads == [{"n": n} for n in range(1, 6)]


def test_an_insert_is_rendered_for_the_columns_given(db):
    """The same insert, once with `published_at` and once without: each call names its own
    columns, and a column left out keeps its NULL."""
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    append = Prepared(insert(EventLog.__table__))
    row = {"seq": 1, "type": "t", "topic": "x", "payload": {}, "created_at": at}
    with db.transaction() as conn:
        append.execute(conn, {**row, "published_at": at + timedelta(seconds=1)}).close()
        append.execute(conn, {**row, "seq": 2}).close()
    with db.read() as session:
        stored = session.scalars(select(EventLog.published_at).order_by(EventLog.seq)).all()
    assert stored == [at + timedelta(seconds=1), None]


def test_returning_gives_the_new_id(db):
    (machine_id,) = add_machines(db, 1)
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    values = {
        "machine_id": machine_id,
        "title": "Coolant leak",
        "description": "",
        "priority": "high",
        "status": "open",
        "assignee": None,
        "reported_by": "op",
        "created_at": now,
        "updated_at": now,
        "down_period_id": None,
        "version": 1,
    }
    new_ticket = Prepared(insert(Ticket.__table__).returning(Ticket.id))
    with db.transaction() as conn:
        first = new_ticket.scalar(conn, values)
        second = new_ticket.scalar(conn, values)
    assert second == first + 1
    with db.read() as session:
        assert session.get(Ticket, second).created_at == now


def test_a_missing_value_fails_and_writes_nothing(db):
    """A bound name left out raises before anything runs; an insert without a value for a
    required column is refused by the database; either way the transaction rolls back."""
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    row = {"seq": 1, "type": "t", "topic": "x", "payload": {}, "created_at": at}
    after = Prepared(select(EventLog.seq).where(EventLog.seq > bindparam("since")))
    with pytest.raises(KeyError, match="since"), db.transaction() as conn:
        Prepared(insert(EventLog.__table__)).execute(conn, row).close()
        after.first(conn, {"after": 0})
    no_topic = {k: v for k, v in row.items() if k != "topic"}
    with pytest.raises(IntegrityError), db.transaction() as conn:
        Prepared(insert(EventLog.__table__)).execute(conn, no_topic).close()
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(EventLog)) == 0


def test_an_update_runs_in_the_callers_transaction(db):
    """Statements run on the caller's connection: a rollback takes them back too."""
    (machine_id,) = add_machines(db, 1)
    rename = Prepared(update(Machine).where(Machine.id == bindparam("mid")).values(name="X-1"))
    with pytest.raises(RuntimeError), db.transaction() as conn:
        rename.execute(conn, {"mid": machine_id}).close()
        raise RuntimeError("after the update")
    with db.read() as session:
        assert session.get(Machine, machine_id).name != "X-1"
    with db.transaction() as conn:
        rename.execute(conn, {"mid": machine_id}).close()
    with db.read() as session:
        assert session.get(Machine, machine_id).name == "X-1"


def test_expanding_parameters_are_refused(db):
    prepared = Prepared(
        select(EventLog.seq).where(EventLog.seq.in_(bindparam("seqs", expanding=True)))
    )
    with db.lookup() as conn, pytest.raises(ValueError, match="binds every parameter"):
        prepared.first(conn, {"seqs": [1, 2]})


def test_statements_it_cannot_run_as_sqlalchemy_would_are_refused(db):
    """A column whose Python default SQLAlchemy would compute is not left NULL, and a Float
    result (converted by the driver's type code) is not read unconverted: both are refused."""
    missing_default = Prepared(insert(EventLog.__table__))
    with db.transaction() as conn, pytest.raises(ValueError, match="created_at"):
        missing_default.execute(conn, {"seq": 1, "type": "t", "topic": "x", "payload": {}})
    with db.lookup() as conn, pytest.raises(ValueError, match="Float"):
        Prepared(select(Machine.ideal_cycle_time_s)).first(conn)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(EventLog)) == 0


def test_driver_errors_come_out_as_sqlalchemys(db):
    """A constraint broken through a prepared statement raises SQLAlchemy's IntegrityError
    (with the statement), as `Connection.execute` would, and the transaction rolls back."""
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    append = Prepared(insert(EventLog.__table__))
    row = {"seq": 1, "type": "t", "topic": "x", "payload": {}, "created_at": at}
    with pytest.raises(IntegrityError) as raised, db.transaction() as conn:
        append.execute_many(conn, [row, {**row, "type": "u"}])
    assert "event_log" in str(raised.value.statement)
    with pytest.raises(IntegrityError), db.transaction() as conn:
        append.execute(conn, row).close()
        append.execute(conn, row).close()
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(EventLog)) == 0


def test_an_unreachable_database_is_told_apart(db):
    """What the outage handling looks for: a database that cannot answer (PostgreSQL: the
    server ended the connection; SQLite: another process holds the write lock) comes out
    as an error `is_unreachable` recognises; a lost connection is invalidated."""
    if db.is_sqlite:
        holder = sqlite3.connect(db.sqlite_file, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(DBAPIError) as raised, db.lookup() as conn:
                conn.connection.dbapi_connection.execute("PRAGMA busy_timeout=50")
                _DROP_EVENT.execute(conn, {"seq": 1}).close()
        finally:
            holder.rollback()
            holder.close()
        assert is_unreachable(raised.value)
        return
    with db.lookup() as conn:
        pid = Prepared(select(func.pg_backend_pid())).scalar(conn)
        with db.engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            admin.commit()
        with pytest.raises(DBAPIError) as raised:
            latest_seq(conn)
        assert raised.value.connection_invalidated
        assert conn.invalidated
    assert is_unreachable(raised.value)
    with db.lookup() as conn:  # the pool hands out a working connection again
        assert latest_seq(conn) == 0


def test_a_new_ticket_opens_no_orm_session(db, clock):
    """The ticket, its history row and its events go through prepared statements alone; a
    write that needs the ORM opens its session in the same transaction."""
    (machine_id,) = add_machines(db, 1)
    outbox = Outbox(db, clock=clock)
    form = parse_ticket(
        TicketCreate, {"machine_id": machine_id, "title": "Belt", "priority": "low"}
    )
    with outbox.write() as tx:
        record = tickets.create_ticket(tx, form, "op")
        assert tx._session is None
    assert [e.type for e in tx.committed] == ["maintenance_alert", "dashboard_refresh"]
    with outbox.write() as tx:
        ticket = tx.session.get(Ticket, record["id"])
        ticket.assignee = "Kim"
    with db.read() as session:
        stored = session.get(Ticket, record["id"])
        assert stored.assignee == "Kim"
        assert len(stored.history) == 1
        assert stored.machine.id == machine_id
    assert record["machine_name"] == stored.machine.name
    assert record["created_at"] == "2026-03-02T08:00:00Z"
