"""The shop-floor wall (kiosk): options from the URL, the rotating views and their data.

The wall's window is the current shift when the plant has shifts (the last one that ended
while none runs), else "today" since plant-local midnight; `?window=today` or `?window=shift`
chooses. Each refresh (a socket tick, the rotation timer or a 30 s timer for a quiet plant)
re-reads a few small queries and re-renders the current view in full; the view is small, so
nothing accumulates in the browser. Every time on the wall is on the plant's clock.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import pandas as pd
from dash import ClientsideFunction, Dash, Input, Output, State

from callbacks.deps import Deps
from callbacks.windows import Window, clock_of, shift_head, today, window
from components import wall as ui
from components.pages import SHIFT, TODAY
from data.calendar.schedule import Calendar
from data.read import kpis
from data.read import wall_queries as wq
from data.read.calendar_queries import load_calendar
from data.read.machine_board import machine_states
from data.read.machine_sums import machine_frame
from data.store.sqltypes import as_utc, utcnow

MIN_ROTATE_S = 5
MAX_ROTATE_S = 3600
MAX_RELOAD_HOURS = 24 * 30
WINDOWS = (SHIFT, TODAY)


@dataclass(frozen=True)
class WallOptions:
    """What `/wall?rotate=S&area=A&reload_hours=H&window=W` asks for (bad values are
    ignored)."""

    rotate: int = 0  # seconds per view; 0: no rotation
    area: str | None = None
    reload_hours: float | None = None
    window: str | None = None  # "shift" or "today"; None: the shift when there are shifts


def parse_options(search: str | None) -> WallOptions:
    args = {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}
    rotate = 0
    with contextlib.suppress(ValueError, OverflowError):
        rotate = int(float(args.get("rotate", "0")))
    if rotate > 0:
        rotate = max(MIN_ROTATE_S, min(MAX_ROTATE_S, rotate))
    reload_hours: float | None = None
    with contextlib.suppress(KeyError, ValueError):
        reload_hours = float(args["reload_hours"])
    if reload_hours is not None and not 0 < reload_hours <= MAX_RELOAD_HOURS:
        reload_hours = None
    area = (args.get("area") or "").strip() or None
    wanted = (args.get("window") or "").strip().lower()
    return WallOptions(max(0, rotate), area, reload_hours, wanted if wanted in WINDOWS else None)


def match_area(areas: list[str], wanted: str | None) -> str | None:
    """The plant's spelling of an area asked for in the URL (case-insensitive), or None."""
    if not wanted:
        return None
    return next((a for a in areas if a.casefold() == wanted.casefold()), None)


def wall_views(areas: list[str], options: WallOptions) -> list[str]:
    """The views the wall shows, in rotation order: `plant`, `area:<name>`, `queue` (the queue
    of one area is `queue:<name>`). Without `rotate` only the first is shown."""
    area = match_area(areas, options.area)
    if options.area and area is None:
        return [f"unknown-area:{options.area}"]
    if area is not None:
        views = [f"area:{area}", f"queue:{area}"]
    else:
        views = ["plant", *(f"area:{a}" for a in areas), "queue"]
    return views if options.rotate else views[:1]


def current_view(views: list[str], n_intervals: int | None) -> str:
    return views[(n_intervals or 0) % len(views)]


def view_title(view: str) -> str:
    kind, _, area = view.partition(":")
    return {
        "plant": "Plant overview",
        "area": f"Area {area}",
        "queue": f"Maintenance queue{' · ' + area if area else ''}",
    }.get(kind, "Mill Dash wall")


def today_window(now: datetime, calendar: Calendar | None = None) -> tuple[datetime, datetime]:
    """[plant-local midnight of now's day, now) (UTC without a calendar); never empty, even
    at midnight on the dot."""
    return today(calendar or Calendar(), now)


def wall_window(calendar: Calendar, options: WallOptions, now: datetime) -> Window:
    """The wall's window: as the URL asks, else the current shift when there are shifts,
    else today."""
    wanted = options.window or (SHIFT if calendar.has_shifts else TODAY)
    return window(wanted, now, calendar)


def period_words(span: Window) -> str:
    """How the tiles say the window: "this shift", "last shift" or "today"."""
    if span.shift is None:
        return "today"
    return "this shift" if span.shift.running else "last shift"


def rotate_timer(search: str | None) -> tuple[int, bool]:
    """The rotation timer's interval (ms) and whether it is off."""
    options = parse_options(search)
    return max(1, options.rotate) * 1000, options.rotate == 0


# -- read side of the wall (small queries scoped to an area) -----------------------------


def area_frame(frame: pd.DataFrame, area: str | None) -> pd.DataFrame:
    """The per-machine frame limited to one area (all machines for None)."""
    return frame if area is None else frame[frame["area"] == area].reset_index(drop=True)


# -- rendering ------------------------------------------------------------------------------


def render_wall(
    deps: Deps, search: str | None, n_rotate: int | None, now: datetime | None = None
) -> tuple[Any, Any, str]:
    """Body, ticker and title of the wall for the view the rotation is on."""
    if deps.principal() is None:
        return (
            ui.message_view(
                "signed-out",
                "This display is not signed in",
                "Open /wall?token=<display token> once; "
                "create one with: python -m app create-token --role display --name tv-1",
            ),
            [],
            "Not signed in",
        )
    now = as_utc(now or utcnow())
    options = parse_options(search)
    with deps.db.read() as session:
        calendar = load_calendar(session)
        span = wall_window(calendar, options, now)
        lo, hi, period, clock = span.lo, span.hi, period_words(span), clock_of(calendar)
        frame = machine_frame(session, lo, hi, calendar)
        views = wall_views(sorted(set(frame["area"])), options)
        view = current_view(views, n_rotate)
        kind, _, area_name = view.partition(":")
        if kind == "unknown-area":
            body = ui.message_view(
                view,
                f"No area called {area_name!r}",
                "Areas: " + (", ".join(sorted(set(frame["area"]))) or "none yet"),
            )
            alerts = wq.latest_alerts(session, ui.TICKER_SIZE)
            return body, ui.ticker(alerts, now, clock), "Unknown area"
        area = area_name or None
        scoped = area_frame(frame, area)
        doc = kpis.overview_document(scoped, wq.open_tickets_by_priority(session, area), lo, hi)
        if kind == "queue":
            queue = wq.open_ticket_list(session, area, ui.QUEUE_SIZE)
            body = ui.queue_view(view, doc, queue, now, period)
        else:
            ids = None if area is None else [int(i) for i in scoped["machine_id"]]
            reasons = wq.downtime_reasons(session, lo, hi, ids, ui.DOWNTIME_TOP)
            cells = machine_states(session, area)
            # The target counts planned production time only: a night off asks for nothing.
            target = float(doc["target_good"])
            body = ui.board_view(view, doc, target, reasons, cells, now, period)
        alerts = wq.latest_alerts(session, ui.TICKER_SIZE)
    return body, ui.ticker(alerts, now, clock), view_title(view)


def wall_head(deps: Deps, search: str | None, now: datetime | None = None) -> tuple[Any, Any]:
    """The head's window (the shift with its progress, or "today since 00:00") and the
    plant's zone beside the clock."""
    now = as_utc(now or utcnow())
    calendar = deps.calendar()
    span = wall_window(calendar, parse_options(search), now)
    clock = clock_of(calendar)
    shown = shift_head(calendar, now, with_next=False) if span.shift is not None else None
    return ui.window_line(shown, clock, span.lo), ui.zone_mark(clock)


def render(deps: Deps) -> Any:
    """The kiosk layout, on the plant's clock; its callbacks fill the views."""
    return ui.wall_page(deps.clock())


def register(app: Dash, deps: Deps) -> None:
    app.callback(
        Output("wall-rotate", "interval"),
        Output("wall-rotate", "disabled"),
        Input("url", "search"),
    )(rotate_timer)

    @app.callback(
        Output("wall-body", "children"),
        Output("wall-ticker", "children"),
        Output("wall-view-name", "children"),
        Output("wall-window", "children"),
        Output("wall-zone", "children"),
        Input("tick-dashboard", "data"),
        Input("tick-machines", "data"),
        Input("tick-maintenance", "data"),
        Input("tick-production", "data"),
        Input("wall-rotate", "n_intervals"),
        Input("wall-refresh", "n_intervals"),
        State("url", "search"),
    )
    def refresh(*args: Any) -> tuple[Any, ...]:
        *_ticks, n_rotate, _n_refresh, search = args
        now = utcnow()
        return (*render_wall(deps, search, n_rotate, now), *wall_head(deps, search, now))

    # A new alert reaches the ticker from its socket frame (assets/live_alerts.js); after each
    # server render the browser puts back the alerts that render did not know yet.
    app.clientside_callback(
        ClientsideFunction("alerts", "ticker"),
        Output("wall-ticker", "title"),  # never changed: the function returns no_update
        Input("wall-ticker", "children"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("wall", "banner"),
        Output("wall-banner", "className"),
        Output("wall-banner-kind", "children"),
        Output("wall-banner-title", "children"),
        Output("wall-banner-detail", "children"),
        Input("critical-alert", "data"),
        Input("system-alert", "data"),
        prevent_initial_call=True,
    )
