"""Production page: output vs target by hour and shift, scrap rate per machine and area."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Dash, Input, Output, html

from callbacks.deps import Deps
from callbacks.windows import window
from components.figures import output_figure, scrap_figure
from components.kpi import kpi_card, pct
from components.pages import production_page, range_text
from components.theme import TARGET_BANDS
from data.read.hourly_output import DAY_S, output_by_bucket, output_by_hour
from data.read.machine_sums import oee_by_machine
from data.read.plant_queries import areas
from data.store.db import Database

SHIFTS = (("Early 06–14", 6, 14), ("Late 14–22", 14, 22), ("Night 22–06", 22, 6))


def shift_of(hour: int) -> str:
    for name, start, end in SHIFTS:
        if (start < end and start <= hour < end) or (start > end and (hour >= start or hour < end)):
            return name
    return SHIFTS[-1][0]


def shift_table(hourly: pd.DataFrame) -> Any:
    """Good, scrap and target per shift, summed from the hourly frame."""
    if hourly.empty:
        return html.Div("No production in this window.", className="empty-state small")
    data = hourly.assign(shift=hourly["hour"].dt.hour.map(shift_of))
    sums = data.groupby("shift", sort=False)[["good", "scrap", "target"]].sum()
    rows = [
        html.Tr(
            [
                html.Td(name),
                html.Td(f"{int(r.good):,}"),
                html.Td(f"{int(r.scrap):,}"),
                html.Td(f"{int(r.target):,}"),
                target_cell((r.good + r.scrap) / r.target if r.target else None),
            ]
        )
        for name, r in sums.iterrows()
    ]
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("Shift", "Good", "Scrap", "Target", "Output vs target")])
    )
    return dbc.Table([head, html.Tbody(rows)], size="sm", className="shift-table", hover=True)


def target_cell(share: float | None) -> html.Td:
    """Output against target, in its traffic-light colour."""
    band = TARGET_BANDS.band(share)
    return html.Td(pct(share), className=f"band-{band}" if band else None)


def production_content(
    db: Database, area: str | None, range_value: str | None, now: datetime | None = None
) -> tuple:
    """Summary cards, output chart (by hour up to 48 h, by day above), scrap per machine and
    per area and the shift table, all over the chosen window."""
    lo, hi = window(range_value, now)
    text = range_text(range_value)
    with db.read() as session:
        hourly = output_by_hour(session, lo, hi, area=area or None)
        chart = output_by_bucket(session, lo, hi, area=area or None)
        machines = oee_by_machine(session, lo, hi)
    if area:
        machines = machines[machines["area"] == area]
    good, scrap, target = (int(hourly[c].sum()) for c in ("good", "scrap", "target"))
    made = good + scrap
    share = made / target if target else None
    bucket = "day" if chart.attrs["bucket_s"] == DAY_S else "hour"
    summary = dbc.Row(
        [
            kpi_card("Good parts", f"{good:,}", f"of {made:,} made, last {text}"),
            kpi_card("Scrap rate", pct(scrap / made if made else None), f"{scrap:,} scrapped"),
            kpi_card(
                "Output vs target",
                pct(share),
                f"target {target:,} parts",
                value_color=TARGET_BANDS.color(share) if share is not None else None,
            ),
        ],
        className="g-3 mb-3",
    )
    return (
        summary,
        output_figure(chart, f"Output vs target by {bucket}, last {text}", bucket),
        scrap_figure(machines, "name", f"Scrap rate per machine, last {text}"),
        scrap_figure(machines, "area", f"Scrap rate per area, last {text}"),
        shift_table(hourly),
    )


def render(deps: Deps) -> Any:
    """The production page with the plant's areas to choose from."""
    with deps.db.read() as session:
        return production_page(areas(session))


def register(app: Dash, deps: Deps) -> None:
    @app.callback(
        Output("production-summary", "children"),
        Output("output-graph", "figure"),
        Output("scrap-machine-graph", "figure"),
        Output("scrap-area-graph", "figure"),
        Output("shift-table", "children"),
        Input("production-area", "value"),
        Input("production-range", "value"),
        Input("tick-production", "data"),
    )
    def refresh(area: str | None, range_value: str | None, _tick: Any) -> tuple:
        return production_content(deps.db, area, range_value)
