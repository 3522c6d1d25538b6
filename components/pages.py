"""Page layouts for the dashboard and production pages (static parts; callbacks fill them)."""

from __future__ import annotations

from datetime import date
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.plant_head import time_head
from components.shift_table import shift_panel

SHIFT = "shift"  # the shift running now (or the last one that ended)
TODAY = "today"  # since plant-local midnight
SHIFT_RANGE = {"label": "Current shift", "value": SHIFT}
RANGES = [
    {"label": "Today", "value": TODAY},
    {"label": "8 h", "value": "8h"},
    {"label": "24 h", "value": "24h"},
    {"label": "7 days", "value": "7d"},
    {"label": "30 days", "value": "30d"},
]
RANGE_HOURS = {"8h": 8, "24h": 24, "7d": 24 * 7, "30d": 24 * 30}
RANGE_TEXT = {r["value"]: r["label"] for r in RANGES} | {TODAY: "today", SHIFT: "this shift"}
# Space a graph keeps while it loads or has no data, so panels below never move up under it.
GRAPH_HEIGHT = 360
MINUTE_MS = 60_000


def range_text(range_value: str | None) -> str:
    """How a chart title says the window: "24 h", "7 days" (an unknown range is 24 h)."""
    return RANGE_TEXT.get(range_value or "", RANGE_TEXT["24h"])


def range_selector(component_id: str, value: str = "24h", shifts: bool = False) -> dbc.RadioItems:
    """The window buttons every page with charts has: Current shift (when the plant has
    shifts), Today, 8 h, 24 h, 7 days, 30 days."""
    return dbc.RadioItems(
        id=component_id,
        options=[SHIFT_RANGE, *RANGES] if shifts else RANGES,
        value=value,
        inline=True,
        className="btn-group range-selector",
        inputClassName="btn-check",
        labelClassName="btn btn-outline-secondary btn-sm",
        labelCheckedClassName="active",
    )


def area_select(component_id: str, areas: list[str]) -> dcc.Dropdown:
    """A dropdown of the plant's areas with "All areas" first (value "")."""
    options = [{"label": "All areas", "value": ""}] + [{"label": a, "value": a} for a in areas]
    return dcc.Dropdown(
        id=component_id, options=options, value="", clearable=False, className="area-select"
    )


def panel(children: object, title: str | None = None, **kwargs: object) -> dbc.Card:
    """A dark card with an optional small title."""
    body = [html.H6(title, className="panel-title")] if title else []
    return dbc.Card(dbc.CardBody([*body, children]), className="panel mb-3", **kwargs)


def graph(graph_id: str, height: int = GRAPH_HEIGHT) -> dcc.Loading:
    """A graph that keeps at least `height` px (its figure may be taller) and shows a loading
    mark over the old figure while a new one is computed."""
    return dcc.Loading(
        dcc.Graph(
            id=graph_id,
            config={"displaylogo": False, "responsive": True},
            className="graph-box",
            style={"minHeight": f"{height}px"},
        ),
        type="dot",
        delay_show=400,
        overlay_style={"visibility": "visible", "opacity": 0.5},
        parent_className="graph-loading",
        parent_style={"minHeight": f"{height}px"},
    )


def graph_pair(left: str, right: str, left_width: int = 7) -> dbc.Row:
    """Two graphs side by side on wide screens (12-column grid), stacked on narrow ones."""
    return dbc.Row(
        [
            dbc.Col(panel(graph(left)), lg=left_width),
            dbc.Col(panel(graph(right)), lg=12 - left_width),
        ],
        className="g-3",
    )


def page_head(title: str, time_line: html.Div, *tools: Any) -> html.Div:
    """A page's head: its title, its time line (shift and zone) and its tools."""
    return html.Div(
        [
            html.Div([html.H1(title, className="page-title"), time_line], className="page-name"),
            html.Div(list(tools), className="page-tools"),
        ],
        className="page-head",
    )


def minute_timer(timer_id: str) -> dcc.Interval:
    """A page's minute tick: the shift's progress and a window that ends now move on even
    while the plant is quiet."""
    return dcc.Interval(id=timer_id, interval=MINUTE_MS)


def dashboard_page(
    range_value: str = "24h", shifts: bool = False, time_line: list[Any] | None = None
) -> html.Div:
    """The dashboard's frame, opening on `range_value`; `time_line`: the head's shift badge
    and zone note (components/plant_head.py)."""
    return html.Div(
        [
            page_head(
                "Plant overview",
                time_head("dash-time", time_line or []),
                range_selector("dash-range", range_value, shifts),
            ),
            html.Div(id="dashboard-kpis", className="kpi-area"),
            graph_pair("utilization-graph", "timeline-graph", 5),
            minute_timer("dash-clock"),
        ],
        id="dashboard-page",
    )


def production_page(
    areas: list[str],
    range_value: str = "24h",
    shifts: bool = False,
    time_line: list[Any] | None = None,
    today: date | None = None,
) -> html.Div:
    """The production page's frame; `today`: the plant-local day the shift table opens on."""
    return html.Div(
        [
            page_head(
                "Production",
                time_head("production-time", time_line or []),
                area_select("production-area", areas),
                range_selector("production-range", range_value, shifts),
            ),
            html.Div(id="production-summary", className="kpi-area"),
            panel(graph("output-graph")),
            graph_pair("scrap-machine-graph", "scrap-area-graph"),
            shift_panel(today),
            minute_timer("production-clock"),
        ],
        id="production-page",
    )
