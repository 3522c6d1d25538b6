"""What every request passes before any view: the Host check (DNS rebinding), exact public
paths, the display gate on the callback Dash really runs, and 4xx (never 500) for bad input."""

from __future__ import annotations

import json
import logging
import socket
import time
from typing import Any

import pytest
import requests

from app.config import Config
from app.factory import create_app
from app.hosts import host_allowed, hostname
from app.security import parse_output_key
from data.accounts.tokens import create_token
from devtools.factories import add_machines
from devtools.live_server import LiveServer

DEEP = "[" * 100_000 + "]" * 100_000
GRID = "..tickets-grid.getRowsResponse...tickets-count.children.."
FILTERS = ("filter-status", "filter-priority", "filter-machine", "filter-q")


def grid_body(rows_request: Any) -> dict[str, Any]:
    """A ticket-grid callback request as Dash's renderer sends it."""
    return {
        "output": GRID,
        "outputs": [
            {"id": "tickets-grid", "property": "getRowsResponse"},
            {"id": "tickets-count", "property": "children"},
        ],
        "inputs": [{"id": "tickets-grid", "property": "getRowsRequest", "value": rows_request}],
        "state": [{"id": f, "property": "value", "value": None} for f in FILTERS],
        "changedPropIds": ["tickets-grid.getRowsRequest"],
    }


class Env:
    def __init__(self, db_url: str, **config: Any) -> None:
        self.app = create_app(Config(database_url=db_url, demo=False, secret_key="t", **config))
        self.db = self.app.server.extensions["milldash"].db
        self.client = self.app.server.test_client()

    def token_headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {create_token(self.db, role, f'{role}-bot')}"}

    def sign_in(self, role: str) -> None:
        """A UI session for `role` through a display token link or a signed-in user."""
        if role == "display":
            token = create_token(self.db, "display", "tv")
            assert self.client.get(f"/wall?token={token}").status_code == 303
            return
        from data.accounts.users import create_user

        password = create_user(self.db, f"{role}-person", role)
        answer = self.client.post("/login", data={"name": f"{role}-person", "password": password})
        assert answer.status_code == 303


@pytest.fixture
def env(tmp_path) -> Env:
    environment = Env(f"sqlite:///{tmp_path / 'g.db'}")
    add_machines(environment.db, 2)
    return environment


def assert_client_error(response: Any, status: int, caplog: Any) -> dict[str, Any]:
    """A 4xx in the JSON error shape, logged as one WARNING line and no server error."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and all(r.exc_info is None for r in warnings)
    return error


# -- Host header (item: DNS rebinding) -------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("localhost", "localhost"),
        ("LocalHost:8050", "localhost"),
        ("127.0.0.1:8050", "127.0.0.1"),
        ("[::1]:8050", "::1"),
        ("[::1]", "::1"),
        ("mill.example.", "mill.example"),
        ("[::1", None),
        ("[zz]:80", None),
        ("::1", None),
        ("host:port", None),
        ("user@localhost", None),
        ("", None),
    ],
)
def test_hostname_parsing(host, name):
    assert hostname(host) == name


def test_host_allowed_lists_and_wildcard():
    assert host_allowed("[::1]:9", ["::1"]) and host_allowed("[::1]:9", ["[::1]"])
    assert not host_allowed("evil.example:8050", ["localhost", "127.0.0.1"])
    assert host_allowed("evil.example:8050", ["*"])


def test_foreign_host_is_refused_before_anything_runs(env, caplog):
    caplog.set_level(logging.WARNING)
    operator = env.token_headers("operator")
    evil = {"Host": "evil.example:8050", "Origin": "http://evil.example:8050"}
    # Origin and Host agree: only the Host check stops a rebound name.
    before = env.client.post(
        "/api/v1/tickets",
        json={"machine_id": 1, "title": "Rebound", "priority": "low"},
        headers={**operator, **evil},
    )
    error = assert_client_error(before, 400, caplog)
    assert error["code"] == "bad_host"
    for method, path in [
        ("GET", "/"),
        ("GET", "/login"),
        ("GET", "/api/v1/health"),
        ("POST", "/_dash-update-component"),
        ("GET", "/_dash-layout"),
        ("GET", "/api/v1/ws"),
        ("GET", "/wall?token=x"),
    ]:
        answer = env.client.open(path, method=method, json={}, headers=evil)
        assert answer.status_code == 400, (method, path)
        assert answer.get_json()["error"]["code"] == "bad_host"
    with env.db.read() as session:
        from sqlalchemy import func, select

        from data.store.models import Ticket

        assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_default_hosts_and_configured_hosts(tmp_path):
    default = Env(f"sqlite:///{tmp_path / 'd.db'}").client
    for host in ("localhost", "127.0.0.1:8050", "[::1]:8050"):
        assert default.get("/api/v1/health", headers={"Host": host}).status_code == 200
    listed = Env(f"sqlite:///{tmp_path / 'l.db'}", allowed_hosts=["mill.example"]).client
    assert listed.get("/api/v1/health", headers={"Host": "mill.example:80"}).status_code == 200
    assert listed.get("/api/v1/health", headers={"Host": "localhost"}).status_code == 400
    anyone = Env(f"sqlite:///{tmp_path / 'a.db'}", allowed_hosts=["*"]).client
    assert anyone.get("/api/v1/health", headers={"Host": "evil.example"}).status_code == 200


# -- exact public paths ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/loginx", "/logout2", "/login.html", "/favicon.icox"])
def test_lookalike_paths_need_a_session(env, path):
    answer = env.client.get(path)
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/login?next=")


def test_public_paths_stay_public(env):
    assert env.client.get("/login").status_code == 200
    assert env.client.get("/assets/app.css").status_code == 200
    assert env.client.get("/_favicon.ico").status_code == 200


# -- the display gate reads the callback Dash dispatches on ---------------------------------


def test_parse_output_key():
    assert parse_output_key("page.children") == [("page", "children")]
    assert parse_output_key("..wall-a.children...wall-b.className..") == [
        ("wall-a", "children"),
        ("wall-b", "className"),
    ]
    assert parse_output_key("url.href@fa879ce6") == [("url", "href")]
    assert parse_output_key("a\\.b.data") == [("a.b", "data")]
    pattern = json.dumps({"to": ["ALL"], "type": "ticket-move"}, separators=(",", ":"))
    assert parse_output_key(f"{pattern}.n_clicks") == [
        ({"to": ["ALL"], "type": "ticket-move"}, "n_clicks")
    ]
    for bad in ("", "nodot", ".children", "a.", "..a.b", "..a.b...c..", "{x.y", 5, None):
        assert parse_output_key(bad) is None, bad


def test_display_cannot_run_a_callback_off_its_list_with_empty_outputs(env):
    env.sign_in("display")
    body = {"output": "tickets-grid.rowData", "outputs": [], "inputs": [], "state": []}
    answer = env.client.post("/_dash-update-component", json=body)
    assert answer.status_code == 403
    sneaky = {**grid_body({"startRow": 0, "endRow": 10}), "outputs": []}
    assert env.client.post("/_dash-update-component", json=sneaky).status_code == 403
    for missing in ({"outputs": [], "inputs": []}, {"output": "{not json.children"}):
        assert env.client.post("/_dash-update-component", json=missing).status_code == 403


def test_display_still_updates_the_wall(env):
    env.sign_in("display")
    body = {
        "output": "page.children",
        "outputs": {"id": "page", "property": "children"},
        "inputs": [{"id": "url", "property": "pathname", "value": "/wall"}],
        "state": [],
        "changedPropIds": ["url.pathname"],
    }
    answer = env.client.post("/_dash-update-component", json=body)
    assert answer.status_code in (200, 204), answer.get_data(as_text=True)[:300]


# -- bad input is a 4xx with the JSON error shape, logged as the client's fault ---------------


def test_deep_json_is_400_on_the_api_and_on_dash(env, caplog):
    caplog.set_level(logging.WARNING)
    env.sign_in("operator")
    json_type = {"Content-Type": "application/json"}
    api = env.client.post(
        "/api/v1/tickets", data=DEEP, headers={**env.token_headers("operator"), **json_type}
    )
    assert_client_error(api, 400, caplog)
    dash_answer = env.client.post("/_dash-update-component", data=DEEP, headers=json_type)
    assert_client_error(dash_answer, 400, caplog)


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        {"outputs": [], "inputs": []},
        {"output": 5},
        {"output": "no-such.callback", "outputs": {"id": "no-such", "property": "callback"}},
        # Two outputs declared, one sent: Dash would fail on it with a 500.
        {**grid_body({"startRow": 0}), "outputs": [{"id": "tickets-grid", "property": "x"}]},
        {**grid_body({"startRow": 0}), "inputs": []},
        {**grid_body({"startRow": 0}), "state": "nope"},
        {**grid_body({"startRow": 0}), "inputs": [{"value": 1}]},
    ],
)
def test_malformed_callback_bodies_are_400(env, caplog, body):
    caplog.set_level(logging.WARNING)
    env.sign_in("operator")
    answer = env.client.post("/_dash-update-component", json=body)
    assert_client_error(answer, 400, caplog)


@pytest.mark.parametrize(
    "rows_request",
    [
        {"startRow": "abc", "endRow": 100},
        {"startRow": 0, "endRow": [1]},
        {"startRow": -5, "endRow": 10},
        {"startRow": 1.5},
        {"startRow": 0, "sortModel": "created_at"},
        {"startRow": 0, "sortModel": [{"colId": 3}]},
        "rows please",
    ],
)
def test_grid_callback_with_bad_row_request_is_400(env, caplog, rows_request):
    caplog.set_level(logging.WARNING)
    env.sign_in("viewer")
    answer = env.client.post("/_dash-update-component", json=grid_body(rows_request))
    assert_client_error(answer, 400, caplog)


def test_grid_callback_still_answers_good_requests(env):
    env.sign_in("viewer")
    answer = env.client.post(
        "/_dash-update-component", json=grid_body({"startRow": 0.0, "endRow": 100})
    )
    assert answer.status_code == 200
    assert answer.get_json()["response"]["tickets-grid"]["getRowsResponse"]["rowCount"] == 0


def test_a_duplicate_output_callback_passes_the_gate(env):
    """`allow_duplicate=True` outputs carry `@<hash>` in the key and in `outputs`' property."""
    env.sign_in("viewer")
    key = next(k for k in env.app.callback_map if k.startswith("url.href@"))
    body = {
        "output": key,
        "outputs": {"id": "url", "property": key.partition(".")[2]},
        "inputs": [{"id": "utilization-graph", "property": "clickData", "value": None}],
        "changedPropIds": ["utilization-graph.clickData"],
        "state": [{"id": "url", "property": "href", "value": "http://localhost/"}],
    }
    answer = env.client.post("/_dash-update-component", json=body)
    assert answer.status_code in (200, 204), answer.get_data(as_text=True)[:300]


def test_api_405_carries_allow(env, caplog):
    caplog.set_level(logging.WARNING)
    answer = env.client.post("/api/v1/health", json={})
    assert_client_error(answer, 405, caplog)
    assert set(answer.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    trace = env.client.open("/api/v1/tickets", method="TRACE")
    assert trace.status_code == 405
    assert set(trace.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert env.client.post("/api/v1/nothing-here", json={}).status_code == 404


# -- a real server: the socket handshake and what the log says ------------------------------


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("gate")).start()
    yield server
    server.stop()


def raw_request(port: int, text: str) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(text.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
            if b"\r\n\r\n" in data:
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(h.split(b":")[1])
                        for h in head.split(b"\r\n")
                        if h.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                if len(body) >= length:
                    break
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


def handshake(live: LiveServer, host: str, extra: str = "", key: bool = True) -> str:
    origin = f"http://{host}"
    key_line = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" if key else ""
    return (
        f"GET /api/v1/ws?token={live.tokens['viewer']} HTTP/1.1\r\nHost: {host}\r\n"
        f"Origin: {origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Version: 13\r\n{key_line}{extra}Connection: close\r\n\r\n"
    )


def test_rebound_socket_handshake_is_refused_before_the_upgrade(live):
    status, headers, body = raw_request(live.port, handshake(live, f"evil.example:{live.port}"))
    assert status == 400 and "Sec-WebSocket-Accept" not in headers
    assert json.loads(body)["error"]["code"] == "bad_host"


def test_socket_upgrade_without_key_is_400(live):
    status, _, body = raw_request(live.port, handshake(live, f"127.0.0.1:{live.port}", key=False))
    assert status == 400
    assert json.loads(body)["error"]["code"] == "bad_handshake"


def test_live_bad_input_is_logged_as_client_errors_without_tracebacks(live):
    json_type = {**live.headers("operator"), "Content-Type": "application/json"}
    assert (
        requests.post(
            f"{live.url}/api/v1/tickets", data=DEEP, headers=json_type, timeout=10
        ).status_code
        == 400
    )
    assert requests.post(f"{live.url}/api/v1/health", timeout=5).status_code == 405
    raw_request(live.port, handshake(live, f"127.0.0.1:{live.port}", key=False))
    time.sleep(0.3)
    log = live.log_path.read_text()
    assert "client error" in log
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
