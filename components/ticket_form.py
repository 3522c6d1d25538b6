"""The new-ticket form of the maintenance hub (ids new-*, errors in new-*-error)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from components.ticket_filters import choice_options
from data.vocabulary import TICKET_PRIORITIES


def create_form(machines: list[dict[str, Any]]) -> dbc.Form:
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
            field(
                "Machine",
                dbc.Select(
                    id="new-machine",
                    options=[
                        {"label": f"{m['name']} ({m['area']})", "value": str(m["id"])}
                        for m in machines
                    ],
                    placeholder="Choose a machine",
                ),
                "machine",
            ),
            field(
                "Title",
                dbc.Input(id="new-title", placeholder="What is wrong?", maxLength=200),
                "title",
            ),
            field(
                "Description",
                dbc.Textarea(
                    id="new-description",
                    rows=3,
                    maxLength=10000,
                    placeholder="Symptoms, alarms, what was tried",
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
                                value="medium",
                                options=choice_options(TICKET_PRIORITIES),
                            ),
                            "priority",
                        )
                    ),
                    dbc.Col(
                        field(
                            "Assignee",
                            dbc.Input(id="new-assignee", placeholder="optional"),
                            "assignee",
                        )
                    ),
                ]
            ),
            dbc.Button(
                "Open ticket", id="new-submit", color="primary", type="submit", className="w-100"
            ),
            html.Div(id="new-result", className="form-result mt-2", role="status"),
        ],
        id="create-ticket-form",
        prevent_default_on_submit=True,
    )
