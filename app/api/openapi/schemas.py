"""Building blocks of the OpenAPI document: small schema helpers, query parameters and the
component schemas.

Every enum and limit comes from the Python definition the API validates with (the pydantic
input models, the status/priority/role tuples, the topic list, the ticket filter), so the
document cannot drift from what the API accepts.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.realtime.protocol import VALID_TOPICS
from data.read.ticket_export import _FALSE, _TRUE
from data.read.ticket_queries import SORTABLE, TicketFilter
from data.validation import (
    MAX_ID,
    ProductionReport,
    StatusReport,
    TicketCreate,
    TicketUpdate,
)
from data.vocabulary import MACHINE_STATUSES, TICKET_PRIORITIES, TICKET_STATUSES

STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
INT = {"type": "integer"}
NUM = {"type": "number"}
TIME = {"type": "string", "format": "date-time"}
NTIME = {"type": ["string", "null"], "format": "date-time"}
BOOL = {"type": "boolean"}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """An object schema; every property is required unless `required` says otherwise."""
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
        **extra,
    }


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_answer(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def comma_list(name: str, values: list[str] | tuple[str, ...], description: str) -> dict[str, Any]:
    """A query parameter holding a comma-separated list of `values` (`a,b`: form, not
    exploded), the way the API splits it."""
    return {
        **query(name, {"type": "array", "items": {"type": "string", "enum": list(values)}}),
        "description": description,
        "style": "form",
        "explode": False,
    }


def path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": ID}


def body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _untitled(node: Any) -> Any:
    """`node` without pydantic's generated `title`s (noise in a generated client)."""
    if isinstance(node, dict):
        return {
            k: _untitled(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))
        }
    if isinstance(node, list):
        return [_untitled(v) for v in node]
    return node


# Text without U+0000, which every input model refuses (PostgreSQL cannot store it).
# The NUL is the character itself, not a regex escape (JSON writes it as \u0000): generators
# that translate ECMA regex escapes get it wrong.
NO_NUL = "^[^\x00]*$"
VISIBLE = "^[^\x00]*\\S[^\x00]*$"  # and at least one character that is not a space


def _no_nul(node: Any) -> Any:
    """Every free-text string of `node` (no enum, format or pattern of its own) says that it
    takes no U+0000, as the request bodies' models refuse it (data/validation.py)."""
    if isinstance(node, dict):
        node = {k: _no_nul(v) for k, v in node.items()}
        free = not ({"enum", "format", "pattern", "const"} & set(node))
        if node.get("type") == "string" and free:
            node["pattern"] = NO_NUL
        return node
    if isinstance(node, list):
        return [_no_nul(v) for v in node]
    return node


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of an input model, as the API validates it."""
    return _untitled(model.model_json_schema())


def _filter_field(name: str) -> dict[str, Any]:
    """One TicketFilter field's schema; a query parameter is absent rather than null."""
    schema = _no_nul(model_schema(TicketFilter))["properties"][name]
    for branch in schema.pop("anyOf", []):
        if branch.get("type") != "null":
            schema.update(branch)
    schema.pop("default", None)
    return schema


ERRORS = {
    code: json_answer(ref("Error"), text)
    for code, text in (
        ("400", "Invalid input; nothing was written"),
        ("401", "No or bad credentials"),
        ("403", "Role too small"),
        ("404", "Unknown id"),
    )
}
AUTH_ERRORS = {"401": ERRORS["401"], "403": ERRORS["403"]}
READ_ERRORS = {"400": ERRORS["400"], **AUTH_ERRORS}

# A yes/no query flag as the API reads it (lower case; empty = no): the export's `bom` and,
# with the same words, the health check's `deep`.
FLAG = {"type": "string", "enum": ["", *_FALSE, *_TRUE]}

# Sort keys: a field, or '-' and the field for descending (the API also reads '+field').
SORT_KEYS = [key for name in SORTABLE for key in (name, f"-{name}")]

TICKET_FILTERS = [
    comma_list("status", TICKET_STATUSES, "any of these statuses"),
    comma_list("priority", TICKET_PRIORITIES, "any of these priorities"),
    query("machine_id", _filter_field("machine_id")),
    query("q", _filter_field("q"), "text in title, description or machine"),
    query("created_from", _filter_field("created_from"), "created at or after (ISO 8601)"),
    query("created_to", _filter_field("created_to"), "created before (ISO 8601)"),
    comma_list("sort", SORT_KEYS, "sort keys in order, e.g. -priority,created_at"),
]
PAGING = [query("limit", _filter_field("limit")), query("offset", _filter_field("offset"))]
TOPIC_LIST = comma_list("topics", VALID_TOPICS, "topics to read; `all` (default) reads every one")


def _ticket_create() -> dict[str, Any]:
    """TicketCreate as validated: the title is trimmed before its length is checked, so it
    needs at least 3 characters between its first and last non-space (and no U+0000)."""
    schema = _no_nul(model_schema(TicketCreate))
    schema["properties"]["title"]["pattern"] = "^\\s*[^\\s\x00][^\x00]+[^\\s\x00]\\s*$"
    return schema


def components() -> dict[str, Any]:
    """The named schemas: answers by hand, request bodies from the input models."""
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
    history = obj({"field": STR, "from": NSTR, "to": NSTR, "by": STR, "at": TIME})
    return {
        "Error": obj(
            {"error": obj({"code": STR, "message": STR, "details": {}}, ["code", "message"])}
        ),
        "Health": obj(
            {
                "status": {"type": "string", "enum": ["ok", "degraded", "error"]},
                "database": STR,
                "broker": STR,
                "failed": {"type": "array", "items": STR, "description": "unreadable tables"},
                "broker_error": STR,
            },
            ["status", "database", "broker"],
        ),
        "Machine": obj(
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
        "Ticket": obj(ticket_props),
        "TicketWithHistory": obj(
            {
                **ticket_props,
                "version": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "rises with every change; the ETag names it",
                },
                "history": {"type": "array", "items": history},
            }
        ),
        "TicketCreate": _ticket_create(),
        "TicketUpdate": _no_nul(model_schema(TicketUpdate)),
        "StatusReport": _no_nul(model_schema(StatusReport)),
        "ProductionReport": _no_nul(model_schema(ProductionReport)),
        "Frame": obj(
            {
                "type": STR,
                "seq": INT,
                "topic": {"enum": list(VALID_TOPICS)},
                "timestamp": TIME,
                "data": {"type": "object"},
            }
        ),
    }
