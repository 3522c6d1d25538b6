"""KPI cards: a label, a big value and a line of detail."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from components.theme import OEE_BANDS, PRIORITY_COLORS, STATUS_COLORS, UTILIZATION_BANDS
from components.wording import duration, label


def pct(value: float | None) -> str:
    """A ratio as a percentage with one decimal: 0.8123 -> "81.2%"."""
    return "–" if value is None else f"{value * 100:.1f}%"


def hours(value: float | None) -> str:
    """A duration given in hours, with units: 1.5 -> "1 h 30 min"."""
    return "–" if value is None else duration(value * 3600)


def kpi_card(
    title: str,
    value: str,
    detail: Any = None,
    card_id: str | None = None,
    value_color: str | None = None,
) -> dbc.Col:
    """One card; `value_color` paints the value (a traffic light)."""
    style = {"color": value_color} if value_color else None
    body = [
        html.Div(title, className="kpi-label"),
        html.Div(value, className="kpi-value", style=style),
    ]
    if detail is not None:
        body.append(html.Div(detail, className="kpi-detail"))
    props = {"id": card_id} if card_id else {}
    return dbc.Col(
        dbc.Card(dbc.CardBody(body), className="kpi-card h-100", **props), xs=12, sm=6, xl=True
    )


def chips(counts: dict[str, int], colors: dict[str, str]) -> list[html.Span]:
    """Small coloured counters, e.g. machines per state or tickets per priority."""
    return [
        html.Span(
            [
                html.Span(className="chip-dot", style={"background": colors[name]}),
                f"{label(name)} {n}",
            ],
            className="chip",
        )
        for name, n in counts.items()
        if n
    ]


def kpi_row(overview: dict[str, Any]) -> dbc.Row:
    """The dashboard's headline numbers from an overview record."""
    oee = overview["oee"]
    machines = overview["machines"]
    tickets = overview["open_tickets"]
    running = machines["by_status"].get("running", 0)
    return dbc.Row(
        [
            kpi_card(
                "Machines running",
                f"{running} / {machines['total']}",
                chips(machines["by_status"], STATUS_COLORS),
                "kpi-machines",
            ),
            kpi_card(
                "Utilization",
                pct(overview["utilization"]),
                "running time / elapsed time",
                "kpi-utilization",
                UTILIZATION_BANDS.color(overview["utilization"]),
            ),
            kpi_card(
                "OEE",
                pct(oee["oee"]),
                f"A {pct(oee['availability'])} · P {pct(oee['performance'])} · "
                f"Q {pct(oee['quality'])}",
                "kpi-oee",
                OEE_BANDS.color(oee["oee"]),
            ),
            kpi_card(
                "Open tickets",
                str(tickets["total"]),
                chips(tickets["by_priority"], PRIORITY_COLORS),
                "kpi-tickets",
            ),
            kpi_card(
                "MTTR",
                hours(overview.get("mttr_hours")),
                f"MTBF {hours(overview.get('mtbf_hours'))}",
                "kpi-mttr",
            ),
        ],
        className="g-3 mb-3",
    )
