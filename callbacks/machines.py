"""Machines page: status cards by area and one machine's detail."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from dash import Dash, Input, Output, State

from callbacks.deps import Deps
from callbacks.windows import clock_of, plant_calendar, window
from components.figures import empty_figure, output_figure, timeline_figure
from components.machines import (
    detail_kpis,
    machines_page,
    missing_machine,
    status_board,
    ticket_list,
)
from components.plant_head import time_parts
from data.read.calendar_queries import load_calendar
from data.read.hourly_output import DAY_S, output_by_bucket
from data.read.machine_board import machine_states
from data.read.machine_sums import utilization_by_machine
from data.read.plant_queries import areas, machine_detail, status_timeline
from data.store.db import Database
from data.store.sqltypes import utcnow


def board_rows(db: Database, area: str | None, now: datetime) -> list[dict[str, Any]]:
    """`machine_states` rows of the area (all for None) with `utilization_24h` added."""
    with db.read() as session:
        rows = machine_states(session, area or None)
        util = utilization_by_machine(session, now - timedelta(hours=24), now)
    by_id = dict(zip(util["machine_id"], util["utilization"], strict=True))
    return [r | {"utilization_24h": float(by_id.get(r["id"], 0.0))} for r in rows]


def board(db: Database, area: str | None, now: datetime | None = None) -> Any:
    """The machine cards, grouped by area."""
    now = now or utcnow()
    return status_board(board_rows(db, area, now), now)


def selected_machine(search: str | None) -> int | None:
    values = parse_qs((search or "").lstrip("?")).get("id")
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None


# Outputs of the detail callback, in order.
DETAIL_OUTPUTS = (
    ("machine-detail", "hidden"),
    ("machine-detail-title", "children"),
    ("machine-detail-missing", "children"),
    ("machine-detail-body", "hidden"),
    ("machine-detail-kpis", "children"),
    ("machine-timeline", "figure"),
    ("machine-output", "figure"),
    ("machine-tickets", "children"),
)


def detail(
    db: Database, search: str | None, range_value: str | None, now: datetime | None = None
) -> tuple[Any, ...]:
    """Everything the detail panel shows for `?id=` over the chosen window (see
    DETAIL_OUTPUTS); every chart follows the window and says it in its title."""
    machine_id = selected_machine(search)
    blank = empty_figure("")
    if machine_id is None:
        return (True, "", None, True, None, blank, blank, None)
    if machine_id <= 0 or machine_id > 2**31:
        return (False, f"No machine {machine_id}", missing_machine(machine_id), True, None,
                blank, blank, None)  # fmt: skip
    now = now or utcnow()
    with db.read() as session:
        calendar = load_calendar(session)
        span = window(range_value, now, calendar)
        lo, hi, text = span.lo, span.hi, span.phrase
        info = machine_detail(session, machine_id, lo, hi)
        if info is None:
            return (False, f"No machine {machine_id}", missing_machine(machine_id), True, None,
                    blank, blank, None)  # fmt: skip
        timeline = status_timeline(session, lo, hi, machine_id=machine_id)
        output = output_by_bucket(session, lo, hi, machine_id=machine_id, calendar=calendar)
    machine = info["machine"]
    bucket = "day" if output.attrs["bucket_s"] == DAY_S else "hour"
    clock = clock_of(calendar)
    return (
        False,
        f"{machine['name']} · {machine['kind']} · {machine['area']}",
        None,
        False,
        detail_kpis(info, now, text),
        timeline_figure(timeline, f"State history, {text}", clock),
        output_figure(output, f"Good and scrap parts by {bucket}, {text}", bucket, clock),
        ticket_list(info["tickets"], now, clock),
    )


def render(deps: Deps) -> Any:
    """The status board and the detail panel, with the plant's areas to choose from."""
    calendar = plant_calendar(deps.db)
    with deps.db.read() as session:
        names = areas(session)
    return machines_page(names, time_parts(clock_of(calendar)), calendar.has_shifts)


def register(app: Dash, deps: Deps) -> None:
    @app.callback(
        Output("machine-board", "children"),
        Input("machines-area", "value"),
        Input("tick-machines", "data"),
        Input("tick-maintenance", "data"),
    )
    def refresh_board(area: str | None, _tick: Any, _tickets: Any) -> Any:
        return board(deps.db, area)

    @app.callback(
        *(Output(i, p) for i, p in DETAIL_OUTPUTS),
        Input("url", "search"),
        Input("machine-range", "value"),
        Input("tick-machines", "data"),
        State("url", "pathname"),
    )
    def refresh_detail(
        search: str | None, range_value: str | None, _tick: Any, _path: str | None
    ) -> tuple[Any, ...]:
        return detail(deps.db, search, range_value)
