"""The dashboard page: KPI cards, utilization per machine and the state timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import Dash, Input, Output, State, no_update

from callbacks.deps import Deps
from callbacks.windows import window
from components.figures import state_days_figure, timeline_figure, utilization_figure
from components.kpi import kpi_row
from components.pages import dashboard_page, range_text
from data.read.hourly_output import HOUR_S, bucket_seconds
from data.read.machine_sums import overview, utilization_by_machine
from data.read.plant_queries import status_timeline
from data.read.state_days import state_time_by_day
from data.store.db import Database


def dashboard_content(
    db: Database, range_value: str | None, now: datetime | None = None
) -> tuple[Any, Any, Any]:
    """KPI row, utilization figure and state timeline, all over the chosen window."""
    lo, hi = window(range_value, now)
    text = range_text(range_value)
    with db.read() as session:
        document = overview(session, lo, hi)
        frame = utilization_by_machine(session, lo, hi)
        if bucket_seconds(lo, hi) == HOUR_S:
            states = timeline_figure(
                status_timeline(session, lo, hi), f"Machine states, last {text}"
            )
        else:
            states = state_days_figure(
                state_time_by_day(session, lo, hi), f"Machine states by day, last {text}"
            )
    return (
        kpi_row(document),
        utilization_figure(frame, f"Utilization per machine, last {text}"),
        states,
    )


def machine_href(click: dict[str, Any] | None) -> str | Any:
    """Clicking a utilization bar opens that machine."""
    try:
        machine_id = int(click["points"][0]["customdata"][0])  # type: ignore[index]
    except (TypeError, KeyError, IndexError, ValueError):
        return no_update
    return f"/machines?id={machine_id}"


def render(deps: Deps) -> Any:
    """The page's static layout; its callbacks fill it."""
    return dashboard_page()


def register(app: Dash, deps: Deps) -> None:
    @app.callback(
        Output("dashboard-kpis", "children"),
        Output("utilization-graph", "figure"),
        Output("timeline-graph", "figure"),
        Input("dash-range", "value"),
        Input("tick-dashboard", "data"),
    )
    def refresh(range_value: str | None, _tick: Any) -> tuple[Any, Any, Any]:
        return dashboard_content(deps.db, range_value)

    app.callback(
        Output("url", "href", allow_duplicate=True),
        Input("utilization-graph", "clickData"),
        State("url", "href"),
        prevent_initial_call=True,
    )(lambda click, _href: machine_href(click))
