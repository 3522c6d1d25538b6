"""Command line: serve (default; `--workers N`: several processes), seed, create-token,
create-user, revoke-token, export-tickets.

Nothing heavy is imported at module level: serving must install gevent's monkey patches
before Flask, Dash, SQLAlchemy or the database drivers are imported. The commands themselves
live in app/cli_commands.py.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

from app.config import Config, log_format_error
from data.errors import ServiceError
from data.roles import ROLES

REDIS_SCHEMES = ("redis", "rediss", "unix")


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="bind address (MILLDASH_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (MILLDASH_PORT, default 8050)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (MILLDASH_DATABASE_URL)")
    parser.add_argument("--redis-url", help="Redis for several processes (MILLDASH_REDIS_URL)")
    parser.add_argument(
        "--workers",
        metavar="N",
        help="gevent worker processes on one port (MILLDASH_WORKERS, default 1); "
        "more than one needs --redis-url",
    )
    parser.add_argument("--allowed-origins", help="comma list (MILLDASH_ALLOWED_ORIGINS)")
    parser.add_argument(
        "--no-demo", action="store_true", help="no seed data, no simulator (MILLDASH_DEMO=0)"
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (MILLDASH_ACCESS_LOG=1); default: errors, slow, sign-ins",
    )
    parser.add_argument(
        "--log-format",
        metavar="FORMAT",
        help="text (default) or json: one JSON object per line (MILLDASH_LOG_FORMAT)",
    )


def _role_option(parser: argparse.ArgumentParser) -> None:
    # data.roles is the one list of roles (and imports nothing, so serving can still patch
    # the standard library with gevent after the parser is built).
    parser.add_argument(
        "--role", required=True, choices=ROLES, metavar="ROLE", help="one of %(choices)s"
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser of `python -m app`: server options, and one subparser per command."""
    parser = argparse.ArgumentParser(prog="python -m app", description="Mill Dash server")
    _server_options(parser)
    sub = parser.add_subparsers(dest="command")
    seed = sub.add_parser("seed", help="fill the database with a demo plant and its history")
    seed.add_argument("--machines", type=int, default=24)
    seed.add_argument("--days", type=int, default=30)
    seed.add_argument("--database-url", dest="seed_database_url")
    token = sub.add_parser("create-token", help="print one new API token")
    _role_option(token)
    token.add_argument("--name", required=True)
    token.add_argument("--database-url", dest="token_database_url")
    user = sub.add_parser("create-user", help="create a user who signs in at /login")
    _role_option(user)
    user.add_argument("--name", required=True)
    user.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from one line of standard input (default: generate one)",
    )
    user.add_argument("--database-url", dest="user_database_url")
    revoke = sub.add_parser("revoke-token", help="revoke an API token")
    revoke.add_argument("--id", type=int, required=True, help="the token's id")
    revoke.add_argument("--database-url", dest="revoke_database_url")
    _export_options(sub)
    return parser


def _export_options(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser(
        "export-tickets", help="write matching tickets as CSV (the filters of GET /tickets)"
    )
    export.add_argument("--status", help="comma list of open, in_progress, on_hold, ...")
    export.add_argument("--priority", help="comma list of low, medium, high, critical")
    export.add_argument("--machine-id", help="one machine's id")
    export.add_argument("--q", help="text in the title, description or machine name")
    export.add_argument("--created-from", help="ISO 8601, inclusive (no offset means UTC)")
    export.add_argument("--created-to", help="ISO 8601, exclusive (no offset means UTC)")
    export.add_argument("--sort", help="e.g. --sort=-created_at (write = before a -)")
    export.add_argument("--tz", help="IANA time zone of the time columns (default UTC)")
    export.add_argument("--bom", action="store_true", help="start with a UTF-8 byte-order mark")
    export.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    export.add_argument("--database-url", dest="export_database_url")


_COMMAND_DB_FLAGS = (
    "seed_database_url",
    "token_database_url",
    "user_database_url",
    "revoke_database_url",
    "export_database_url",
)


def config_from(args: argparse.Namespace) -> Config:
    """Environment first, flags on top."""
    config = Config.from_env()
    for flag in ("host", "port", "database_url", "redis_url"):
        value = getattr(args, flag, None)
        if value is not None:
            setattr(config, flag, value)
    for flag in _COMMAND_DB_FLAGS:
        if getattr(args, flag, None):
            config.database_url = getattr(args, flag)
    if getattr(args, "allowed_origins", None):
        config.allowed_origins = [o.strip() for o in args.allowed_origins.split(",") if o.strip()]
    if getattr(args, "access_log", False):
        config.access_log = True
    if getattr(args, "log_format", None):
        config.log_format = args.log_format.strip().lower()
    if getattr(args, "no_demo", False):
        config.demo = False
    return config


def redis_url_error(url: str | None) -> str | None:
    """One line saying why `url` cannot be a Redis URL, or None (also for no URL). Only the
    scheme is checked here: redis-py is imported after gevent has patched the standard
    library, and an unreachable Redis does not stop the start (health says "degraded")."""
    if not url:
        return None
    if urlsplit(url).scheme.lower() in REDIS_SCHEMES:
        return None
    return (
        "error: --redis-url/MILLDASH_REDIS_URL must start with redis://, rediss:// or "
        "unix:// (e.g. redis://127.0.0.1:6379/0)"
    )


def workers_from(args: argparse.Namespace) -> int | str:
    """How many worker processes serve (flag, else MILLDASH_WORKERS, else 1), or one line
    saying why the value cannot be used."""
    raw = getattr(args, "workers", None) or os.environ.get("MILLDASH_WORKERS", "").strip()
    if not raw:
        return 1
    try:
        workers = int(raw)
    except ValueError:
        workers = 0
    if workers < 1:
        return f"error: --workers/MILLDASH_WORKERS must be a whole number of 1 or more, not {raw!r}"
    return workers


def workers_error(workers: int, redis_url: str | None) -> str | None:
    """Several workers share live events through Redis: without it, one line saying so."""
    if workers > 1 and not redis_url:
        return (
            f"error: --workers {workers} needs --redis-url/MILLDASH_REDIS_URL: the worker "
            "processes share live events through Redis (or run one with --workers 1)"
        )
    return None


def database_error_line(database_url: str, exc: Exception) -> str | None:
    """One line explaining why the database cannot be used, or None for an error that is
    not about the database file or server (a bug: its traceback should show)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DatabaseError, OperationalError

    url = make_url(database_url)
    # The driver's message, without SQLAlchemy's "[SQL: ...]" and "Background on" lines;
    # psycopg spreads one failure over several lines.
    orig = getattr(exc, "orig", None) or exc
    reason = "; ".join(line.strip() for line in str(orig).splitlines() if line.strip())
    if url.get_backend_name() == "sqlite":
        where = url.database or ":memory:"
        if isinstance(exc, OperationalError):
            return f"error: cannot use the database {where} ({reason})."
        if type(exc) is DatabaseError:
            # sqlite3 raises the bare DatabaseError for "file is not a database" and
            # "database disk image is malformed"; its subclasses are other failures.
            return (
                f"error: {where} is not a readable Mill Dash database ({reason}). "
                "Restore it from a backup, or move it away to start with a fresh one."
            )
        return None
    if isinstance(exc, OperationalError) or type(exc) is DatabaseError:
        shown = url.render_as_string(hide_password=True)
        return (
            f"error: cannot use the database {shown} ({reason}). Check "
            "--database-url/MILLDASH_DATABASE_URL and that the database server is reachable."
        )
    return None


def _run_command(config: Config, args: argparse.Namespace) -> int:
    from app import cli_commands

    try:
        if args.command == "seed":
            return cli_commands.seed(config, args.machines, args.days)
        if args.command == "create-token":
            return cli_commands.create_token(config, args.role, args.name)
        if args.command == "create-user":
            return cli_commands.create_user(config, args.role, args.name, args.password_stdin)
        if args.command == "revoke-token":
            return cli_commands.revoke_token(config, args.id)
        if args.command == "export-tickets":
            return cli_commands.export_tickets(config, args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ServiceError as exc:
        # Bad input (a short password, say) or a conflict (a user name already taken).
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    raise AssertionError(f"no handler for {args.command!r}")  # build_parser and this disagree


def _serve(config: Config, args: argparse.Namespace) -> int:
    workers = workers_from(args)
    if isinstance(workers, str):
        print(workers, file=sys.stderr)
        return 2
    error = (
        redis_url_error(config.redis_url)
        or workers_error(workers, config.redis_url)
        or log_format_error(config.log_format)
    )
    if error:
        print(error, file=sys.stderr)
        return 2
    # The standard library's zone list: nothing gevent must patch first is imported yet.
    from zoneinfo import available_timezones

    if config.plant_tz not in available_timezones():
        print(
            f"error: MILLDASH_PLANT_TZ: {config.plant_tz!r} is not an IANA time zone, "
            "e.g. Europe/Berlin or UTC",
            file=sys.stderr,
        )
        return 2
    if os.environ.get("MILLDASH_NO_GEVENT") != "1" or workers > 1:
        patch_gevent()
    from app.server import serve

    return serve(config, workers)


def patch_gevent() -> None:
    """gevent's monkey patches, for serving; greenlets record no spawning tree unless
    GEVENT_TRACK_GREENLET_TREE asks for it (to debug). That tree kept a stack of ten frames
    per socket: memory, time at every spawn, and work for every full garbage collection
    (docs/benchmarks/fanout.md)."""
    import gevent
    from gevent import monkey

    if "GEVENT_TRACK_GREENLET_TREE" not in os.environ:
        gevent.config.track_greenlet_tree = False
    monkey.patch_all()


def main(argv: Sequence[str] | None = None) -> int:
    """Run `python -m app` with `argv`; returns the exit code."""
    args = build_parser().parse_args(argv)
    config = config_from(args)
    try:
        return _run_command(config, args) if args.command else _serve(config, args)
    except Exception as exc:
        # SQLAlchemy is imported only now: on the serve path gevent has patched by then.
        from sqlalchemy.exc import DatabaseError

        if not isinstance(exc, DatabaseError):
            raise
        line = database_error_line(config.database_url, exc)
        if line is None:
            raise
        print(line, file=sys.stderr)
        return 1
