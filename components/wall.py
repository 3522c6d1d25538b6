"""The shop-floor wall (kiosk): KPI tiles, machine grid, ticket queue and alert ticker.

Pure builders: an overview document (the JSON of GET /api/v1/dashboard/overview) and a few
small lists in, Dash components out. Every number a tile takes from the overview carries
`data-kpi` = its dotted path in that document and `data-value` = the document's value as JSON,
and its text is that value put through one of the `fmt_*` functions below, so a check can
compare the wall with the API exactly. Numbers not in the overview carry `data-metric`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from dash import dcc, html

from components.theme import PRIORITY_COLORS, STATUS_COLORS

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
    """A coarse age: 'just now', '12 min', '3 h 05', '2 d 4 h'."""
    s = max(0, int(seconds))
    if s < 60:
        return "just now"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d}"
    return f"{s // 86400} d {s % 86400 // 3600} h"


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
    """Traffic light for OEE: 85% is world class, under 60% needs attention."""
    if value is None:
        return ""
    return "good" if value >= 0.85 else "fair" if value >= 0.6 else "poor"


def tile(name: str, label: str, body: list[Any], extra: str = "") -> html.Div:
    return html.Div(
        [html.Div(label, className="tile-label"), *body],
        className=f"kpi-tile tile-{name} {extra}".strip(),
        **{"data-tile": name},
    )


# -- tiles ----------------------------------------------------------------------------------


def oee_tile(doc: dict[str, Any]) -> html.Div:
    """Plant (or area) OEE with availability, performance and quality."""
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
        "OEE today",
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
    """Good parts today against the ideal-rate target so far, as a progress bar."""
    good = doc["output"]["good"]
    target_n = round(target)
    share = good / target_n if target_n > 0 else 0.0
    return tile(
        "output",
        "Good parts today",
        [
            html.Div(
                [kpi_value(doc, "output.good", fmt_count, "tile-value big", 35)],
                className="value-line",
            ),
            html.Div(
                html.Div(
                    className="progress-fill",
                    style={"width": f"{min(share, 1.0) * 100:.1f}%"},
                ),
                className="progress-track",
                **{"data-metric": "output-progress", "data-value": f"{share:.4f}"},
            ),
            html.Div(
                [
                    html.Span(f"{share * 100:.0f}% of "),
                    html.Span(
                        fmt_count(target_n),
                        **{"data-metric": "output-target", "data-value": str(target_n)},
                    ),
                    html.Span(" target"),
                ],
                className="tile-detail",
            ),
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


def mttr_tile(doc: dict[str, Any]) -> html.Div:
    return tile(
        "mttr",
        "MTTR today",
        [
            kpi_value(doc, "mttr_hours", fmt_hours, "tile-value big", 35, largest=7.0),
            html.Div(
                [html.Span("MTBF "), kpi_value(doc, "mtbf_hours", fmt_hours, "")],
                className="tile-detail",
            ),
        ],
    )


def fmt_seconds(seconds: float) -> str:
    s = round(seconds)
    if s < 3600:
        return f"{s // 60} min" if s >= 60 else f"{s} s"
    return f"{s // 3600} h {s % 3600 // 60:02d}"


def downtime_tile(reasons: list[dict[str, Any]]) -> html.Div:
    """Top reasons for `down` time today, longest first, with bars relative to the longest."""
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
    body = rows or [html.Div("No downtime today", className="tile-empty")]
    return tile("downtime", "Downtime today", [html.Div(body, className="reasons")])


def machine_cell(m: dict[str, Any], show_area: bool) -> html.Div:
    status = m["status"]
    return html.Div(
        [
            html.Div(m["area"] if show_area else "", className="cell-area"),
            html.Div(m["name"], className="cell-name"),
            html.Div(status, className="cell-status"),
        ],
        className=f"machine-cell status-{status}",
        style={"--status-color": STATUS_COLORS.get(status, "#868e96")},
        **{"data-machine-id": str(m["id"]), "data-status": status},
    )


def grid_shape(count: int, aspect: float = 2.4) -> tuple[int, int]:
    """Columns and rows for `count` cells in a box `aspect` times wider than tall: the shape
    whose cells give a machine name the largest text (names are wider than tall)."""
    if count <= 0:
        return 1, 1

    def text_room(cols: int) -> tuple[float, int]:
        rows = -(-count // cols)
        return min(aspect / cols / 1.3, 1 / rows), -(cols * rows - count)

    cols = max(range(1, count + 1), key=text_room)
    return cols, -(-count // cols)


def machine_grid(machines: list[dict[str, Any]], show_area: bool = True) -> html.Div:
    """Every machine as a cell in its stack-light colour, sized so that all of them fit."""
    cols, rows = grid_shape(len(machines))
    cells = [machine_cell(m, show_area) for m in machines]
    return html.Div(
        cells or [html.Div("No machines yet", className="tile-empty")],
        className="machine-grid",
        id="wall-grid",
        style={"--cols": cols, "--rows": rows},
    )


def queue_list(tickets: list[dict[str, Any]], total: int, now: datetime) -> html.Div:
    """Open tickets, most urgent and oldest first; the ones that do not fit are counted."""
    rows = [
        html.Div(
            [
                html.Span(
                    t["priority"],
                    className="prio-badge",
                    style={"background": PRIORITY_COLORS.get(t["priority"], "#868e96")},
                ),
                html.Span(f"#{t['id']}", className="q-id"),
                html.Span(t["machine_name"], className="q-machine"),
                html.Span(t["title"], className="q-title"),
                html.Span(t["status"].replace("_", " "), className="q-status"),
                html.Span(
                    fmt_age((now - datetime.fromisoformat(t["created_at"])).total_seconds()),
                    className="q-age",
                ),
            ],
            className=f"queue-row prio-{t['priority']}",
            **{"data-ticket-id": str(t["id"])},
        )
        for t in tickets[:QUEUE_SIZE]
    ]
    more = total - len(rows)
    if more > 0:
        rows.append(html.Div(f"+ {more:,} more open tickets", className="queue-more"))
    if not rows:
        rows = [html.Div("No open tickets", className="tile-empty")]
    return html.Div(
        [html.Div("Maintenance queue", className="tile-label"), *rows],
        className="kpi-tile tile-queue",
        **{"data-tile": "queue"},
    )


# -- views, ticker, page ------------------------------------------------------------------


def view_frame(view: str, doc: dict[str, Any], children: list[Any]) -> html.Div:
    return html.Div(
        children,
        className=f"wall-view view-{view.split(':')[0]}",
        **{"data-view": view, "data-from": doc["from"], "data-to": doc["to"]},
    )


def board_view(
    view: str,
    doc: dict[str, Any],
    target: float,
    reasons: list[dict[str, Any]],
    machines: list[dict[str, Any]],
) -> html.Div:
    """The plant overview or one area's board: six tiles and the machine grid."""
    return view_frame(
        view,
        doc,
        [
            oee_tile(doc),
            machines_tile(doc),
            output_tile(doc, target),
            tickets_tile(doc),
            mttr_tile(doc),
            downtime_tile(reasons),
            html.Div(machine_grid(machines, view == "plant"), className="grid-wrap"),
        ],
    )


def queue_view(view: str, doc: dict[str, Any], tickets: list[dict[str, Any]], now: datetime):
    """The maintenance queue: ticket counts, MTTR and the open tickets themselves."""
    total = doc["open_tickets"]["total"]
    return view_frame(
        view,
        doc,
        [tickets_tile(doc), machines_tile(doc), mttr_tile(doc), queue_list(tickets, total, now)],
    )


def ticker_item(frame: dict[str, Any], now: datetime) -> html.Div:
    data = frame.get("data", {})
    age = fmt_age((now - datetime.fromisoformat(frame["timestamp"])).total_seconds())
    if frame.get("type") == "system_alert":
        level = data.get("level", "info")
        badge, color, text = level, LEVEL_COLORS.get(level, "#1c7ed6"), data.get("message", "")
        head = "Plant message"
    else:
        badge = data.get("priority", "low")
        color = PRIORITY_COLORS.get(badge, "#868e96")
        head = data.get("machine_name") or f"machine {data.get('machine_id')}"
        text = f"#{data.get('ticket_id')} {data.get('title', '')}"
    return html.Div(
        [
            html.Span(badge, className="prio-badge", style={"background": color}),
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(head, className="ticker-head"),
                            html.Span(age, className="ticker-age"),
                        ],
                        className="ticker-top",
                    ),
                    html.Div(text, className="ticker-text"),
                ],
                className="ticker-body",
            ),
        ],
        className=f"ticker-item level-{badge}",
        **{"data-seq": str(frame.get("seq"))},
    )


def ticker(frames: list[dict[str, Any]], now: datetime) -> list[Any]:
    """The latest alerts, newest first, at most TICKER_SIZE."""
    items = [ticker_item(f, now) for f in frames[:TICKER_SIZE]]
    return (
        [html.Span("Latest alerts", className="ticker-label"), *items]
        if items
        else [
            html.Span("Latest alerts", className="ticker-label"),
            html.Span("none", className="ticker-text muted"),
        ]
    )


def message_view(view: str, title: str, detail: str) -> html.Div:
    """A whole-wall message (not signed in, unknown area)."""
    return html.Div(
        [html.Div(title, className="message-title"), html.Div(detail, className="message-detail")],
        className="wall-view view-message",
        **{"data-view": view},
    )


def wall_page() -> html.Div:
    """The kiosk page; `callbacks.wall` fills the body, `assets/wall.js` runs the clock, the
    staleness mark, the alert banner and the optional soft reload."""
    return html.Div(
        [
            html.Div(
                [
                    html.Div(
                        [
                            html.Span("◼", className="brand-mark"),
                            html.Span("MILL DASH", className="wall-brand"),
                            html.Span("Plant overview", id="wall-view-name"),
                            html.Span("today since 00:00 UTC", className="wall-window"),
                        ],
                        className="wall-head-left",
                    ),
                    html.Div(
                        [
                            html.Span(id="wall-clock"),
                            html.Span(
                                "waiting for data",
                                id="wall-updated",
                                **{"data-stale": "false", "aria-live": "polite"},
                            ),
                        ],
                        className="wall-head-right",
                    ),
                ],
                className="wall-head",
            ),
            html.Div(id="wall-body"),
            html.Div(id="wall-ticker", className="wall-ticker"),
            html.Div(
                [
                    html.Div(id="wall-banner-kind", className="banner-kind"),
                    html.Div(id="wall-banner-title", className="banner-title"),
                    html.Div(id="wall-banner-detail", className="banner-detail"),
                ],
                id="wall-banner",
                className="wall-banner",
            ),
            dcc.Interval(id="wall-rotate", interval=60_000, disabled=True),
            dcc.Interval(id="wall-refresh", interval=30_000),
        ],
        id="wall",
    )
