"""Thin Dash callbacks: inputs -> data queries -> components."""

from __future__ import annotations

from dash import Dash

from data.db import Database


def register_callbacks(app: Dash, db: Database) -> None:
    from callbacks import dashboard, routing

    routing.register(app)
    dashboard.register(app, db)
