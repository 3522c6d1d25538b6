"""The shop-floor wall (kiosk)."""

from __future__ import annotations

from dash import html


def wall_page() -> html.Div:
    return html.Div(
        [
            html.Div("Plant wall", className="wall-title"),
            html.Div(id="wall-updated", **{"data-stale": "false"}),
        ],
        id="wall",
    )
