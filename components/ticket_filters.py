"""The filter bar above the ticket grid: status, priority, machine, search and CSV export."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.wording import label
from data.vocabulary import TICKET_PRIORITIES, TICKET_STATUSES


def choice_options(values: tuple[str, ...]) -> list[dict[str, str]]:
    """Options for a select or dropdown: each value as a person says it ("in progress")."""
    return [{"label": label(v), "value": v} for v in values]


def _dropdown(md: int, **dropdown: Any) -> dbc.Col:
    return dbc.Col(dcc.Dropdown(**dropdown), md=md)


def filter_bar(machines: list[dict[str, Any]]) -> dbc.Row:
    """Status, priority, machine, search text and the export link of the current filter."""
    return dbc.Row(
        [
            _dropdown(
                3,
                id="filter-status",
                options=choice_options(TICKET_STATUSES),
                multi=True,
                placeholder="Status",
                value=["open", "in_progress", "on_hold"],
            ),
            _dropdown(
                2,
                id="filter-priority",
                options=choice_options(TICKET_PRIORITIES),
                multi=True,
                placeholder="Priority",
            ),
            _dropdown(
                2,
                id="filter-machine",
                placeholder="Machine",
                options=[{"label": m["name"], "value": m["id"]} for m in machines],
            ),
            dbc.Col(
                dbc.Input(
                    id="filter-q",
                    placeholder="Search title, description, machine",
                    debounce=True,
                    type="search",
                ),
                md=3,
            ),
            dbc.Col(
                # A link styled as a button (not a button inside a link): it looks and acts
                # enabled, and a keyboard reaches it once.
                html.A(
                    "Export CSV",
                    id="export-csv",
                    href="/api/v1/tickets/export.csv",
                    download="",
                    role="button",
                    className="btn btn-outline-info w-100 export-csv",
                    title="Download every ticket of the current filter and sort",
                ),
                md=2,
            ),
        ],
        className="g-2 mb-2 filter-bar",
    )
