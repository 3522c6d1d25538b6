"""The maintenance hub's components and callbacks as plain functions: people's words (no codes,
no ISO times), readers' disabled forms, the form's reset, the drawer's live line and its
refusal to overwrite a change it has not shown."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import plotly.io  # noqa: F401 - dash's JSON encoder
import pytest
from dash import no_update

from callbacks.deps import Deps
from callbacks.maintenance import create_ticket, render
from callbacks.maintenance_drawer import act, live_line
from components.alert_feed import alert_item
from components.maintenance import maintenance_page
from components.ticket_detail import last_change, ticket_detail
from components.ticket_filters import choice_options
from components.ticket_grid import count_words, grid_row
from data.accounts.tokens import Principal
from data.store.db import Database
from data.write.services import Services
from devtools.factories import add_machines

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TICKET = {
    "id": 7,
    "machine_id": 1,
    "machine_name": "MILL-01",
    "title": "Spindle noise",
    "description": "",
    "priority": "high",
    "status": "in_progress",
    "assignee": None,
    "reported_by": "ann",
    "created_at": "2026-03-02T09:15:00Z",
    "updated_at": "2026-03-02T11:59:40Z",
    "resolved_at": None,
    "version": 2,
    "history": [
        {"field": "status", "from": None, "to": "open", "by": "ann", "at": "2026-03-02T09:15:00Z"},
        {
            "field": "status",
            "from": "open",
            "to": "in_progress",
            "by": "dora",
            "at": "2026-03-02T11:59:40Z",
        },
    ],
}


def text_of(component) -> str:
    """Every string in a component tree, as one text."""
    return json.dumps(component.to_plotly_json(), cls=_Encoder)


class _Encoder(json.JSONEncoder):
    def default(self, o):
        return o.to_plotly_json() if hasattr(o, "to_plotly_json") else str(o)


def test_grid_row_words():
    row = grid_row(TICKET, ("on_hold", "resolved"), True, NOW)
    shown = row["shown"]
    assert row["row_id"] == "7"
    assert shown["status"] == "in progress"
    assert shown["opened"] == "2 h 45 min ago" and shown["updated"] == "just now"
    assert shown["assignee"] == "unassigned"
    assert shown["moves"] == [
        {"to": "on_hold", "label": "on hold"},
        {"to": "resolved", "label": "resolved"},
    ]
    assert shown["opened_at"] == "2026-03-02 09:15"  # the plant's clock (UTC here)
    assert count_words(1) == "1 ticket matches" and count_words(1204) == "1,204 tickets match"


def test_filters_detail_and_feed_say_words_not_codes():
    assert {o["label"] for o in choice_options(("in_progress", "on_hold"))} == {
        "in progress",
        "on hold",
    }
    detail = text_of(ticket_detail(TICKET, ("on_hold", "resolved"), True, NOW))
    assert "in_progress" not in detail.replace('"to": "in_progress"', "")
    assert "open \\u2192 in progress" in detail and "2026-03-02" not in detail
    assert last_change(TICKET, NOW) == "changed by dora just now"
    frame = {
        "seq": 3,
        "timestamp": "2026-03-02T11:00:00Z",
        "data": {"ticket_id": 7, "priority": "high", "title": "x"},
    }
    assert "1 h ago" in text_of(alert_item(frame, NOW))


def test_readers_get_a_disabled_form_with_a_sign_in_link():
    machines = [{"id": 1, "name": "MILL-01", "area": "Milling"}]
    reader = text_of(maintenance_page(machines, can_write=False))
    assert "/login?next=/maintenance" in reader and "Sign in as an operator" in reader
    writer = text_of(maintenance_page(machines, can_write=True))
    assert "/login?next=/maintenance" not in writer
    detail = text_of(ticket_detail(TICKET, ("on_hold",), False, NOW))
    assert "Sign in as an operator" in detail and '"disabled": true' in detail


@pytest.fixture
def hub(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'hub.db'}")
    db.migrate()
    add_machines(db, 2)
    services = Services(db)
    yield db, services
    db.dispose()


def deps_for(hub, role: str | None, name: str = "pat") -> Deps:
    db, services = hub
    return Deps(db, services, lambda: Principal(name, role) if role else None)


def test_render_disables_the_form_for_a_viewer(hub):
    assert "Sign in as an operator" in text_of(render(deps_for(hub, "viewer")))
    assert "Sign in as an operator" not in text_of(render(deps_for(hub, "operator")))


def test_form_resets_every_field_and_speaks_plainly(hub):
    operator = deps_for(hub, "operator")
    done = create_ticket(operator, "1", "Valid title", "text", "critical", "dora")
    assert "opened" in done[10]
    assert done[11:] == (None, "", "", "medium", "")
    bad = create_ticket(operator, None, "x", "", "high", "")
    assert bad[0] and bad[1]  # machine and title marked
    assert bad[5] == "Choose a machine." and bad[6] == "The title needs at least 3 characters."
    assert bad[11:] == (no_update,) * 5  # what was typed stays


class _Ctx:
    """Dash's callback context as the drawer's `act` reads it."""

    def __init__(self, trigger):
        self.triggered_id = trigger
        self.triggered = [{"value": 1}]


def test_drawer_refuses_to_overwrite_a_change_it_has_not_shown(hub, monkeypatch):
    db, services = hub
    ticket = services.create_ticket({"machine_id": 1, "title": "Shared", "priority": "low"}, "ann")
    opened = {"id": ticket["id"], "version": 1}
    deps = deps_for(hub, "operator", "pat")
    line, hidden, _ = live_line(deps, opened)
    assert line.startswith("opened by ann") and hidden
    services.update_ticket(ticket["id"], {"assignee": "dora"}, "lee")
    line, hidden, why = live_line(deps, opened)
    assert line.startswith("changed by lee") and not hidden and "after you opened it" in why
    import callbacks.maintenance_drawer as drawer

    monkeypatch.setattr(drawer, "ctx", _Ctx({"type": "ticket-move", "to": "on_hold"}))
    message, *rest = act(deps, opened, None)
    assert message.startswith("Not saved: changed by lee") and rest == [no_update] * 3
    assert services.db and _status(db, ticket["id"]) == "open"
    message, state, _body, _title = act(deps, {"id": ticket["id"], "version": 2}, None)
    assert message == "Saved." and state["version"] == 3
    assert _status(db, ticket["id"]) == "on_hold"
    viewer = deps_for(hub, "viewer")
    assert act(viewer, {"id": ticket["id"], "version": 3}, None)[0].startswith("Sign in")


def _status(db: Database, ticket_id: int) -> str:
    from data.store.models import Ticket

    with db.read() as session:
        return session.get(Ticket, ticket_id).status


def test_ago_moves_with_the_clock():
    later = NOW + timedelta(minutes=5)
    assert last_change(TICKET, later) == "changed by dora 5 min ago"
