"""The OpenAPI 3 document of the REST API (served at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from data.events import ALL, TOPICS
from data.models import MACHINE_STATUSES, TICKET_PRIORITIES, TICKET_STATUSES
from data.validation import MAX_ID

STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
INT = {"type": "integer"}
NUM = {"type": "number"}
TIME = {"type": "string", "format": "date-time"}
NTIME = {"type": ["string", "null"], "format": "date-time"}


def _obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required or list(props), **extra}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _q(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _path_id(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    }


ERRORS = {
    code: _json(_ref("Error"), text)
    for code, text in (
        ("400", "Invalid input; nothing was written"),
        ("401", "No or bad credentials"),
        ("403", "Role too small"),
        ("404", "Unknown id"),
    )
}

TICKET_FILTERS = [
    _q("status", STR, f"comma list of {', '.join(TICKET_STATUSES)}"),
    _q("priority", STR, f"comma list of {', '.join(TICKET_PRIORITIES)}"),
    _q("machine_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID}),
    _q("q", {"type": "string", "maxLength": 200}, "text in title, description or machine"),
    _q("created_from", TIME),
    _q("created_to", TIME),
    _q("sort", STR, "field, '-' prefix for descending, e.g. -created_at"),
]


def _schemas() -> dict[str, Any]:
    ticket_props = {
        "id": INT,
        "machine_id": INT,
        "machine_name": STR,
        "title": STR,
        "description": STR,
        "priority": {"enum": list(TICKET_PRIORITIES)},
        "status": {"enum": list(TICKET_STATUSES)},
        "assignee": NSTR,
        "reported_by": STR,
        "created_at": TIME,
        "updated_at": TIME,
        "resolved_at": NTIME,
    }
    history = _obj({"field": STR, "from": NSTR, "to": NSTR, "by": STR, "at": TIME})
    return {
        "Error": _obj(
            {"error": _obj({"code": STR, "message": STR, "details": {}}, ["code", "message"])}
        ),
        "Machine": _obj(
            {
                "id": INT,
                "name": STR,
                "area": STR,
                "kind": STR,
                "status": {"enum": list(MACHINE_STATUSES)},
                "status_since": TIME,
                "utilization_24h": NUM,
            }
        ),
        "Ticket": _obj(ticket_props),
        "TicketWithHistory": _obj({**ticket_props, "history": {"type": "array", "items": history}}),
        "TicketCreate": _obj(
            {
                "machine_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                "title": {"type": "string", "minLength": 3, "maxLength": 200},
                "description": {"type": "string", "maxLength": 10000},
                "priority": {"enum": list(TICKET_PRIORITIES)},
                "assignee": {"type": ["string", "null"], "maxLength": 120},
            },
            ["machine_id", "title", "priority"],
            additionalProperties=False,
        ),
        "TicketUpdate": _obj(
            {
                "status": {"enum": list(TICKET_STATUSES)},
                "assignee": {"type": ["string", "null"], "maxLength": 120},
                "priority": {"enum": list(TICKET_PRIORITIES)},
            },
            [],
            additionalProperties=False,
        ),
        "StatusReport": _obj(
            {
                "status": {"enum": list(MACHINE_STATUSES)},
                "reason": {"type": ["string", "null"], "maxLength": 200},
            },
            ["status"],
            additionalProperties=False,
        ),
        "ProductionReport": _obj(
            {
                "machine_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                "good": {"type": "integer", "minimum": 0, "maximum": 1000000},
                "scrap": {"type": "integer", "minimum": 0, "maximum": 1000000},
                "ts": TIME,
            },
            ["machine_id", "good", "scrap"],
            additionalProperties=False,
        ),
        "Frame": _obj(
            {
                "type": STR,
                "seq": INT,
                "topic": {"enum": [*TOPICS, ALL]},
                "timestamp": TIME,
                "data": {"type": "object"},
            }
        ),
    }


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _paths() -> dict[str, Any]:
    body = _body
    e = ERRORS
    return {
        "/health": {
            "get": {
                "summary": "Health of the server and its parts",
                "security": [],
                "responses": {
                    "200": _json(_obj({"status": STR, "database": STR, "broker": STR})),
                    "503": _json({"type": "object"}, "A part fails"),
                },
            }
        },
        "/machines": {
            "get": {
                "summary": "All machines",
                "responses": {
                    "200": _json({"type": "array", "items": _ref("Machine")}),
                    "401": e["401"],
                    "403": e["403"],
                },
            }
        },
        "/machines/{machine_id}/status": {
            "post": {
                "summary": "Report a machine's status",
                "parameters": [_path_id("machine_id")],
                "requestBody": body("StatusReport"),
                "responses": {"200": _json(_ref("Machine")), **e},
            }
        },
        "/production": {
            "post": {
                "summary": "Record good and scrap parts",
                "requestBody": body("ProductionReport"),
                "responses": {"201": _json({"type": "object"}), **e},
            }
        },
        "/tickets": {
            "get": {
                "summary": "Search tickets",
                "parameters": [
                    *TICKET_FILTERS,
                    _q("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                    _q("offset", {"type": "integer", "minimum": 0, "maximum": MAX_ID}),
                ],
                "responses": {
                    "200": _json(
                        _obj({"items": {"type": "array", "items": _ref("Ticket")}, "total": INT})
                    ),
                    "400": e["400"],
                    "401": e["401"],
                    "403": e["403"],
                },
            },
            "post": {
                "summary": "Open a ticket",
                "requestBody": body("TicketCreate"),
                "responses": {"201": _json(_ref("Ticket")), **e},
            },
        },
        "/tickets/export.csv": {
            "get": {
                "summary": "Every matching ticket as CSV",
                "parameters": [
                    *TICKET_FILTERS,
                    _q("tz", STR, "IANA time zone for the time columns, e.g. Europe/Berlin"),
                    _q("bom", {"type": "string", "enum": ["0", "1"]}, "1: start with a UTF-8 BOM"),
                ],
                "responses": {
                    "200": {"description": "CSV", "content": {"text/csv": {}}},
                    "400": e["400"],
                    "401": e["401"],
                    "403": e["403"],
                },
            }
        },
        "/tickets/{ticket_id}": {
            "get": {
                "summary": "A ticket with its history",
                "parameters": [_path_id("ticket_id")],
                "responses": {"200": _json(_ref("TicketWithHistory")), **e},
            },
            "patch": {
                "summary": "Change status, assignee or priority",
                "parameters": [_path_id("ticket_id")],
                "requestBody": body("TicketUpdate"),
                "responses": {
                    "200": _json(_ref("TicketWithHistory")),
                    **e,
                    "409": _json(_ref("Error"), "Move outside the workflow"),
                },
            },
        },
        "/dashboard/overview": {
            "get": {
                "summary": "Plant KPIs over a window",
                "parameters": [_q("from", TIME), _q("to", TIME)],
                "responses": {
                    "200": _json({"type": "object"}),
                    "400": e["400"],
                    "401": e["401"],
                    "403": e["403"],
                },
            }
        },
        "/events": {
            "get": {
                "summary": "Events after a seq (polling fallback and gap filler)",
                "parameters": [
                    _q("since", {"type": "integer", "minimum": 0, "maximum": 2**62}),
                    _q("topics", STR, "comma list of topics"),
                    _q("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                ],
                "responses": {
                    "200": _json(
                        _obj(
                            {
                                "events": {"type": "array", "items": _ref("Frame")},
                                "seq": INT,
                                "complete": {"type": "boolean"},
                            }
                        )
                    ),
                    "400": e["400"],
                    "401": e["401"],
                    "403": e["403"],
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": _json({"type": "object"})},
            }
        },
    }


def _admin_paths() -> dict[str, Any]:
    e = ERRORS
    auth = {"401": e["401"], "403": e["403"]}
    token = _obj(
        {
            "id": INT,
            "name": STR,
            "role": STR,
            "prefix": STR,
            "created_at": NTIME,
            "last_used_at": NTIME,
            "revoked": {"type": "boolean"},
        }
    )
    user = _obj({"id": INT, "name": STR, "role": STR, "disabled": {"type": "boolean"}})
    roles = {"enum": ["viewer", "operator", "admin", "display"]}
    new_token = _obj(
        {"role": roles, "name": {"type": "string", "minLength": 1, "maxLength": 120}},
        additionalProperties=False,
    )
    new_user = _obj(
        {
            "role": roles,
            "name": {"type": "string", "minLength": 1, "maxLength": 120},
            "password": {"type": "string", "minLength": 10},
        },
        ["role", "name"],
        additionalProperties=False,
    )

    def body(schema: dict[str, Any]) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    return {
        "/admin/tokens": {
            "get": {
                "summary": "API tokens (no secrets)",
                "responses": {"200": _json({"type": "array", "items": token}), **auth},
            },
            "post": {
                "summary": "Create a token; its secret is in this answer only",
                "requestBody": body(new_token),
                "responses": {"201": _json({"type": "object"}), "400": e["400"], **auth},
            },
        },
        "/admin/tokens/{token_id}": {
            "delete": {
                "summary": "Revoke a token",
                "parameters": [_path_id("token_id")],
                "responses": {"200": _json({"type": "object"}), **auth, "404": e["404"]},
            }
        },
        "/admin/users": {
            "get": {
                "summary": "Users",
                "responses": {"200": _json({"type": "array", "items": user}), **auth},
            },
            "post": {
                "summary": "Create a user; a generated password is in this answer only",
                "requestBody": body(new_user),
                "responses": {
                    "201": _json({"type": "object"}),
                    "400": e["400"],
                    **auth,
                    "409": _json(_ref("Error"), "Name taken"),
                },
            },
        },
        "/admin/users/{user_id}": {
            "delete": {
                "summary": "Disable a user (their sessions end)",
                "parameters": [_path_id("user_id")],
                "responses": {"200": _json({"type": "object"}), **auth, "404": e["404"]},
            }
        },
        "/ws/stats": {
            "get": {
                "summary": "WebSocket connection statistics",
                "responses": {"200": _json({"type": "object"}), **auth},
            }
        },
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Mill Dash API", "version": "1.0.0"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {**_paths(), **_admin_paths()},
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def register(bp: Blueprint) -> None:
    @bp.get("/openapi.json")
    def openapi() -> Any:
        return jsonify(document())
