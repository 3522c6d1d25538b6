"""Signing in: one password limit, no echoed passwords, throttling, Argon2 off the event loop,
session lifetimes, wall links that never replace a person's session, sign-out by POST only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from argon2 import PasswordHasher
from sqlalchemy import select

from app.config import Config
from app.cpu_pool import Busy, CpuPool, _niced, pool_cpus
from app.factory import create_app
from app.login_throttle import ACCOUNT_RULE, FailureTable, LoginThrottle, Rule
from data.accounts.tokens import create_token, still_valid
from data.accounts.users import MAX_PASSWORD, authenticate, create_user, verify_password
from data.errors import ValidationFailed
from data.store.models import UiSession
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
SAME_SITE = {"Origin": "http://localhost"}


class Clock:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Env:
    """The app on a real database, Flask's test client per address, a hand-moved clock."""

    def __init__(self, db_url: str, **config: Any) -> None:
        self.app = create_app(Config(database_url=db_url, demo=False, secret_key="t", **config))
        self.server = self.app.server
        self.extras = self.server.extensions["milldash"].extras
        self.db = self.server.extensions["milldash"].db
        self.clock = Clock()
        enabled = config.get("login_throttle", True)
        self.extras["login_throttle"] = LoginThrottle(enabled=enabled, clock=self.clock)

    def client(self, address: str = "127.0.0.1") -> Any:
        client = self.server.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        return client


@pytest.fixture
def env(db_url: str) -> Env:
    return Env(db_url)


# Real Argon2, cheap parameters: verify reads them from the stored hash, so throttling tests
# that check dozens of passwords stay quick. Item 4's tests use the real cost.
_CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def make_user(env: Env, name: str, role: str = "operator") -> str:
    """A user whose hash is cheap to check; returns the password."""
    return create_user(env.db, name, role, hasher=_CHEAP.hash)


def login(client: Any, name: str, password: str, next_url: str = "/") -> Any:
    return client.post(
        "/login", data={"name": name, "password": password, "next": next_url}, headers=SAME_SITE
    )


def signed_in(client: Any) -> bool:
    return client.get("/api/v1/machines").status_code == 200


# -- item 12: one password limit, never echoed ------------------------------------------------


def test_one_password_limit_for_creating_and_signing_in(env):
    with pytest.raises(ValidationFailed):
        create_user(env.db, "long", "viewer", "p" * 250)
    longest = "p" * MAX_PASSWORD
    create_user(env.db, "kim", "viewer", longest)
    assert login(env.client(), "kim", longest).status_code == 303
    # Longer is refused as too long, never cut to something that might match.
    refused = login(env.client(), "kim", longest + "x")
    assert refused.status_code == 400
    assert f"at most {MAX_PASSWORD} characters" in refused.get_data(as_text=True)


def test_admin_api_returns_only_a_generated_password(env):
    admin = {"Authorization": f"Bearer {create_token(env.db, 'admin', 'root')}"}
    given = env.client().post(
        "/api/v1/admin/users",
        json={"name": "ana", "role": "viewer", "password": "chosen-secret-1"},
        headers=admin,
    )
    assert given.status_code == 201
    assert "password" not in given.get_json()
    assert "chosen-secret-1" not in given.get_data(as_text=True)
    generated = env.client().post(
        "/api/v1/admin/users", json={"name": "bo", "role": "viewer"}, headers=admin
    )
    assert generated.status_code == 201
    assert login(env.client(), "bo", generated.get_json()["password"]).status_code == 303
    too_long = env.client().post(
        "/api/v1/admin/users",
        json={"name": "cy", "role": "viewer", "password": "p" * (MAX_PASSWORD + 1)},
        headers=admin,
    )
    assert too_long.status_code == 400


# -- item 5: throttling -----------------------------------------------------------------------


def test_failures_get_429_with_retry_after_and_a_message(env):
    password = make_user(env, "kim")
    client = env.client("10.0.0.5")
    for _ in range(5):
        assert login(client, "kim", "wrong-password").status_code == 401
    throttled = login(client, "kim", password)  # even the right one waits
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "1"
    assert "Too many attempts; try again in 1 s" in throttled.get_data(as_text=True)
    env.clock.now += 1
    assert login(client, "kim", "wrong-password").status_code == 401
    assert login(client, "kim", password).headers["Retry-After"] == "2"  # it doubles
    env.clock.now += 2
    assert login(client, "kim", password).status_code == 303


def test_sixty_guesses_then_the_right_password_is_refused(env):
    """The reported attack: 60 wrong passwords ~190 ms apart, then the right one."""
    password = make_user(env, "kim")
    client = env.client("10.0.0.6")
    codes = []
    for _ in range(60):
        codes.append(login(client, "kim", "wrong-password").status_code)
        env.clock.now += 0.19
    assert codes.count(401) < 10 and codes.count(429) > 50
    assert login(client, "kim", password).status_code == 429


def test_success_resets_the_account_counter(env):
    password = make_user(env, "kim")
    client = env.client("10.0.0.7")
    for _ in range(4):
        login(client, "kim", "wrong-password")
    assert login(client, "kim", password).status_code == 303
    for _ in range(4):
        assert login(client, "kim", "wrong-password").status_code == 401


def test_one_address_spraying_many_names_is_throttled(env):
    client = env.client("10.0.0.8")
    for name in ("someone-else", *(f"user{i}" for i in range(20))):
        make_user(env, name)
    for i in range(20):
        assert login(client, f"user{i}", "wrong-password").status_code == 401
    assert login(client, "someone-else", "wrong-password").status_code == 429
    assert login(env.client("10.0.0.9"), "someone-else", "wrong-password").status_code == 401


def test_a_guesser_cannot_lock_the_owner_out(env):
    """Guesses from other addresses delay the owner by at most the account cap, and not at
    all in a browser that signed in to the account before."""
    password = make_user(env, "kim")
    own_browser = env.client("10.1.0.1")
    assert login(own_browser, "kim", password).status_code == 303
    for i in range(60):  # spread over many addresses: each stays under the per-address rules
        login(env.client(f"10.9.{i}.1"), "kim", "wrong-password")
        env.clock.now += 0.19
    new_browser = env.client("10.1.0.2")
    waiting = login(new_browser, "kim", password)
    assert waiting.status_code == 429
    assert int(waiting.headers["Retry-After"]) <= ACCOUNT_RULE.cap_s
    assert login(own_browser, "kim", password).status_code == 303  # known browser: no wait
    for i in range(60):
        login(env.client(f"10.8.{i}.1"), "kim", "wrong-password")
        env.clock.now += 0.19
    assert login(new_browser, "kim", password).status_code == 429
    env.clock.now += ACCOUNT_RULE.cap_s
    assert login(new_browser, "kim", password).status_code == 303


def test_throttle_memory_is_bounded_and_expires():
    clock = Clock()
    table = FailureTable(Rule(threshold=1, first_delay_s=1, cap_s=4, forget_after_s=60), clock, 100)
    for i in range(1000):
        table.fail(f"name{i}")
    assert len(table) == 100
    for _ in range(10):
        table.fail("kim")
    assert table.retry_after("kim") == 4  # capped
    clock.now += 61
    assert table.retry_after("kim") == 0 and "kim" not in table._entries


def test_throttle_can_be_switched_off_for_benchmarks(db_url):
    env = Env(db_url, login_throttle=False)
    client = env.client()
    assert all(login(client, "kim", "wrong-password").status_code == 401 for _ in range(8))


# -- item 4: Argon2 off the event loop, a bounded number at once -------------------------------


def test_pool_bounds_running_and_waiting_callers():
    pool = CpuPool(limit=1, max_waiting=1)
    release = threading.Event()
    started = threading.Event()

    def hold() -> str:
        started.set()
        release.wait(10)
        return "done"

    first = threading.Thread(target=pool.run, args=(hold,))
    first.start()
    assert started.wait(5)
    second_result: list[str] = []
    second = threading.Thread(target=lambda: second_result.append(pool.run(lambda: "ok")))
    second.start()
    wait_until(lambda: pool.waiting == 1)
    with pytest.raises(Busy):
        pool.run(lambda: "too many")
    release.set()
    first.join(5)
    second.join(5)
    assert second_result == ["ok"] and pool.running == 0


def test_password_work_leaves_at_least_one_core_to_the_event_loop():
    assert pool_cpus({0}) == {0}
    assert pool_cpus({0, 1}) == {1}
    assert pool_cpus({0, 1, 2}) == {1, 2}
    assert pool_cpus({0, 1, 2, 3, 4, 5, 6, 7}) == {4, 5, 6, 7}
    assert pool_cpus({3, 5}) == {5}


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux CPU affinity")
def test_pool_threads_and_the_threads_they_start_keep_to_the_pool_cpus():
    process = os.sched_getaffinity(0)
    seen: list[tuple[set[int], set[int]]] = []

    def work() -> None:
        child_cpus: list[set[int]] = []
        child = threading.Thread(target=lambda: child_cpus.append(os.sched_getaffinity(0)))
        child.start()
        child.join(5)
        seen.append((os.sched_getaffinity(0), child_cpus[0]))

    def pool_thread() -> None:  # two tasks on one thread: the same set, not half of it again
        _niced(work, ())
        _niced(work, ())

    thread = threading.Thread(target=pool_thread)
    thread.start()
    thread.join(10)
    assert seen == [(pool_cpus(process), pool_cpus(process))] * 2
    assert os.sched_getaffinity(0) == process  # the caller's own thread keeps every core


def test_sign_in_answers_503_when_the_password_pool_is_full(env):
    create_user(env.db, "kim", "operator")
    pool = CpuPool(limit=1, max_waiting=0)
    env.extras["password_pool"] = pool
    release = threading.Event()
    holder = threading.Thread(target=pool.run, args=(lambda: release.wait(10),))
    holder.start()
    try:
        wait_until(lambda: pool.running == 1)
        busy = login(env.client(), "kim", "wrong-password")
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    finally:
        release.set()
        holder.join(5)
    assert login(env.client(), "kim", "wrong-password").status_code == 401


GEVENT_SCRIPT = textwrap.dedent(
    """
    from gevent import monkey
    monkey.patch_all()

    import json, sys, threading
    import gevent
    from argon2 import PasswordHasher

    original_sleep = monkey.get_original("time", "sleep")
    native_id = monkey.get_original("threading", "get_native_id")
    real_verify = PasswordHasher.verify
    seen = {"threads": set(), "running": 0, "most": 0}
    lock = monkey.get_original("threading", "Lock")()

    def recording_verify(self, stored, password):
        with lock:
            seen["running"] += 1
            seen["most"] = max(seen["most"], seen["running"])
        seen["threads"].add(native_id())
        try:
            original_sleep(0.3)  # stands for Argon2's CPU time: holds this OS thread
            return real_verify(self, stored, password)
        finally:
            with lock:
                seen["running"] -= 1

    PasswordHasher.verify = recording_verify

    from app.config import Config
    from app.factory import create_app
    from data.accounts.users import create_user

    config = Config(database_url=sys.argv[1], demo=False, secret_key="t")
    config.password_checks, config.login_throttle = 2, False
    app = create_app(config)
    create_user(app.server.extensions["milldash"].db, "kim", "viewer", "right-password-1")
    ticks = [0]

    def ticker():
        while True:
            gevent.sleep(0.01)
            ticks[0] += 1

    def attempt(i):
        client = app.server.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{i}"
        return client.post("/login", data={"name": "kim", "password": "wrong-password"}).status_code

    clock = gevent.spawn(ticker)
    gevent.sleep(0.05)
    before = ticks[0]
    codes = [g.value for g in gevent.joinall([gevent.spawn(attempt, i) for i in range(4)])]
    during = ticks[0] - before
    clock.kill()
    print(json.dumps({
        "codes": codes, "ticks": during, "most": seen["most"],
        "hub_thread": native_id() in seen["threads"], "threads": len(seen["threads"]),
    }))
    """
)


def test_password_checks_leave_the_event_loop_free(tmp_path):
    """Under gevent, Argon2 runs on pool threads (never the hub's), at most the limit at once,
    and other greenlets keep running meanwhile."""
    script = tmp_path / "check.py"
    script.write_text(GEVENT_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script), f"sqlite:///{tmp_path / 'g.db'}"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["codes"] == [401] * 4
    assert result["hub_thread"] is False
    assert result["most"] <= 2
    # Four 0.3 s checks, two at a time: ~0.6 s in which the ticker ran, not 0 ticks.
    assert result["ticks"] >= 10, result


def test_live_server_answers_health_between_password_checks(tmp_path):
    """`python -m app` (gevent): while 4 clients keep a wrong password in flight each, health
    answers keep coming; with Argon2 on the event loop ~1 came per few checks."""
    from devtools.live_server import LiveServer

    live = LiveServer(tmp_path, MILLDASH_LOGIN_THROTTLE="0").start()
    stop = threading.Event()
    checked = [0]

    def flood(index: int) -> None:
        with requests.Session() as http:
            for attempt in range(500):
                if stop.is_set():
                    return
                data = {"name": f"nobody-{index}-{attempt}", "password": "wrong-password"}
                http.post(f"{live.url}/login", data=data, timeout=30)
                checked[0] += 1

    threads = [threading.Thread(target=flood, args=(i,)) for i in range(4)]
    try:
        for thread in threads:
            thread.start()
        wait_until(lambda: checked[0] >= 2, timeout=30)
        first, answers = checked[0], 0
        with requests.Session() as http:
            while checked[0] - first < 8 and answers < 100_000:
                assert http.get(f"{live.url}/api/v1/health", timeout=30).status_code == 200
                answers += 1
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        live.stop()
    assert answers >= 40, f"{answers} health answers during 8 password checks"


# -- item 7: session lifetimes ------------------------------------------------------------------


def session_row(env: Env, user_name: str | None = None) -> UiSession:
    with env.db.read() as session:
        query = select(UiSession).order_by(UiSession.created_at.desc())
        if user_name is not None:
            query = query.where(UiSession.name == user_name)
        return session.scalars(query).first()


def session_cookie(response: Any) -> str:
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))


def test_a_person_gets_a_working_day_a_wall_a_year(env):
    password = create_user(env.db, "kim", "operator")
    person = env.client()
    cookie = session_cookie(login(person, "kim", password))
    assert "Expires" not in cookie  # ends with the browser
    wall = env.client()
    token = create_token(env.db, "display", "tv")
    wall_cookie = session_cookie(wall.get(f"/wall?token={token}"))
    assert "Expires" in wall_cookie
    # Server side: a person's session ends 12 h after sign-in, whatever the browser keeps.
    with env.db.write() as session:
        for row in session.scalars(select(UiSession)):
            row.created_at = row.created_at - timedelta(hours=12, minutes=1)
    assert not signed_in(person)
    assert wall.get("/api/v1/machines").status_code == 200


def test_still_valid_expires_person_sessions_only(env):
    password = create_user(env.db, "kim", "operator")
    login(env.client(), "kim", password)
    row = session_row(env, "kim")
    principal = authenticate(env.db, "kim", password, verify_password)
    assert principal is not None
    from data.accounts.tokens import Principal

    mine = Principal("kim", "operator", None, principal.user_id, row.id)
    assert still_valid(env.db, mine, now=row.created_at + timedelta(hours=11))
    assert not still_valid(env.db, mine, now=row.created_at + timedelta(hours=12))


# -- item 8: wall links and sign-out ---------------------------------------------------------------


def test_a_wall_link_never_replaces_a_persons_session(env):
    password = create_user(env.db, "kim", "operator")
    token = create_token(env.db, "display", "tv")
    client = env.client()
    login(client, "kim", password)
    page = client.get(f"/maintenance?token={token}")
    assert page.status_code == 303 and page.headers["Location"] == "/maintenance"
    asked = client.get(f"/wall?token={token}")
    assert asked.status_code == 200 and "You are signed in as" in asked.get_data(as_text=True)
    assert client.get("/api/v1/tickets").status_code == 200  # still kim, not a display
    switched = client.post("/login/wall", data={"token": token, "next": "/wall"}, headers=SAME_SITE)
    assert switched.status_code == 303 and switched.headers["Location"] == "/wall"
    assert client.get("/api/v1/tickets").status_code == 403  # now the wall


def test_a_wall_link_from_another_site_cannot_switch(env):
    password = create_user(env.db, "kim", "operator")
    token = create_token(env.db, "display", "tv")
    client = env.client()
    login(client, "kim", password)
    forged = client.post(
        "/login/wall", data={"token": token}, headers={"Origin": "http://evil.example"}
    )
    assert forged.status_code == 403
    assert client.get("/api/v1/tickets").status_code == 200


def test_only_wall_links_with_display_tokens_start_sessions(env):
    operator = create_token(env.db, "operator", "op")
    display = create_token(env.db, "display", "tv")
    client = env.client()
    ignored = client.get(f"/maintenance?token={display}&q=1")
    assert ignored.headers["Location"] == "/maintenance?q=1"
    assert not signed_in(client)
    refused = client.get(f"/wall?token={operator}")
    assert refused.status_code == 303 and "error=token" in refused.headers["Location"]
    assert not signed_in(client)
    assert client.get(f"/wall?token={display}").status_code == 303
    assert client.get("/api/v1/machines").status_code == 200


def test_sign_out_is_a_same_site_post(env):
    password = create_user(env.db, "kim", "operator")
    client = env.client()
    login(client, "kim", password)
    form = client.get("/logout")
    assert form.status_code == 405 and form.headers["Allow"] == "POST"
    assert 'method="post" action="/logout"' in form.get_data(as_text=True)
    assert signed_in(client)
    foreign = client.post("/logout", headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403 and signed_in(client)
    done = client.post("/logout", headers=SAME_SITE)
    assert done.status_code == 303 and done.headers["Location"] == "/login"
    assert not signed_in(client)
    assert session_row(env, "kim").revoked_at is not None


def test_signing_in_again_ends_the_previous_session(env):
    password = create_user(env.db, "kim", "operator")
    client = env.client()
    login(client, "kim", password)
    first = session_row(env, "kim").id
    login(client, "kim", password)
    with env.db.read() as session:
        assert session.get(UiSession, first).revoked_at is not None
    assert signed_in(client)
