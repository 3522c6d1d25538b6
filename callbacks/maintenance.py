"""Maintenance hub: server-side paged ticket grid, export link, create form, ticket actions
and the live alert feed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from dash import ALL, ClientsideFunction, Dash, Input, Output, Patch, State, ctx, no_update

from callbacks.deps import Deps
from components.alert_feed import alert_feed, alert_item
from components.maintenance import maintenance_page
from components.ticket_detail import ticket_detail
from data.errors import NotFound, ServiceError, ValidationFailed
from data.read.event_queries import events_after, latest_events, latest_seq
from data.read.plant_queries import machine_list
from data.read.records import ticket_record
from data.read.ticket_queries import SORTABLE, get_ticket, parse_ticket_filter, search_tickets
from data.store.sqltypes import utcnow
from data.write.workflow import WORKFLOW

FEED_SIZE = 50
FORM_FIELDS = ("machine", "title", "description", "priority", "assignee")


def filter_args(
    status: list[str] | None,
    priority: list[str] | None,
    machine: Any,
    q: str | None,
    sort_model: list[dict[str, Any]] | None = None,
) -> dict[str, str]:
    """The grid's filter and sort as API query arguments (shared by grid and export)."""
    args: dict[str, str] = {}
    if status:
        args["status"] = ",".join(status)
    if priority:
        args["priority"] = ",".join(priority)
    if machine:
        args["machine_id"] = str(machine)
    if q:
        args["q"] = q.strip()
    sort = [
        ("-" if item.get("sort") == "desc" else "") + item["colId"]
        for item in sort_model or []
        if item.get("colId") in SORTABLE
    ]
    args["sort"] = ",".join(sort) or "-created_at"
    return args


# The furthest row a grid request may start at (the ticket filter's offset bound is larger).
MAX_START_ROW = 1_000_000_000


def _row_index(value: Any, default: int) -> int:
    """A row number from the grid's request: a whole number (an integral float too), else
    ValidationFailed. The grid sends integers; anything else was written by hand."""
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_START_ROW:
        raise ValidationFailed("startRow and endRow must be whole numbers of rows.")
    return value


def _grid_request(request: Any, *filters: Any) -> tuple[int, int, list[dict[str, Any]]]:
    """The grid's getRowsRequest, checked, as (start, end, sort model); the filter states are
    checked too. A malformed request is the client's fault: ValidationFailed (400), never a
    500 (the grid itself always sends well-formed ones)."""
    if not isinstance(request, dict):
        raise ValidationFailed("getRowsRequest must be an object.")
    start = _row_index(request.get("startRow"), 0)
    end = _row_index(request.get("endRow"), start + 100)
    sort_model = request.get("sortModel") or []
    if not isinstance(sort_model, list) or not all(
        isinstance(item, dict) and isinstance(item.get("colId"), str) for item in sort_model
    ):
        raise ValidationFailed("sortModel must be a list of {colId, sort}.")
    # The filter states, in `filter_args` order: status, priority, machine, search text.
    for name, chosen in zip(("status", "priority"), filters[:2], strict=False):
        if chosen is not None and not (
            isinstance(chosen, list) and all(isinstance(v, str) for v in chosen)
        ):
            raise ValidationFailed(f"The {name} filter must be a list of names.")
    if len(filters) > 2 and filters[2] is not None and not isinstance(filters[2], str | int):
        raise ValidationFailed("The machine filter must be a machine id.")
    if len(filters) > 3 and filters[3] is not None and not isinstance(filters[3], str):
        raise ValidationFailed("The search text must be a string.")
    return start, end, sort_model


def rows_response(deps: Deps, request: dict[str, Any] | None, *filters: Any) -> tuple[Any, Any]:
    """One block of rows for the infinite grid, and the match count."""
    if not request:
        return no_update, no_update
    start, end, sort_model = _grid_request(request, *filters)
    args = filter_args(*filters, sort_model)
    args.update(limit=str(max(1, min(1000, end - start))), offset=str(start))
    flt = parse_ticket_filter(args)
    with deps.db.read() as session:
        page = search_tickets(session, flt)
    rows = [{**t, "row_id": str(t["id"])} for t in page["items"]]
    total = page["total"]
    return {"rowData": rows, "rowCount": total}, f"{total:,} tickets match"


def export_href(*filters: Any) -> str:
    *plain, request = filters
    args = filter_args(*plain, (request or {}).get("sortModel"))
    return "/api/v1/tickets/export.csv?" + urlencode(args)


def recent_alerts(deps: Deps) -> tuple[list[dict[str, Any]], int]:
    """The latest maintenance alerts from the log, newest first, and the log's latest seq."""
    with deps.db.read() as session:
        events = latest_events(session, ["maintenance_alert"], FEED_SIZE)
        latest = latest_seq(session)
    return [e.to_frame() for e in events], latest


def update_alerts(deps: Deps, seen: dict[str, int] | None) -> tuple[Any, dict[str, int]]:
    """Alerts that arrived since the last applied seq, prepended (a full list on first load)."""
    if not seen:
        frames, latest = recent_alerts(deps)
        return alert_feed(frames), {"seq": latest, "count": len(frames)}
    with deps.db.read() as session:
        new = [
            e
            for e in events_after(session, seen["seq"], ["maintenance"], 1000)
            if e.type == "maintenance_alert"
        ]
        latest = max([seen["seq"], *[e.seq for e in new]])
    if not new:
        return no_update, {"seq": latest, "count": seen["count"]}
    if seen["count"] == 0 or seen["count"] + len(new) > FEED_SIZE:
        frames, latest = recent_alerts(deps)
        return alert_feed(frames), {"seq": latest, "count": len(frames)}
    patch = Patch()
    for event in new:  # oldest first, each to the top
        patch.prepend(alert_item(event.to_frame()))
    return patch, {"seq": latest, "count": seen["count"] + len(new)}


def create_ticket(deps: Deps, *values: Any) -> tuple[Any, ...]:
    """Submit the form: per-field messages on bad input, the fields cleared on success."""
    payload = dict(zip(FORM_FIELDS, values, strict=True))
    no_errors = [False] * len(FORM_FIELDS) + [""] * len(FORM_FIELDS)
    who = deps.principal()
    if not deps.can_write() or who is None:
        return (
            *no_errors,
            "Only operators and admins can open tickets: sign in first.",
            *[no_update] * 3,
        )
    body = {
        "machine_id": int(payload["machine"]) if str(payload["machine"] or "").isdigit() else None,
        "title": payload["title"] or "",
        "description": payload["description"] or "",
        "priority": payload["priority"],
        "assignee": payload["assignee"] or None,
    }
    try:
        ticket = deps.services.create_ticket(body, who.name)
    except ServiceError as exc:
        details = exc.details if isinstance(exc, ValidationFailed) and exc.details else {}
        if isinstance(exc, NotFound):
            details = {"machine_id": exc.message}
        names = {"machine_id": "machine"}
        errors = {names.get(k, k): v for k, v in details.items()}
        if body["machine_id"] is None:
            errors["machine"] = "Choose a machine."
        invalid = [f in errors for f in FORM_FIELDS]
        messages = [str(errors.get(f, "")).capitalize() for f in FORM_FIELDS]
        return (*invalid, *messages, "Please correct the marked fields.", *[no_update] * 3)
    return (*no_errors, f"Ticket #{ticket['id']} opened.", "", "", "")


def render(deps: Deps) -> Any:
    """The hub with the machines a new ticket can name."""
    now = utcnow()
    with deps.db.read() as session:
        return maintenance_page(machine_list(session, now - timedelta(hours=1), now))


def register(app: Dash, deps: Deps) -> None:
    filters = [
        State("filter-status", "value"),
        State("filter-priority", "value"),
        State("filter-machine", "value"),
        State("filter-q", "value"),
    ]
    app.callback(
        Output("tickets-grid", "getRowsResponse"),
        Output("tickets-count", "children"),
        Input("tickets-grid", "getRowsRequest"),
        *filters,
    )(lambda request, *f: rows_response(deps, request, *f))

    app.clientside_callback(
        ClientsideFunction("live", "refreshGrid"),
        Output("tickets-grid", "className"),  # never changed
        Input("tick-maintenance", "data"),
        Input("filter-status", "value"),
        Input("filter-priority", "value"),
        Input("filter-machine", "value"),
        Input("filter-q", "value"),
        prevent_initial_call=True,
    )
    app.callback(
        Output("export-csv", "href"),
        Input("filter-status", "value"),
        Input("filter-priority", "value"),
        Input("filter-machine", "value"),
        Input("filter-q", "value"),
        Input("tickets-grid", "getRowsRequest"),
    )(export_href)

    app.callback(
        Output("alerts", "children"),
        Output("alerts-seq", "data"),
        Input("tick-maintenance", "data"),
        State("alerts-seq", "data"),
    )(lambda _tick, seen: update_alerts(deps, seen))

    app.callback(
        *[Output(f"new-{f}", "invalid") for f in FORM_FIELDS],
        *[Output(f"new-{f}-error", "children") for f in FORM_FIELDS],
        Output("new-result", "children"),
        Output("new-title", "value"),
        Output("new-description", "value"),
        Output("new-assignee", "value"),
        Input("create-ticket-form", "n_submit"),
        Input("new-submit", "n_clicks"),
        *[State(f"new-{f}", "value") for f in FORM_FIELDS],
        prevent_initial_call=True,
    )(lambda _s, _c, *values: create_ticket(deps, *values))

    @app.callback(
        Output("selected-ticket", "data"),
        Input("tickets-grid", "selectedRows"),
        prevent_initial_call=True,
    )
    def select(rows: list[dict[str, Any]] | None) -> Any:
        return rows[0]["id"] if rows else no_update

    @app.callback(
        Output("ticket-detail", "children"),
        Input("selected-ticket", "data"),
        Input("tick-maintenance", "data"),
    )
    def show(ticket_id: int | None, _tick: Any) -> Any:
        if ticket_id is None:
            return None
        with deps.db.read() as session:
            ticket = get_ticket(session, int(ticket_id))
            if ticket is None:
                return None
            record = ticket_record(ticket, with_history=True)
        return ticket_detail(record, WORKFLOW[record["status"]], deps.can_write())

    @app.callback(
        Output("detail-result", "children"),
        Input({"type": "ticket-move", "to": ALL}, "n_clicks"),
        Input("detail-assign", "n_clicks"),
        State("selected-ticket", "data"),
        State("detail-assignee", "value"),
        prevent_initial_call=True,
    )
    def act(_moves: Any, _assign: Any, ticket_id: int | None, assignee: str | None) -> str:
        trigger = ctx.triggered_id
        if ticket_id is None or not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update
        who = deps.principal()
        if not deps.can_write() or who is None:
            return "Only operators and admins can change tickets."
        body = (
            {"status": trigger["to"]}
            if isinstance(trigger, dict)
            else {"assignee": (assignee or "").strip() or None}
        )
        try:
            deps.services.update_ticket(int(ticket_id), body, who.name)
        except ServiceError as exc:
            return exc.message
        return "Saved."
