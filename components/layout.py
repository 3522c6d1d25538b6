"""The page shell: header with navigation, and the page container."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

NAV = [
    ("/", "Dashboard"),
    ("/machines", "Machines"),
    ("/maintenance", "Maintenance"),
    ("/production", "Production"),
    ("/wall", "Wall"),
]


def header() -> dbc.Navbar:
    links = [dbc.NavItem(dbc.NavLink(label, href=href, active="exact")) for href, label in NAV]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand("Mill Dash", href="/"),
                dbc.Nav(links, navbar=True, className="me-auto"),
                html.Span(id="plant-clock", className="plant-clock"),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-3",
    )


def shell() -> html.Div:
    """The app layout: everything that outlives a page change sits here."""
    return html.Div(
        [
            dcc.Location(id="url"),
            header(),
            dbc.Container(html.Div(id="page"), fluid=True),
        ],
        **{"data-bs-theme": "dark"},
    )


def dashboard_page() -> html.Div:
    return html.Div(
        [
            dcc.Interval(id="dashboard-interval", interval=10_000),
            html.Div(id="dashboard-kpis"),
            dbc.Card(
                dcc.Loading(dcc.Graph(id="utilization-graph", config={"displaylogo": False})),
                className="panel",
            ),
        ]
    )


def not_found_page(path: str) -> html.Div:
    return html.Div(
        [
            html.H2("Page not found"),
            html.P(f"There is no page at {path}."),
            dcc.Link("Back to the dashboard", href="/"),
        ],
        className="empty-state",
    )
