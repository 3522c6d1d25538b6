"""The shop-floor wall (kiosk): options from the URL, the rotating views and their data.

The wall's window is "today": [00:00 UTC, now). Each refresh (a socket tick, the rotation
timer or a 30 s timer for a quiet plant) re-reads at most six small queries and re-renders
the current view in full; the view is small, so nothing accumulates in the browser.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pandas as pd
from dash import ClientsideFunction, Dash, Input, Output, State
from sqlalchemy import case, func, literal_column, or_, select
from sqlalchemy.orm import Session

from callbacks import Deps
from components import wall as ui
from data import kpis, queries
from data.events import Event
from data.models import TICKET_PRIORITIES, EventLog, Machine, Ticket
from data.records import ticket_record
from data.sqltypes import as_utc, overlap_seconds, utcnow

MIN_ROTATE_S = 5
MAX_ROTATE_S = 3600
MAX_RELOAD_HOURS = 24 * 30
ALERT_TYPES = ("maintenance_alert", "system_alert")


@dataclass(frozen=True)
class WallOptions:
    """What `/wall?rotate=S&area=A&reload_hours=H` asks for (bad values are ignored)."""

    rotate: int = 0  # seconds per view; 0: no rotation
    area: str | None = None
    reload_hours: float | None = None


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
    return WallOptions(max(0, rotate), area, reload_hours)


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


def today_window(now: datetime) -> tuple[datetime, datetime]:
    """[00:00 UTC of now's day, now); never empty, even at midnight on the dot."""
    hi = as_utc(now)
    lo = datetime(hi.year, hi.month, hi.day, tzinfo=UTC)
    return lo, max(hi, lo + timedelta(seconds=1))


def rotate_timer(search: str | None) -> tuple[int, bool]:
    """The rotation timer's interval (ms) and whether it is off."""
    options = parse_options(search)
    return max(1, options.rotate) * 1000, options.rotate == 0


# -- read side of the wall (small queries scoped to an area) -----------------------------


def area_frame(frame: pd.DataFrame, area: str | None) -> pd.DataFrame:
    """The per-machine frame limited to one area (all machines for None)."""
    return frame if area is None else frame[frame["area"] == area].reset_index(drop=True)


def machine_cells(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Grid cells from the per-machine frame, ordered by area then name."""
    rows = frame.sort_values(["area", "name"])
    util = (rows["running_s"] / rows["elapsed_s"]).clip(0.0, 1.0)
    return [
        {"id": int(r.machine_id), "name": r.name, "area": r.area, "status": r.status}
        | {"utilization": float(u)}
        for r, u in zip(rows.itertuples(), util, strict=True)
    ]


def open_tickets_by_priority(session: Session, area: str | None) -> dict[str, int]:
    if area is None:
        return queries.open_tickets_by_priority(session)
    rows = session.execute(
        select(Ticket.priority, func.count())
        .join(Machine, Machine.id == Ticket.machine_id)
        .where(Ticket.status.in_(queries.OPEN_TICKET_STATUSES), Machine.area == area)
        .group_by(Ticket.priority)
    ).all()
    return kpis.full_counts(dict(rows), TICKET_PRIORITIES)  # type: ignore[arg-type]


def target_rate(session: Session, area: str | None) -> float:
    """Parts per hour at every machine's ideal cycle time (the production page's target)."""
    stmt = select(func.coalesce(func.sum(3600.0 / func.nullif(Machine.ideal_cycle_time_s, 0)), 0.0))
    if area is not None:
        stmt = stmt.where(Machine.area == area)
    return float(session.scalar(stmt) or 0.0)


def downtime_reasons(
    session: Session, lo: datetime, hi: datetime, machine_ids: list[int] | None
) -> list[dict[str, Any]]:
    """Top `down` reasons in [lo, hi) for the plant (None) or the given machines."""
    if machine_ids is None:
        df = queries.downtime_by_reason(session, lo, hi, ui.DOWNTIME_TOP)
        return df.to_dict("records")
    if not machine_ids:
        return []
    sp = queries.SP
    # Inlined, not bound: GROUP BY must repeat the selected expression on PostgreSQL.
    unspecified = literal_column(f"'{queries.UNSPECIFIED}'")
    reason = func.coalesce(sp.reason, unspecified).label("reason")
    seconds = func.sum(overlap_seconds(sp.started_at, sp.ended_at, lo, hi)).label("seconds")
    rows = session.execute(
        select(reason, seconds)
        .where(
            sp.status == "down",
            sp.machine_id.in_(machine_ids),
            sp.started_at < hi,
            or_(sp.ended_at.is_(None), sp.ended_at > lo),
        )
        .group_by(reason)
        .order_by(seconds.desc(), reason)
        .limit(ui.DOWNTIME_TOP)
    ).all()
    return [{"reason": r, "seconds": float(s)} for r, s in rows]


def open_ticket_list(session: Session, area: str | None) -> list[dict[str, Any]]:
    """The most urgent open tickets, oldest first within a priority (however old)."""
    rank = case({p: i for i, p in enumerate(ui.PRIORITY_ORDER)}, value=Ticket.priority, else_=9)
    stmt = (
        select(Ticket)
        .join(Machine, Machine.id == Ticket.machine_id)
        .where(Ticket.status.in_(queries.OPEN_TICKET_STATUSES))
        .order_by(rank, Ticket.created_at, Ticket.id)
        .limit(ui.QUEUE_SIZE)
    )
    if area is not None:
        stmt = stmt.where(Machine.area == area)
    return [ticket_record(t) for t in session.scalars(stmt).unique()]


def latest_alerts(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(EventLog)
        .where(EventLog.type.in_(ALERT_TYPES))
        .order_by(EventLog.seq.desc())
        .limit(ui.TICKER_SIZE)
    ).all()
    return [Event(r.seq, r.type, r.topic, r.created_at, r.payload).to_frame() for r in rows]


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
    lo, hi = today_window(now)
    options = parse_options(search)
    with deps.db.read() as session:
        frame = queries.machine_frame(session, lo, hi)
        views = wall_views(sorted(set(frame["area"])), options)
        view = current_view(views, n_rotate)
        kind, _, area_name = view.partition(":")
        if kind == "unknown-area":
            body = ui.message_view(
                view,
                f"No area called {area_name!r}",
                "Areas: " + (", ".join(sorted(set(frame["area"]))) or "none yet"),
            )
            return body, ui.ticker(latest_alerts(session), now), "Unknown area"
        area = area_name or None
        scoped = area_frame(frame, area)
        doc = kpis.overview_document(scoped, open_tickets_by_priority(session, area), lo, hi)
        if kind == "queue":
            body = ui.queue_view(view, doc, open_ticket_list(session, area), now)
        else:
            ids = None if area is None else [int(i) for i in scoped["machine_id"]]
            target = target_rate(session, area) * (hi - lo).total_seconds() / 3600.0
            reasons = downtime_reasons(session, lo, hi, ids)
            body = ui.board_view(view, doc, target, reasons, machine_cells(scoped))
        alerts = latest_alerts(session)
    return body, ui.ticker(alerts, now), view_title(view)


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
        Input("tick-dashboard", "data"),
        Input("tick-machines", "data"),
        Input("tick-maintenance", "data"),
        Input("tick-production", "data"),
        Input("wall-rotate", "n_intervals"),
        Input("wall-refresh", "n_intervals"),
        State("url", "search"),
    )
    def refresh(*args: Any) -> tuple[Any, Any, str]:
        *_ticks, n_rotate, _n_refresh, search = args
        return render_wall(deps, search, n_rotate)

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
