"""The live alert feed: one line per maintenance_alert frame, newest first."""

from __future__ import annotations

from typing import Any

from dash import html

from components.theme import PRIORITY_COLORS


def alert_item(frame: dict[str, Any]) -> html.Div:
    data = frame.get("data", {})
    priority = data.get("priority", "low")
    machine = data.get("machine_name") or f"machine {data.get('machine_id')}"
    when = str(frame.get("timestamp", ""))[11:16]
    return html.Div(
        [
            html.Span(
                priority,
                className="badge prio",
                style={"background": PRIORITY_COLORS.get(priority, "#888")},
            ),
            html.Span(f" {when} ", className="muted"),
            html.Strong(f"#{data.get('ticket_id')} {data.get('title', '')}"),
            html.Span(f" — {machine}", className="muted"),
        ],
        className=f"alert-item prio-{priority}",
        **{"data-seq": str(frame.get("seq")), "data-ticket-id": str(data.get("ticket_id"))},
    )


def alert_feed(frames: list[dict[str, Any]]) -> list[html.Div]:
    if not frames:
        return [html.Div("No alerts yet.", className="empty-state small alert-empty")]
    return [alert_item(f) for f in frames]
