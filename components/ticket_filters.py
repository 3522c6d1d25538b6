"""The filter bar above the ticket grid: status, priority, machine, search and CSV export."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from data.vocabulary import TICKET_PRIORITIES, TICKET_STATUSES


def choice_options(values: tuple[str, ...]) -> list[dict[str, str]]:
    """Options for a select or dropdown: each value, labelled with spaces for underscores."""
    return [{"label": v.replace("_", " "), "value": v} for v in values]


def _dropdown(md: int, **dropdown: Any) -> dbc.Col:
    return dbc.Col(dcc.Dropdown(**dropdown), md=md)


def filter_bar(machines: list[dict[str, Any]]) -> dbc.Row:
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
                html.A(
                    dbc.Button("Export CSV", color="secondary", className="w-100"),
                    id="export-csv",
                    href="/api/v1/tickets/export.csv",
                    download="",
                    title="Download every ticket of the current filter and sort",
                ),
                md=2,
            ),
        ],
        className="g-2 mb-2 filter-bar",
    )
