"""The production page's shift report: one row per shift of a plant-local day, in calendar
order (the items of GET /api/v1/shifts/report), with OEE, A/P/Q, output against the planned
target, scrap, the top downtime reasons and the tickets opened and closed; a date picker for
another day and a link to the same report as CSV.

Output against target compares the parts made with `target_good`: the ideal rate times the
planned production time, so a shift the calendar does not plan asks for nothing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.kpi import pct
from components.theme import TARGET_BANDS
from components.wording import PlantClock, duration, instant, shift_title

CSV_PATH = "/api/v1/shifts/report.csv"
TOP_REASONS = 3
HEADERS = (
    "Shift", "Time", "OEE", "A", "P", "Q", "Good", "Scrap", "Target", "Output vs target",
    "Top downtime", "Tickets opened / closed",
)  # fmt: skip


def csv_href(day: date | None, area: str | None) -> str:
    """The shift report of `day` (the plant's today without one) and `area` as CSV."""
    args = {"date": day.isoformat()} if day else {}
    if area:
        args["area"] = area
    return f"{CSV_PATH}?{urlencode(args)}" if args else CSV_PATH


def shift_panel(today: date | None) -> dbc.Card:
    """The panel's frame: the day to report (plant-local; today at most), the CSV link and
    the table (`#shift-table`) that a callback fills."""
    tools = html.Div(
        [
            html.Label("Day", htmlFor="shift-date", className="muted small"),
            dcc.DatePickerSingle(
                id="shift-date",
                date=today.isoformat() if today else None,
                max_date_allowed=today.isoformat() if today else None,
                display_format="D MMM YYYY",
                first_day_of_week=1,
                clearable=False,
                className="shift-date",
            ),
            html.A(
                "Download CSV",
                id="shift-csv",
                href=csv_href(today, None),
                className="btn btn-outline-light btn-sm shift-csv",
                title="The shift report of this day and area as CSV",
            ),
        ],
        className="shift-tools",
    )
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [html.H6("Shifts", className="panel-title"), tools], className="panel-head"
                ),
                html.Div(id="shift-table"),
            ]
        ),
        className="panel mb-3",
        id="shift-panel",
    )


def target_cell(share: float | None) -> html.Td:
    """Output against target, in its traffic-light colour (a dash without a target)."""
    band = TARGET_BANDS.band(share)
    return html.Td(pct(share), className=f"band-{band}" if band else None)


def top_reasons(seconds_by_reason: dict[str, float]) -> str:
    """ "jam 23 min · coolant 5 min": the longest reasons first."""
    ranked = sorted(seconds_by_reason.items(), key=lambda item: -item[1])[:TOP_REASONS]
    return " · ".join(f"{reason} {duration(s)}" for reason, s in ranked) or "none"


def shift_row(item: dict[str, Any], clock: PlantClock, now: datetime) -> html.Tr:
    """One shift report item as a row; a shift still running says so."""
    start, end = instant(item["start"]) or now, instant(item["end"]) or now
    made = item["good"] + item["scrap"]
    target = item["target_good"]
    running = start <= now < end
    name = [html.Span(shift_title(item["shift"]))]
    if running:
        name.append(html.Span("running", className="shift-running ms-2"))
    return html.Tr(
        [
            html.Td(name),
            html.Td(clock.span(start, end), className="shift-time"),
            html.Td(pct(item["oee"])),
            html.Td(pct(item["availability"])),
            html.Td(pct(item["performance"])),
            html.Td(pct(item["quality"])),
            html.Td(f"{item['good']:,}"),
            html.Td(f"{item['scrap']:,}"),
            html.Td(f"{target:,}"),
            target_cell(made / target if target else None),
            html.Td(top_reasons(item["downtime_by_reason"]), className="shift-reasons"),
            html.Td(f"{item['tickets_opened']} / {item['tickets_closed']}"),
        ],
        **{"data-shift": item["shift"], "data-start": item["start"]},
    )


def shift_table(
    items: list[dict[str, Any]], day: date, clock: PlantClock, now: datetime
) -> html.Div:
    """The report's items in the order given (calendar order), or what the day lacks."""
    if not items:
        text = (
            "No shift has started yet today."
            if day >= clock.today(now)
            else f"No shift on {clock.day(day)}."
        )
        return html.Div(text, className="empty-state small", **{"data-day": day.isoformat()})
    head = html.Thead(html.Tr([html.Th(h) for h in HEADERS]))
    rows = [shift_row(item, clock, now) for item in items]
    table = dbc.Table([head, html.Tbody(rows)], size="sm", className="shift-table", hover=True)
    # A table wider than a narrow screen scrolls sideways; a keyboard reaches it too.
    return html.Div(
        table,
        className="shift-report",
        tabIndex="0",
        role="region",
        **{"data-day": day.isoformat(), "aria-label": f"Shifts of {clock.day(day)}"},
    )
