"""The hub's subscriber index (app/realtime/topic_index.py): an event's fan-out reaches exactly
the connections that want its topic, each once, through attach, re-subscription and detach.
A model check against `Connection.wants`, and the hub on a real database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.realtime.connection import Connection
from app.realtime.topic_index import TopicIndex
from data.events import ALL, TOPICS, DashboardRefresh, MachineStatusUpdate, SystemAlert
from data.write.services import Services
from tests.test_realtime_runtime import build, frames_of

EVERY = (*TOPICS, ALL)
topic_sets = st.sets(st.sampled_from(EVERY), max_size=3)
# An operation on one of six connections: (re)attach with topics, re-subscribe, or detach.
operations = st.lists(
    st.tuples(st.sampled_from(("attach", "topics", "detach")), st.integers(0, 5), topic_sets),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(operations, st.lists(st.booleans(), min_size=6, max_size=6))
def test_recipients_are_exactly_those_that_want_the_topic(
    ops: list[tuple[str, int, set[str]]], admins: list[bool]
) -> None:
    conns = [
        Connection(principal_name="t", role="viewer", topics=set(), admin=admin) for admin in admins
    ]
    index, attached = TopicIndex(), set()
    for op, i, topics in ops:
        conn = conns[i]
        if op == "detach" and i in attached:
            index.remove(conn)
            attached.discard(i)
        elif op == "attach" and i not in attached:
            conn.topics = set(topics)
            index.add(conn)
            attached.add(i)
        elif op == "topics":  # as the hub's set_topics: out under the old, in under the new
            if i in attached:
                index.remove(conn)
            conn.topics = set(topics)
            if i in attached:
                index.add(conn)
        for topic in EVERY:
            got = [c.client_id for c in index.recipients(topic)]
            assert len(got) == len(set(got)), f"a connection twice for {topic}"
            want = {conns[j].client_id for j in attached if conns[j].wants(topic)}
            assert set(got) == want, (topic, ops)


@pytest.fixture
def hub_and_services(db_url: str) -> Iterator[tuple[object, Services]]:
    _app, app_ctx = build(db_url)
    yield app_ctx.realtime.hub, app_ctx.services
    app_ctx.realtime.stop()
    app_ctx.db.dispose()


def machine_update(status: str) -> MachineStatusUpdate:
    return MachineStatusUpdate(
        machine_id=1,
        machine_name="Mill 1",
        area="A",
        status=status,
        old_status="running",
        reason=None,
        utilization=0.5,
    )


def _types(conn: Connection) -> list[str]:
    return [frame["type"] for frame in frames_of(conn)]


def test_the_hub_fans_out_by_topic_through_resubscription_and_detach(
    hub_and_services: tuple[object, Services],
) -> None:
    hub, services = hub_and_services
    dashboard = Connection(principal_name="d", role="viewer", topics={"dashboard"})
    machines = Connection(principal_name="k", role="viewer", topics={"machines"})
    everything = Connection(principal_name="a", role="viewer", topics={ALL, "machines"})
    control = Connection(principal_name="x", role="admin", topics={ALL}, admin=True)
    for conn in (dashboard, machines, everything, control):
        hub.attach(conn)  # type: ignore[attr-defined]

    services.append_events([DashboardRefresh(reason="test")])
    services.append_events([machine_update("down")])
    services.append_events([SystemAlert(level="info", message="to every screen")])
    assert _types(dashboard) == ["dashboard_refresh", "system_alert"]
    assert _types(machines) == ["machine_status_update", "system_alert"]
    assert _types(everything) == ["dashboard_refresh", "machine_status_update", "system_alert"]
    assert _types(control) == []

    hub.set_topics(dashboard, {"machines"})  # type: ignore[attr-defined]
    hub.set_topics(everything, {"dashboard"})  # type: ignore[attr-defined]
    hub.detach(machines)  # type: ignore[attr-defined]
    services.append_events([machine_update("running")])
    services.append_events([DashboardRefresh(reason="test")])
    assert _types(dashboard) == ["machine_status_update"]
    assert _types(everything) == ["dashboard_refresh"]
    assert _types(machines) == []
    assert hub.stats()["by_topic"]["machines"] == 1  # type: ignore[attr-defined]


def test_a_replaced_connection_and_a_stranger_leave_the_index_clean(
    hub_and_services: tuple[object, Services],
) -> None:
    """Attaching a second connection under a live one's id replaces it in the fan-out too;
    detaching one that was never attached changes nothing."""
    hub, services = hub_and_services
    first = Connection(principal_name="a", role="viewer", topics={"machines"})
    second = Connection(
        principal_name="a", role="viewer", topics={"dashboard"}, client_id=first.client_id
    )
    stranger = Connection(principal_name="s", role="viewer", topics={"dashboard"})
    hub.attach(first)  # type: ignore[attr-defined]
    hub.attach(second)  # type: ignore[attr-defined]
    hub.detach(stranger)  # type: ignore[attr-defined]
    services.append_events([machine_update("down")])
    services.append_events([DashboardRefresh(reason="test")])
    assert _types(first) == []
    assert _types(second) == ["dashboard_refresh"]
    assert _types(stranger) == []
