"""How sockets are served (app/realtime/session.py, keeper.py, handoff.py): heartbeats from one
loop for every socket, the close handshake, sockets that outlive their HTTP request, and the
keeper's rounds on plain connections. A real server for the wire, real databases for the rest."""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
from typing import Any

import pytest
import websocket

from app.realtime.connection import ENDED, HEARTBEAT, Connection
from app.realtime.keeper import PING, Keeper
from data.accounts.tokens import create_token, list_tokens, revoke_token, verify_token
from devtools.live_server import ROOT, LiveServer, close_code, recv_json, recv_until, serve_plant
from tests.waiting import wait_until

PING_INTERVAL_S = 0.5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    yield from serve_plant(
        tmp_path_factory.mktemp("serving"),
        1,
        MILLDASH_WS_PING_INTERVAL=str(PING_INTERVAL_S),
        MILLDASH_ACCESS_LOG="1",
    )


def test_a_socket_that_answers_pings_gets_them_regularly_and_stays(server: LiveServer) -> None:
    ws = server.connect()
    assert recv_json(ws)["type"] == "welcome"
    ws.settimeout(PING_INTERVAL_S * 4)
    pings: list[float] = []
    while len(pings) < 4:
        opcode, _frame = ws.recv_data_frame(True)  # answers each ping with a pong
        assert opcode != websocket.ABNF.OPCODE_CLOSE
        if opcode == websocket.ABNF.OPCODE_PING:
            pings.append(time.monotonic())
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert all(PING_INTERVAL_S / 2 < gap < PING_INTERVAL_S * 2 for gap in gaps), gaps
    ws.send(json.dumps({"type": "ping", "nonce": 1}))
    while (frame := ws.recv_data_frame(True))[0] != websocket.ABNF.OPCODE_TEXT:
        pass
    assert json.loads(frame[1].data)["type"] == "pong"  # still open after four heartbeats
    ws.close()


def test_a_socket_that_never_answers_pings_is_closed_with_1008(server: LiveServer) -> None:
    raw = _raw_upgrade(server)
    raw.settimeout(PING_INTERVAL_S * 6)
    data = b""
    start = time.monotonic()
    while b"\x88" not in data[2:] or not _has_close(data):
        chunk = raw.recv(4096)
        assert chunk, f"the connection ended without a close frame: {data!r}"
        data += chunk
    assert time.monotonic() - start < PING_INTERVAL_S * 6
    assert b"\x89\x00" in data  # the pings it did not answer
    code, reason = _close_of(data)
    assert (code, reason) == (1008, "Ping/Pong timeout")
    raw.close()


def test_close_handshake_from_the_client_is_answered(server: LiveServer) -> None:
    ws = server.connect()
    recv_json(ws)
    ws.send_close(status=1000, reason=b"bye")
    assert close_code(ws, timeout=5) == 1000  # our answer echoes the client's code
    ws.close()


def test_the_upgrade_request_ends_while_the_socket_lives_on(server: LiveServer) -> None:
    """The HTTP request of an upgrade is over (logged) as soon as the socket is open; the
    socket still gets its events."""
    ws = server.connect(query="subscribe=maintenance")
    recv_json(ws)
    wait_until(lambda: "GET /api/v1/ws" in server.log_path.read_text(), timeout=5)
    body = {"machine_id": 1, "title": "Served after its request", "priority": "high"}
    made = server.post("/tickets", body)
    assert made.status_code == 201, made.text
    alert = recv_until(ws, lambda f: f["type"] == "maintenance_alert")[-1]
    assert alert["data"]["ticket_id"] == made.json()["id"]
    ws.close()


def test_a_revoked_token_ends_its_sockets_through_the_keeper(server: LiveServer) -> None:
    token = create_token(server.db, "viewer", "soon-revoked")
    ws = websocket.create_connection(f"{server.ws_url}?token={token}", timeout=10)
    recv_json(ws)
    token_id = next(t["id"] for t in list_tokens(server.db) if t["name"] == "soon-revoked")
    revoke_token(server.db, int(str(token_id)))
    assert close_code(ws, timeout=15) == 4001


# -- the keeper on plain connections ---------------------------------------------------------


def _conn(**kw: Any) -> Connection:
    return Connection(principal_name="t", role="viewer", topics={"all"}, **kw)


def test_heartbeat_pings_then_ends_a_connection_without_pong(db: Any) -> None:
    answering, silent = _conn(), _conn()
    keeper = Keeper(db, lambda: [answering, silent], ping_interval_s=1.0)
    assert keeper.heartbeat() == 0
    assert answering.take() == [PING] and silent.take() == [PING]
    answering.awaiting_pong = False  # what the reader does when the pong arrives
    assert keeper.heartbeat() == 1
    assert answering.take() == [PING] and answering.signal is None
    assert silent.take() == HEARTBEAT


def test_a_heartbeat_round_goes_out_in_parts_each_socket_once(db: Any) -> None:
    conns = [_conn() for _ in range(200)]
    keeper = Keeper(db, lambda: conns, ping_interval_s=1.0)
    sizes = []
    for part in range(8):
        before = sum(c.awaiting_pong for c in conns)
        assert keeper.heartbeat(part, 8) == 0
        sizes.append(sum(c.awaiting_pong for c in conns) - before)
    assert all(c.take() == [PING] for c in conns)  # one ping each over the round
    assert sum(sizes) == 200 and max(sizes) < 60, sizes  # spread over the parts
    silent = conns[0]
    for c in conns[1:]:
        c.awaiting_pong = False  # their pongs came back
    assert keeper.heartbeat(hash(silent.client_id) % 8, 8) == 1  # its part, no pong: closed
    assert silent.take() == HEARTBEAT


def test_session_check_ends_only_the_sockets_of_a_revoked_token(db: Any) -> None:
    kept, revoked = (create_token(db, "viewer", name) for name in ("kept", "revoked"))
    conns = [_conn(principal=verify_token(db, token)) for token in (kept, revoked)]
    conns.append(_conn())  # no principal (a test listener): never checked
    keeper = Keeper(db, lambda: conns, ping_interval_s=0)
    assert keeper.check_sessions() == 0
    revoke_token(db, conns[1].principal.token_id)
    assert keeper.check_sessions() == 1
    assert [c.signal for c in conns] == [None, ENDED, None]


# -- helpers ----------------------------------------------------------------------------------


def _raw_upgrade(server: LiveServer) -> socket.socket:
    """A socket that did the handshake by hand and then only reads (no pong, ever)."""
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    token = server.tokens["viewer"]
    raw.sendall(
        (
            f"GET /api/v1/ws?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += raw.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return raw


def _frames(data: bytes) -> list[tuple[int, bytes]]:
    """(opcode, payload) of each whole unmasked frame in `data` (server frames)."""
    frames, i = [], 0
    while i + 2 <= len(data):
        size, head = data[i + 1] & 0x7F, 2
        if size == 126:
            size, head = int.from_bytes(data[i + 2 : i + 4], "big"), 4
        elif size == 127:
            size, head = int.from_bytes(data[i + 2 : i + 10], "big"), 10
        if i + head + size > len(data):
            break
        frames.append((data[i] & 0x0F, data[i + head : i + head + size]))
        i += head + size
    return frames


def _has_close(data: bytes) -> bool:
    return any(op == 0x8 for op, _ in _frames(data))


def _close_of(data: bytes) -> tuple[int, str]:
    payload = next(p for op, p in _frames(data) if op == 0x8)
    return int.from_bytes(payload[:2], "big"), payload[2:].decode()


def test_the_keeper_runs_rounds_until_stopped_and_interval_0_sends_no_pings(db: Any) -> None:
    conn = _conn()
    pinging = Keeper(db, lambda: [conn], ping_interval_s=0.05, check_s=60)
    pinging.start()
    wait_until(lambda: conn.awaiting_pong, timeout=5)
    pinging.stop()
    assert conn.take() == [PING]
    quiet, silent = _conn(), Keeper(db, lambda: [quiet], ping_interval_s=0, check_s=60)
    silent.start()
    time.sleep(0.3)  # several 0.05 s intervals of the other keeper: none here
    silent.stop()
    assert quiet.take() is None and not quiet.awaiting_pong


SPAWN_SCRIPT = (
    "import json\n"
    "from app.cli import patch_gevent\n"
    "patch_gevent()\n"
    "import gevent\n"
    "from gevent import monkey\n"
    "g = gevent.spawn(lambda: 1)\n"
    "g.join()\n"
    "print(json.dumps({'stack': getattr(g, 'spawning_stack', None) is None,\n"
    "    'locals': getattr(g, 'spawn_tree_locals', None) is None,\n"
    "    'value': g.value, 'patched': monkey.is_module_patched('socket')}))\n"
)


def _spawned(**env: str) -> dict[str, bool]:
    """What a greenlet spawned after `patch_gevent()` kept, in a fresh process."""
    environ = {k: v for k, v in os.environ.items() if k != "GEVENT_TRACK_GREENLET_TREE"}
    out = subprocess.run(
        [sys.executable, "-c", SPAWN_SCRIPT],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_served_greenlets_record_no_spawning_tree() -> None:
    """The server's gevent set-up: a greenlet keeps no spawning stack (ten frames each, per
    socket) and no tree-locals; monkey patching still happens."""
    assert _spawned() == {"stack": True, "locals": True, "value": 1, "patched": True}


def test_gevent_track_greenlet_tree_turns_the_tree_back_on_for_debugging() -> None:
    assert _spawned(GEVENT_TRACK_GREENLET_TREE="1") == {
        "stack": False,
        "locals": False,
        "value": 1,
        "patched": True,
    }
