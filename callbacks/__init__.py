"""Thin Dash callbacks: inputs and socket ticks -> data queries -> components."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dash import Dash

from data.access import Principal
from data.db import Database
from data.services import Services

WRITE_ROLES = ("operator", "admin")


@dataclass
class Deps:
    """What callbacks need, injected by the app: data access and who is asking."""

    db: Database
    services: Services
    principal: Callable[[], Principal | None]

    def can_write(self) -> bool:
        who = self.principal()
        return who is not None and who.role in WRITE_ROLES


def register_callbacks(app: Dash, deps: Deps) -> None:
    from callbacks import dashboard, live, machines, maintenance, production, routing, wall

    routing.register(app, deps)
    live.register(app)
    dashboard.register(app, deps)
    machines.register(app, deps)
    maintenance.register(app, deps)
    production.register(app, deps)
    wall.register(app, deps)
