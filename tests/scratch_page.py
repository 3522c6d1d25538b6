"""A throwaway page module: what a new page needs, for the page-registry test."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, html

from callbacks.deps import Deps


def render(deps: Deps) -> Any:
    return html.Div([html.Button("Count", id="scratch-in"), html.Div(id="scratch-out")])


def register(app: Dash, deps: Deps) -> None:
    @app.callback(Output("scratch-out", "children"), Input("scratch-in", "n_clicks"))
    def count(clicks: int | None) -> str:
        return f"clicked {clicks or 0} times"
