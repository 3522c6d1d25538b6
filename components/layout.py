"""The page shell: header, live connection parts, toasts and the page container."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash_extensions import WebSocket

from components.registry import Page, nav_pages, titles_json, topics_json
from data.events import TOPICS

# The person the page is served to, as the header shows them: (name, role).
User = tuple[str, str]


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


def nav_link(page: Page) -> dbc.NavItem:
    """A page's navigation link; a `new_tab` page (the kiosk wall) opens in a new tab."""
    if page.new_tab:
        link = html.A(
            [page.nav_label, html.Span(" ↗", className="new-tab-mark", **{"aria-hidden": "true"})],
            href=page.path,
            target="_blank",
            rel="noopener",
            className="nav-link",
            title=f"{page.title}: opens in a new tab",
        )
        return dbc.NavItem(link)
    return dbc.NavItem(dbc.NavLink(page.nav_label, href=page.path, active="exact"))


def user_menu(user: User | None) -> html.Div:
    """Who is signed in and a sign-out button (a POST form), or a sign-in link.

    `assets/live_page.js` keeps the sign-in link's `next` on the page being looked at.
    """
    if user is None:
        link = html.A("Sign in", href="/login?next=/", id="sign-in-link", className="btn-sign-in")
        return html.Div(link, id="user-menu", className="user-menu", **{"data-signed-in": "false"})
    name, role = user
    return html.Div(
        [
            html.Span(name, className="user-name", title=f"Signed in as {name} ({role})"),
            html.Span(role, className="user-role"),
            html.Form(
                html.Button("Sign out", type="submit", id="sign-out", className="btn-sign-out"),
                method="post",
                action="/logout",
                className="sign-out-form",
            ),
        ],
        id="user-menu",
        className="user-menu",
        **{"data-signed-in": "true"},
    )


def header(pages: tuple[Page, ...], user: User | None = None) -> dbc.Navbar:
    links = [nav_link(p) for p in nav_pages(pages, user[1] if user else None)]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand([html.Span("◼", className="brand-mark"), " Mill Dash"], href="/"),
                connection_status(),
                # On a phone the links fold behind a menu button instead of stacking.
                html.Button(
                    html.Span(className="navbar-toggler-icon"),
                    id="nav-toggle",
                    n_clicks=0,
                    type="button",
                    className="navbar-toggler",
                    **{"aria-label": "Menu", "aria-controls": "nav-collapse"},
                ),
                dbc.Collapse(
                    [
                        dbc.Nav(links, navbar=True, className="me-auto"),
                        html.Span(id="plant-clock", className="plant-clock me-3"),
                        user_menu(user),
                    ],
                    id="nav-collapse",
                    is_open=False,
                    navbar=True,
                ),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        expand="lg",
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
        dcc.Store(id="route-retry", data=0),  # bumped by assets/live_page.js: render again
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


def page_notices() -> list[html.Div]:
    """Shown by `assets/live_page.js`: data that is no longer live, a page that did not load."""
    return [
        html.Div(id="stale-note", className="stale-note", hidden=True, role="status"),
        html.Div(id="route-message", className="route-message", hidden=True, role="alert"),
    ]


def shell(pages: tuple[Page, ...], user: User | None = None) -> html.Div:
    """The app layout for `user` (None: not signed in); `data-page-topics` tells
    `assets/live.js` what each page listens to, `data-page-titles` what it is called."""
    return html.Div(
        [
            dcc.Location(id="url"),
            *live_parts(),
            html.Div(header(pages, user), id="header-wrap"),
            toasts(),
            html.Main(
                [*page_notices(), html.Div(id="page", **{"data-stale": "false"})],
                className="page container-fluid",
            ),
        ],
        id="app-root",
        **{
            "data-bs-theme": "dark",
            "data-page-topics": topics_json(pages),
            "data-page-titles": titles_json(pages),
        },
    )


def routed(path: str, content: object, zone: str | None = None) -> html.Div:
    """The routed page's content, marked with the path it was rendered for: a page that does
    not match the URL is visibly replaced by a message, not shown as if current. `zone`: the
    plant's time zone, for the browser's clocks (assets/plant_time.js)."""
    marks = {"data-path": path} | ({"data-plant-zone": zone} if zone else {})
    return html.Div(content, className="routed-page", **marks)


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
