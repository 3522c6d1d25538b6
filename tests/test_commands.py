"""Every `python -m app ...` command that README.md and docs/ name, run for real.

Each documented command must match a case below (same subcommand, its flags among the case's),
and each case runs `python -m app` as a subprocess on a temp SQLite file: a command the docs
promise can no longer silently vanish from the parser. Also here: the error paths of those
commands (one clear line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from app.cli import build_parser
from app.config import Config
from app.factory import make_backend
from data.accounts.tokens import verify_token
from data.accounts.users import authenticate
from data.store.db import Database
from data.store.models import ApiToken, Machine, User
from devtools.cluster import REDIS_SERVER, RedisServer
from devtools.live_server import free_port
from devtools.processes import stop_process, wait_until_healthy
from tests.conftest import IN_CI
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SECRET = "test-commands-secret"

# -- running the app -----------------------------------------------------------------------


def app_env(db_url: str, **extra: str) -> dict[str, str]:
    """The caller's environment without any MILLDASH_* setting, plus the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MILLDASH_")}
    env.update(
        MILLDASH_DATABASE_URL=db_url,
        MILLDASH_SECRET_KEY=SECRET,  # else serving writes instance/secret_key in the repo
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def run_app(
    db_url: str, *argv: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`python -m app *argv` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "app", *argv],
        cwd=ROOT,
        env=app_env(db_url, **env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
    )


@contextmanager
def serving(db_url: str, argv: list[str], log: Path, timeout: float = 90.0) -> Iterator[str]:
    """`python -m app *argv --port P` until GET /api/v1/health answers 200; yields its URL."""
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", *argv, "--port", str(port)],
            cwd=ROOT,
            env=app_env(db_url),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(f"{url}/api/v1/health", proc, timeout, log, poll=0.2)
        yield url
    finally:
        stop_process(proc, grace=15)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def seed_small(path: Path) -> None:
    done = run_app(sqlite_url(path), "seed", "--machines", "2", "--days", "1")
    assert done.returncode == 0, done.stderr


# -- the documented commands, one case each ------------------------------------------------

Check = Callable[[list[str], Path], None]
CASES: dict[str, tuple[list[str], Check]] = {}


def case(name: str, *argv: str) -> Callable[[Check], Check]:
    """Register `argv` (what runs) and the function that runs and checks it."""

    def register(check: Check) -> Check:
        CASES[name] = (list(argv), check)
        return check

    return register


@case("serve-demo")
def _serve_demo(argv: list[str], tmp_path: Path) -> None:
    # The full demo plant (24 machines x 30 days) seeds in about two seconds.
    db_url = sqlite_url(tmp_path / "demo.db")
    with serving(db_url, argv, tmp_path / "serve.log") as url:
        machines = requests.get(f"{url}/api/v1/machines", timeout=10)
        assert machines.status_code == 200  # anonymous reads are on for the demo
        assert len(machines.json()) == 24
    assert "created user 'admin'" in (tmp_path / "serve.log").read_text()


@case("serve-no-demo", "--no-demo")
def _serve_no_demo(argv: list[str], tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    with serving(sqlite_url(path), argv, tmp_path / "serve.log") as url:
        # No demo: anonymous reads are off, and the plant stays empty.
        assert requests.get(f"{url}/api/v1/machines", timeout=10).status_code == 401
        # The server logs a request after answering it: wait for the line before stopping.
        line = '"GET /api/v1/machines HTTP/1.1" 401'
        deadline = time.monotonic() + 10
        while line not in (tmp_path / "serve.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    # Without --access-log: errors are logged, plain successes are not.
    log = (tmp_path / "serve.log").read_text()
    assert line in log
    assert '"GET /api/v1/health HTTP/1.1" 200' not in log
    db = Database(sqlite_url(path))
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Machine)) == 0
    db.dispose()


@case("serve-every-address", "--no-demo", "--host", "0.0.0.0")
def _serve_every_address(argv: list[str], tmp_path: Path) -> None:
    # Bound to every address (behind a proxy on another host): loopback still answers, and
    # the address is not taken as a host name a browser may use.
    with serving(sqlite_url(tmp_path / "any.db"), argv, tmp_path / "serve.log") as url:
        assert requests.get(f"{url}/api/v1/health", timeout=10).json()["status"] == "ok"
        foreign = requests.get(f"{url}/api/v1/health", headers={"Host": "evil.example"}, timeout=10)
        assert foreign.status_code == 400


@case("serve-access-log", "--no-demo", "--access-log")
def _serve_access_log(argv: list[str], tmp_path: Path) -> None:
    with serving(sqlite_url(tmp_path / "log.db"), argv, tmp_path / "serve.log"):
        pass
    assert '"GET /api/v1/health HTTP/1.1" 200' in (tmp_path / "serve.log").read_text()


@case("seed", "seed", "--machines", "2", "--days", "1")
def _seed(argv: list[str], tmp_path: Path) -> None:
    db_url = sqlite_url(tmp_path / "seeded.db")
    done = run_app(db_url, *argv)
    assert done.returncode == 0, done.stderr
    assert "Seeding" in done.stderr  # the progress bar
    db = Database(db_url)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Machine)) == 2
    db.dispose()


@case("create-token", "create-token", "--role", "viewer", "--name", "x")
def _create_token(argv: list[str], tmp_path: Path) -> None:
    db_url = sqlite_url(tmp_path / "tokens.db")
    done = run_app(db_url, *argv)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("\n") and len(done.stdout.splitlines()) == 1
    db = Database(db_url)
    principal = verify_token(db, done.stdout.strip())
    db.dispose()
    assert principal is not None and (principal.role, principal.name) == ("viewer", "x")
    assert f"token {principal.token_id} " in done.stderr  # the id revoke-token takes


@case("create-token-metrics", "create-token", "--role", "metrics", "--name", "prometheus")
def _create_token_metrics(argv: list[str], tmp_path: Path) -> None:
    # A token for a Prometheus scraper (docs/metrics.md): it reads GET /metrics, nothing else.
    db_url = sqlite_url(tmp_path / "tokens.db")
    done = run_app(db_url, *argv)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1
    db = Database(db_url)
    principal = verify_token(db, done.stdout.strip())
    db.dispose()
    assert principal is not None and (principal.role, principal.name) == ("metrics", "prometheus")


@case("create-user", "create-user", "--role", "operator", "--name", "kim")
def _create_user(argv: list[str], tmp_path: Path) -> None:
    db_url = sqlite_url(tmp_path / "users.db")
    done = run_app(db_url, *argv)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1  # the generated password, alone
    db = Database(db_url)
    principal = authenticate(db, "kim", done.stdout.strip())
    db.dispose()
    assert principal is not None and principal.role == "operator"


@case("create-user-stdin", "create-user", "--role", "admin", "--name", "ann", "--password-stdin")
def _create_user_stdin(argv: list[str], tmp_path: Path) -> None:
    db_url = sqlite_url(tmp_path / "users.db")
    done = run_app(db_url, *argv, stdin="correct horse battery\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # a password the caller chose is not echoed
    db = Database(db_url)
    principal = authenticate(db, "ann", "correct horse battery")
    db.dispose()
    assert principal is not None and principal.role == "admin"


@case("revoke-token", "revoke-token", "--id", "1")
def _revoke_token(argv: list[str], tmp_path: Path) -> None:
    db_url = sqlite_url(tmp_path / "tokens.db")
    created = run_app(db_url, "create-token", "--role", "operator", "--name", "line-pc")
    assert created.returncode == 0, created.stderr
    db = Database(db_url)
    assert verify_token(db, created.stdout.strip()) is not None
    done = run_app(db_url, *argv)
    assert done.returncode == 0, done.stderr
    assert verify_token(db, created.stdout.strip()) is None
    db.dispose()


@case(
    "export-tickets",
    "export-tickets",
    "--status",
    "open,in_progress",
    "--sort=-priority",
    "--tz",
    "Europe/Berlin",
    "--bom",
    "-o",
    "open-tickets.csv",
)
def _export_tickets(argv: list[str], tmp_path: Path) -> None:
    path = tmp_path / "plant.db"
    seed_small(path)
    out = tmp_path / argv[-1]
    done = run_app(sqlite_url(path), *argv[:-1], str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("\ufeff")  # --bom
    assert "title" in text.splitlines()[0]


@pytest.mark.parametrize("name", list(CASES))
def test_documented_command_runs(name: str, tmp_path: Path) -> None:
    argv, check = CASES[name]
    check(argv, tmp_path)


# -- the docs name nothing that the cases above do not run ---------------------------------

FENCE = re.compile(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)
SPAN = re.compile(r"`([^`\n]+)`")
# `python -m app` and its words up to the end of the command: `)` of a `$(...)`, a pipe, `;`,
# `&&`, the end of a code span or of the line. `python -m app.x` or `-m apple` do not count.
COMMAND = re.compile(r"python -m app(?![\w.])((?:[ \t]+[^\s;|&)`]+)*)")


def documented_commands() -> list[tuple[str, str]]:
    """(file, command) for every `python -m app ...` in a code block or code span."""
    found: list[tuple[str, str]] = []
    for path in DOC_FILES:
        text = path.read_text(encoding="utf-8")
        blocks = [block.replace("\\\n", " ") for block in FENCE.findall(text)]
        prose = FENCE.sub("", text)
        for chunk in [*blocks, *SPAN.findall(prose)]:
            for match in COMMAND.finditer(chunk):
                found.append((path.relative_to(ROOT).as_posix(), match.group(0)))
    return found


def signature(words: list[str]) -> tuple[str, frozenset[str]]:
    """(subcommand or "" for serving, the flags used); placeholders like [filters] drop out."""
    words = [w.strip("[]") for w in words]
    command = words[0] if words and not words[0].startswith("-") else ""
    return command, frozenset(w.split("=", 1)[0] for w in words if w.startswith("-"))


def test_every_documented_command_has_a_case_that_runs() -> None:
    commands = documented_commands()
    # Guards the extraction itself: README's table alone names seven commands.
    assert len({c for _, c in commands}) >= 7, commands
    covered = [signature(argv) for argv, _ in CASES.values()]
    missing = []
    for where, command in commands:
        name, flags = signature(command.split()[3:])
        if not any(name == c_name and flags <= c_flags for c_name, c_flags in covered):
            missing.append(f"{where}: {command}")
    assert not missing, "documented commands without a case in tests/test_commands.py:\n" + (
        "\n".join(missing)
    )


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(action.choices)


def test_every_subcommand_is_documented() -> None:
    documented = {signature(c.split()[3:])[0] for _, c in documented_commands()}
    assert set(subcommands()) <= documented


@pytest.mark.parametrize("command", ["", *subcommands()])
def test_help(command: str, tmp_path: Path) -> None:
    done = run_app(sqlite_url(tmp_path / "unused.db"), *([command] if command else []), "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: python -m app {command}".rstrip())
    if command in ("create-token", "create-user"):
        assert "one of viewer, operator, admin, display, metrics" in done.stdout
    assert not (tmp_path / "unused.db").exists()


# -- error paths of the commands -----------------------------------------------------------


def test_unknown_role_lists_the_roles(tmp_path: Path) -> None:
    done = run_app(sqlite_url(tmp_path / "db"), "create-user", "--role", "boss", "--name", "x")
    assert done.returncode == 2
    assert "invalid choice: 'boss'" in done.stderr and "'display'" in done.stderr


def test_revoke_unknown_token_exit_2(tmp_path: Path) -> None:
    done = run_app(sqlite_url(tmp_path / "tokens.db"), "revoke-token", "--id", "99")
    assert done.returncode == 2
    assert lines(done.stderr) == ["error: no API token with id 99"]
    assert done.stdout == ""


def test_short_password_exit_2_and_no_user(tmp_path: Path) -> None:
    db_url = sqlite_url(tmp_path / "users.db")
    argv = ("create-user", "--role", "viewer", "--name", "kim", "--password-stdin")
    done = run_app(db_url, *argv, stdin="short\n")
    assert done.returncode == 2
    assert lines(done.stderr) == ["error: Passwords need at least 10 characters."]
    done = run_app(db_url, *argv, stdin="")  # nothing on stdin at all
    assert done.returncode == 2 and "at least 10" in done.stderr
    db = Database(db_url)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0
    db.dispose()


def test_duplicate_user_exit_2(tmp_path: Path) -> None:
    db_url = sqlite_url(tmp_path / "users.db")
    argv = ("create-user", "--role", "viewer", "--name", "kim")
    assert run_app(db_url, *argv).returncode == 0
    done = run_app(db_url, *argv)
    assert done.returncode == 2
    assert lines(done.stderr) == ["error: A user named 'kim' exists already."]
    assert done.stdout == ""


def test_token_and_user_commands_on_each_backend(db_url: str) -> None:
    """The same commands against PostgreSQL too (when MILLDASH_TEST_POSTGRES_URL is set)."""
    token = run_app(db_url, "create-token", "--role", "display", "--name", "tv-1")
    assert token.returncode == 0, token.stderr
    db = Database(db_url)
    with db.read() as session:
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.name == "tv-1"))
    assert run_app(db_url, "revoke-token", "--id", str(token_id)).returncode == 0
    assert verify_token(db, token.stdout.strip()) is None
    assert run_app(db_url, "revoke-token", "--id", str(token_id + 1)).returncode == 2
    user = run_app(db_url, "create-user", "--role", "viewer", "--name", "kim")
    assert user.returncode == 0, user.stderr
    assert authenticate(db, "kim", user.stdout.strip()) is not None
    db.dispose()


def test_cli_module_imports_nothing_gevent_must_patch_first() -> None:
    # Serving patches the standard library after parsing the command line; SQLAlchemy, ssl or
    # Flask imported by then would keep unpatched pieces.
    heavy = "{'sqlalchemy', 'ssl', 'flask', 'dash'}"
    probe = f"import sys, app.cli; print(sorted({heavy} & set(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- Redis ---------------------------------------------------------------------------------

NO_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@case("serve-redis-unreachable", "--no-demo", "--redis-url", NO_REDIS)
def _serve_redis_unreachable(argv: list[str], tmp_path: Path) -> None:
    """An unreachable Redis does not stop the start: health is 200 "degraded" (CONTRACT §2).
    tests/test_redis_backend.py runs servers against a real Redis."""
    with serving(sqlite_url(tmp_path / "redis.db"), argv, tmp_path / "serve.log") as url:
        health = requests.get(f"{url}/api/v1/health", timeout=10)
        assert health.status_code == 200
        body = health.json()
        assert (body["status"], body["database"], body["broker"]) == ("degraded", "ok", "failed")
        assert body["broker_error"]


def own_redis(tmp_path: Path) -> RedisServer:
    """A redis-server of the case's own (REDIS_URL in a case's argv stands for its URL)."""
    if REDIS_SERVER is None:
        if IN_CI:
            pytest.fail("CI=true but redis-server is not installed")
        pytest.skip("redis-server not installed")
    return RedisServer(tmp_path).start()


@case("serve-workers", "--workers", "2", "--redis-url", "REDIS_URL")
def _serve_workers(argv: list[str], tmp_path: Path) -> None:
    """Two worker processes, the demo on, on a redis-server of its own (REDIS_URL stands for
    its URL). tests/test_workers.py covers sockets, events, the simulator's lock and stopping."""
    redis_server = own_redis(tmp_path)
    argv = [redis_server.url if word == "REDIS_URL" else word for word in argv]
    try:
        log = tmp_path / "serve.log"
        with serving(sqlite_url(tmp_path / "workers.db"), argv, log) as url:
            health = requests.get(f"{url}/api/v1/health", timeout=10).json()
            assert (health["status"], health["broker"]) == ("ok", "ok")
            machines = requests.get(f"{url}/api/v1/machines", timeout=10)
            assert len(machines.json()) == 24  # the demo plant, seeded once before the fork
            wait_until(
                lambda: len(set(re.findall(r"worker (\d+) serving", log.read_text()))) == 2,
                timeout=30,
                message="two workers",
            )
    finally:
        redis_server.stop()
    text = log.read_text()
    assert text.count("created user 'admin'") == 1
    assert text.count("seeding the demo plant") == 1


@case("serve-workers-no-demo", "--no-demo", "--workers", "2", "--redis-url", "REDIS_URL")
def _serve_workers_no_demo(argv: list[str], tmp_path: Path) -> None:
    """As bench/fanout.py runs it: two workers on an empty plant."""
    redis_server = own_redis(tmp_path)
    argv = [redis_server.url if word == "REDIS_URL" else word for word in argv]
    log = tmp_path / "serve.log"
    try:
        with serving(sqlite_url(tmp_path / "empty-workers.db"), argv, log) as url:
            health = requests.get(f"{url}/api/v1/health", timeout=10).json()
            assert (health["status"], health["broker"]) == ("ok", "ok")
            wait_until(
                lambda: len(set(re.findall(r"worker (\d+) serving", log.read_text()))) == 2,
                timeout=30,
                message="two workers",
            )
    finally:
        redis_server.stop()
    assert "seeding the demo plant" not in log.read_text()


@pytest.mark.parametrize("how", ["flag", "env"])
def test_bad_redis_url_refused_in_one_line(how: str, tmp_path: Path) -> None:
    url = "127.0.0.1:6379"  # no scheme
    db_url = sqlite_url(tmp_path / "never.db")
    if how == "flag":
        done = run_app(db_url, "--no-demo", "--port", str(free_port()), "--redis-url", url)
    else:
        done = run_app(db_url, "--no-demo", "--port", str(free_port()), MILLDASH_REDIS_URL=url)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: --redis-url/MILLDASH_REDIS_URL must start with redis://, rediss:// or "
        "unix:// (e.g. redis://127.0.0.1:6379/0)"
    ]
    assert not (tmp_path / "never.db").exists()  # refused before anything was opened


def test_redis_url_does_not_stop_the_other_commands(tmp_path: Path) -> None:
    done = run_app(
        sqlite_url(tmp_path / "t.db"),
        *("create-token", "--role", "viewer", "--name", "x"),
        MILLDASH_REDIS_URL=NO_REDIS,
    )
    assert done.returncode == 0, done.stderr


def test_make_backend_builds_the_redis_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.realtime.redis_backend import DEFAULT_KEY, RedisBackend

    db = Database(sqlite_url(tmp_path / "db"))
    backend = make_backend(Config(redis_url=NO_REDIS), db)
    assert isinstance(backend, RedisBackend) and backend.key == DEFAULT_KEY
    assert backend.health() == "unreachable (ConnectionError)"
    backend.stop()
    monkeypatch.setenv("MILLDASH_REDIS_STREAM", "plant-2:events")
    other = make_backend(Config(redis_url=NO_REDIS), db)
    assert isinstance(other, RedisBackend) and other.key == "plant-2:events"
    other.stop()
    db.dispose()


# -- unreadable databases ------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("real") / "milldash.db"
    seed_small(path)
    return path


def unreadable(path: Path) -> bool:
    """Whether SQLite itself fails to read every table of the file."""
    conn = sqlite3.connect(path)
    try:
        tables = "SELECT name FROM sqlite_master WHERE type='table'"
        for (name,) in conn.execute(tables).fetchall():
            conn.execute(f'SELECT * FROM "{name}"').fetchall()
        return conn.execute("PRAGMA quick_check").fetchone()[0] != "ok"
    except sqlite3.DatabaseError:
        return True
    finally:
        conn.close()


def broken_copy(kind: str, real: Path, tmp_path: Path) -> Path:
    path = tmp_path / "instance" / "milldash.db"
    path.parent.mkdir()
    if kind == "random":
        path.write_bytes(os.urandom(64 * 1024))
    else:
        shutil.copyfile(real, path)
        with open(path, "r+b") as file:
            file.truncate(path.stat().st_size // 2)
    assert unreadable(path)
    return path


COMMANDS_ON_A_DATABASE = {
    "serve": ["--no-demo"],
    "seed": ["seed", "--machines", "2", "--days", "1"],
    "create-token": ["create-token", "--role", "viewer", "--name", "x"],
    "create-user": ["create-user", "--role", "viewer", "--name", "kim"],
    "revoke-token": ["revoke-token", "--id", "1"],
    "export-tickets": ["export-tickets", "-o", "out.csv"],
}


@pytest.mark.parametrize("kind", ["random", "truncated"])
@pytest.mark.parametrize("command", list(COMMANDS_ON_A_DATABASE))
def test_unreadable_sqlite_file_one_line(
    command: str, kind: str, real_database: Path, tmp_path: Path
) -> None:
    path = broken_copy(kind, real_database, tmp_path)
    before = path.read_bytes()
    argv = [*COMMANDS_ON_A_DATABASE[command]]
    if command == "serve":
        argv += ["--port", str(free_port())]
    if command == "export-tickets":
        argv[-1] = str(tmp_path / "out.csv")
    done = run_app(sqlite_url(path), *argv)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    [line] = lines(done.stderr)
    assert line.startswith(f"error: {path} is not a readable Mill Dash database (")
    assert line.endswith("Restore it from a backup, or move it away to start with a fresh one.")
    assert path.read_bytes() == before  # left as it was, for whoever recovers it
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("command", ["serve", "create-token"])
def test_unreachable_postgresql_one_line(command: str) -> None:
    db_url = f"postgresql+psycopg://milldash:s3cret@127.0.0.1:{free_port()}/milldash"
    argv = [*COMMANDS_ON_A_DATABASE[command]]
    if command == "serve":
        argv += ["--port", str(free_port())]
    done = run_app(db_url, *argv)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "s3cret" not in done.stderr
    [line] = lines(done.stderr)
    assert line.startswith("error: cannot use the database postgresql+psycopg://milldash:***@")
