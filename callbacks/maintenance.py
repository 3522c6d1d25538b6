"""Maintenance hub, the page module the registry names: `render` and `register`. The list
(callbacks/maintenance_grid.py), the drawer (maintenance_drawer.py) and the new-ticket form
(maintenance_form.py) each register their own callbacks; the live alert feed is here (the
server renders it on load and resync, the browser adds alerts from socket frames)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, State, no_update

from callbacks import maintenance_drawer, maintenance_form, maintenance_grid
from callbacks.deps import Deps
from callbacks.maintenance_form import FORM_FIELDS, create_ticket
from callbacks.maintenance_grid import export_href, filter_args, rows_response
from components.alert_feed import alert_feed
from components.maintenance import maintenance_page
from components.plant_head import time_parts
from data.read.event_queries import latest_events, latest_seq
from data.read.plant_queries import machine_list
from data.store.sqltypes import utcnow

__all__ = [
    "FORM_FIELDS",
    "create_ticket",
    "export_href",
    "filter_args",
    "register",
    "render",
    "rows_response",
    "update_alerts",
]

FEED_SIZE = 50


def recent_alerts(deps: Deps) -> tuple[list[dict[str, Any]], int]:
    """The latest maintenance alerts from the log, newest first, and the log's latest seq."""
    with deps.db.read() as session:
        events = latest_events(session, ["maintenance_alert"], FEED_SIZE)
        latest = latest_seq(session)
    return [e.to_frame() for e in events], latest


def update_alerts(
    deps: Deps, tick: dict[str, Any] | None, seen: dict[str, int] | None
) -> tuple[Any, Any]:
    """The feed as the event log has it, on page load and on a resync only: between those the
    browser adds each alert from its socket frame (assets/live_alerts.js), and merges that
    with this render, so a render computed before a frame arrived cannot drop it."""
    if seen and not (tick or {}).get("resync"):
        return no_update, no_update
    frames, latest = recent_alerts(deps)
    return alert_feed(frames, utcnow(), deps.clock()), {"seq": latest, "count": len(frames)}


def render(deps: Deps) -> Any:
    """The hub with the machines a new ticket can name; forms disabled for readers."""
    now = utcnow()
    with deps.db.read() as session:
        machines = machine_list(session, now - timedelta(hours=1), now)
    return maintenance_page(machines, deps.can_write(), time_parts(deps.clock()))


def register(app: Dash, deps: Deps) -> None:
    """Every callback of the hub."""
    maintenance_grid.register(app, deps)
    maintenance_drawer.register(app, deps)
    maintenance_form.register(app, deps)
    app.callback(
        Output("alerts", "children"),
        Output("alerts-seq", "data"),
        Input("tick-maintenance", "data"),
        State("alerts-seq", "data"),
    )(lambda tick, seen: update_alerts(deps, tick, seen))
    app.clientside_callback(
        ClientsideFunction("alerts", "feed"),
        Output("alerts", "title"),  # never changed: the function returns no_update
        Input("alerts", "children"),
        prevent_initial_call=True,
    )
