"""The admin operations of the OpenAPI document: API tokens, users, socket statistics."""

from __future__ import annotations

from typing import Any

from app.api.openapi.schemas import (
    AUTH_ERRORS,
    BOOL,
    ERRORS,
    INT,
    NTIME,
    STR,
    VISIBLE,
    body,
    json_answer,
    obj,
    path_id,
    ref,
)
from data.accounts.users import MAX_NAME, MAX_PASSWORD, MIN_PASSWORD
from data.roles import ROLES

# The API strips the name; one with nothing but spaces is refused, so the document asks for
# at least one non-space character, and none is U+0000 (PostgreSQL cannot store it).
_NAME = {"type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": VISIBLE}
_ROLE = {"type": "string", "enum": list(ROLES)}
_TOKEN = {
    "id": INT,
    "name": STR,
    "role": _ROLE,
    "prefix": STR,
    "created_at": NTIME,
    "last_used_at": NTIME,
    "revoked": BOOL,
}
_USER = {"id": INT, "name": STR, "role": _ROLE, "disabled": BOOL}


def _switch_off(operation_id: str, summary: str, id_name: str, flag: str) -> dict[str, Any]:
    """DELETE on one token or user by id: it answers {"id", <flag>: true}, 404, or 409 for the
    token or user the request itself is made with."""
    return {
        "delete": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [path_id(id_name)],
            "responses": {
                "200": json_answer(obj({"id": INT, flag: BOOL})),
                **AUTH_ERRORS,
                "404": ERRORS["404"],
                "409": json_answer(ref("Error"), "The request's own credential"),
            },
        }
    }


def admin_paths() -> dict[str, Any]:
    """Operations for the admin role only."""
    new_token = obj({"role": _ROLE, "name": _NAME}, additionalProperties=False)
    new_user = obj(
        {
            "role": _ROLE,
            "name": _NAME,
            "password": {
                "type": ["string", "null"],
                "minLength": MIN_PASSWORD,
                "maxLength": MAX_PASSWORD,
                "description": "absent or null: one is generated and shown in the answer once",
            },
        },
        ["role", "name"],
        additionalProperties=False,
    )
    created_user = obj(
        {
            **_USER,
            "password": {"type": "string", "description": "only when generated (none was sent)"},
        },
        list(_USER),
    )
    return {
        "/admin/tokens": {
            "get": {
                "operationId": "listTokens",
                "summary": "API tokens (no secrets)",
                "responses": {
                    "200": json_answer({"type": "array", "items": obj(_TOKEN)}),
                    **AUTH_ERRORS,
                },
            },
            "post": {
                "operationId": "createToken",
                "summary": "Create a token; its secret is in this answer only",
                "requestBody": body(new_token),
                "responses": {
                    "201": {
                        **json_answer(obj({**_TOKEN, "token": STR}), "Created"),
                        "links": {
                            "RevokeToken": {
                                "operationId": "revokeToken",
                                "parameters": {"token_id": "$response.body#/id"},
                            }
                        },
                    },
                    "400": ERRORS["400"],
                    **AUTH_ERRORS,
                },
            },
        },
        "/admin/tokens/{token_id}": _switch_off(
            "revokeToken", "Revoke a token", "token_id", "revoked"
        ),
        "/admin/users": {
            "get": {
                "operationId": "listUsers",
                "summary": "Users",
                "responses": {
                    "200": json_answer({"type": "array", "items": obj(_USER)}),
                    **AUTH_ERRORS,
                },
            },
            "post": {
                "operationId": "createUser",
                "summary": "Create a user; a generated password is in this answer only",
                "requestBody": body(new_user),
                "responses": {
                    "201": {
                        **json_answer(created_user, "Created"),
                        "links": {
                            "DisableUser": {
                                "operationId": "disableUser",
                                "parameters": {"user_id": "$response.body#/id"},
                            }
                        },
                    },
                    "400": ERRORS["400"],
                    **AUTH_ERRORS,
                    "409": json_answer(ref("Error"), "Name taken"),
                },
            },
        },
        "/admin/users/{user_id}": _switch_off(
            "disableUser", "Disable a user (their sessions end)", "user_id", "disabled"
        ),
        "/ws/stats": {
            "get": {
                "operationId": "socketStats",
                "summary": "WebSocket connection statistics",
                "responses": {"200": json_answer({"type": "object"}), **AUTH_ERRORS},
            }
        },
    }
