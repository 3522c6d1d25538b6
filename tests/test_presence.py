"""Presence in the ticket drawer over real sockets against a real server: who has a ticket
open is told to everyone else who has it open on join, leave and close; bad frames get the
protocol's error frame and change nothing; a wall display and anonymous readers cannot
announce; presence is no event (no seq, nothing in the event log)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import websocket

from data.accounts.users import create_user
from devtools.live_server import LiveServer, recv_json, recv_until, serve_plant


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve_plant(tmp_path_factory.mktemp("presence"), 2, MILLDASH_ANONYMOUS_VIEW="1")


@pytest.fixture(scope="module")
def people(server: LiveServer) -> dict[str, str]:
    """Passwords of the people signed in by `person`."""
    return {name: create_user(server.db, name, "viewer") for name in ("dora", "emil", "finn")}


class Person:
    """One signed-in browser session's socket, read frame by frame."""

    def __init__(self, server: LiveServer, name: str, password: str) -> None:
        session = requests.Session()
        answer = session.post(
            f"{server.url}/login",
            data={"name": name, "password": password},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 303, answer.text
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        self.ws = websocket.create_connection(
            server.ws_url, header=[f"Cookie: {cookie}"], timeout=10
        )
        self.welcome = recv_json(self.ws)
        assert self.welcome["type"] == "welcome", self.welcome
        self.nonce = 0

    def announce(self, ticket_id: Any) -> None:
        self.ws.send(json.dumps({"type": "presence", "ticket_id": ticket_id}))

    def presence(self, ticket_id: int | None) -> dict[str, Any]:
        """The next presence frame about `ticket_id`."""
        frames = recv_until(self.ws, lambda f: f["type"] in ("presence", "error"), timeout=5)
        frame = frames[-1]
        assert frame["type"] == "presence" and frame["ticket_id"] == ticket_id, frames
        return frame

    def error(self) -> dict[str, Any]:
        frame = recv_until(self.ws, lambda f: f["type"] in ("presence", "error"), timeout=5)[-1]
        assert frame["type"] == "error", frame
        return frame

    def heard_nothing(self) -> None:
        """No presence frame is pending: everything the server offered this socket before the
        pong to this ping arrives before that pong."""
        self.nonce += 1
        self.ws.send(json.dumps({"type": "ping", "nonce": self.nonce}))
        frames = recv_until(self.ws, lambda f: f["type"] == "pong" and f["nonce"] == self.nonce)
        assert [f for f in frames if f["type"] != "pong"] == []

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def person(server: LiveServer, people: dict[str, str]):
    opened: list[Person] = []

    def sign_in(name: str) -> Person:
        opened.append(Person(server, name, people[name]))
        return opened[-1]

    yield sign_in
    for p in opened:
        p.close()


def new_ticket(server: LiveServer, title: str) -> int:
    answer = server.post("/tickets", {"machine_id": 1, "title": title, "priority": "low"})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def latest_seq(server: LiveServer) -> int:
    return server.get("/events?since=0&limit=1").json()["seq"]


def test_join_and_leave_reach_the_others_only(server, person):
    ticket, other = new_ticket(server, "Presence: belt"), new_ticket(server, "Presence: pump")
    dora, emil = person("dora"), person("emil")
    assert dora.welcome["presence"] is True
    seq = latest_seq(server)

    dora.announce(ticket)
    alone = dora.presence(ticket)
    assert alone == {"type": "presence", "ticket_id": ticket, "viewers": []}  # no seq
    emil.announce(ticket)
    assert emil.presence(ticket)["viewers"] == ["dora"]
    assert dora.presence(ticket)["viewers"] == ["emil"]

    # Emil opens another ticket: he has left the first one.
    emil.announce(other)
    assert emil.presence(other)["viewers"] == []
    assert dora.presence(ticket)["viewers"] == []

    # Back, then the drawer closes (null).
    emil.announce(ticket)
    assert emil.presence(ticket)["viewers"] == ["dora"]
    assert dora.presence(ticket)["viewers"] == ["emil"]
    emil.announce(None)
    assert emil.presence(None)["viewers"] == []
    assert dora.presence(ticket)["viewers"] == []

    # Announcing the same ticket again answers the sender and tells nobody else.
    emil.announce(ticket)
    emil.presence(ticket)
    dora.presence(ticket)
    emil.announce(ticket)
    assert emil.presence(ticket)["viewers"] == ["dora"]
    dora.heard_nothing()

    assert latest_seq(server) == seq  # presence is not written to the event log


def test_a_closed_socket_leaves(server, person):
    ticket = new_ticket(server, "Presence: closed socket")
    dora, emil = person("dora"), person("emil")
    dora.announce(ticket)
    dora.presence(ticket)
    emil.announce(ticket)
    emil.presence(ticket)
    assert dora.presence(ticket)["viewers"] == ["emil"]
    emil.close()
    frames = recv_until(dora.ws, lambda f: f["type"] == "presence", timeout=1.0)
    assert frames[-1] == {"type": "presence", "ticket_id": ticket, "viewers": []}


def test_several_sockets_of_one_name_count_once(server, person):
    ticket = new_ticket(server, "Presence: two tabs")
    emil, dora_tab, dora_phone = person("emil"), person("dora"), person("dora")
    emil.announce(ticket)
    emil.presence(ticket)
    dora_tab.announce(ticket)
    assert dora_tab.presence(ticket)["viewers"] == ["emil"]
    assert emil.presence(ticket)["viewers"] == ["dora"]
    # Dora's second session changes nobody's list: emil hears nothing, and her own other
    # session does not list her.
    dora_phone.announce(ticket)
    assert dora_phone.presence(ticket)["viewers"] == ["emil"]
    emil.heard_nothing()
    dora_tab.heard_nothing()
    # One of her sockets closing leaves her on the ticket; the last one takes her off.
    dora_phone.close()
    emil.heard_nothing()
    dora_tab.announce(None)
    dora_tab.presence(None)
    assert emil.presence(ticket)["viewers"] == []


@pytest.mark.parametrize(
    "frame, code",
    [
        ({"type": "presence"}, "bad_ticket"),
        ({"type": "presence", "ticket_id": "7"}, "bad_ticket"),
        ({"type": "presence", "ticket_id": 0}, "bad_ticket"),
        ({"type": "presence", "ticket_id": -3}, "bad_ticket"),
        ({"type": "presence", "ticket_id": 1.5}, "bad_ticket"),
        ({"type": "presence", "ticket_id": True}, "bad_ticket"),
        ({"type": "presence", "ticket_id": [1]}, "bad_ticket"),
        ({"type": "presence", "ticket_id": 2**31}, "bad_ticket"),
        ({"type": "presence", "ticket_id": 10**400}, "bad_ticket"),
    ],
)
def test_bad_frames_get_an_error_and_change_nothing(server, person, frame, code):
    ticket = new_ticket(server, "Presence: bad frames")
    dora, emil = person("dora"), person("emil")
    dora.announce(ticket)
    dora.presence(ticket)
    emil.announce(ticket)
    emil.presence(ticket)
    dora.presence(ticket)
    emil.ws.send(json.dumps(frame))
    error = emil.error()
    assert error["code"] == code and error["message"], error
    # Still open, still on the ticket, and nobody heard of it.
    dora.heard_nothing()
    emil.heard_nothing()
    emil.announce(ticket)
    assert emil.presence(ticket)["viewers"] == ["dora"]
    dora.heard_nothing()


def test_display_anonymous_and_admin_sockets_cannot_announce(server, person):
    ticket = new_ticket(server, "Presence: refused")
    dora = person("dora")
    dora.announce(ticket)
    dora.presence(ticket)
    wall = server.connect(role="display")
    anonymous = websocket.create_connection(server.ws_url, timeout=10)
    admin = server.connect(role="admin", path="/admin")
    try:
        for ws, expected in ((wall, "forbidden"), (anonymous, "forbidden")):
            welcome = recv_json(ws)
            assert welcome["presence"] is False, welcome
            ws.send(json.dumps({"type": "presence", "ticket_id": ticket}))
            error = recv_json(ws)
            assert (error["type"], error["code"]) == ("error", expected), error
        recv_json(admin)
        admin.send(json.dumps({"type": "presence", "ticket_id": ticket}))
        assert recv_json(admin)["code"] == "unknown_type"
        dora.heard_nothing()
        # A token names a person too: it may announce.
        token = server.connect(role="viewer")
        assert recv_json(token)["presence"] is True
        token.send(json.dumps({"type": "presence", "ticket_id": ticket}))
        assert recv_json(token)["viewers"] == ["dora"]
        assert dora.presence(ticket)["viewers"] == ["viewer-test"]
        token.close()
        assert dora.presence(ticket)["viewers"] == []
    finally:
        for ws in (wall, anonymous, admin):
            ws.close()
