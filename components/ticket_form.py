"""The new-ticket form of the maintenance hub (ids new-*, errors in new-*-error)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from components.ticket_filters import choice_options
from data.vocabulary import TICKET_PRIORITIES

# Where a person who may not write goes to sign in, and back to the hub afterwards.
SIGN_IN_HREF = "/login?next=/maintenance"
DEFAULT_PRIORITY = "medium"


def sign_in_note(what: str, note_id: str | None = None) -> html.Div:
    """Why a form is greyed out, with the way to use it: "Sign in as an operator"."""
    return html.Div(
        [
            html.A("Sign in as an operator", href=SIGN_IN_HREF, className="sign-in-operator"),
            f" to {what}.",
        ],
        className="write-gate",
        **({"id": note_id} if note_id else {}),
    )


def create_form(machines: list[dict[str, Any]], can_write: bool = True) -> dbc.Form:
    """The new-ticket form; for a role that may not write, every control is disabled and a
    sign-in link says why (the callback still checks the role on submit)."""
    off = not can_write

    def field(label: str, control: Any, name: str) -> html.Div:
        return html.Div(
            [
                dbc.Label(label, html_for=f"new-{name}"),
                control,
                dbc.FormFeedback(id=f"new-{name}-error", type="invalid"),
            ],
            className="mb-2",
        )

    return dbc.Form(
        [
            *([sign_in_note("open tickets", "new-sign-in")] if off else []),
            field(
                "Machine",
                dbc.Select(
                    id="new-machine",
                    options=[
                        {"label": f"{m['name']} ({m['area']})", "value": str(m["id"])}
                        for m in machines
                    ],
                    placeholder="Choose a machine",
                    disabled=off,
                ),
                "machine",
            ),
            field(
                "Title",
                dbc.Input(
                    id="new-title", placeholder="What is wrong?", maxLength=200, disabled=off
                ),
                "title",
            ),
            field(
                "Description",
                dbc.Textarea(
                    id="new-description",
                    rows=3,
                    maxLength=10000,
                    placeholder="Symptoms, alarms, what was tried",
                    disabled=off,
                ),
                "description",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        field(
                            "Priority",
                            dbc.Select(
                                id="new-priority",
                                value=DEFAULT_PRIORITY,
                                options=choice_options(TICKET_PRIORITIES),
                                disabled=off,
                            ),
                            "priority",
                        )
                    ),
                    dbc.Col(
                        field(
                            "Assignee",
                            dbc.Input(id="new-assignee", placeholder="optional", disabled=off),
                            "assignee",
                        )
                    ),
                ]
            ),
            dbc.Button(
                "Open ticket",
                id="new-submit",
                color="primary",
                type="submit",
                className="w-100",
                disabled=off,
            ),
            html.Div(id="new-result", className="form-result mt-2", role="status"),
        ],
        id="create-ticket-form",
        className="create-form" + (" is-disabled" if off else ""),
        prevent_default_on_submit=True,
    )
