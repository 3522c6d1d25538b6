"""Names with U+0000 in the accounts (users and API tokens), on SQLite and PostgreSQL: refused
with a clear error and nothing written; a sign-in with one is a wrong sign-in, not a crash."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from data.accounts.tokens import create_token
from data.accounts.users import authenticate, create_user
from data.errors import ValidationFailed
from data.store.db import Database
from data.store.models import ApiToken, User


def rows(db: Database, model: type) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_user_name_with_nul_is_refused_and_nothing_is_written(db: Database) -> None:
    with pytest.raises(ValidationFailed, match="U\\+0000") as refused:
        create_user(db, "kim\x00", "operator", "a long enough password")
    assert refused.value.details == {"name": "nul"}
    assert rows(db, User) == 0
    create_user(db, "kim", "operator", "a long enough password")
    assert rows(db, User) == 1


def test_a_token_name_with_nul_is_refused_and_nothing_is_written(db: Database) -> None:
    with pytest.raises(ValidationFailed, match="U\\+0000"):
        create_token(db, "viewer", "wall\x00tv")
    assert rows(db, ApiToken) == 0


def test_signing_in_with_nul_in_the_name_is_a_wrong_sign_in(db: Database) -> None:
    create_user(db, "kim", "operator", "a long enough password")

    def verifier(stored: str, password: str) -> bool:
        return True  # the name alone decides

    assert authenticate(db, "kim\x00", "a long enough password", verifier) is None
    assert authenticate(db, "kim", "a long enough password", verifier) is not None
