"""The shop-floor wall (kiosk): machine grid, ticket queue, alert ticker and the views made of
them and of the KPI tiles (components/wall_tiles.py).

Pure builders: an overview document (the JSON of GET /api/v1/dashboard/overview) and a few
small lists in, Dash components out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import dcc, html

from components.plant_head import ZONE_ATTR
from components.theme import PRIORITY_COLORS, STATUS_COLORS  # noqa: F401 - re-exported
from components.wall_grid import grid_shape, machine_cell, machine_grid  # noqa: F401
from components.wall_tiles import (  # noqa: F401 - re-exported for the callbacks
    DOWNTIME_TOP,
    LEVEL_COLORS,
    PRIORITY_ORDER,
    QUEUE_SIZE,
    STATUS_ORDER,
    TICKER_SIZE,
    downtime_tile,
    fit_size,
    fmt_age,
    fmt_count,
    fmt_hours,
    fmt_pct,
    fmt_seconds,
    kpi_value,
    lookup,
    machines_tile,
    mttr_tile,
    oee_class,
    oee_tile,
    output_tile,
    tickets_tile,
    tile,
)
from components.wording import UTC_CLOCK, PlantClock, instant, label


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
                html.Span(label(t["status"]), className="q-status"),
                html.Span(
                    fmt_age((now - (instant(t["created_at"]) or now)).total_seconds()),
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
    now: datetime | None = None,
    period: str = "today",
) -> html.Div:
    """The plant overview or one area's board: six tiles and the machine grid (`machines`:
    `machine_states` rows); `period` says the window on the tiles ("today", "this shift")."""
    return view_frame(
        view,
        doc,
        [
            oee_tile(doc, period),
            machines_tile(doc),
            output_tile(doc, target),
            tickets_tile(doc),
            mttr_tile(doc, period),
            downtime_tile(reasons, period),
            html.Div(machine_grid(machines, view == "plant", now), className="grid-wrap"),
        ],
    )


def queue_view(
    view: str,
    doc: dict[str, Any],
    tickets: list[dict[str, Any]],
    now: datetime,
    period: str = "today",
) -> html.Div:
    """The maintenance queue: ticket counts, MTTR and the open tickets themselves."""
    total = doc["open_tickets"]["total"]
    return view_frame(
        view,
        doc,
        [
            tickets_tile(doc),
            machines_tile(doc),
            mttr_tile(doc, period),
            queue_list(tickets, total, now),
        ],
    )


def ticker_item(frame: dict[str, Any], now: datetime, clock: PlantClock = UTC_CLOCK) -> html.Div:
    """One alert: its badge, machine (or "Plant message"), when on the plant's clock and how
    long ago, and its text; assets/alert_markup.js `tickerItem` builds the same."""
    data = frame.get("data", {})
    moment = instant(frame["timestamp"]) or now
    age = fmt_age((now - moment).total_seconds())
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
                            html.Span(clock.time(moment), className="ticker-time"),
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


def ticker(frames: list[dict[str, Any]], now: datetime, clock: PlantClock = UTC_CLOCK) -> list[Any]:
    """The latest alerts, newest first, at most TICKER_SIZE."""
    items = [ticker_item(f, now, clock) for f in frames[:TICKER_SIZE]]
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


def window_line(badge: html.Div | None, clock: PlantClock, since: datetime) -> Any:
    """The head's window: the shift and its progress, or "today since 00:00"."""
    return badge if badge is not None else f"today since {clock.time(since)}"


def zone_mark(clock: PlantClock) -> html.Span:
    """The plant's zone beside the clock (`data-plant-zone` sets the clock's zone)."""
    return html.Span(clock.name, className="wall-zone-name", **{ZONE_ATTR: clock.name})


def wall_page(clock: PlantClock = UTC_CLOCK) -> html.Div:
    """The kiosk page; `callbacks.wall` fills the body and the window, `assets/wall.js` runs
    the clock (on the plant's zone, shown beside it), the staleness mark, the alert banner
    and the optional soft reload."""
    return html.Div(
        [
            html.Div(
                [
                    html.Div(
                        [
                            html.Span("◼", className="brand-mark"),
                            html.Span("MILL DASH", className="wall-brand"),
                            html.Span("Plant overview", id="wall-view-name"),
                            html.Div(id="wall-window", className="wall-window"),
                        ],
                        className="wall-head-left",
                    ),
                    html.Div(
                        [
                            html.Span(id="wall-clock"),
                            html.Span(zone_mark(clock), id="wall-zone"),
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
