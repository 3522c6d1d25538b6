"""Socket hardening against a real server: frame rate limit, socket caps, sessions that end."""

from __future__ import annotations

import json
import time

import pytest
import requests
import websocket

from data.accounts.users import create_user
from devtools.live_server import close_code, recv_json, serve_plant
from tests.waiting import wait_until


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve_plant(tmp_path_factory.mktemp("sec"), 2, MILLDASH_WS_MAX_PER_USER="3")


def test_frame_flood_gets_errors_then_1008(server):
    ws = server.connect()
    recv_json(ws)
    for i in range(200):
        ws.send(json.dumps({"type": "ping", "nonce": i}))
    codes = []
    ws.settimeout(10)
    while True:
        opcode, frame = ws.recv_data_frame(True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            assert int.from_bytes(frame.data[:2], "big") == 1008
            break
        codes.append(json.loads(frame.data)["type"])
    assert "pong" in codes
    assert "error" in codes  # rate_limited warnings came before the close


def test_normal_pace_is_not_limited(server):
    ws = server.connect()
    recv_json(ws)
    for i in range(30):
        ws.send(json.dumps({"type": "ping", "nonce": i}))
        assert recv_json(ws)["type"] == "pong"
        time.sleep(0.02)  # the pace is the subject: ~40 frames a second must stay unlimited
    ws.close()


def test_sockets_per_user_are_capped(server):
    open_sockets = []
    for _ in range(3):
        ws = server.connect(role="operator")
        recv_json(ws)
        open_sockets.append(ws)
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        server.connect(role="operator")
    assert info.value.status_code == 429
    open_sockets.pop().close()

    def connect_once_freed() -> websocket.WebSocket | None:
        try:
            return server.connect(role="operator")
        except websocket.WebSocketBadStatusException as exc:
            assert exc.status_code == 429, exc  # refused only while the slot is still taken
            return None

    # The server frees the slot when it sees the close: a fourth socket is let in again.
    again = wait_until(connect_once_freed, timeout=5, interval=0.05)
    assert recv_json(again)["type"] == "welcome"
    for ws in [*open_sockets, again]:
        ws.close()


def test_logout_closes_the_users_socket(server):
    password = create_user(server.db, "sam", "viewer")
    session = requests.Session()
    response = session.post(
        f"{server.url}/login",
        data={"name": "sam", "password": password},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 303
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    ws = websocket.create_connection(server.ws_url, header=[f"Cookie: {cookie}"], timeout=10)
    assert recv_json(ws)["role"] == "viewer"
    signed_out = session.post(f"{server.url}/logout", allow_redirects=False, timeout=5)
    assert signed_out.status_code == 303, signed_out.text
    assert close_code(ws, timeout=15) == 4001


def test_revoked_token_closes_its_socket(server):
    from sqlalchemy import func, select

    from data.accounts.tokens import create_token, revoke_token
    from data.store.models import ApiToken

    token = create_token(server.db, "viewer", "short-lived")
    ws = websocket.create_connection(f"{server.ws_url}?token={token}", timeout=10)
    recv_json(ws)
    with server.db.read() as session:
        token_id = session.scalar(select(func.max(ApiToken.id)))
    revoke_token(server.db, token_id)
    assert close_code(ws, timeout=15) == 4001
