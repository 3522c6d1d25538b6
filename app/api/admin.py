"""Admin endpoints: API tokens and users (the admin role only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from app.api.auth import current_principal, json_body, require
from app.context import ctx
from app.cpu_pool import hash_off_loop
from data.accounts.tokens import create_token, list_tokens, revoke_token
from data.accounts.users import create_user, disable_user, list_users
from data.errors import Conflict, NotFound, ValidationFailed


def _text(body: Any, key: str) -> str:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, str):
        raise ValidationFailed(f"'{key}' is required text.", {key: "required"})
    return value


def _fields(body: Any, allowed: tuple[str, ...]) -> Any:
    """The body, if it is an object with no field besides `allowed` (as the document says)."""
    if not isinstance(body, dict):
        raise ValidationFailed("The body must be a JSON object.", {"body": "not an object"})
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ValidationFailed(
            f"Unknown field {unknown[0]!r}; allowed: {', '.join(allowed)}.",
            {name: "unknown field" for name in unknown},
        )
    return body


def register(bp: Blueprint) -> None:
    @bp.get("/admin/tokens")
    @require("admin")
    def tokens() -> Any:
        return jsonify(list_tokens(ctx().db))

    @bp.post("/admin/tokens")
    @require("admin")
    def new_token() -> Any:
        body = _fields(json_body(), ("role", "name"))
        secret = create_token(ctx().db, _text(body, "role"), _text(body, "name"))
        created = list_tokens(ctx().db)[-1]
        return jsonify({**created, "token": secret}), 201

    @bp.delete("/admin/tokens/<int:token_id>")
    @require("admin")
    def delete_token(token_id: int) -> Any:
        who = current_principal()
        if who is not None and who.token_id == token_id:
            # Revoking the credential of this very request would lock its caller out.
            raise Conflict("This request is signed with that token: revoke it with another one.")
        if not revoke_token(ctx().db, token_id):
            raise NotFound(f"Token {token_id} does not exist.")
        return jsonify({"id": token_id, "revoked": True})

    @bp.get("/admin/users")
    @require("admin")
    def users() -> Any:
        return jsonify(list_users(ctx().db))

    @bp.post("/admin/users")
    @require("admin")
    def new_user() -> Any:
        body = _fields(json_body(), ("role", "name", "password"))
        password = body.get("password") if isinstance(body, dict) else None
        if password is not None and not isinstance(password, str):
            raise ValidationFailed("'password' must be text.", {"password": "not text"})
        name = _text(body, "name")
        generated = password is None
        # Argon2 runs in the password pool, off the event loop (app/cpu_pool.py).
        password = create_user(ctx().db, name, _text(body, "role"), password, hash_off_loop)
        user = next(u for u in list_users(ctx().db) if u["name"] == name.strip())
        # A generated password is shown this once (nobody could learn it otherwise); a given
        # one is never echoed: answers end up in logs, proxies and terminal scrollback.
        return jsonify({**user, "password": password} if generated else user), 201

    @bp.delete("/admin/users/<int:user_id>")
    @require("admin")
    def delete_user(user_id: int) -> Any:
        who = current_principal()
        if who is not None and who.user_id == user_id:
            raise Conflict("You cannot disable your own account: ask another admin.")
        disable_user(ctx().db, user_id)
        return jsonify({"id": user_id, "disabled": True})
