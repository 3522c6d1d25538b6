"""Property-based tests (Hypothesis): whatever arrives, the services, the query parsers, the
socket frame parser and the read endpoints answer with a ServiceError / FrameError / 4xx, never
with a stray exception or a 5xx; refused input changes nothing; accepted writes keep the event
log's seq gap-free.

SQLite only (a fresh file per test): the properties are about input handling, not the backend.
Tests with an explicit @example pin inputs that once broke the server (ids beyond 32 bits,
times at datetime's limits, an empty assignee, a NaN nonce).
"""

from __future__ import annotations

import json
import math
import string
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from app.config import Config
from app.factory import create_app
from app.realtime.protocol import (
    ADMIN_TYPES,
    ALERT_LEVELS,
    CLIENT_TYPES,
    VALID_TOPICS,
    ClientFrame,
    FrameError,
    parse_frame,
)
from data.accounts.tokens import create_token
from data.errors import ServiceError, ValidationFailed
from data.events import EVENT_TOPICS, RecordingPublisher
from data.read.ticket_queries import SORTABLE, TicketFilter, parse_ticket_filter, search_tickets
from data.store.db import Database
from data.vocabulary import MACHINE_STATUSES, TICKET_PRIORITIES, TICKET_STATUSES
from data.write.services import Services
from devtools.factories import add_machines

# Function-scoped fixtures (the database) are shared by all examples on purpose: every example
# compares the database before and after its own call.
SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
FAST = settings(max_examples=60, **SETTINGS)
THOROUGH = settings(max_examples=120, **SETTINGS)
# Inputs at the very edges (ids beyond 64 bits, times at datetime's limits): a few suffice.
EDGE_EXAMPLES = settings(max_examples=10, **SETTINGS)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MACHINES = 3


@pytest.fixture
def db_url(tmp_path) -> str:
    """Overrides the conftest fixture: SQLite only, for speed."""
    return f"sqlite:///{tmp_path / 'properties.db'}"


@pytest.fixture
def plant(db: Database, services: Services) -> dict[str, list[int]]:
    """Three machines and three open tickets (ids 1..3)."""
    machines = add_machines(db, MACHINES)
    tickets = []
    for machine_id in machines:
        payload = {"machine_id": machine_id, "title": f"Ticket {machine_id}", "priority": "low"}
        tickets.append(services.create_ticket(payload, "t")["id"])
    return {"machines": machines, "tickets": tickets}


# -- strategies -------------------------------------------------------------------------------

INT64 = st.integers(min_value=INT64_MIN, max_value=INT64_MAX)
BEYOND_INT64 = st.integers(min_value=INT64_MAX + 1) | st.integers(max_value=INT64_MIN - 1)
# Integers of any size: beyond SQLite's 64 bits too, where a careless id lookup overflows.
INTS = INT64 | BEYOND_INT64
JSON_LEAVES = st.none() | st.booleans() | INTS | st.floats() | st.text(max_size=20)
JSON = st.recursive(
    JSON_LEAVES,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=10,
)
# Real-world instants, for the payloads that must be accepted (valid_production's `ts`).
SAFE_INSTANTS = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1))
OFFSETS = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
)
AWARE = st.builds(lambda d, tz: d.replace(tzinfo=tz), SAFE_INSTANTS, OFFSETS)
# Aware datetimes that exist in their own zone but not in UTC (datetime.min/max overflow).
EDGE_INSTANTS = st.one_of(
    # Local times that are before 0001-01-01T00:00Z or after 9999-12-31T23:59:59Z in UTC.
    st.datetimes(
        min_value=datetime(1, 1, 1),
        max_value=datetime(1, 1, 1, 13, 59),
        timezones=st.just(timezone(timedelta(hours=14))),
    ),
    st.datetimes(
        min_value=datetime(9999, 12, 31, 10, 0),
        max_value=datetime(9999, 12, 31, 23, 59),
        timezones=st.just(timezone(timedelta(hours=-14))),
    ),
)
# Times as query strings and payload values: real-world ones in every spelling, and the edges
# of datetime's range (which must be refused, never overflow).
ISO_TEXT = st.one_of(
    AWARE.map(lambda d: d.isoformat()),
    AWARE.map(lambda d: d.astimezone(UTC).isoformat().replace("+00:00", "Z")),
    SAFE_INSTANTS.map(datetime.isoformat),  # naive
    SAFE_INSTANTS.map(lambda d: d.date().isoformat()),
    SAFE_INSTANTS.map(lambda d: d.isoformat(sep=" ", timespec="minutes")),
    EDGE_INSTANTS.map(datetime.isoformat),
    st.datetimes().map(datetime.isoformat),  # naive, anywhere in datetime's range
)
HUGE_TEXT = st.sampled_from([201, 10_001, 70_000]).flatmap(
    lambda n: st.sampled_from(["x" * n, " " * n + "abc", "é" * n])
)
BAD_VALUES = st.one_of(
    JSON,
    HUGE_TEXT,
    st.integers(max_value=-1),
    st.sampled_from([0, -0.0, 1.0, 1.5, math.nan, math.inf, True, False, "", "   ", [], {}]),
    INTS.map(str),
    ISO_TEXT,
    st.text(alphabet=string.whitespace, max_size=5),
)
UNKNOWN_KEYS = st.text(max_size=12)
NAMES = st.text(
    alphabet=st.characters(categories=("L", "N", "P", "S")), min_size=1, max_size=40
).map(lambda s: s.strip())


# Free text a person may send: anything but U+0000, which every model refuses.
def free_text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=st.characters(exclude_characters="\x00"), max_size=max_size)


TITLES = st.builds(
    lambda a, b: f"{a} {b}"[:200], NAMES.filter(lambda s: len(s) >= 2), NAMES
).filter(lambda s: len(s.strip()) >= 3)


def valid_status(machine_ids: list[int]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"status": st.sampled_from(MACHINE_STATUSES)},
        optional={"reason": st.none() | free_text(200)},
    )


def valid_production(machine_ids: list[int]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "machine_id": st.sampled_from(machine_ids),
            "good": st.integers(0, 1_000_000),
            "scrap": st.integers(0, 1_000_000),
        },
        optional={"ts": st.none() | AWARE.map(lambda d: d.isoformat())},
    )


def valid_ticket(machine_ids: list[int]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "machine_id": st.sampled_from(machine_ids),
            "title": TITLES,
            "priority": st.sampled_from(TICKET_PRIORITIES),
        },
        optional={
            "description": free_text(300),
            "assignee": st.none() | free_text(120),
        },
    )


def valid_update(_: list[int]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "status": st.sampled_from(TICKET_STATUSES),
            "assignee": st.none() | free_text(120),
            "priority": st.sampled_from(TICKET_PRIORITIES),
        },
    )


FIELDS = {
    "status": ("status", "reason"),
    "production": ("machine_id", "good", "scrap", "ts"),
    "ticket": ("machine_id", "title", "description", "priority", "assignee"),
    "update": ("status", "assignee", "priority"),
}
VALID = {
    "status": valid_status,
    "production": valid_production,
    "ticket": valid_ticket,
    "update": valid_update,
}


@st.composite
def mutated(draw: st.DrawFn, kind: str, machine_ids: list[int]) -> dict[str, Any]:
    """A valid payload with 1-3 mutations: a field set to a bad value, an unknown key added,
    or a field dropped. The result may still be valid; the properties allow both."""
    payload = dict(draw(VALID[kind](machine_ids)))
    fields = FIELDS[kind]
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(("replace", "replace", "add", "drop")))
        if how == "replace":
            payload[draw(st.sampled_from(fields))] = draw(BAD_VALUES)
        elif how == "add":
            payload[draw(UNKNOWN_KEYS.filter(lambda k: k not in fields))] = draw(JSON)
        elif payload:
            payload.pop(draw(st.sampled_from(sorted(payload))))
    return payload


def arbitrary_payloads(kind: str) -> st.SearchStrategy[Any]:
    """Arbitrary JSON, and objects whose keys are mostly the real field names."""
    keys = st.sampled_from(FIELDS[kind]) | UNKNOWN_KEYS
    return JSON | st.dictionaries(keys, JSON | BAD_VALUES, max_size=6)


# -- database snapshots and the outcome property ----------------------------------------------


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (small test databases only)."""
    with db.engine.connect() as conn:
        names = sorted(inspect(conn).get_table_names())
        return {
            name: sorted(
                (tuple(row) for row in conn.execute(text(f'SELECT * FROM "{name}"'))), key=repr
            )
            for name in names
        }


def event_seqs(db: Database) -> list[int]:
    with db.engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT seq FROM event_log ORDER BY seq"))]


def check_call(
    db: Database, publisher: RecordingPublisher, call: Callable[[], Any]
) -> tuple[str, Any]:
    """Run one service call. A ServiceError must leave the database and the publisher as they
    were; a success must extend the event log gap-free and publish exactly what it appended.
    Any other exception propagates (and fails the test with the input that caused it)."""
    before = snapshot(db)
    seqs_before = event_seqs(db)
    published = len(publisher.events)
    try:
        result = call()
    except ServiceError as exc:
        assert isinstance(exc.code, str) and exc.code and isinstance(exc.message, str)
        after = snapshot(db)
        assert {t: len(r) for t, r in after.items()} == {t: len(r) for t, r in before.items()}
        assert after == before, "a refused call changed data"
        assert len(publisher.events) == published, "a refused call published events"
        event(f"refused: {exc.code}")
        return "refused", exc
    seqs = event_seqs(db)
    assert seqs == list(range(1, len(seqs) + 1)), f"event seq has gaps or repeats: {seqs}"
    assert seqs[: len(seqs_before)] == seqs_before
    new = publisher.events[published:]
    assert [e.seq for e in new] == seqs[len(seqs_before) :], "published != appended"
    for appended in new:
        assert EVENT_TOPICS[appended.type] == appended.topic
        json.dumps(appended.to_frame(), allow_nan=False)
    event("accepted")
    return "accepted", result


def run_service(services: Services, kind: str, payload: Any, target: int = 1) -> Any:
    if kind == "status":
        return services.report_status(target, payload, "prop")
    if kind == "production":
        return services.record_production(payload)
    if kind == "ticket":
        return services.create_ticket(payload, "prop")
    return services.update_ticket(target, payload, "prop")


KINDS = ("status", "production", "ticket", "update")


# -- services ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@FAST
@given(data=st.data())
def test_arbitrary_payloads_raise_only_service_errors(services, db, publisher, plant, kind, data):
    payload = data.draw(arbitrary_payloads(kind), label="payload")
    target = data.draw(st.sampled_from(plant["machines"] if kind == "status" else plant["tickets"]))
    check_call(db, publisher, lambda: run_service(services, kind, payload, target))


@pytest.mark.parametrize("kind", KINDS)
@THOROUGH
@given(data=st.data())
def test_mutated_payloads_are_accepted_or_refused_cleanly(
    services, db, publisher, plant, kind, data
):
    payload = data.draw(mutated(kind, plant["machines"]), label="payload")
    ids = plant["machines"] if kind == "status" else plant["tickets"]
    target = data.draw(st.sampled_from(ids) | INTS, label="target id")
    check_call(db, publisher, lambda: run_service(services, kind, payload, target))


@THOROUGH
@given(data=st.data())
def test_valid_writes_keep_the_event_seq_gap_free(services, db, publisher, plant, data):
    machines, tickets = plant["machines"], list(plant["tickets"])
    steps = data.draw(st.integers(1, 6), label="steps")
    expected_events = {"status": 2, "production": 1, "ticket": 2}
    for _ in range(steps):
        kind = data.draw(st.sampled_from(KINDS), label="kind")
        payload = data.draw(VALID[kind](machines), label="payload")
        target = data.draw(st.sampled_from(machines if kind == "status" else tickets))
        published = len(publisher.events)
        outcome, result = check_call(
            db, publisher, lambda k=kind, p=payload, t=target: run_service(services, k, p, t)
        )
        if kind == "update":
            # A valid update may still be refused by the workflow (409), never otherwise.
            assert outcome == "accepted" or result.code == "conflict", result
            continue
        assert outcome == "accepted", result
        assert len(publisher.events) - published == expected_events[kind]
        if kind == "ticket":
            tickets.append(result["id"])


VALID_EXAMPLES: dict[str, dict[str, Any]] = {
    "status": {"status": "idle"},
    "production": {"machine_id": 1, "good": 1, "scrap": 0},
    "ticket": {"machine_id": 1, "title": "Coolant leak", "priority": "low"},
    "update": {"assignee": "ann"},
}


@FAST
@given(payload=valid_update([]), index=st.integers(0, 2))
@example(payload={"assignee": ""}, index=0)
def test_repeating_an_accepted_update_changes_nothing(
    services, db, publisher, plant, payload, index
):
    """The clock is frozen, so a second identical update must be a no-op: no rows, no events."""
    target = plant["tickets"][index]
    outcome, result = check_call(
        db, publisher, lambda: services.update_ticket(target, payload, "p")
    )
    if outcome == "refused":
        # A valid update is refused only by the workflow (e.g. a closed ticket cannot move).
        assert result.code == "conflict", result
        return
    before, published = snapshot(db), len(publisher.events)
    services.update_ticket(target, payload, "p")  # a refusal here fails the test
    assert snapshot(db) == before, f"repeating {payload} changed data"
    assert len(publisher.events) == published


def assert_refused(outcome: str, result: Any, code: str, field: str | None = None) -> ServiceError:
    """The call was refused with `code`; a validation error names `field` (and only it)."""
    assert outcome == "refused", f"accepted: {result!r}"
    assert isinstance(result, ServiceError)
    assert result.code == code, (result.code, result.message, result.details)
    if field is not None:
        assert isinstance(result.details, dict) and set(result.details) == {field}, result.details
    return result


@pytest.mark.parametrize("kind", KINDS)
@EDGE_EXAMPLES
@given(big=BEYOND_INT64)
@example(big=2**63)
@example(big=INT64_MIN - 1)
def test_ids_beyond_64_bits_are_refused(services, db, publisher, plant, kind, big):
    """A machine_id in a body fails validation; an id naming the row to change is not found.
    check_call proves the refusal changed no row and published nothing."""
    if kind in ("production", "ticket"):
        payload = {**VALID_EXAMPLES[kind], "machine_id": big}
        outcome, result = check_call(db, publisher, lambda: run_service(services, kind, payload))
        assert_refused(outcome, result, "validation_error", "machine_id")
    else:
        payload = VALID_EXAMPLES[kind]
        outcome, result = check_call(
            db, publisher, lambda: run_service(services, kind, payload, big)
        )
        assert_refused(outcome, result, "not_found")


@EDGE_EXAMPLES
@given(ts=EDGE_INSTANTS.map(datetime.isoformat))
@example(ts="0001-01-01T00:00:00+01:00")
def test_production_ts_outside_utc_range_is_refused(services, db, publisher, plant, ts):
    payload = {**VALID_EXAMPLES["production"], "ts": ts}
    outcome, result = check_call(db, publisher, lambda: services.record_production(payload))
    assert_refused(outcome, result, "validation_error", "ts")


# -- ticket filter parsing --------------------------------------------------------------------

FILTER_KEYS = tuple(TicketFilter.model_fields)
STATUS_LISTS = st.lists(st.sampled_from(TICKET_STATUSES) | st.text(max_size=6), max_size=3).map(
    ",".join
)
SORTS = st.lists(
    st.builds(
        lambda s, f: s + f, st.sampled_from(["", "-", "+", " "]), st.sampled_from(sorted(SORTABLE))
    ),
    min_size=1,
    max_size=3,
).map(",".join)
QUERY_VALUES = st.one_of(
    st.text(max_size=30),
    INTS.map(str),
    st.integers(-5, 1200).map(str),
    ISO_TEXT,
    STATUS_LISTS,
    SORTS,
    st.sampled_from(["", " ", "0", "-1", "1e3", "1.5", "true", "null", "%", "_", "\x00"]),
)
FILTER_ARGS = st.dictionaries(st.sampled_from(FILTER_KEYS) | st.text(max_size=10), QUERY_VALUES)


@FAST
@given(args=FILTER_ARGS | st.dictionaries(st.text(), st.text()))
def test_parse_ticket_filter_only_raises_validation_failed(args):
    try:
        flt = parse_ticket_filter(args)
    except ValidationFailed as exc:
        assert exc.details is None or isinstance(exc.details, dict)
        return
    assert isinstance(flt, TicketFilter)
    assert 1 <= flt.limit <= 1000 and flt.offset >= 0
    assert not flt.status or set(flt.status) <= set(TICKET_STATUSES)
    assert not flt.priority or set(flt.priority) <= set(TICKET_PRIORITIES)


@FAST
@given(args=FILTER_ARGS)
def test_parsed_ticket_filters_always_run(db, plant, args):
    try:
        flt = parse_ticket_filter(args)
    except ValidationFailed:
        return
    with db.read() as session:
        page = search_tickets(session, flt)
    assert 0 <= len(page["items"]) <= min(flt.limit, page["total"])


# -- socket frames ----------------------------------------------------------------------------

TOPIC_VALUES = st.one_of(
    JSON,
    st.lists(st.sampled_from(VALID_TOPICS), max_size=4),
    st.lists(st.sampled_from(VALID_TOPICS) | st.text(max_size=8), max_size=4).map(",".join),
)
FRAME_OBJECTS = st.fixed_dictionaries(
    {"type": st.sampled_from(CLIENT_TYPES + ADMIN_TYPES) | JSON},
    optional={
        "topics": TOPIC_VALUES,
        "nonce": JSON,
        "event": st.just("system_alert") | JSON,
        "data": st.fixed_dictionaries(
            {},
            optional={
                "message": st.text(max_size=600) | HUGE_TEXT | JSON,
                "level": st.sampled_from(ALERT_LEVELS) | JSON,
            },
        )
        | JSON,
        **{k: JSON for k in ("extra", "seq")},
    },
)
FRAME_INPUTS = st.one_of(
    st.text(),
    st.binary(),
    JSON.map(json.dumps),
    FRAME_OBJECTS.map(json.dumps),
    JSON,
)


def check_frame(raw: Any, admin: bool) -> ClientFrame | None:
    try:
        frame = parse_frame(raw, admin=admin)
    except FrameError as exc:
        reply = exc.frame()
        assert isinstance(reply, dict) and reply["type"] == "error"
        assert isinstance(reply["code"], str) and reply["code"]
        assert isinstance(reply["message"], str) and reply["message"]
        json.dumps(reply, allow_nan=False)
        return None
    assert isinstance(frame, ClientFrame)
    assert frame.type in (ADMIN_TYPES if admin else CLIENT_TYPES)
    if frame.type in ("subscribe", "unsubscribe"):
        assert frame.topics and set(frame.topics) <= set(VALID_TOPICS)
        assert len(set(frame.topics)) == len(frame.topics)
    if frame.type == "broadcast":
        assert frame.data is not None and frame.data["level"] in ALERT_LEVELS
        assert 1 <= len(frame.data["message"]) <= 500
    assert frame.nonce is None or isinstance(frame.nonce, (str, int, float))
    return frame


@THOROUGH
@given(raw=FRAME_INPUTS, admin=st.booleans())
@example(raw="[" * 100_000, admin=False)
@example(raw='{"type": "ping", "nonce": ' + "9" * 5000 + "}", admin=False)
@example(raw=b'{"type": "ping"}', admin=False)
@example(raw='{"type": "subscribe", "topics": [[]]}', admin=False)
def test_parse_frame_only_raises_frame_error(raw, admin):
    check_frame(raw, admin)


@EDGE_EXAMPLES
@given(nonce=st.floats(allow_nan=True, allow_infinity=True) | JSON_LEAVES)
@example(nonce=math.nan)
@example(nonce=-math.inf)
@example(nonce=2**64)
def test_accepted_nonces_echo_as_strict_json(nonce):
    """Any JSON scalar is echoed as it came; NaN and Infinity (not JSON) are refused."""
    raw = json.dumps({"type": "ping", "nonce": nonce})
    frame = check_frame(raw, admin=False)
    if isinstance(nonce, float) and not math.isfinite(nonce):
        assert frame is None, f"{raw} was accepted"
        with pytest.raises(FrameError) as refused:
            parse_frame(raw)
        assert refused.value.code == "bad_json"
        return
    assert frame is not None, f"{raw} was refused"
    assert frame.nonce == nonce and type(frame.nonce) is type(nonce)
    echoed = json.dumps({"type": "pong", "nonce": frame.nonce}, allow_nan=False)
    assert json.loads(echoed)["nonce"] == nonce


# -- read endpoints through the Flask test client ---------------------------------------------


def api_error(response: Any) -> dict[str, Any]:
    """The body of an API error: exactly {"error": {"code", "message"[, "details"]}}."""
    body = response.get_json(silent=True)
    assert isinstance(body, dict) and set(body) == {"error"}, response.get_data(as_text=True)
    error = body["error"]
    assert {"code", "message"} <= set(error) <= {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and error["code"], error
    assert isinstance(error["message"], str) and error["message"], error
    assert error.get("details") is None or isinstance(error["details"], dict), error
    return error


def data_snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but api_tokens: any authenticated request, refused or not, may
    refresh its token's last_used_at."""
    return {name: rows for name, rows in snapshot(db).items() if name != "api_tokens"}


def assert_refused_response(
    response: Any, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """The exact refusal: `status`, the error shape, `code`, and details naming only `field`."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    error = api_error(response)
    assert error["code"] == code, error
    if field is not None:
        assert set(error.get("details") or {}) == {field}, error
    return error


class Client:
    def __init__(self, app: Any, db: Database, token: str) -> None:
        self.client = app.server.test_client()
        self.db = db
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, query: Any = None) -> Any:
        response = self.client.get(path, query_string=query, headers=self.headers)
        assert response.status_code < 500, (path, query, response.get_data(as_text=True))
        body = response.get_json(silent=True)
        if response.status_code >= 400:
            assert response.status_code == 400, (path, query, response.status_code)
            assert api_error(response)["code"] == "validation_error"
        return response, body

    def refused(self, path: str, query: Any, code: str, field: str) -> dict[str, Any]:
        """GET `path` must answer 400 `code` naming `field`, and change no data."""
        before = data_snapshot(self.db)
        response = self.client.get(path, query_string=query, headers=self.headers)
        error = assert_refused_response(response, 400, code, field)
        assert data_snapshot(self.db) == before, "a refused request changed data"
        return error


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Iterator[Client]:
    url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'api.db'}"
    app = create_app(Config(database_url=url, demo=False, secret_key="t"), RecordingPublisher())
    ctx = app.server.extensions["milldash"]
    add_machines(ctx.db, MACHINES)
    for m in range(1, MACHINES + 1):
        ctx.services.create_ticket(
            {"machine_id": m, "title": f"Ticket {m}", "priority": "high"}, "t"
        )
    yield Client(app, ctx.db, create_token(ctx.db, "viewer", "props"))
    ctx.db.dispose()


def raw_query(keys: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Raw, percent-encoded query strings (invalid UTF-8 included) over the given keys."""
    pair = st.builds(
        lambda k, v: f"{k}={quote_from_bytes(v)}", st.sampled_from(keys), st.binary(max_size=30)
    )
    return st.lists(pair, max_size=4).map("&".join)


WINDOW_VALUES = st.none() | st.text(max_size=30) | ISO_TEXT | INTS.map(str)


@FAST
@given(
    query=st.fixed_dictionaries({}, optional={"from": WINDOW_VALUES, "to": WINDOW_VALUES})
    | raw_query(("from", "to"))
)
@example(query={"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"})
@example(query={"from": "2020-01-01", "to": "2026-01-01"})
def test_overview_window_never_5xx(api, query):
    response, body = api.get("/api/v1/dashboard/overview", query)
    if response.status_code == 200:
        assert isinstance(body, dict)


@EDGE_EXAMPLES
@given(edge=EDGE_INSTANTS.map(datetime.isoformat), key=st.sampled_from(["from", "to"]))
@example(edge="0001-01-01T00:00:00", key="to")
@example(edge="0001-01-01T00:00:00+01:00", key="from")
@example(edge="9999-12-31T23:59:59", key="to")
def test_overview_window_at_datetime_limits_is_refused(api, edge, key):
    api.refused("/api/v1/dashboard/overview", {key: edge}, "validation_error", key)


ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America", "../etc/passwd", "/UTC", "posixrules"])
EXPORT_ARGS = st.dictionaries(
    st.sampled_from((*FILTER_KEYS, "tz", "bom")) | st.text(max_size=10),
    QUERY_VALUES | ZONES | st.sampled_from(["1", "0", "yes", "off", "2"]),
)


@FAST
@given(query=FILTER_ARGS | raw_query(FILTER_KEYS))
@example(query={"limit": "1000", "sort": "-priority,machine_name"})
def test_ticket_list_query_never_5xx(api, query):
    response, body = api.get("/api/v1/tickets", query)
    if response.status_code == 200:
        assert 0 <= len(body["items"]) <= body["total"]


@FAST
@given(query=EXPORT_ARGS | raw_query((*FILTER_KEYS, "tz", "bom")))
@example(query={"tz": "Europe/Berlin", "bom": "1", "status": "open,closed"})
def test_ticket_export_query_never_5xx(api, query):
    response, _ = api.get("/api/v1/tickets/export.csv", query)
    if response.status_code == 200:
        assert response.mimetype == "text/csv"
        assert response.get_data()  # the whole stream was produced (a header row at least)


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/api/v1/tickets", "machine_id"),
        ("/api/v1/tickets", "offset"),
        ("/api/v1/tickets/export.csv", "machine_id"),
    ],
)
@EDGE_EXAMPLES
@given(big=st.integers(min_value=2**63))
@example(big=2**63)
def test_ticket_query_ints_beyond_64_bits_are_refused(api, path, key, big):
    api.refused(path, {key: str(big)}, "validation_error", key)


@EDGE_EXAMPLES
@given(big=st.integers(min_value=2**63))
@example(big=2**63)
def test_export_ignores_paging_even_beyond_64_bits(api, big):
    """The export streams every matching ticket: limit and offset are ignored, whatever they are."""
    whole, _ = api.get("/api/v1/tickets/export.csv", {"status": "open"})
    paged, _ = api.get("/api/v1/tickets/export.csv", {"status": "open", "offset": str(big)})
    assert whole.status_code == paged.status_code == 200, paged.get_data(as_text=True)
    assert paged.get_data() == whole.get_data()
    assert len(whole.get_data(as_text=True).splitlines()) == 1 + MACHINES  # header + tickets


@pytest.mark.parametrize("path", ["/api/v1/tickets", "/api/v1/tickets/export.csv"])
@EDGE_EXAMPLES
@given(
    edge=EDGE_INSTANTS.map(datetime.isoformat), key=st.sampled_from(["created_from", "created_to"])
)
@example(edge="0001-01-01T00:00:00+01:00", key="created_from")
@example(edge="0001-01-01T00:00:00", key="created_to")
def test_ticket_query_dates_at_datetime_limits_are_refused(api, path, edge, key):
    api.refused(path, {key: edge}, "validation_error", key)


EVENT_VALUES = st.one_of(
    st.text(max_size=20),
    INTS.map(str),
    st.lists(st.sampled_from(VALID_TOPICS) | st.text(max_size=6), max_size=3).map(",".join),
    st.sampled_from(["", "-0", "1_000", " 5 ", "\u0665", "9" * 5000, str(2**62), str(2**62 + 1)]),
)


@FAST
@given(
    query=st.dictionaries(
        st.sampled_from(["since", "limit", "topics"]) | st.text(max_size=6), EVENT_VALUES
    )
    | raw_query(("since", "limit", "topics"))
)
def test_events_query_never_5xx(api, query):
    response, body = api.get("/api/v1/events", query)
    if response.status_code == 200:
        assert isinstance(body["seq"], int) and isinstance(body["complete"], bool)
        seqs = [e["seq"] for e in body["events"]]
        assert seqs == sorted(set(seqs))


@pytest.fixture(scope="module")
def writer(tmp_path_factory) -> Iterator[tuple[Any, Database]]:
    """An operator's test client on its own database (one machine, one ticket), and that
    database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('writer') / 'writer.db'}"
    app = create_app(Config(database_url=url, demo=False, secret_key="t"), RecordingPublisher())
    ctx = app.server.extensions["milldash"]
    add_machines(ctx.db, 1)
    ctx.services.create_ticket({"machine_id": 1, "title": "Ticket 1", "priority": "low"}, "t")
    client = app.server.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {create_token(ctx.db, 'operator', 'w')}"
    yield client, ctx.db
    ctx.db.dispose()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/api/v1/tickets/{}", None, 404, "not_found"),
        ("PATCH", "/api/v1/tickets/{}", {"assignee": "ann"}, 404, "not_found"),
        ("POST", "/api/v1/machines/{}/status", {"status": "idle"}, 404, "not_found"),
        ("POST", "/api/v1/production", {"good": 1, "scrap": 0}, 400, "validation_error"),
    ],
)
@EDGE_EXAMPLES
@given(big=st.integers(min_value=2**63))
@example(big=2**63)
def test_api_ids_beyond_64_bits_are_4xx(writer, method, path, body, status, code, big):
    """An id in the path names no row (404); one in the body fails validation (400, naming
    machine_id). Either way nothing is written."""
    client, db = writer
    field = None
    if path.endswith("/production"):
        body, field = {**body, "machine_id": big}, "machine_id"
    before = data_snapshot(db)
    response = client.open(path.format(big), method=method, json=body)
    assert_refused_response(response, status, code, field)
    assert data_snapshot(db) == before, "a refused request changed data"
