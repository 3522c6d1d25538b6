"""The System page (admins): delivery quantiles from histogram snapshots over a window, the
error ring (bounded, newest first, redacted), the parts' states, the page and its refresh for an
admin and refused to everybody else, and, against a real server, its values moving when a
socket opens and a ticket is created."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask, g
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from app import metrics
from app.delivery_window import (
    DeliveryWindow,
    Snapshot,
    bucket_increase,
    histogram_quantile,
    read_snapshot,
)
from app.error_ring import ErrorRing, install
from app.system_status import connections, parts
from callbacks.deps import Deps
from callbacks.system import panels
from components.system import METRICS_OFF, NO_DELIVERIES, NO_ERRORS, REFUSED, system_panels
from components.wording import UTC_CLOCK
from data.accounts.tokens import Principal
from data.events import TOPICS
from data.system_report import PART_ABSENT, PART_FAILED, PART_OK
from devtools.app_under_test import app_with_machines
from devtools.live_server import LiveServer, serve_plant
from tests.test_page_registry import _route, _sign_in
from tests.waiting import wait_until

INF = math.inf
# 100 deliveries: 50 up to 25 ms, the other 50 up to 50 ms.
BUCKETS = ((0.01, 0.0), (0.025, 50.0), (0.05, 100.0), (0.1, 100.0), (INF, 100.0))


# -- quantiles over a window ----------------------------------------------------------------


def test_quantiles_of_known_buckets() -> None:
    # p50: rank 50 falls at the top of the 10-25 ms bucket.
    assert histogram_quantile(0.5, BUCKETS) == pytest.approx(0.025)
    # p99: rank 99 is 49/50 of the way through the 25-50 ms bucket.
    assert histogram_quantile(0.99, BUCKETS) == pytest.approx(0.0495)
    # p25: rank 25 is halfway through the 10-25 ms bucket (none fell below 10 ms).
    assert histogram_quantile(0.25, BUCKETS) == pytest.approx(0.0175)
    # A rank in the +Inf bucket is the largest finite bound, as in PromQL.
    assert histogram_quantile(0.99, ((0.1, 10.0), (1.0, 10.0), (INF, 20.0))) == 1.0


def test_no_observations_no_quantile() -> None:
    assert histogram_quantile(0.5, ((0.01, 0.0), (INF, 0.0))) is None
    assert histogram_quantile(0.5, ()) is None
    assert histogram_quantile(1.5, BUCKETS) is None


def test_increase_between_snapshots_and_a_reset() -> None:
    old = ((0.01, 5.0), (0.025, 10.0), (INF, 12.0))
    new = ((0.01, 7.0), (0.025, 20.0), (INF, 30.0))
    assert bucket_increase(old, new) == ((0.01, 2.0), (0.025, 10.0), (INF, 18.0))
    assert bucket_increase(new, old) == old  # went down: a reset, the new counts are all
    assert bucket_increase((), new) == new


class Values:
    """A fake metrics reader: cumulative buckets and a published count set by the test."""

    def __init__(self) -> None:
        self.counts = [0.0] * len(BUCKETS)
        self.published = 0.0
        self.now = 1000.0

    def observe(self, seconds: float, times: int = 1) -> None:
        for i, (bound, _) in enumerate(BUCKETS):
            if seconds <= bound:
                self.counts[i] += times
        self.published += times

    def read(self, at: float) -> Snapshot:
        buckets = tuple((b, c) for (b, _), c in zip(BUCKETS, self.counts, strict=True))
        return Snapshot(at, buckets, self.published, {"admin": 1.0})


def test_the_window_counts_only_what_was_delivered_in_it() -> None:
    values = Values()
    window = DeliveryWindow(values.read, window_s=300, sample_s=10, clock=lambda: values.now)
    window.sample()
    _, latency = window.latency()
    assert (latency.delivered, latency.published, latency.p50_s, latency.p99_s) == (
        0,
        0,
        None,
        None,
    )

    values.observe(0.5, times=40)  # slow deliveries, long ago
    for _ in range(40):  # 400 s of samples every 10 s
        values.now += 10
        window.sample()
    values.observe(0.02, times=50)
    values.observe(0.04, times=50)
    values.now += 5
    _, latency = window.latency()
    assert (latency.delivered, latency.published) == (100, 100)
    assert latency.p50_s == pytest.approx(0.025)
    assert latency.p99_s == pytest.approx(0.0495)
    assert 300 <= latency.span_s < 310
    # Kept: the window's samples and one before it, no more.
    assert len(window._snapshots) <= 32

    for _ in range(31):  # five quiet minutes later
        values.now += 10
        window.sample()
    values.now += 1
    _, latency = window.latency()
    assert (latency.delivered, latency.p50_s, latency.p99_s) == (0, None, None)


def test_snapshot_reads_the_families_by_sample_name() -> None:
    registry = CollectorRegistry()
    delivery = Histogram(
        "milldash_event_delivery_seconds", "d", buckets=(0.01, 0.1), registry=registry
    )
    published = Counter("milldash_events_published", "p", registry=registry)
    sockets = Gauge("milldash_ws_sockets", "s", ["role"], registry=registry)
    delivery.observe(0.005)
    delivery.observe(0.05)
    published.inc(3)
    sockets.labels("admin").inc()
    sockets.labels("viewer").inc(2)
    snap = read_snapshot(registry.collect(), 7.0)
    assert snap.buckets == ((0.01, 1.0), (0.1, 2.0), (INF, 2.0))
    assert snap.published == 3.0
    conns = connections(snap)
    assert conns.total == 3
    assert conns.by_role == {"viewer": 2, "operator": 0, "admin": 1, "display": 0}


# -- the error ring -------------------------------------------------------------------------


@pytest.fixture
def ring_logger() -> Iterator[tuple[ErrorRing, logging.Logger]]:
    logger = logging.getLogger("milldash.test.system")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    ring = ErrorRing(size=3)
    install(ring, logger)
    install(ring, logger)  # idempotent
    yield ring, logger
    logger.removeHandler(ring)
    logger.propagate = True


def test_the_ring_keeps_the_newest_warnings_first(ring_logger: Any) -> None:
    ring, logger = ring_logger
    assert logger.handlers.count(ring) == 1
    logger.info("not kept: below WARNING")
    for n in range(5):
        logger.warning("warning %d", n)
    assert [e.message for e in ring.entries()] == ["warning 4", "warning 3", "warning 2"]
    logger.error("broken", exc_info=ValueError("x"))
    newest = ring.entries()[0]
    assert (newest.level, newest.logger, newest.message) == (
        "ERROR",
        "milldash.test.system",
        "broken (ValueError)",
    )
    assert newest.at.tzinfo is not None and newest.request_id is None


def test_the_ring_holds_redacted_text_only(ring_logger: Any) -> None:
    ring, logger = ring_logger
    token = "mdt_" + "a" * 30
    logger.warning("GET /wall?token=%s&x=1 failed", "s3cret-value")
    logger.error("bad bearer %s", token)
    texts = [e.message for e in ring.entries()]
    assert texts == ["bad bearer mdt_[redacted]", "GET /wall?token=[redacted]&x=1 failed"]
    assert not any("s3cret" in t or token in t for t in texts)


def test_the_ring_names_the_request(ring_logger: Any) -> None:
    ring, logger = ring_logger
    server = Flask("ring-test")
    with server.test_request_context("/api/v1/tickets"):
        g.request_id = "req-42"
        logger.warning("slow")
    assert ring.entries()[0].request_id == "req-42"


# -- parts ----------------------------------------------------------------------------------


def test_parts_from_health_documents() -> None:
    ok = parts({"status": "ok", "database": "ok", "broker": "n/a"})
    assert [(p.name, p.state, p.error) for p in ok] == [
        ("database", PART_OK, None),
        ("broker", PART_ABSENT, None),
    ]
    broken = parts(
        {
            "status": "error",
            "database": "error: OperationalError",
            "broker": "failed",
            "broker_error": "unreachable (ConnectionError)",
        }
    )
    assert [(p.state, p.error) for p in broken] == [
        (PART_FAILED, "OperationalError"),
        (PART_FAILED, "unreachable (ConnectionError)"),
    ]


# -- the page in-process --------------------------------------------------------------------


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    dash_app, db = app_with_machines(f"sqlite:///{tmp_path / 'system.db'}", 2)
    yield dash_app
    db.dispose()


def refresh_body() -> dict[str, Any]:
    """What the browser sends when the page's interval fires."""
    outputs = [(i, "children") for i in ("system-connections", "system-latency", "system-parts")]
    outputs += [("system-errors", "children"), ("system-footer", "children")]
    inputs = [{"id": f"tick-{t}", "property": "data", "value": None} for t in TOPICS]
    inputs.append({"id": "system-refresh", "property": "n_intervals", "value": 1})
    return {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": inputs,
        "changedPropIds": ["system-refresh.n_intervals"],
        "state": [],
    }


def find_props(tree: Any, component_id: str) -> dict[str, Any] | None:
    """The props of the component with `component_id` in a Dash JSON tree."""
    if isinstance(tree, dict):
        props = tree.get("props")
        if isinstance(props, dict) and props.get("id") == component_id:
            return props
        values: Any = tree.values()
    elif isinstance(tree, list):
        values = tree
    else:
        return None
    for value in values:
        found = find_props(value, component_id)
        if found is not None:
            return found
    return None


def find_text(tree: Any, component_id: str) -> str | None:
    """The children of the component with `component_id`, as text."""
    props = find_props(tree, component_id)
    return None if props is None else str(props.get("children"))


def test_an_admin_opens_the_page(app: Any) -> None:
    admin = _sign_in(app, "admin")
    page = _route(admin, "/system")
    for part in ("system-connections", "system-latency", "system-parts", "system-errors"):
        assert find_text(page, part) is not None, part
    assert (find_text(page, "system-sockets-total") or "").isdigit()
    text = json.dumps(page)
    assert NO_DELIVERIES.format(minutes=5) in text and NO_ERRORS in text
    assert '"data-state": "not configured"' in text  # no Redis here
    refreshed = admin.post("/_dash-update-component", json=refresh_body())
    assert refreshed.status_code == 200
    answer = refreshed.get_json()["response"]
    assert "Served by process" in answer["system-footer"]["children"]
    assert find_text(answer, "system-part-database") is not None


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_nobody_else_opens_or_refreshes_it(app: Any, role: str) -> None:
    client = _sign_in(app, role)
    page = json.dumps(_route(client, "/system"))
    assert "System is not open to your role" in page and "system-connections" not in page
    refreshed = client.post("/_dash-update-component", json=refresh_body())
    assert refreshed.status_code == 200
    text = refreshed.get_data(as_text=True)
    assert REFUSED in text and "Served by process" not in text and "system-sockets" not in text


def test_the_callback_checks_the_role_itself(app: Any) -> None:
    app_ctx = app.server.extensions["milldash"]
    calls: list[str] = []

    def report() -> Any:
        calls.append("read")
        return app_ctx.extras["system_status"].report()

    for role in ("viewer", "operator", "display"):
        deps = Deps(app_ctx.db, app_ctx.services, lambda r=role: Principal("x", r), system=report)
        assert REFUSED in json.dumps(panels(deps), default=lambda c: c.to_plotly_json())
    assert calls == []  # nothing was read for them
    admin = Deps(app_ctx.db, app_ctx.services, lambda: Principal("x", "admin"), system=report)
    assert "Served by process" in panels(admin)[-1] and calls == ["read"]


# -- against a real server ------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_plant(tmp_path_factory.mktemp("system"), 2)


def refreshed(server: LiveServer) -> Any:
    """The refresh's answer (a Dash JSON tree), as an admin's page asks for it."""
    answer = requests.post(
        f"{server.url}/_dash-update-component",
        json=refresh_body(),
        headers=server.headers("admin"),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text[:300]
    return answer.json()["response"]


def read_page(server: LiveServer) -> dict[str, str | None]:
    """The refresh's figures, as an admin's page asks for it."""
    tree = refreshed(server)
    ids = ("system-sockets-total", "system-published", "system-delivered", "system-p50")
    found = {i: find_text(tree, i) for i in ids}
    viewers = find_props(tree, "system-sockets-viewer") or {}
    return {**found, "viewer sockets": viewers.get("data-count")}


def test_the_values_move_with_a_socket_and_a_ticket(server: LiveServer) -> None:
    before = read_page(server)
    assert before["system-sockets-total"] == "0"
    published = int(before["system-published"] or 0)
    ws = server.connect(role="viewer")
    try:
        wait_until(lambda: read_page(server)["system-sockets-total"] == "1", timeout=5)
        assert read_page(server)["viewer sockets"] == "1"
        created = server.post(
            "/tickets", {"machine_id": 1, "title": "Coolant leak", "priority": "high"}
        )
        assert created.status_code == 201, created.text
        moved = wait_until(
            lambda: (now := read_page(server))["system-p50"] is not None and now, timeout=5
        )
        # A new ticket is an alert and a dashboard refresh: two events.
        assert int(moved["system-published"] or 0) >= published + 2
        assert int(moved["system-delivered"] or 0) >= 1
    finally:
        ws.close()
    wait_until(lambda: read_page(server)["system-sockets-total"] == "0", timeout=5)


def test_serving_keeps_the_processes_warnings(app: Any) -> None:
    status = app.server.extensions["milldash"].extras["system_status"]
    status.start(processes=2)
    try:
        assert status.ring in logging.getLogger().handlers
        logging.getLogger("milldash.test.serving").warning("disk almost full: %d %%", 93)
        report = status.report()
        assert report.processes == 2
        assert report.errors[0].message == "disk almost full: 93 %"
        assert report.errors[0].logger == "milldash.test.serving"
    finally:
        status.stop()
    assert status.ring not in logging.getLogger().handlers


def test_with_metrics_off_the_page_says_so_rather_than_zero(app: Any) -> None:
    status = app.server.extensions["milldash"].extras["system_status"]
    metrics.set_enabled(False)
    try:
        report = status.report()
    finally:
        metrics.set_enabled(True)
    assert report.metrics_on is False
    connections_part, latency_part, *_ = system_panels(report, UTC_CLOCK)
    text = json.dumps([connections_part, latency_part], default=lambda c: c.to_plotly_json())
    assert METRICS_OFF in text and "system-sockets-total" not in text and "published" not in text
