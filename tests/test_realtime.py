"""CONTRACT §3 against a real server on a real port, with real socket clients."""

from __future__ import annotations

import json
import socket
import threading

import pytest
import requests
import websocket
from sqlalchemy import delete

from data.store.models import EventLog
from data.write.services import Services
from devtools.live_server import LiveServer, recv_json, recv_until, serve_plant
from tests.waiting import wait_until


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve_plant(tmp_path_factory.mktemp("rt"), 3)


def ticket(
    server: LiveServer, title: str = "Coolant leak", priority: str = "high", description: str = ""
) -> dict:
    response = server.post(
        "/tickets",
        {"machine_id": 1, "title": title, "priority": priority, "description": description},
    )
    assert response.status_code == 201, response.text
    return response.json()


def latest(server: LiveServer) -> int:
    return server.get("/events?since=0&limit=1").json()["seq"]


def test_welcome(server):
    ws = server.connect("subscribe=maintenance,machines")
    welcome = recv_json(ws)
    assert welcome["type"] == "welcome"
    assert welcome["client_id"]
    assert welcome["seq"] == latest(server)
    assert welcome["subscriptions"] == ["machines", "maintenance"]
    assert welcome["server_time"].endswith("Z")
    ws.close()


def test_event_frame_shape_and_topic_filtering(server):
    maint = server.connect("subscribe=maintenance")
    prod = server.connect("subscribe=production")
    recv_json(maint), recv_json(prod)
    created = ticket(server)
    server.post("/production", {"machine_id": 1, "good": 5, "scrap": 0})
    alert = recv_json(maint)
    assert alert["type"] == "maintenance_alert" and alert["topic"] == "maintenance"
    assert alert["data"]["ticket_id"] == created["id"]
    assert {"ticket_id", "machine_id", "priority", "description", "title"} <= set(alert["data"])
    assert set(alert) == {"type", "seq", "topic", "timestamp", "data"}
    update = recv_json(prod)
    assert update["type"] == "production_update" and update["seq"] > alert["seq"]
    maint.send(json.dumps({"type": "ping", "nonce": "x"}))
    assert recv_json(maint)["type"] == "pong"  # the production event never reached it
    maint.close(), prod.close()


def test_subscribe_and_unsubscribe_frames(server):
    ws = server.connect("subscribe=production")
    recv_json(ws)
    ws.send(json.dumps({"type": "subscribe", "topics": ["maintenance"]}))
    assert recv_json(ws) == {"type": "subscribed", "subscriptions": ["maintenance", "production"]}
    ticket(server)
    assert recv_json(ws)["type"] == "maintenance_alert"
    ws.send(json.dumps({"type": "unsubscribe", "topics": ["maintenance", "production"]}))
    assert recv_json(ws) == {"type": "unsubscribed", "subscriptions": []}
    ticket(server)
    ws.send(json.dumps({"type": "status"}))
    status = recv_json(ws)
    assert status["type"] == "status" and status["subscriptions"] == []
    assert {"client_id", "seq", "connected_since"} <= set(status)
    ws.close()


def test_system_alert_reaches_every_client(server):
    narrow = server.connect("subscribe=production")
    wide = server.connect()
    admin = server.connect(role="admin", path="/admin")
    for ws in (narrow, wide, admin):
        recv_json(ws)
    admin.send(
        json.dumps(
            {
                "type": "broadcast",
                "event": "system_alert",
                "data": {"message": "Fire drill at 10:00", "level": "warning"},
            }
        )
    )
    ack = recv_json(admin)
    assert ack["type"] == "broadcasted"
    for ws in (narrow, wide):
        frame = recv_json(ws)
        assert frame["type"] == "system_alert" and frame["seq"] == ack["seq"]
        assert frame["data"] == {"message": "Fire drill at 10:00", "level": "warning"}
    polled = server.get(f"/events?since={ack['seq'] - 1}&topics=production").json()
    assert polled["events"][0]["type"] == "system_alert"
    admin.send(json.dumps({"type": "stats"}))
    stats = recv_json(admin)
    assert stats["type"] == "stats" and stats["connections"] >= 3
    assert {"by_topic", "events_published", "events_dropped"} <= set(stats)
    assert stats["by_topic"]["production"] >= 2
    for ws in (narrow, wide, admin):
        ws.close()


def test_ping_pong_and_bad_frames_keep_connection_open(server):
    ws = server.connect()
    recv_json(ws)
    ws.send(json.dumps({"type": "ping", "nonce": 7}))
    pong = recv_json(ws)
    assert pong["type"] == "pong" and pong["nonce"] == 7 and pong["server_time"]
    for bad, code in [
        ("{not json", "bad_json"),
        (json.dumps({"type": "dance"}), "unknown_type"),
        (json.dumps([1, 2]), "bad_frame"),
        (json.dumps({"type": "subscribe", "topics": ["weather"]}), "unknown_topic"),
    ]:
        ws.send(bad)
        error = recv_json(ws)
        assert error["type"] == "error" and error["code"] == code and error["message"]
    ws.send(json.dumps({"type": "ping"}))
    assert recv_json(ws)["type"] == "pong"
    ws.close()


def test_oversized_frame_closes_with_1009(server):
    ws = server.connect()
    recv_json(ws)
    ws.send("x" * (64 * 1024 + 1))
    ws.settimeout(5)
    opcode, frame = ws.recv_data_frame(True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(frame.data[:2], "big") == 1009


def test_foreign_origin_refused_before_upgrade(server):
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        server.connect(origin="http://evil.example")
    assert info.value.status_code == 403
    ok = server.connect(origin=server.url)
    assert recv_json(ok)["type"] == "welcome"
    ok.close()


def test_credentials_checked_before_upgrade(server):
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        websocket.create_connection(server.ws_url, timeout=5)
    assert info.value.status_code == 401
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        server.connect(role="operator", path="/admin")
    assert info.value.status_code == 403
    assert (
        requests.get(
            f"{server.url}/api/v1/ws/stats", headers=server.headers("viewer"), timeout=5
        ).status_code
        == 403
    )
    stats = requests.get(
        f"{server.url}/api/v1/ws/stats", headers=server.headers("admin"), timeout=5
    ).json()
    assert stats["type"] == "stats"
    with pytest.raises(websocket.WebSocketBadStatusException) as info:
        server.connect("subscribe=weather")
    assert info.value.status_code == 400


def test_resume_without_loss_or_duplicate_under_concurrent_publishing(server):
    ws = server.connect()
    recv_json(ws)
    ticket(server)
    first = recv_json(ws)
    ws.close()
    resume_from = first["seq"]

    total = 500
    done = threading.Event()

    def publish() -> None:
        session = requests.Session()
        for i in range(total):
            session.post(
                f"{server.url}/api/v1/production",
                headers=server.headers(),
                json={"machine_id": 1 + i % 3, "good": i, "scrap": 0},
                timeout=10,
            )
        done.set()

    worker = threading.Thread(target=publish)
    worker.start()
    # Resume in the middle of the burst: once part of it has landed, before all of it has.
    wait_until(lambda: latest(server) >= resume_from + 20, timeout=30, interval=0.02)
    resumed = server.connect(f"since={resume_from}")
    welcome = recv_json(resumed)
    assert welcome["type"] == "welcome"
    worker.join(120)
    assert done.is_set()
    final = latest(server)
    frames = recv_until(resumed, lambda f: f.get("seq") == final, timeout=30)
    seqs = [f["seq"] for f in frames]
    assert seqs == list(range(resume_from + 1, final + 1))
    assert final - resume_from >= total
    resumed.close()


def test_resync_when_since_is_older_than_retained(server):
    ticket(server)
    with server.db.write() as session:  # retention pruned the oldest events
        session.execute(delete(EventLog).where(EventLog.seq <= 3))
    ws = server.connect("since=1")
    welcome = recv_json(ws)
    frame = recv_json(ws)
    assert frame == {"type": "resync", "seq": welcome["seq"]}
    ws.close()
    future = server.connect("since=99999999")
    recv_json(future)
    assert recv_json(future)["type"] == "resync"
    future.close()
    ok = server.connect(f"since={welcome['seq']}")
    recv_json(ok)
    ticket(server)
    assert recv_json(ok)["type"] == "maintenance_alert"
    ok.close()


def test_relay_publishes_event_whose_publish_step_never_ran(server):
    ws = server.connect("subscribe=maintenance")
    recv_json(ws)
    # Another process commits a ticket and dies before publishing: only the log has it.
    orphan = Services(server.db).create_ticket(
        {"machine_id": 2, "title": "Committed, never published", "priority": "low"}, "crash"
    )
    alert = recv_json(ws, timeout=5)
    assert alert["type"] == "maintenance_alert" and alert["data"]["ticket_id"] == orphan["id"]
    ticket(server, title="after the orphan")
    following = recv_json(ws)
    assert following["data"]["title"] == "after the orphan"
    assert following["seq"] > alert["seq"]
    ws.close()


def test_slow_reader_closed_with_4008_while_others_get_everything(server):
    before = latest(server)
    slow = socket.create_connection(("127.0.0.1", server.port))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    slow.sendall(
        (
            f"GET /api/v1/ws?token={server.tokens['viewer']} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    fast = server.connect("subscribe=maintenance")
    recv_json(fast)
    received: list[dict] = []
    stop = threading.Event()

    def read_fast() -> None:
        while not stop.is_set():
            try:
                received.append(recv_json(fast, timeout=1))
            except websocket.WebSocketTimeoutException:
                continue
            except Exception:
                return

    reader = threading.Thread(target=read_fast)
    reader.start()
    # More than the 1 MiB bound plus what the socket buffers absorb.
    count = 250
    description = "x" * 9500
    for i in range(count):
        ticket(server, title=f"burst {i}", description=description)
    try:
        wait_until(
            lambda: sum(f["type"] == "maintenance_alert" for f in received) >= count,
            timeout=60,
            interval=0.1,
        )
    finally:
        stop.set()
    reader.join(5)
    alerts = [f for f in received if f["type"] == "maintenance_alert"]
    assert len(alerts) == count
    assert [a["data"]["title"] for a in alerts] == [f"burst {i}" for i in range(count)]
    assert alerts[0]["seq"] > before
    # The slow client now reads: what is buffered, then a close frame with 4008.
    slow.settimeout(10)
    data = b""
    while True:
        chunk = slow.recv(65536)
        if not chunk:
            break
        data += chunk
        if b"\x88" in data[-200:] and b"too slow" in data[-200:]:
            break
    close_at = data.rfind(b"\x88")
    assert close_at > 0, "no close frame"
    code = int.from_bytes(data[close_at + 2 : close_at + 4], "big")
    assert code == 4008
    slow.close()
    stats = requests.get(
        f"{server.url}/api/v1/ws/stats", headers=server.headers("admin"), timeout=5
    ).json()
    assert stats["events_dropped"] > 0
    fast.close()
