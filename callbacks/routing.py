"""Which page the URL shows: the page registry decides, and who may open what."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State

from callbacks.deps import Deps
from components.layout import display_only_page, forbidden_page, not_found_page, routed
from components.registry import find


def normal_path(pathname: str | None) -> str:
    """The path as the registry and `assets/live_page.js` compare it: no trailing slash."""
    return (pathname or "/").rstrip("/") or "/"


def render_page(deps: Deps, pathname: str | None) -> Any:
    """The registered page at `pathname`, if the caller's role may open it."""
    page = find(deps.pages, pathname)
    if page is None:
        return not_found_page(pathname or "/")
    who = deps.principal()
    role = who.role if who is not None else None
    if not page.allows(role):
        return display_only_page() if role == "display" else forbidden_page(page.title)
    return page.load().render(deps)


def route(deps: Deps, pathname: str | None) -> Any:
    """The page for `pathname`, marked with that path (`data-path`) and the plant's time
    zone (`data-plant-zone`)."""
    return routed(normal_path(pathname), render_page(deps, pathname), deps.clock().name)


def register(app: Dash, deps: Deps) -> None:
    app.callback(Output("page", "children"), Input("url", "pathname"))(
        lambda pathname: route(deps, pathname)
    )
    # The same page again when `assets/live_page.js` bumps `route-retry`: the page shown does
    # not match the URL (its request failed while the server was away).
    app.callback(
        Output("page", "children", allow_duplicate=True),
        Input("route-retry", "data"),
        State("url", "pathname"),
        prevent_initial_call=True,
    )(lambda _retry, pathname: route(deps, pathname))
