"""Which page the URL shows: the page registry decides, and who may open what."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output

from callbacks.deps import Deps
from components.layout import display_only_page, forbidden_page, not_found_page
from components.registry import find


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


def register(app: Dash, deps: Deps) -> None:
    app.callback(Output("page", "children"), Input("url", "pathname"))(
        lambda pathname: render_page(deps, pathname)
    )
