"""The hub's new-ticket form: per-field messages on bad input, every field reset after a
ticket is opened. The form is shown disabled to a role that may not write; the role check
here stays the real guard."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, no_update

from callbacks.deps import Deps
from components.ticket_form import DEFAULT_PRIORITY
from data.errors import NotFound, ServiceError, ValidationFailed

FORM_FIELDS = ("machine", "title", "description", "priority", "assignee")
# After a ticket is opened every field starts again: no machine, no text, medium priority.
CLEARED = (None, "", "", DEFAULT_PRIORITY, "")


def create_ticket(deps: Deps, *values: Any) -> tuple[Any, ...]:
    """Submit the form. Answers, in order: each field's `invalid`, each field's message, the
    form's message, then each field's new value (cleared on success, kept otherwise)."""
    payload = dict(zip(FORM_FIELDS, values, strict=True))
    no_errors = [False] * len(FORM_FIELDS) + [""] * len(FORM_FIELDS)
    keep = [no_update] * len(FORM_FIELDS)
    who = deps.principal()
    if not deps.can_write() or who is None:
        return (*no_errors, "Only operators and admins can open tickets: sign in first.", *keep)
    body = {
        "machine_id": int(payload["machine"]) if str(payload["machine"] or "").isdigit() else None,
        "title": payload["title"] or "",
        "description": payload["description"] or "",
        "priority": payload["priority"],
        "assignee": payload["assignee"] or None,
    }
    try:
        ticket = deps.services.create_ticket(body, who.name)
    except ServiceError as exc:
        details = exc.details if isinstance(exc, ValidationFailed) and exc.details else {}
        if isinstance(exc, NotFound):
            details = {"machine_id": "That machine no longer exists: choose another."}
        names = {"machine_id": "machine"}
        errors = {names.get(k, k): v for k, v in details.items()}
        if body["machine_id"] is None:
            errors["machine"] = "Choose a machine."
        invalid = [f in errors for f in FORM_FIELDS]
        messages = [str(errors.get(f, "")) for f in FORM_FIELDS]
        return (*invalid, *messages, "Please correct the marked fields.", *keep)
    return (*no_errors, f"Ticket #{ticket['id']} opened.", *CLEARED)


def register(app: Dash, deps: Deps) -> None:
    """The form's submit callback."""
    app.callback(
        *[Output(f"new-{f}", "invalid") for f in FORM_FIELDS],
        *[Output(f"new-{f}-error", "children") for f in FORM_FIELDS],
        Output("new-result", "children"),
        *[Output(f"new-{f}", "value") for f in FORM_FIELDS],
        Input("create-ticket-form", "n_submit"),
        Input("new-submit", "n_clicks"),
        *[State(f"new-{f}", "value") for f in FORM_FIELDS],
        prevent_initial_call=True,
    )(lambda _s, _c, *values: create_ticket(deps, *values))
