"""The live alert feed: one line per maintenance_alert frame, newest first; how long ago it
came, with the moment on the plant's clock as the tooltip.

assets/alert_markup.js builds the same line from a socket frame in the browser (`feedItem`):
change both together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import html

from components.theme import PRIORITY_COLORS
from components.wording import UTC_CLOCK, PlantClock, ago, instant, label


def alert_item(
    frame: dict[str, Any], now: datetime | None = None, clock: PlantClock = UTC_CLOCK
) -> html.Div:
    """One alert: priority, how long ago, the ticket and its machine."""
    data = frame.get("data", {})
    priority = data.get("priority", "low")
    machine = data.get("machine_name") or f"machine {data.get('machine_id')}"
    stamp = str(frame.get("timestamp") or "")
    moment = instant(stamp)
    when = ago(moment, now) if moment else ""
    return html.Div(
        [
            html.Span(
                label(priority),
                className="badge prio",
                style={"background": PRIORITY_COLORS.get(priority, "#888")},
            ),
            html.Span(
                f" {when} ", className="muted", title=clock.stamp(moment) if moment else None
            ),
            html.Strong(f"#{data.get('ticket_id')} {data.get('title', '')}"),
            html.Span(f" — {machine}", className="muted"),
        ],
        className=f"alert-item prio-{priority}",
        **{
            "data-seq": str(frame.get("seq")),
            "data-ticket-id": str(data.get("ticket_id")),
            "data-ts": stamp,  # assets/live_alerts.js refreshes "… ago" from it
        },
    )


def alert_feed(
    frames: list[dict[str, Any]], now: datetime | None = None, clock: PlantClock = UTC_CLOCK
) -> list[html.Div]:
    """The feed's lines, or a note that there are none yet."""
    if not frames:
        return [html.Div("No alerts yet.", className="empty-state small alert-empty")]
    return [alert_item(f, now, clock) for f in frames]
