"""API tokens: created here (the secret is shown once), stored as SHA-256, checked per request."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select

from data.errors import ValidationFailed
from data.roles import ROLES
from data.store.db import Database
from data.store.models import ApiToken, UiSession, User
from data.store.prepared import Prepared
from data.store.sqltypes import utcnow
from data.validation import MAX_ID, NUL_IN_NAME

TOKEN_PREFIX = "mdt_"
# last_used_at is a write; refreshing it at most this often keeps reads read-only.
LAST_USED_GRANULARITY = timedelta(minutes=1)
# A person's session lasts a working day from sign-in, checked here on every request and by
# every open socket; a wall (display token) runs unattended for months and keeps a year.
PERSON_SESSION_LIFETIME = timedelta(hours=12)
DISPLAY_SESSION_LIFETIME = timedelta(days=365)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a name for audit trails and a role for checks; the ids say what to
    re-check (a revoked token, a disabled user, an ended session)."""

    name: str
    role: str
    token_id: int | None = None
    user_id: int | None = None
    session_id: str | None = None


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(db: Database, role: str, name: str) -> str:
    """Create a token and return its secret; only its hash is kept."""
    if role not in ROLES:
        raise ValidationFailed(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    name = name.strip()
    if not name or len(name) > 120:
        raise ValidationFailed("A token needs a name of 1 to 120 characters.")
    if "\x00" in name:
        raise ValidationFailed(NUL_IN_NAME.format(what="A token's name"))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as session:
        session.add(
            ApiToken(name=name, role=role, token_hash=hash_token(secret), prefix=secret[:10])
        )
    return secret


# Rendered once and run on the driver's cursor: every API call runs it before anything else.
_TOKEN_BY_DIGEST = Prepared(
    select(
        ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.revoked_at, ApiToken.last_used_at
    ).where(ApiToken.token_hash == bindparam("digest"))
)


def verify_token(db: Database, secret: str, now: datetime | None = None) -> Principal | None:
    """The principal for a token secret, or None if unknown or revoked."""
    if not secret or len(secret) > 200:
        return None
    with db.lookup() as conn:  # this runs on every API call: no Session, a prepared query
        token = _TOKEN_BY_DIGEST.first(conn, {"digest": hash_token(secret)})
    if token is None:
        return None
    token_id, name, role, revoked_at, last_used = token
    if revoked_at is not None:
        return None
    principal = Principal(name=name, role=role, token_id=token_id)
    now = now or utcnow()
    if last_used is None or now - last_used > LAST_USED_GRANULARITY:
        with db.write() as session:
            row = session.get(ApiToken, principal.token_id)
            if row is not None:
                row.last_used_at = now
    return principal


def revoke_token(db: Database, token_id: int) -> bool:
    """Revoke a token by id; False if there is no such token."""
    if not 0 < token_id <= MAX_ID:
        return False
    with db.write() as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            return False
        if token.revoked_at is None:
            token.revoked_at = utcnow()
        return True


def list_tokens(db: Database) -> list[dict[str, object]]:
    """Every token without its secret: id, name, role, prefix, times."""
    from data.read.records import iso

    with db.read() as session:
        tokens = session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
    return [
        {
            "id": t.id,
            "name": t.name,
            "role": t.role,
            "prefix": t.prefix,
            "created_at": iso(t.created_at),
            "last_used_at": iso(t.last_used_at),
            "revoked": t.revoked_at is not None,
        }
        for t in tokens
    ]


def start_session(db: Database, principal: Principal) -> Principal:
    """Record a UI session for `principal`; the returned principal carries its id."""
    sid = secrets.token_urlsafe(24)
    with db.write() as session:
        session.add(
            UiSession(
                id=sid,
                name=principal.name,
                role=principal.role,
                user_id=principal.user_id,
                token_id=principal.token_id,
            )
        )
    return Principal(principal.name, principal.role, principal.token_id, principal.user_id, sid)


def end_session(db: Database, session_id: str) -> None:
    with db.write() as session:
        row = session.get(UiSession, session_id)
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()


def session_lifetime(principal: Principal) -> timedelta:
    """How long a UI session of `principal` lasts: a person's a working day, a wall's a year."""
    return PERSON_SESSION_LIFETIME if principal.user_id is not None else DISPLAY_SESSION_LIFETIME


_SESSION = Prepared(
    select(UiSession.user_id, UiSession.created_at, UiSession.revoked_at).where(
        UiSession.id == bindparam("id")
    )
)
_TOKEN_REVOKED = Prepared(select(ApiToken.revoked_at).where(ApiToken.id == bindparam("id")))
_USER_DISABLED = Prepared(select(User.disabled_at).where(User.id == bindparam("id")))


def still_valid(db: Database, principal: Principal, now: datetime | None = None) -> bool:
    """False once the principal's session ended or expired, its token was revoked or its user
    disabled."""
    now = now or utcnow()
    with db.lookup() as conn:  # every request of a signed-in browser: prepared queries
        if principal.session_id is not None:
            row = _SESSION.first(conn, {"id": principal.session_id})
            if row is None:
                return False
            user_id, created_at, revoked_at = row
            if revoked_at is not None:
                return False
            # Server-side, so a copied cookie and a socket opened with it expire too.
            if user_id is not None and now - created_at >= PERSON_SESSION_LIFETIME:
                return False
        if principal.token_id is not None:
            revoked = _TOKEN_REVOKED.first(conn, {"id": principal.token_id})
            if revoked is None or revoked[0] is not None:
                return False
        if principal.user_id is not None:
            disabled = _USER_DISABLED.first(conn, {"id": principal.user_id})
            if disabled is None or disabled[0] is not None:
                return False
    return True
