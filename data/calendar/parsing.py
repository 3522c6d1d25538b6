"""A calendar document from a request body, with a message per field a person can act on:
"shifts.1.start: must be a time of day as HH:MM" rather than the validation library's words."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from data.calendar.document import CalendarDocument
from data.errors import Unprocessable, ValidationFailed

_PREFIX = "Value error, "


def _message(error: dict[str, Any]) -> str:
    msg = str(error["msg"])
    if msg.startswith(_PREFIX):
        return msg[len(_PREFIX) :]
    kind = error["type"]
    limits = error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind in ("string_too_short", "too_short"):
        return f"needs at least {limits.get('min_length', 1)}"
    if kind in ("string_too_long", "too_long"):
        return f"may have at most {limits.get('max_length', 0)}"
    if kind.startswith("datetime"):
        return "must be an ISO 8601 time with an offset, e.g. 2026-12-24T00:00:00+01:00"
    if kind.startswith(("int", "greater", "less")):
        return "must be a machine id (a whole number) or null"
    if kind == "list_type":
        return "must be a list"
    if kind == "string_type":
        return "must be text"
    return msg[:1].lower() + msg[1:]


def parse_calendar(payload: Any) -> CalendarDocument:
    """The checked document, or Unprocessable (422) naming each bad field."""
    if not isinstance(payload, dict):
        raise ValidationFailed("Send the calendar as a JSON object.")
    try:
        return CalendarDocument.model_validate(payload)
    except ValidationError as exc:
        details: dict[str, str] = {}
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "calendar"
            details.setdefault(name, _message(dict(err)))
        field, problem = next(iter(details.items()))
        where = "" if field == "calendar" else f"{field}: "
        message = f"The calendar cannot be used: {where}{problem}."
        raise Unprocessable(message, details) from None
