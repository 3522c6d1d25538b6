"""Ticket payloads checked with messages a person would write: "The title needs at least 3
characters." rather than the validation library's "String should have at least 3 characters".
The API's 400 answers and the hub's form show the same words."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from data.errors import ValidationFailed
from data.vocabulary import TICKET_PRIORITIES, TICKET_STATUSES

M = TypeVar("M", bound=BaseModel)

# How a field is named in a sentence.
_NAMES = {
    "machine_id": "the machine",
    "title": "the title",
    "description": "the description",
    "priority": "the priority",
    "assignee": "the assignee",
    "status": "the status",
}
_CHOICES = {
    "priority": ", ".join(TICKET_PRIORITIES),
    "status": ", ".join(s.replace("_", " ") for s in TICKET_STATUSES),
}


def _sentence(field: str, error: dict[str, Any]) -> str:
    """One field's problem as a sentence."""
    kind, limits = error["type"], error.get("ctx") or {}
    name = _NAMES.get(field, field.replace("_", " "))
    if kind == "extra_forbidden":
        return f"{field} is not a ticket field; leave it out."
    if kind == "missing":
        return f"Give {name}." if field != "machine_id" else "Choose a machine."
    if field == "machine_id":
        return "Choose a machine from the list (a machine id, a whole number)."
    if field in _CHOICES:
        return f"Choose {name}: one of {_CHOICES[field]}."
    if kind == "string_too_short":
        least = limits.get("min_length", 1)
        return f"{name.capitalize()} needs at least {least} characters."
    if kind == "string_too_long":
        most = limits.get("max_length", 0)
        return f"{name.capitalize()} can have at most {most:,} characters."
    if kind == "value_error" and limits.get("error"):
        return f"{name.capitalize()} {limits['error']}."
    if kind.startswith("string"):
        return f"{name.capitalize()} must be text."
    return f"{name.capitalize()} is not valid."


def parse_ticket(model: type[M], payload: Any) -> M:
    """Validate a ticket payload into `model`, or raise ValidationFailed whose `details` hold
    one sentence per field and whose message names the fields in words."""
    if not isinstance(payload, dict):
        raise ValidationFailed("Send the ticket as a JSON object.")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        details: dict[str, str] = {}
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"]) or "body"
            details.setdefault(field, _sentence(field, error))
        names = [_NAMES.get(f, f) for f in sorted(details)]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        raise ValidationFailed(f"Please check {listed}.", details) from None
