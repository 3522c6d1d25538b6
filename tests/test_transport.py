"""HTTPS behind trusted proxies: `Secure` cookies, HSTS, the client's real address."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher

from app.config import Config
from app.factory import create_app
from data.accounts.users import create_user

HTTPS_PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
_CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class Env:
    def __init__(self, db_url: str, **config: Any) -> None:
        self.app = create_app(Config(database_url=db_url, demo=False, secret_key="t", **config))
        self.db = self.app.server.extensions["milldash"].db
        self.client = self.app.server.test_client()
        self.password = create_user(self.db, "kim", "operator", hasher=_CHEAP.hash)

    def login(self, headers: dict[str, str], password: str | None = None) -> Any:
        data = {"name": "kim", "password": password or self.password}
        return self.client.post("/login", data=data, headers=headers)


def session_cookie(response: Any) -> str:
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))


@pytest.fixture
def tmp_db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 't.db'}"


def test_plain_http_gets_no_secure_cookie_and_no_hsts(tmp_db):
    env = Env(tmp_db)
    response = env.login({})
    assert response.status_code == 303
    assert "Secure" not in session_cookie(response)
    assert "Strict-Transport-Security" not in response.headers


def test_forwarded_https_is_ignored_without_trusted_proxies(tmp_db):
    env = Env(tmp_db)
    response = env.login(HTTPS_PROXY)
    assert "Secure" not in session_cookie(response)
    assert "Strict-Transport-Security" not in response.headers


def test_https_through_a_trusted_proxy_gets_secure_cookies_and_hsts(tmp_db):
    env = Env(tmp_db, trusted_proxies=1)
    response = env.login({**HTTPS_PROXY, "Origin": "https://localhost"})
    assert response.status_code == 303  # the https Origin is this site's own now
    cookie = session_cookie(response)
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    known = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("milldash_known")]
    assert known and "Secure" in known[0]
    assert "Strict-Transport-Security" in env.client.get("/login", headers=HTTPS_PROXY).headers


def test_secure_cookies_setting_forces_secure(tmp_db):
    env = Env(tmp_db, secure_cookies=True)
    response = env.login({})
    assert "Secure" in session_cookie(response)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_throttling_sees_the_forwarded_client_address(tmp_db):
    """With a trusted proxy every client arrives from the proxy's address: the throttle must
    count the forwarded one, or one client's failures would block everybody."""
    env = Env(tmp_db, trusted_proxies=1)
    for _ in range(5):
        assert env.login({"X-Forwarded-For": "198.51.100.1"}, "wrong-password").status_code == 401
    assert env.login({"X-Forwarded-For": "198.51.100.1"}).status_code == 429
    assert env.login({"X-Forwarded-For": "198.51.100.2"}).status_code == 303


def test_an_untrusted_forwarded_for_does_not_dodge_the_throttle(tmp_db):
    env = Env(tmp_db)
    for i in range(5):
        forged = {"X-Forwarded-For": f"198.51.100.{i}"}
        assert env.login(forged, "wrong-password").status_code == 401
    assert env.login({"X-Forwarded-For": "198.51.100.99"}).status_code == 429
