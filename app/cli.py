"""Command line: serve (default), seed, create-token, export-tickets.

Nothing heavy is imported at module level: serving must install gevent's monkey patches
before Flask, Dash or the database drivers are imported.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from app.config import Config
from data.errors import ServiceError


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="bind address (MILLDASH_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (MILLDASH_PORT, default 8050)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (MILLDASH_DATABASE_URL)")
    parser.add_argument("--redis-url", help="Redis for several processes (MILLDASH_REDIS_URL)")
    parser.add_argument("--allowed-origins", help="comma list (MILLDASH_ALLOWED_ORIGINS)")
    parser.add_argument(
        "--no-demo", action="store_true", help="no seed data, no simulator (MILLDASH_DEMO=0)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="Mill Dash server")
    _server_options(parser)
    sub = parser.add_subparsers(dest="command")
    seed = sub.add_parser("seed", help="fill the database with a demo plant and its history")
    seed.add_argument("--machines", type=int, default=24)
    seed.add_argument("--days", type=int, default=30)
    seed.add_argument("--database-url", dest="seed_database_url")
    token = sub.add_parser("create-token", help="print one new API token")
    token.add_argument("--role", required=True, choices=["viewer", "operator", "admin", "display"])
    token.add_argument("--name", required=True)
    token.add_argument("--database-url", dest="token_database_url")
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


def config_from(args: argparse.Namespace) -> Config:
    """Environment first, flags on top."""
    config = Config.from_env()
    for flag in ("host", "port", "database_url", "redis_url"):
        value = getattr(args, flag, None)
        if value is not None:
            setattr(config, flag, value)
    for flag in ("seed_database_url", "token_database_url", "export_database_url"):
        if getattr(args, flag, None):
            config.database_url = getattr(args, flag)
    if getattr(args, "allowed_origins", None):
        config.allowed_origins = [o.strip() for o in args.allowed_origins.split(",") if o.strip()]
    if getattr(args, "no_demo", False):
        config.demo = False
    return config


def _seed(config: Config, machines: int, days: int) -> int:
    from tqdm import tqdm

    from data.db import Database
    from data.seed import seed_plant

    db = Database(config.database_url)
    db.migrate()
    with tqdm(total=machines, unit="machine", desc="Seeding", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        counts = seed_plant(db, machines, days, progress=progress)
    print(", ".join(f"{v} {k}" for k, v in counts.items()), file=sys.stderr)
    return 0


def _create_token(config: Config, role: str, name: str) -> int:
    from data.access import create_token
    from data.db import Database

    db = Database(config.database_url)
    db.migrate()
    print(create_token(db, role, name))
    return 0


def _export_tickets(config: Config, args: argparse.Namespace) -> int:
    """The CSV of GET /api/v1/tickets/export.csv, written to a file with a progress bar."""
    from contextlib import nullcontext

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError
    from tqdm import tqdm

    from data.db import Database
    from data.errors import ValidationFailed
    from data.ticket_export import csv_chunks, parse_export_args
    from data.ticket_queries import count_matching

    names = ("status", "priority", "machine_id", "q", "created_from", "created_to", "sort", "tz")
    query = {n: getattr(args, n) for n in names if getattr(args, n) is not None}
    query["bom"] = "1" if args.bom else "0"
    try:
        export = parse_export_args(query)
    except ValidationFailed as exc:
        for name, message in (exc.details or {"filters": exc.message}).items():
            print(f"error: --{name.replace('_', '-')}: {message}", file=sys.stderr)
        return 2
    url = make_url(config.database_url)
    if url.get_backend_name() == "sqlite" and not os.path.exists(url.database or ""):
        print(f"error: no database file {url.database!r}", file=sys.stderr)
        return 2
    to_stdout = args.output == "-"
    partial = f"{args.output}.part"  # renamed when complete: no truncated file on failure
    db = Database(config.database_url)
    try:
        with db.read() as session:
            total = count_matching(session, export.filter)
            with (
                nullcontext(sys.stdout.buffer) if to_stdout else open(partial, "wb") as out,
                tqdm(total=total, unit="ticket", desc="Exporting", file=sys.stderr) as bar,
            ):
                for chunk in csv_chunks(session, export, on_rows=bar.update):
                    out.write(chunk)
        if not to_stdout:
            os.replace(partial, args.output)
    except (SQLAlchemyError, OSError) as exc:
        shown = url.render_as_string(hide_password=True)
        print(f"error: export from {shown} failed: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
        if not to_stdout and os.path.exists(partial):
            os.remove(partial)
    print(f"{total} tickets -> {args.output}", file=sys.stderr)
    return 0


def _create_user(config: Config, role: str, name: str, from_stdin: bool) -> int:
    from data.db import Database
    from data.users import create_user

    db = Database(config.database_url)
    db.migrate()
    given = sys.stdin.readline().rstrip("\n") if from_stdin else None
    password = create_user(db, name, role, given)
    if not from_stdin:
        print(password)
    print(f"user {name!r} ({role}) created", file=sys.stderr)
    return 0


def _revoke_token(config: Config, token_id: int) -> int:
    from data.access import revoke_token
    from data.db import Database

    db = Database(config.database_url)
    db.migrate()
    if not revoke_token(db, token_id):
        print(f"error: no token with id {token_id}", file=sys.stderr)
        return 2
    print(f"token {token_id} revoked", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from(args)
    try:
        if args.command == "seed":
            return _seed(config, args.machines, args.days)
        if args.command == "create-token":
            return _create_token(config, args.role, args.name)
        if args.command == "export-tickets":
            return _export_tickets(config, args)
        if args.command == "create-user":
            return _create_user(config, args.role, args.name, args.password_stdin)
        if args.command == "revoke-token":
            return _revoke_token(config, args.id)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    if os.environ.get("MILLDASH_NO_GEVENT") != "1":
        from gevent import monkey

        monkey.patch_all()
    from app.server import serve

    return serve(config)
