"""The one-shot commands of `python -m app`: seed, create-token, create-user, revoke-token,
export-tickets. Each returns its exit code.

Imports stay inside the functions, as in app/cli.py: importing this module must not pull in
SQLAlchemy or the database drivers before serving installs gevent's monkey patches.
"""

from __future__ import annotations

import argparse
import os
import sys

from app.config import Config


def seed(config: Config, machines: int, days: int) -> int:
    """Fill the database with `machines` machines and `days` days of history."""
    from tqdm import tqdm

    from data.demo.seed import seed_plant
    from data.store.db import Database

    db = Database(config.database_url)
    try:
        db.migrate()
        with tqdm(total=machines, unit="machine", desc="Seeding", file=sys.stderr) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

            counts = seed_plant(db, machines, days, progress=progress, timezone=config.plant_tz)
    finally:
        db.dispose()
    print(", ".join(f"{v} {k}" for k, v in counts.items()), file=sys.stderr)
    return 0


def create_token(config: Config, role: str, name: str) -> int:
    """Print one new token alone on stdout; its id (for revoke-token) goes to stderr."""
    from sqlalchemy import select

    from data.accounts.tokens import create_token as make_token
    from data.accounts.tokens import hash_token
    from data.store.db import Database
    from data.store.models import ApiToken

    db = Database(config.database_url)
    try:
        db.migrate()
        secret = make_token(db, role, name)
        with db.read() as session:
            token_id = session.scalar(
                select(ApiToken.id).where(ApiToken.token_hash == hash_token(secret))
            )
    finally:
        db.dispose()
    print(secret)
    print(f"token {token_id} ({role}, {name.strip()!r}) created", file=sys.stderr)
    return 0


def create_user(config: Config, role: str, name: str, from_stdin: bool) -> int:
    """Create a user; print the generated password, or take one line of stdin as it."""
    from data.accounts.users import create_user as make_user
    from data.store.db import Database

    # Read before touching the database: a too-short password then fails with nothing written.
    given = sys.stdin.readline().rstrip("\r\n") if from_stdin else None
    db = Database(config.database_url)
    try:
        db.migrate()
        password = make_user(db, name, role, given)
    finally:
        db.dispose()
    if not from_stdin:
        print(password)
    print(f"user {name.strip()!r} ({role}) created", file=sys.stderr)
    return 0


def revoke_token(config: Config, token_id: int) -> int:
    """Revoke a token by id; exit 2 when there is no such token."""
    from data.accounts.tokens import revoke_token as revoke
    from data.store.db import Database

    db = Database(config.database_url)
    try:
        db.migrate()
        found = revoke(db, token_id)
    finally:
        db.dispose()
    if not found:
        print(f"error: no API token with id {token_id}", file=sys.stderr)
        return 2
    print(f"token {token_id} revoked", file=sys.stderr)
    return 0


def export_tickets(config: Config, args: argparse.Namespace) -> int:
    """The CSV of GET /api/v1/tickets/export.csv, written to a file with a progress bar."""
    from contextlib import nullcontext

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DatabaseError, SQLAlchemyError
    from tqdm import tqdm

    from data.errors import ValidationFailed
    from data.read.ticket_export import csv_chunks, parse_export_args
    from data.read.ticket_queries import count_matching
    from data.store.db import Database

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
    except DatabaseError:
        raise  # an unreadable or unreachable database: app/cli.py explains it in one line
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
