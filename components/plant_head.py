"""The time parts of a page head: the shift the plant is in, with its progress ("Late shift ·
14:00-22:00 · 62 %" over a bar), and which zone the page's times are in, said once per page.

`data-plant-zone` on the zone note tells the browser's clocks (assets/plant_time.js) which zone
to show; the routed page carries it too (components/layout.py `routed`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import html

from components.wording import PlantClock, shift_title

ZONE_ATTR = "data-plant-zone"


def zone_note(clock: PlantClock) -> html.Span:
    """ "Times in America/Chicago"."""
    return html.Span(
        clock.note,
        className="zone-note",
        title="Every time on this page is on the plant's clock",
        **{ZONE_ATTR: clock.name},
    )


def shift_badge(
    name: str,
    start: datetime,
    end: datetime,
    progress: float | None,
    clock: PlantClock,
    upcoming: tuple[str, datetime] | None = None,
) -> html.Div:
    """The shift running now and how far it has come (`progress` 0..1), or, with `progress`
    None, the last shift that ended and the next one to start (`upcoming`: name, start)."""
    running = progress is not None
    share = progress if running else 1.0
    parts: list[Any] = [
        html.Span(shift_title(name), className="shift-name"),
        html.Span(" · "),
        html.Span(
            clock.span(start, end) if running else f"{clock.day(start)} {clock.span(start, end)}",
            className="shift-span",
        ),
        html.Span(" · "),
        html.Span(f"{share * 100:.0f} %" if running else "ended", className="shift-pct"),
    ]
    if upcoming is not None and not running:
        parts += [
            html.Span(" · "),
            html.Span(
                f"next: {shift_title(upcoming[0])} {clock.when(upcoming[1])}",
                className="shift-next",
            ),
        ]
    bar = html.Div(
        html.Div(className="shift-fill", style={"width": f"{share * 100:.1f}%"}),
        className="shift-bar",
        role="progressbar",
        **{
            "aria-label": f"{shift_title(name)} progress",
            "aria-valuemin": "0",
            "aria-valuemax": "100",
            "aria-valuenow": f"{share * 100:.0f}",
        },
    )
    return html.Div(
        [html.Div(parts, className="shift-text"), bar],
        className=f"shift-head {'running' if running else 'ended'}",
        **{
            "data-shift": name,
            "data-progress": f"{share:.4f}",
            "data-running": "true" if running else "false",
        },
    )


def time_parts(clock: PlantClock, badge: html.Div | None = None) -> list[Any]:
    """The page head's time line: the shift (when the plant has shifts) and the zone note."""
    return [badge, zone_note(clock)] if badge is not None else [zone_note(clock)]


def time_head(head_id: str, parts: list[Any]) -> html.Div:
    """The container a page's callback keeps `time_parts` in (the shift moves on)."""
    return html.Div(parts, id=head_id, className="page-time")
