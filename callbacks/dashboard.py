"""The dashboard page: KPI cards, utilization per machine and the state timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import Dash, Input, Output, State, no_update

from callbacks.deps import Deps
from callbacks.windows import clock_of, default_range, head_parts, plant_calendar, window
from components.figures import state_days_figure, timeline_figure, utilization_figure
from components.kpi import kpi_row
from components.pages import dashboard_page
from data.read.calendar_queries import load_calendar
from data.read.hourly_output import HOUR_S, bucket_seconds
from data.read.machine_sums import overview, utilization_by_machine
from data.read.plant_queries import status_timeline
from data.read.state_days import state_time_by_day
from data.store.db import Database
from data.store.sqltypes import utcnow


def dashboard_content(
    db: Database, range_value: str | None, now: datetime | None = None
) -> tuple[Any, Any, Any]:
    """KPI row, utilization figure and state timeline, all over the chosen window, with
    times on the plant's clock."""
    with db.read() as session:
        calendar = load_calendar(session)
        span = window(range_value, now, calendar)
        lo, hi, text = span.lo, span.hi, span.phrase
        clock = clock_of(calendar)
        document = overview(session, lo, hi, calendar)
        frame = utilization_by_machine(session, lo, hi)
        if bucket_seconds(lo, hi) == HOUR_S:
            states = timeline_figure(
                status_timeline(session, lo, hi), f"Machine states, {text}", clock
            )
        else:
            states = state_days_figure(
                state_time_by_day(session, lo, hi, zone=calendar.zone),
                f"Machine states by day, {text}",
                clock,
            )
    return (
        kpi_row(document),
        utilization_figure(frame, f"Utilization per machine, {text}"),
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
    """The page's static layout (opening on the current shift when the plant has shifts);
    its callbacks fill it."""
    calendar = plant_calendar(deps.db)
    head = head_parts(calendar, utcnow())
    return dashboard_page(default_range(calendar), calendar.has_shifts, head)


def register(app: Dash, deps: Deps) -> None:
    @app.callback(
        Output("dashboard-kpis", "children"),
        Output("utilization-graph", "figure"),
        Output("timeline-graph", "figure"),
        Output("dash-time", "children"),
        Input("dash-range", "value"),
        Input("tick-dashboard", "data"),
        Input("dash-clock", "n_intervals"),
    )
    def refresh(range_value: str | None, _tick: Any, _minute: Any) -> tuple[Any, ...]:
        now = utcnow()
        head = head_parts(plant_calendar(deps.db), now)
        return (*dashboard_content(deps.db, range_value, now), head)

    app.callback(
        Output("url", "href", allow_duplicate=True),
        Input("utilization-graph", "clickData"),
        State("url", "href"),
        prevent_initial_call=True,
    )(lambda click, _href: machine_href(click))
