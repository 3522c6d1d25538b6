"""A status move tapped on a phone's ticket card applies to the ticket as the card showed it
(the version the list gave it), as the drawer's moves do; the grid rows carry that version."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from callbacks.deps import Deps
from callbacks.maintenance_grid import FILTER_IDS, card_move, rows_response
from data.accounts.tokens import Principal
from data.store.db import Database
from data.store.models import Ticket
from data.write.services import Services
from devtools.factories import add_machines


@pytest.fixture
def hub(tmp_path: Any) -> Iterator[tuple[Database, Services]]:
    db = Database(f"sqlite:///{tmp_path / 'cards.db'}")
    db.migrate()
    add_machines(db, 1)
    yield db, Services(db)
    db.dispose()


def status(db: Database, ticket_id: int) -> str:
    with db.read() as session:
        return session.get(Ticket, ticket_id).status


def tap(deps: Deps, ticket_id: int, to: str, version: Any) -> Any:
    return card_move(deps, {"value": {"ticket_id": ticket_id, "to": to, "version": version}})


def test_a_card_moves_only_the_version_it_shows(hub: tuple[Database, Services]) -> None:
    db, services = hub
    ticket = services.create_ticket({"machine_id": 1, "title": "Pump", "priority": "low"}, "ann")
    deps = Deps(db, services, lambda: Principal("pat", "operator"))
    request = {"startRow": 0, "endRow": 50}
    rows = rows_response(deps, request, *[None] * len(FILTER_IDS))[0]["rowData"]
    assert [r["version"] for r in rows] == [1]
    services.update_ticket(ticket["id"], {"assignee": "dora"}, "lee")  # now version 2
    message = tap(deps, ticket["id"], "in_progress", rows[0]["version"])
    assert message.startswith("Not moved") and status(db, ticket["id"]) == "open"
    assert tap(deps, ticket["id"], "in_progress", 2).endswith("moved to in progress.")
    assert status(db, ticket["id"]) == "in_progress"
    viewer = Deps(db, services, lambda: Principal("vic", "viewer"))
    assert tap(viewer, ticket["id"], "on_hold", 3).startswith("Sign in")
