"""Maintenance hub page: filter bar and ticket list (a grid, cards on a phone), the ticket
drawer beside it, the live alert feed and the new-ticket form (each built in its own
components module).

The form sits below the alert feed in the right column: the critical-alert toast (top right,
components/layout.py) then covers the feed, which says the same thing, never the form. On a
phone the form is one tap away ("New ticket" jumps to it)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.pages import page_head
from components.plant_head import time_head
from components.ticket_detail import ticket_drawer
from components.ticket_filters import filter_bar
from components.ticket_form import create_form
from components.ticket_grid import tickets_grid


def _panel(title: str, body: Any, panel_id: str, **extra: Any) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody([html.H6(title, className="panel-title"), body]),
        className="panel mb-3",
        id=panel_id,
        **extra,
    )


def maintenance_page(
    machines: list[dict[str, Any]], can_write: bool = True, time_line: list[Any] | None = None
) -> html.Div:
    """The hub; `can_write` False shows the forms disabled with a sign-in link; `time_line`:
    the head's zone note (components/plant_head.py)."""
    head = page_head(
        "Maintenance",
        time_head("maintenance-time", time_line or []),
        html.A(
            "New ticket",
            href="#new-ticket",
            id="new-ticket-open",
            role="button",
            className="btn btn-primary btn-sm new-ticket-open",
        ),
    )
    alerts = html.Div(id="alerts", className="alert-feed", **{"aria-live": "polite"})
    return html.Div(
        [
            head,
            dbc.Row(
                [
                    dbc.Col(
                        [
                            filter_bar(machines),
                            html.Div(
                                [
                                    html.Span(id="tickets-count"),
                                    html.Span(id="card-result", role="status"),
                                ],
                                className="muted small mb-1 tickets-count-line",
                            ),
                            tickets_grid(),
                        ],
                        xl=9,
                        lg=8,
                    ),
                    dbc.Col(
                        [
                            _panel("Live alerts", alerts, "alerts-panel"),
                            _panel(
                                "New ticket",
                                create_form(machines, can_write),
                                "new-ticket",
                            ),
                        ],
                        xl=3,
                        lg=4,
                        className="hub-side",
                    ),
                ],
                className="g-3",
            ),
            ticket_drawer(),
            dcc.Store(id="alerts-seq"),
            dcc.Store(id="drawer-ticket"),
        ],
        id="maintenance-page",
    )
