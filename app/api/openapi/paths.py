"""The operations of the OpenAPI document: plant, tickets, events (admin ones in admin.py)."""

from __future__ import annotations

from typing import Any

from app.api.dashboard import MAX_EVENTS, MAX_SINCE
from app.api.openapi.schemas import (
    AUTH_ERRORS,
    BOOL,
    ERRORS,
    FLAG,
    INT,
    PAGING,
    READ_ERRORS,
    STR,
    TICKET_FILTERS,
    TIME,
    TOPIC_LIST,
    body,
    json_answer,
    obj,
    path_id,
    query,
    ref,
)
from app.api.windows import MAX_WINDOW

# The ticket a POST /tickets answer names can be read and changed next (stateful clients and
# tests follow these links).
_TICKET_LINKS = {
    "GetTicket": {"operationId": "getTicket", "parameters": {"ticket_id": "$response.body#/id"}},
    "UpdateTicket": {
        "operationId": "updateTicket",
        "parameters": {"ticket_id": "$response.body#/id"},
    },
}


# Optimistic concurrency on one ticket (RFC 9110 §13.1.1): GET sends the ETag, PATCH may
# name it in If-Match.
_ETAG = {
    "ETag": {
        "description": "The ticket's version (strong); send it as If-Match to change it safely",
        "schema": STR,
    }
}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": STR,
    "description": "The ETag of the ticket as last read: the change applies only if nobody "
    "changed the ticket since (else 412 with the current ticket); `*` matches any version. "
    "Without it the change applies as before.",
}


def _tagged(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    """A JSON answer that carries the ticket's ETag header."""
    return {**json_answer(schema, description), "headers": _ETAG}


def _plant() -> dict[str, Any]:
    return {
        "/health": {
            "get": {
                "operationId": "health",
                "summary": "Health of the server and its parts",
                "security": [],
                "parameters": [
                    query(
                        "deep",
                        FLAG,
                        "1: also read every table (readiness; slower); 0 or absent: ping only",
                    )
                ],
                "responses": {
                    "200": json_answer(
                        ref("Health"),
                        "Up; `degraded` with `broker: failed` while Redis is unreachable "
                        "(events still flow through the event log)",
                    ),
                    "400": ERRORS["400"],
                    "503": json_answer(
                        ref("Health"), "The database fails; the failing part is named"
                    ),
                },
            }
        },
        "/machines": {
            "get": {
                "operationId": "listMachines",
                "summary": "All machines",
                "responses": {
                    "200": json_answer({"type": "array", "items": ref("Machine")}),
                    **AUTH_ERRORS,
                },
            }
        },
        "/machines/{machine_id}/status": {
            "post": {
                "operationId": "reportStatus",
                "summary": "Report a machine's status",
                "parameters": [path_id("machine_id")],
                "requestBody": body(ref("StatusReport")),
                "responses": {"200": json_answer(ref("Machine")), **ERRORS},
            }
        },
        "/production": {
            "post": {
                "operationId": "recordProduction",
                "summary": "Record good and scrap parts",
                "requestBody": body(ref("ProductionReport")),
                "responses": {"201": json_answer({"type": "object"}, "Recorded"), **ERRORS},
            }
        },
    }


def _tickets() -> dict[str, Any]:
    page = obj({"items": {"type": "array", "items": ref("Ticket")}, "total": INT})
    return {
        "/tickets": {
            "get": {
                "operationId": "listTickets",
                "summary": "Search tickets",
                "parameters": [*TICKET_FILTERS, *PAGING],
                "responses": {"200": json_answer(page), **READ_ERRORS},
            },
            "post": {
                "operationId": "createTicket",
                "summary": "Open a ticket",
                "requestBody": body(ref("TicketCreate")),
                "responses": {
                    "201": {**json_answer(ref("Ticket"), "Opened"), "links": _TICKET_LINKS},
                    **ERRORS,
                },
            },
        },
        "/tickets/export.csv": {
            "get": {
                "operationId": "exportTickets",
                "summary": "Every matching ticket as CSV",
                "parameters": [
                    *TICKET_FILTERS,
                    query("tz", time_zones(), "IANA time zone of the time columns (default UTC)"),
                    query("bom", FLAG, "1: start with a UTF-8 byte-order mark"),
                ],
                "responses": {
                    "200": {"description": "CSV", "content": {"text/csv": {"schema": {}}}},
                    **READ_ERRORS,
                },
            }
        },
        "/tickets/{ticket_id}": {
            "get": {
                "operationId": "getTicket",
                "summary": "A ticket with its history",
                "parameters": [path_id("ticket_id")],
                "responses": {"200": _tagged(ref("TicketWithHistory")), **ERRORS},
            },
            "patch": {
                "operationId": "updateTicket",
                "summary": "Change status, assignee or priority (each optional)",
                "parameters": [path_id("ticket_id"), _IF_MATCH],
                "requestBody": body(ref("TicketUpdate")),
                "responses": {
                    "200": _tagged(ref("TicketWithHistory")),
                    **ERRORS,
                    "409": json_answer(ref("Error"), "Move outside the workflow"),
                    "412": _tagged(
                        ref("TicketWithHistory"),
                        "The ticket changed since the If-Match ETag: the current ticket, "
                        "nothing written",
                    ),
                    "422": json_answer(ref("Error"), "Move outside the workflow"),
                },
            },
        },
    }


def time_zones() -> dict[str, Any]:
    """Every IANA zone name the server knows (what the export accepts)."""
    from zoneinfo import available_timezones

    return {"type": "string", "enum": sorted(available_timezones())}


def _reads() -> dict[str, Any]:
    days = MAX_WINDOW.days
    window = f"`from` must be before `to`, at most {days} days apart"
    return {
        "/dashboard/overview": {
            "get": {
                "operationId": "overview",
                "summary": "Plant KPIs over a window (default: the current shift, else 24 h)",
                "description": window,
                "parameters": [
                    query("from", TIME, "window start (ISO 8601)"),
                    query("to", TIME, "window end (ISO 8601; default now)"),
                ],
                "responses": {
                    "200": json_answer({"type": "object"}),
                    "400": json_answer(ref("Error"), f"Invalid input, or {window}"),
                    **AUTH_ERRORS,
                },
            }
        },
        "/events": {
            "get": {
                "operationId": "events",
                "summary": "Events after a seq (polling fallback and gap filler)",
                "parameters": [
                    query("since", {"type": "integer", "minimum": 0, "maximum": MAX_SINCE}),
                    TOPIC_LIST,
                    query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_EVENTS}),
                ],
                "responses": {
                    "200": json_answer(
                        obj(
                            {
                                "events": {"type": "array", "items": ref("Frame")},
                                "seq": INT,
                                "complete": BOOL,
                            }
                        )
                    ),
                    **READ_ERRORS,
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": [],
                "responses": {"200": json_answer({"type": "object"})},
            }
        },
    }


def core_paths() -> dict[str, Any]:
    """Every operation except the admin ones."""
    return {**_plant(), **_tickets(), **_reads()}
