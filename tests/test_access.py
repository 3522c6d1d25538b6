"""Access control: every endpoint x every role (and anonymous, and a revoked token), the UI
sign-in, sessions, origin checks, headers and limits."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.config import Config
from app.factory import create_app
from data.accounts.tokens import create_token, revoke_token
from data.accounts.users import create_user
from data.roles import RANK
from data.store.models import ApiToken, EventLog, Ticket, User
from devtools.factories import add_machines

IDENTITIES = ("anonymous", "revoked", "display", "viewer", "operator", "admin", "metrics")

# (method, path, body, minimum role, display allowed)
ENDPOINTS: list[tuple[str, str, Any, str | None, bool]] = [
    ("GET", "/api/v1/health", None, None, True),
    ("GET", "/api/v1/openapi.json", None, None, True),
    ("GET", "/api/v1/machines", None, "viewer", True),
    ("POST", "/api/v1/machines/1/status", {"status": "down"}, "operator", False),
    ("POST", "/api/v1/production", {"machine_id": 1, "good": 1, "scrap": 0}, "operator", False),
    ("GET", "/api/v1/tickets", None, "viewer", False),
    (
        "POST",
        "/api/v1/tickets",
        {"machine_id": 1, "title": "Leak", "priority": "low"},
        "operator",
        False,
    ),
    ("GET", "/api/v1/tickets/1", None, "viewer", False),
    ("PATCH", "/api/v1/tickets/1", {"assignee": "kim"}, "operator", False),
    ("GET", "/api/v1/tickets/export.csv", None, "viewer", False),
    ("GET", "/api/v1/dashboard/overview", None, "viewer", True),
    ("GET", "/api/v1/events", None, "viewer", True),
    ("GET", "/api/v1/ws/stats", None, "admin", False),
    ("GET", "/api/v1/admin/tokens", None, "admin", False),
    ("POST", "/api/v1/admin/tokens", {"role": "viewer", "name": "new"}, "admin", False),
    ("GET", "/api/v1/admin/users", None, "admin", False),
    ("POST", "/api/v1/admin/users", {"role": "viewer", "name": "newbie"}, "admin", False),
    ("DELETE", "/api/v1/admin/tokens/99", None, "admin", False),
    ("GET", "/metrics", None, "metrics", False),
]


def expected(identity: str, minimum: str | None, display_ok: bool) -> int:
    if minimum is None:
        return 200
    if identity in ("anonymous", "revoked"):
        return 401
    if minimum == "metrics":  # GET /metrics: a metrics or an admin token
        return 200 if identity in ("metrics", "admin") else 403
    if identity == "metrics":  # reads /metrics and nothing else
        return 403
    if identity == "display":
        return 200 if display_ok else 403
    return 200 if RANK[identity] >= RANK[minimum] else 403


class Env:
    def __init__(self, db_url: str, **config: Any) -> None:
        self.app = create_app(Config(database_url=db_url, demo=False, secret_key="t", **config))
        self.db = self.app.server.extensions["milldash"].db
        self.client = self.app.server.test_client()

    def counts(self) -> tuple[int, ...]:
        with self.db.read() as session:
            return tuple(
                session.scalar(select(func.count()).select_from(m))
                for m in (EventLog, Ticket, ApiToken, User)
            )


@pytest.fixture
def env(tmp_path) -> Env:
    environment = Env(f"sqlite:///{tmp_path / 'a.db'}")
    add_machines(environment.db, 2)
    with environment.db.write() as session:
        session.add(Ticket(machine_id=1, title="Existing", priority="low", reported_by="x"))
    return environment


def headers_for(env: Env, identity: str) -> dict[str, str]:
    if identity == "anonymous":
        return {}
    role = "viewer" if identity == "revoked" else identity
    token = create_token(env.db, role, f"{identity}-bot")
    if identity == "revoked":
        with env.db.read() as session:
            token_id = session.scalar(select(func.max(ApiToken.id)))
        revoke_token(env.db, token_id)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize(
    ("method", "path", "body", "minimum", "display_ok"),
    ENDPOINTS,
    ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS],
)
def test_endpoint_role_matrix(env, identity, method, path, body, minimum, display_ok):
    headers = headers_for(env, identity)
    before = env.counts()
    response = env.client.open(path, method=method, json=body, headers=headers)
    want = expected(identity, minimum, display_ok)
    got = response.status_code
    if want == 200:
        assert got in (200, 201, 404), (got, response.get_data(as_text=True)[:300])
        if path.endswith("/99"):
            assert got == 404
    else:
        assert got == want, response.get_data(as_text=True)[:300]
        assert response.get_json()["error"]["code"] in ("unauthorized", "forbidden")
        assert env.counts() == before, "a refused call wrote something"


def test_writing_callbacks_check_the_role(env):
    from callbacks import Deps
    from callbacks.maintenance import create_ticket
    from data.accounts.tokens import Principal
    from data.write.services import Services

    services = Services(env.db)
    values = ("1", "Valid title", "", "high", None)
    for role in ("viewer", "display"):
        deps = Deps(env.db, services, lambda r=role: Principal(f"{r}-user", r))
        before = env.counts()
        result = create_ticket(deps, *values)
        assert "Only operators" in result[10]
        assert env.counts() == before
    deps = Deps(env.db, services, lambda: None)
    assert "Only operators" in create_ticket(deps, *values)[10]
    operator = Deps(env.db, services, lambda: Principal("op", "operator"))
    assert "opened" in create_ticket(operator, *values)[10]


def test_display_session_cannot_read_tickets_through_dash(env):
    token = create_token(env.db, "display", "tv")
    assert env.client.get(f"/wall?token={token}").status_code == 303
    body = {
        "output": "tickets-grid.getRowsResponse",
        "outputs": [{"id": "tickets-grid", "property": "getRowsResponse"}],
        "inputs": [
            {
                "id": "tickets-grid",
                "property": "getRowsRequest",
                "value": {"startRow": 0, "endRow": 100},
            }
        ],
        "changedPropIds": ["tickets-grid.getRowsRequest"],
        "state": [],
    }
    response = env.client.post("/_dash-update-component", json=body)
    assert response.status_code == 403


def test_ui_needs_sign_in_when_anonymous_is_off(env):
    response = env.client.get("/maintenance")
    assert response.status_code == 303 and "/login?next=" in response.headers["Location"]
    assert env.client.post("/_dash-update-component", json={}).status_code == 401
    assert env.client.get("/login").status_code == 200


def test_login_logout_and_session_cookie_flags(env):
    password = create_user(env.db, "kim", "operator")
    bad = env.client.post("/login", data={"name": "kim", "password": "wrong-password"})
    assert bad.status_code == 401 and b"Wrong name or password" in bad.data
    ok = env.client.post("/login", data={"name": "kim", "password": password, "next": "/machines"})
    assert ok.status_code == 303 and ok.headers["Location"] == "/machines"
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert env.client.get("/machines").status_code == 200
    created = env.client.post(
        "/api/v1/tickets", json={"machine_id": 1, "title": "From a session", "priority": "low"}
    )
    assert created.status_code == 201 and created.get_json()["reported_by"] == "kim"
    env.client.post("/logout")
    assert env.client.get("/machines").status_code == 303


def test_login_refuses_open_redirects(env):
    password = create_user(env.db, "lee", "viewer")
    response = env.client.post(
        "/login", data={"name": "lee", "password": password, "next": "//evil.example/"}
    )
    assert response.headers["Location"] == "/"


def test_disabled_user_session_ends(env):
    password = create_user(env.db, "max", "viewer")
    env.client.post("/login", data={"name": "max", "password": password})
    assert env.client.get("/api/v1/machines").status_code == 200
    admin = create_token(env.db, "admin", "root")
    with env.db.read() as session:
        user_id = session.scalar(select(User.id).where(User.name == "max"))
    other = env.app.server.test_client()
    gone = other.delete(
        f"/api/v1/admin/users/{user_id}", headers={"Authorization": f"Bearer {admin}"}
    )
    assert gone.status_code == 200
    assert env.client.get("/api/v1/machines").status_code == 401


def test_foreign_origin_cannot_write(env):
    token = create_token(env.db, "operator", "op")
    before = env.counts()
    response = env.client.post(
        "/api/v1/tickets",
        json={"machine_id": 1, "title": "Cross-site", "priority": "low"},
        headers={"Authorization": f"Bearer {token}", "Origin": "http://evil.example"},
    )
    assert response.status_code == 403
    assert env.counts() == before
    assert (
        env.client.post(
            "/_dash-update-component", json={}, headers={"Origin": "http://evil.example"}
        ).status_code
        == 403
    )
    same = env.client.post(
        "/api/v1/tickets",
        json={"machine_id": 1, "title": "Same site", "priority": "low"},
        headers={"Authorization": f"Bearer {token}", "Origin": "http://localhost"},
    )
    assert same.status_code == 201


def test_security_headers(env):
    response = env.client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_request_body_limit(env):
    token = create_token(env.db, "operator", "op")
    huge = {"machine_id": 1, "title": "Big", "priority": "low", "description": "x" * 2_000_000}
    response = env.client.post(
        "/api/v1/tickets", json=huge, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"]


def test_admin_manages_tokens_and_users(env):
    admin = {"Authorization": f"Bearer {create_token(env.db, 'admin', 'root')}"}
    made = env.client.post(
        "/api/v1/admin/tokens", json={"role": "viewer", "name": "kiosk"}, headers=admin
    ).get_json()
    assert made["token"].startswith("mdt_")
    listed = env.client.get("/api/v1/admin/tokens", headers=admin).get_json()
    assert all("token" not in t and "token_hash" not in t for t in listed)
    viewer = {"Authorization": f"Bearer {made['token']}"}
    assert env.client.get("/api/v1/machines", headers=viewer).status_code == 200
    env.client.delete(f"/api/v1/admin/tokens/{made['id']}", headers=admin)
    assert env.client.get("/api/v1/machines", headers=viewer).status_code == 401
    user = env.client.post(
        "/api/v1/admin/users", json={"role": "operator", "name": "ann"}, headers=admin
    )
    assert user.status_code == 201 and len(user.get_json()["password"]) >= 10
    again = env.client.post(
        "/api/v1/admin/users", json={"role": "operator", "name": "ann"}, headers=admin
    )
    assert again.status_code == 409
    bad = env.client.post("/api/v1/admin/users", json={"role": "boss", "name": "x"}, headers=admin)
    assert bad.status_code == 400
