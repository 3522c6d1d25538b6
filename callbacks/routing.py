"""Which page the URL shows."""

from __future__ import annotations

from datetime import timedelta

from dash import Dash, Input, Output, html

from callbacks import Deps
from components.layout import display_only_page, not_found_page
from components.machines import machines_page
from components.maintenance import maintenance_page
from components.pages import dashboard_page, production_page
from data.plant_queries import areas, machine_list
from data.sqltypes import utcnow


def render_page(deps: Deps, pathname: str | None) -> html.Div:
    path = (pathname or "/").rstrip("/") or "/"
    who = deps.principal()
    if who is not None and who.role == "display" and path != "/wall":
        return display_only_page()
    if path == "/":
        return dashboard_page()
    if path == "/machines":
        with deps.db.read() as session:
            return machines_page(areas(session))
    if path == "/maintenance":
        now = utcnow()
        with deps.db.read() as session:
            return maintenance_page(machine_list(session, now - timedelta(hours=1), now))
    if path == "/production":
        with deps.db.read() as session:
            return production_page(areas(session))
    if path == "/wall":
        from components.wall import wall_page

        return wall_page()
    return not_found_page(path)


def register(app: Dash, deps: Deps) -> None:
    app.callback(Output("page", "children"), Input("url", "pathname"))(
        lambda pathname: render_page(deps, pathname)
    )
