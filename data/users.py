"""People who sign in to the UI: passwords hashed with Argon2, roles, first-run admin."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from data.access import Principal
from data.db import Database
from data.errors import Conflict, NotFound, ValidationFailed
from data.models import ROLES, User
from data.sqltypes import utcnow
from data.validation import MAX_ID

_hasher = PasswordHasher()
# Verifying against this keeps the time of a failed sign-in the same for unknown names.
_DUMMY_HASH = _hasher.hash("not a real password")
MIN_PASSWORD = 10


def create_user(db: Database, name: str, role: str, password: str | None = None) -> str:
    """Create a user; returns the password (generated when none is given)."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed("A user needs a name of 1 to 120 characters.", {"name": "length"})
    if role not in ROLES:
        raise ValidationFailed(
            f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.", {"role": "unknown"}
        )
    if password is None:
        password = secrets.token_urlsafe(12)
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(
            f"Passwords need at least {MIN_PASSWORD} characters.", {"password": "too short"}
        )
    with db.write() as session:
        if session.scalar(select(User.id).where(User.name == name)) is not None:
            raise Conflict(f"A user named {name!r} exists already.")
        session.add(User(name=name, role=role, password_hash=_hasher.hash(password)))
    return password


def authenticate(db: Database, name: str, password: str) -> Principal | None:
    """The user's principal when the password matches and the user is active."""
    with db.read() as session:
        user = session.scalar(select(User).where(User.name == (name or "").strip()))
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled_at is not None:
        return None
    return Principal(name=user.name, role=user.role, user_id=user.id)


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
