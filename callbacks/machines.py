"""Machines page: status board by area and one machine's detail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from dash import Dash, Input, Output, State

from callbacks.deps import Deps
from callbacks.windows import window
from components.figures import empty_figure, output_figure, timeline_figure
from components.machines import detail_kpis, machines_page, status_board, ticket_list
from data.read.hourly_output import output_by_hour
from data.read.plant_queries import areas, machine_detail, machine_list, status_timeline
from data.store.db import Database
from data.store.sqltypes import utcnow


def board(db: Database, area: str | None) -> Any:
    now = utcnow()
    with db.read() as session:
        machines = machine_list(session, now - timedelta(hours=24), now)
    if area:
        machines = [m for m in machines if m["area"] == area]
    return status_board(machines)


def selected_machine(search: str | None) -> int | None:
    values = parse_qs((search or "").lstrip("?")).get("id")
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None


def detail(db: Database, search: str | None, range_value: str | None) -> tuple[Any, ...]:
    machine_id = selected_machine(search)
    hidden = (True, "", None, empty_figure(""), empty_figure(""), None)
    if machine_id is None:
        return hidden
    lo, hi = window(range_value)
    with db.read() as session:
        info = machine_detail(session, machine_id, lo, hi)
        if info is None:
            return (
                False,
                f"Machine {machine_id} does not exist",
                None,
                empty_figure(""),
                empty_figure(""),
                None,
            )
        timeline = status_timeline(session, lo, hi, machine_id=machine_id)
        output = output_by_hour(
            session, max(lo, hi - timedelta(hours=48)), hi, machine_id=machine_id
        )
    machine = info["machine"]
    return (
        False,
        f"{machine['name']} · {machine['kind']} · {machine['area']}",
        detail_kpis(info),
        timeline_figure(timeline, "State history"),
        output_figure(output, "Output and scrap, last 48 h"),
        ticket_list(info["tickets"]),
    )


def render(deps: Deps) -> Any:
    """The status board and the detail panel, with the plant's areas to choose from."""
    with deps.db.read() as session:
        return machines_page(areas(session))


def register(app: Dash, deps: Deps) -> None:
    @app.callback(
        Output("machine-board", "children"),
        Input("machines-area", "value"),
        Input("tick-machines", "data"),
    )
    def refresh_board(area: str | None, _tick: Any) -> Any:
        return board(deps.db, area)

    @app.callback(
        Output("machine-detail", "hidden"),
        Output("machine-detail-title", "children"),
        Output("machine-detail-kpis", "children"),
        Output("machine-timeline", "figure"),
        Output("machine-output", "figure"),
        Output("machine-tickets", "children"),
        Input("url", "search"),
        Input("machine-range", "value"),
        Input("tick-machines", "data"),
        State("url", "pathname"),
    )
    def refresh_detail(
        search: str | None, range_value: str | None, _tick: Any, _path: str | None
    ) -> tuple[Any, ...]:
        return detail(deps.db, search, range_value)
