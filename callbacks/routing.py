"""Which page the URL shows."""

from __future__ import annotations

from collections.abc import Callable

from dash import Dash, Input, Output, html

from components.layout import dashboard_page, not_found_page

PAGES: dict[str, Callable[[], html.Div]] = {"/": dashboard_page}


def render_page(pathname: str | None) -> html.Div:
    path = (pathname or "/").rstrip("/") or "/"
    page = PAGES.get(path)
    return page() if page else not_found_page(path)


def register(app: Dash) -> None:
    app.callback(Output("page", "children"), Input("url", "pathname"))(render_page)
