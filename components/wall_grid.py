"""The wall's machine grid: every machine as a cell in its stack-light colour, with why and
since when ("DOWN 23 min", "hydraulic leak · #255 · dora") and its open-ticket badge; the
same words as the machines page's cards (components/machine_status.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import html

from components.machine_status import card_classes, since_seconds, status_parts, ticket_badge
from components.theme import STATUS_COLORS, STATUS_INK
from components.wording import duration, label


def machine_cell(m: dict[str, Any], show_area: bool, now: datetime | None = None) -> html.Div:
    """One machine: area, name, state and for how long, why; `m` is a `machine_states` row
    (without `now` the cell leaves out how long)."""
    status = m["status"]
    parts = status_parts(m, now) if now is not None else [label(status).upper()]
    badge = ticket_badge(m)
    # The badge takes the area's place: cells are ordered by area anyway.
    area = m["area"] if show_area and badge is None else ""
    seconds = since_seconds(m, now) if now is not None else None
    return html.Div(
        [
            html.Div([html.Span(area, className="cell-area-name"), badge], className="cell-area"),
            html.Div(m["name"], className="cell-name"),
            html.Div(
                [
                    html.Span(label(status), className="cell-word"),
                    html.Span(
                        f" {duration(seconds)}" if seconds is not None else "", className="cell-for"
                    ),
                ],
                className="cell-status",
            ),
            html.Div(" · ".join(parts[1:]), className="cell-why") if parts[1:] else None,
        ],
        className=f"machine-cell {card_classes(m)}",
        title=" · ".join(parts),
        style={
            "--status-color": STATUS_COLORS.get(status, "#868e96"),
            "color": STATUS_INK.get(status, "#0b0d10"),
        },
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


def machine_grid(
    machines: list[dict[str, Any]], show_area: bool = True, now: datetime | None = None
) -> html.Div:
    """Every machine as a cell in its stack-light colour, sized so that all of them fit."""
    cols, rows = grid_shape(len(machines))
    cells = [machine_cell(m, show_area, now) for m in machines]
    return html.Div(
        cells or [html.Div("No machines yet", className="tile-empty")],
        className="machine-grid",
        id="wall-grid",
        style={"--cols": cols, "--rows": rows},
    )
