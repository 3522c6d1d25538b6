"""KPI tiles of the shop-floor wall and the number formats they share.

Every number a tile takes from the overview carries `data-kpi` = its dotted path in that
document and `data-value` = the document's value as JSON, and its text is that value put
through one of the `fmt_*` functions, so a check can compare the wall with the API exactly.
Numbers not in the overview carry `data-metric`.
"""

from __future__ import annotations

import json
from typing import Any

from dash import html

from components.theme import OEE_BANDS, PRIORITY_COLORS, STATUS_COLORS, TARGET_BANDS
from components.wording import duration

STATUS_ORDER = ("running", "idle", "setup", "down", "maintenance", "offline")
PRIORITY_ORDER = ("critical", "high", "medium", "low")
LEVEL_COLORS = {"info": "#1c7ed6", "warning": "#f59f00", "critical": "#e03131"}
TICKER_SIZE = 3  # alerts in the ticker: fixed, so nothing grows on a wall left on for months
QUEUE_SIZE = 12  # ticket rows that fit the queue view; the rest are counted
DOWNTIME_TOP = 5


# -- formatting -----------------------------------------------------------------------------


def fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def fmt_count(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def fmt_hours(value: float | None) -> str:
    """A duration given in hours: minutes below one hour, else hours with one decimal."""
    if value is None:
        return "–"
    return f"{value * 60:.0f} min" if value < 1 else f"{value:.1f} h"


def fmt_age(seconds: float) -> str:
    """A coarse age: 'just now', '12 min', '3 h 5 min', '2 d 4 h'."""
    return "just now" if seconds < 60 else duration(seconds)


def lookup(doc: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of the overview document."""
    value: Any = doc
    for key in path.split("."):
        value = value[key]
    return value


def kpi_value(
    doc: dict[str, Any],
    path: str,
    fmt: Any,
    cls: str = "tile-value",
    fit: float | None = None,
    largest: float = 10.0,
) -> html.Span:
    """A number from the overview; `fit`: shrink a big number to fit that many --u units."""
    value = lookup(doc, path)
    text = fmt(value)
    size = fit_size(text, fit, largest) if fit else None
    style = {"fontSize": f"calc(var(--u) * {size:.2f})"} if size else None
    return html.Span(
        text, className=cls, style=style, **{"data-kpi": path, "data-value": json.dumps(value)}
    )


def fit_size(text: str, width_u: float, largest: float = 10.0) -> float:
    """Font size (in --u) at which `text` in bold tabular digits fits `width_u`."""
    return min(largest, width_u / (max(1, len(text)) * 0.62))


def oee_class(value: float | None) -> str:
    """Traffic light for OEE ("good", "fair", "poor"): thresholds in components/theme.py
    (85 % and 60 % unless MILLDASH_OEE_GREEN / MILLDASH_OEE_AMBER say otherwise)."""
    return OEE_BANDS.band(value)


def tile(name: str, label: str, body: list[Any], extra: str = "") -> html.Div:
    return html.Div(
        [html.Div(label, className="tile-label"), *body],
        className=f"kpi-tile tile-{name} {extra}".strip(),
        **{"data-tile": name},
    )


# -- tiles ----------------------------------------------------------------------------------


def oee_tile(doc: dict[str, Any], period: str = "today") -> html.Div:
    """Plant (or area) OEE with availability, performance and quality; `period` says the
    window ("today", "this shift")."""
    oee = doc["oee"]
    parts = [
        html.Div(
            [html.Span(letter, className="sub-label"), kpi_value(doc, f"oee.{key}", fmt_pct, "")],
            className="sub",
        )
        for letter, key in (("A", "availability"), ("P", "performance"), ("Q", "quality"))
    ]
    return tile(
        "oee",
        f"OEE {period}",
        [
            kpi_value(doc, "oee.oee", fmt_pct, f"tile-value big {oee_class(oee['oee'])}", 35),
            html.Div(parts, className="subs"),
        ],
    )


def machines_tile(doc: dict[str, Any]) -> html.Div:
    """Running / total, and every state's count in its stack-light colour."""
    counts = [
        html.Div(
            [
                html.Span(className="dot", style={"background": STATUS_COLORS[s]}),
                kpi_value(doc, f"machines.by_status.{s}", fmt_count, "count"),
                html.Span(s, className="count-label"),
            ],
            className=f"state-count{' zero' if not doc['machines']['by_status'][s] else ''}",
        )
        for s in STATUS_ORDER
    ]
    return tile(
        "machines",
        "Machines running",
        [
            html.Div(
                [
                    kpi_value(doc, "machines.by_status.running", fmt_count, "tile-value big", 24),
                    html.Span(" / ", className="of"),
                    kpi_value(doc, "machines.total", fmt_count, "tile-value of"),
                ],
                className="value-line",
            ),
            html.Div(counts, className="state-counts"),
        ],
    )


def output_tile(doc: dict[str, Any], target: float) -> html.Div:
    """Good parts in the window against the target so far (the ideal rate in the planned
    production time), as a progress bar. The label leaves the window to the other tiles:
    "Good parts this shift" would not fit."""
    good = doc["output"]["good"]
    target_n = round(target)
    # No planned time in the window (a night off): nothing was asked for, nothing is red.
    share = good / target_n if target_n > 0 else None
    shown = min(share or 0.0, 1.0)
    target_span = html.Span(
        fmt_count(target_n), **{"data-metric": "output-target", "data-value": str(target_n)}
    )
    against = (
        [html.Span(f"{share * 100:.0f}% of "), target_span, html.Span(" target")]
        if share is not None
        else [html.Span("no planned time · target "), target_span]
    )
    return tile(
        "output",
        "Good parts",
        [
            html.Div(
                [kpi_value(doc, "output.good", fmt_count, "tile-value big", 35)],
                className="value-line",
            ),
            html.Div(
                html.Div(
                    className="progress-fill",
                    style={
                        "width": f"{shown * 100:.1f}%",
                        "background": TARGET_BANDS.color(share),
                    },
                    **{"data-band": TARGET_BANDS.band(share)},
                ),
                className="progress-track",
                **{"data-metric": "output-progress", "data-value": f"{share or 0.0:.4f}"},
            ),
            html.Div(against, className="tile-detail"),
            html.Div(
                [html.Span("scrap "), kpi_value(doc, "output.scrap", fmt_count, "")],
                className="tile-detail",
            ),
        ],
    )


def tickets_tile(doc: dict[str, Any]) -> html.Div:
    """Every open ticket (open, in progress, on hold), however old, by priority."""
    by = doc["open_tickets"]["by_priority"]
    counts = [
        html.Div(
            [
                kpi_value(doc, f"open_tickets.by_priority.{p}", fmt_count, "count"),
                html.Span(p, className="count-label"),
            ],
            className=f"prio-count prio-{p}{' zero' if not by[p] else ''}",
            style={"--prio-color": PRIORITY_COLORS[p]},
        )
        for p in PRIORITY_ORDER
    ]
    alarm = "alarm" if by.get("critical") else ""
    return tile(
        "tickets",
        "Open tickets",
        [
            kpi_value(doc, "open_tickets.total", fmt_count, "tile-value big", 35),
            html.Div(counts, className="prio-counts"),
        ],
        alarm,
    )


def mttr_tile(doc: dict[str, Any], period: str = "today") -> html.Div:
    return tile(
        "mttr",
        f"MTTR {period}",
        [
            kpi_value(doc, "mttr_hours", fmt_hours, "tile-value big", 35, largest=7.0),
            html.Div(
                [html.Span("MTBF "), kpi_value(doc, "mtbf_hours", fmt_hours, "")],
                className="tile-detail",
            ),
        ],
    )


def fmt_seconds(seconds: float) -> str:
    """A length of time with units: '45 s', '23 min', '3 h 41 min'."""
    return duration(seconds)


def downtime_tile(reasons: list[dict[str, Any]], period: str = "today") -> html.Div:
    """Top reasons for `down` time in the window, longest first, with bars relative to the
    longest."""
    longest = max((r["seconds"] for r in reasons), default=0.0) or 1.0
    rows = [
        html.Div(
            [
                html.Span(r["reason"], className="reason-name"),
                html.Div(
                    html.Div(
                        className="reason-fill",
                        style={"width": f"{r['seconds'] / longest * 100:.1f}%"},
                    ),
                    className="reason-bar",
                ),
                html.Span(fmt_seconds(r["seconds"]), className="reason-time"),
            ],
            className="reason-row",
            **{
                "data-metric": "downtime",
                "data-reason": r["reason"],
                "data-value": str(r["seconds"]),
            },
        )
        for r in reasons[:DOWNTIME_TOP]
    ]
    body = rows or [html.Div(f"No downtime {period}", className="tile-empty")]
    return tile("downtime", f"Downtime {period}", [html.Div(body, className="reasons")])
