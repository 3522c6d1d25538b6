"""People who sign in to the UI: passwords hashed with Argon2, roles, first-run admin.

Hashing and verifying cost ~0.2 s of CPU each. They are plain functions (`hash_password`,
`verify_password`) and the services that need them take the function as an argument, so the
caller (the app, which knows it runs under gevent) can run them off its event loop; `data`
itself stays free of any server machinery.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from data.accounts.tokens import Principal
from data.errors import Conflict, NotFound, ValidationFailed
from data.roles import ROLES
from data.store.db import Database
from data.store.models import User
from data.store.sqltypes import utcnow
from data.validation import MAX_ID, NUL_IN_NAME

MIN_PASSWORD = 10
# One limit for creating and for signing in: a password accepted at creation always fits the
# sign-in form, and sign-in refuses a longer one instead of cutting it to something else.
MAX_PASSWORD = 128
MAX_NAME = 120

_hasher = PasswordHasher()
# Verifying against this keeps the time of a failed sign-in the same for unknown names.
_DUMMY_HASH = _hasher.hash("not a real password")

Hasher = Callable[[str], str]
Verifier = Callable[[str, str], bool]


def hash_password(password: str) -> str:
    """The Argon2id hash of `password` (CPU-bound, ~0.2 s)."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when `password` matches `stored_hash` (CPU-bound, ~0.2 s)."""
    try:
        return bool(_hasher.verify(stored_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def check_password_rules(password: str) -> None:
    """Raise ValidationFailed unless `password` has MIN_PASSWORD..MAX_PASSWORD characters."""
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(
            f"Passwords need at least {MIN_PASSWORD} characters.", {"password": "too short"}
        )
    if len(password) > MAX_PASSWORD:
        raise ValidationFailed(
            f"Passwords have at most {MAX_PASSWORD} characters.", {"password": "too long"}
        )


def create_user(
    db: Database,
    name: str,
    role: str,
    password: str | None = None,
    hasher: Hasher = hash_password,
) -> str:
    """Create a user; returns the password (generated when none is given).

    `hasher` turns the password into its stored hash; the app passes one that runs off its
    event loop."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise ValidationFailed(
            f"A user needs a name of 1 to {MAX_NAME} characters.", {"name": "length"}
        )
    if "\x00" in name:
        raise ValidationFailed(NUL_IN_NAME.format(what="A user's name"), {"name": "nul"})
    if role not in ROLES:
        raise ValidationFailed(
            f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.", {"role": "unknown"}
        )
    if password is None:
        password = secrets.token_urlsafe(12)
    check_password_rules(password)
    # Checked before hashing so that a taken name costs no hash; checked again on insert.
    if user_exists(db, name):
        raise Conflict(f"A user named {name!r} exists already.")
    password_hash = hasher(password)
    with db.write() as session:
        if session.scalar(select(User.id).where(User.name == name)) is not None:
            raise Conflict(f"A user named {name!r} exists already.")
        session.add(User(name=name, role=role, password_hash=password_hash))
    return password


def user_exists(db: Database, name: str) -> bool:
    with db.read() as session:
        return session.scalar(select(User.id).where(User.name == name)) is not None


def authenticate(
    db: Database, name: str, password: str, verifier: Verifier = verify_password
) -> Principal | None:
    """The user's principal when the password matches and the user is active.

    A password longer than MAX_PASSWORD never matches (no stored password can be that long);
    callers that want to say so check it first. `verifier` is `verify_password` or a wrapper
    that runs it off the event loop."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME or not password or len(password) > MAX_PASSWORD:
        return None
    if "\x00" in name:  # no user has one (create_user refuses it), and PostgreSQL cannot match it
        return None
    with db.read() as session:
        user = session.scalar(select(User).where(User.name == name))
        stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
        found = (
            Principal(name=user.name, role=user.role, user_id=user.id)
            if user is not None and user.disabled_at is None
            else None
        )
    if not verifier(stored, password):
        return None
    return found


def ensure_first_admin(db: Database) -> str | None:
    """On a database without users, create `admin` and return its password (shown once)."""
    with db.read() as session:
        if session.scalar(select(func.count()).select_from(User)):
            return None
    return create_user(db, "admin", "admin")


def list_users(db: Database) -> list[dict[str, object]]:
    with db.read() as session:
        users = session.scalars(select(User).order_by(User.id)).all()
    return [
        {"id": u.id, "name": u.name, "role": u.role, "disabled": u.disabled_at is not None}
        for u in users
    ]


def disable_user(db: Database, user_id: int) -> None:
    """Disable a user; their sessions end (sockets close at the next check)."""
    with db.write() as session:
        user = session.get(User, user_id) if 0 < user_id <= MAX_ID else None
        if user is None:
            raise NotFound(f"User {user_id} does not exist.")
        user.disabled_at = user.disabled_at or utcnow()
