"""Maintenance hub page: filter bar and ticket grid, the ticket detail slot, the new-ticket
form and the alert feed (each built in its own components module)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.ticket_filters import filter_bar
from components.ticket_form import create_form
from components.ticket_grid import tickets_grid


def maintenance_page(machines: list[dict[str, Any]]) -> html.Div:
    return html.Div(
        [
            html.Div(html.H1("Maintenance", className="page-title"), className="page-head"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            filter_bar(machines),
                            html.Div(id="tickets-count", className="muted small mb-1"),
                            tickets_grid(),
                            html.Div(id="ticket-detail", className="mt-3"),
                        ],
                        xl=9,
                    ),
                    dbc.Col(
                        [
                            dbc.Card(
                                dbc.CardBody(
                                    [
                                        html.H6("New ticket", className="panel-title"),
                                        create_form(machines),
                                    ]
                                ),
                                className="panel mb-3",
                            ),
                            dbc.Card(
                                dbc.CardBody(
                                    [
                                        html.H6("Live alerts", className="panel-title"),
                                        html.Div(
                                            id="alerts",
                                            className="alert-feed",
                                            **{"aria-live": "polite"},
                                        ),
                                    ]
                                ),
                                className="panel",
                            ),
                        ],
                        xl=3,
                    ),
                ],
                className="g-3",
            ),
            dcc.Store(id="alerts-seq"),
            dcc.Store(id="selected-ticket"),
        ],
        id="maintenance-page",
    )
