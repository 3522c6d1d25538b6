"""Adding a page is one registry entry and one module: nav, routing, access and topics follow."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.config import Config
from app.factory import create_app
from components.registry import PAGES, Page, find
from data.accounts.tokens import create_token
from data.accounts.users import create_user
from data.events import RecordingPublisher

SCRATCH = Page(
    path="/scratch",
    title="Scratch",
    module="tests.scratch_page",
    topics=("production",),
    nav_label="Scratch pad",
)


def _app(tmp_path, page: Page) -> Any:
    config = Config(database_url=f"sqlite:///{tmp_path / 'r.db'}", demo=False, secret_key="t")
    return create_app(config, RecordingPublisher(), pages=(*PAGES, page))


def _walk(component: Any) -> list[Any]:
    found = [component]
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found.extend(_walk(child))
    return found


def _route(client: Any, path: str) -> dict[str, Any]:
    body = {
        "output": "page.children",
        "outputs": {"id": "page", "property": "children"},
        "inputs": [{"id": "url", "property": "pathname", "value": path}],
        "changedPropIds": ["url.pathname"],
        "state": [],
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()["response"]["page"]["children"]


def _click(client: Any) -> Any:
    body = {
        "output": "scratch-out.children",
        "outputs": {"id": "scratch-out", "property": "children"},
        "inputs": [{"id": "scratch-in", "property": "n_clicks", "value": 2}],
        "changedPropIds": ["scratch-in.n_clicks"],
        "state": [],
    }
    return client.post("/_dash-update-component", json=body)


def _sign_in(app: Any, role: str) -> Any:
    db = app.server.extensions["milldash"].db
    client = app.server.test_client()
    if role == "display":
        assert client.get(f"/wall?token={create_token(db, role, 'tv')}").status_code == 303
    else:
        password = create_user(db, f"{role}-person", role)
        form = {"name": f"{role}-person", "password": password}
        assert client.post("/login", data=form).status_code == 303
    return client


def test_a_registered_page_gets_nav_route_topics_and_callbacks(tmp_path):
    app = _app(tmp_path, SCRATCH)
    layout = app.layout()
    links = {c.href: c.children for c in _walk(layout) if type(c).__name__ == "NavLink"}
    assert links["/scratch"] == "Scratch pad"
    topics = json.loads(getattr(layout, "data-page-topics"))
    assert topics["/scratch"] == ["production"]
    assert topics["/wall"] == list(find(PAGES, "/wall").topics)

    viewer = _sign_in(app, "viewer")
    page = json.dumps(_route(viewer, "/scratch"))
    assert "scratch-in" in page and "scratch-out" in page
    assert _click(viewer).get_json()["response"]["scratch-out"]["children"] == "clicked 2 times"


def test_the_display_role_follows_the_registry_not_the_ids(tmp_path):
    hidden = _app(tmp_path / "a", SCRATCH)
    wall = _sign_in(hidden, "display")
    assert "scratch-in" not in json.dumps(_route(wall, "/scratch"))
    refused = _click(wall)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"

    shown = _app(tmp_path / "b", Page(**{**SCRATCH.__dict__, "roles": ("viewer", "display")}))
    wall = _sign_in(shown, "display")
    assert "scratch-in" in json.dumps(_route(wall, "/scratch"))
    assert _click(wall).status_code == 200


def test_a_page_the_role_may_not_open_is_refused_by_the_router(tmp_path):
    admin_only = Page(**{**SCRATCH.__dict__, "roles": ("admin",)})
    app = _app(tmp_path, admin_only)
    viewer = _sign_in(app, "viewer")
    assert "not open to your role" in json.dumps(_route(viewer, "/scratch"))
    assert "scratch-in" in json.dumps(_route(_sign_in(app, "admin"), "/scratch"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"topics": ("nonsense",)}, "topics"),
        ({"topics": ()}, "topics"),
        ({"roles": ("root",)}, "role"),
        ({"path": "scratch"}, "path"),
    ],
)
def test_a_bad_registry_entry_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Page(**{**SCRATCH.__dict__, **kwargs})
