"""Production page: output vs target by plant-local hour (or day), scrap rate per machine and
area over the chosen window, and the shift report of a plant-local day (calendar order, with
its CSV)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output

from callbacks.deps import Deps
from callbacks.windows import clock_of, default_range, head_parts, plant_calendar, window
from components.figures import output_figure, scrap_figure
from components.kpi import kpi_card, pct
from components.pages import production_page
from components.shift_table import csv_href, shift_table
from components.theme import TARGET_BANDS
from data.read.analytics import shift_report
from data.read.calendar_queries import load_calendar
from data.read.hourly_output import DAY_S, output_by_bucket
from data.read.machine_sums import oee_by_machine
from data.read.plant_queries import areas
from data.store.db import Database
from data.store.sqltypes import utcnow


def production_content(
    db: Database, area: str | None, range_value: str | None, now: datetime | None = None
) -> tuple[Any, Any, Any, Any]:
    """Summary cards, output chart (by plant-local hour up to 48 h, by day above) and scrap
    per machine and per area, all over the chosen window. The target is the ideal rate in
    the planned production time (none outside shifts)."""
    with db.read() as session:
        calendar = load_calendar(session)
        span = window(range_value, now, calendar)
        lo, hi, text = span.lo, span.hi, span.phrase
        chart = output_by_bucket(session, lo, hi, area=area or None, calendar=calendar)
        machines = oee_by_machine(session, lo, hi, calendar)
    if area:
        machines = machines[machines["area"] == area]
    good, scrap, target = (round(float(chart[c].sum())) for c in ("good", "scrap", "target"))
    made = good + scrap
    share = made / target if target else None
    bucket = "day" if chart.attrs["bucket_s"] == DAY_S else "hour"
    summary = dbc.Row(
        [
            kpi_card("Good parts", f"{good:,}", f"of {made:,} made, {text}"),
            kpi_card("Scrap rate", pct(scrap / made if made else None), f"{scrap:,} scrapped"),
            kpi_card(
                "Output vs target",
                pct(share),
                f"target {target:,} parts in planned time",
                value_color=TARGET_BANDS.color(share) if share is not None else None,
            ),
        ],
        className="g-3 mb-3",
    )
    clock = clock_of(calendar)
    return (
        summary,
        output_figure(chart, f"Output vs target by {bucket}, {text}", bucket, clock),
        scrap_figure(machines, "name", f"Scrap rate per machine, {text}"),
        scrap_figure(machines, "area", f"Scrap rate per area, {text}"),
    )


def report_day(value: str | None, today: date) -> date:
    """The day the date picker holds (today without one, or with one after today)."""
    try:
        day = date.fromisoformat(value) if value else today
    except (TypeError, ValueError):
        return today
    return min(day, today)


def shift_section(
    db: Database, day_value: str | None, area: str | None, now: datetime | None = None
) -> tuple[Any, str]:
    """The shift report of the chosen plant-local day (calendar order) and its CSV link."""
    now = now or utcnow()
    with db.read() as session:
        calendar = load_calendar(session)
        clock = clock_of(calendar)
        day = report_day(day_value, clock.today(now))
        items = shift_report(session, day, now, area or None, calendar)
    return shift_table(items, day, clock, now), csv_href(day, area or None)


def render(deps: Deps) -> Any:
    """The production page with the plant's areas to choose from, opening on the current
    shift when the plant has shifts and on today's shift report."""
    now = utcnow()
    calendar = plant_calendar(deps.db)
    with deps.db.read() as session:
        names = areas(session)
    return production_page(
        names,
        default_range(calendar),
        calendar.has_shifts,
        head_parts(calendar, now),
        clock_of(calendar).today(now),
    )


def register(app: Dash, deps: Deps) -> None:
    @app.callback(
        Output("production-summary", "children"),
        Output("output-graph", "figure"),
        Output("scrap-machine-graph", "figure"),
        Output("scrap-area-graph", "figure"),
        Output("production-time", "children"),
        Input("production-area", "value"),
        Input("production-range", "value"),
        Input("tick-production", "data"),
        Input("production-clock", "n_intervals"),
    )
    def refresh(area: str | None, range_value: str | None, *_ticks: Any) -> tuple:
        now = utcnow()
        head = head_parts(plant_calendar(deps.db), now)
        return (*production_content(deps.db, area, range_value, now), head)

    app.callback(
        Output("shift-table", "children"),
        Output("shift-csv", "href"),
        Input("shift-date", "date"),
        Input("production-area", "value"),
        Input("tick-production", "data"),
        Input("production-clock", "n_intervals"),
    )(lambda day, area, *_ticks: shift_section(deps.db, day, area))
