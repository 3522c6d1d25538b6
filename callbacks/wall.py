"""The shop-floor wall (kiosk)."""

from __future__ import annotations

from dash import Dash

from callbacks import Deps


def register(app: Dash, deps: Deps) -> None:
    """Wall callbacks (none yet)."""
