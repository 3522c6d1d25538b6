"""The page shell: header, live connection parts, toasts and the page container."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash_extensions import WebSocket

from components.registry import Page, topics_json
from data.events import TOPICS


def connection_status() -> html.Div:
    """Compact state in the header; details, subscriptions and a reconnect button on click."""
    button = html.Button(
        [html.Span(className="conn-dot"), html.Span("connecting", id="connection-label")],
        id="connection-status",
        className="conn-status",
        title="Live connection: click for details",
        **{"data-state": "connecting", "aria-live": "polite"},
    )
    details = dbc.Popover(
        dbc.PopoverBody(
            [
                html.Div(["Mode: ", html.Span("socket", id="connection-mode")]),
                html.Div(["Topics: ", html.Span("–", id="connection-topics")]),
                html.Div(["Last event: ", html.Span("no events yet", id="connection-age")]),
                dbc.Button(
                    "Reconnect now",
                    id="reconnect-button",
                    size="sm",
                    className="mt-2",
                    color="secondary",
                ),
            ]
        ),
        target="connection-status",
        trigger="legacy",
        placement="bottom-end",
    )
    return html.Div([button, details])


def header(pages: tuple[Page, ...]) -> dbc.Navbar:
    links = [
        dbc.NavItem(dbc.NavLink(p.nav_label, href=p.path, active="exact"))
        for p in pages
        if p.nav_label
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand([html.Span("◼", className="brand-mark"), " Mill Dash"], href="/"),
                dbc.Nav(links, navbar=True, className="me-auto"),
                html.Span(id="plant-clock", className="plant-clock me-3"),
                connection_status(),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="app-header mb-3",
        id="app-header",
    )


def live_parts() -> list:
    """The socket and the stores its frames feed; they outlive page changes."""
    stores = [dcc.Store(id=f"tick-{topic}") for topic in TOPICS]
    return [
        WebSocket(id="ws"),
        *stores,
        dcc.Store(id="critical-alert"),
        dcc.Store(id="system-alert"),
    ]


def toasts() -> html.Div:
    return html.Div(
        [
            dbc.Toast(
                id="critical-toast",
                header="Critical alert",
                icon="danger",
                is_open=False,
                dismissable=True,
                duration=10000,
                className="critical-toast",
            ),
            dbc.Toast(
                id="system-toast",
                header="Message from the plant",
                icon="warning",
                is_open=False,
                dismissable=True,
                duration=15000,
            ),
        ],
        className="toast-stack",
    )


def shell(pages: tuple[Page, ...]) -> html.Div:
    """The app layout; `data-page-topics` tells `assets/live.js` what each page listens to."""
    return html.Div(
        [
            dcc.Location(id="url"),
            *live_parts(),
            html.Div(header(pages), id="header-wrap"),
            toasts(),
            html.Main(html.Div(id="page"), className="page container-fluid"),
        ],
        id="app-root",
        **{"data-bs-theme": "dark", "data-page-topics": topics_json(pages)},
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


def display_only_page() -> html.Div:
    return html.Div(
        [
            html.H2("This is a wall display session"),
            html.P("A display token shows the plant wall only."),
            dcc.Link("Open the wall", href="/wall"),
        ],
        className="empty-state",
    )


def forbidden_page(title: str) -> html.Div:
    return html.Div(
        [
            html.H2(f"{title} is not open to your role"),
            html.P("Ask an administrator for a role that may open this page."),
            dcc.Link("Back to the dashboard", href="/"),
        ],
        className="empty-state",
    )
