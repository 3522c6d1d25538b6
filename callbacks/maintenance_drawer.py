"""The ticket drawer (`#ticket-drawer`): opens on a grid row, closes when the filter hides
its ticket, says live who changed the ticket last, offers to reload when it changed after it
was opened, and moves or assigns the ticket only if nobody changed it meanwhile (If-Match on
the version it shows)."""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from callbacks.deps import Deps
from callbacks.maintenance_grid import FILTER_IDS, check_filters, filter_args
from components.ticket_detail import last_change, ticket_detail
from data.errors import ServiceError, ValidationFailed
from data.read.records import ticket_etag, ticket_record
from data.read.ticket_queries import get_ticket, parse_ticket_filter, ticket_matches
from data.store.sqltypes import utcnow
from data.write.tickets import PreconditionFailed
from data.write.workflow import WORKFLOW

Opened = dict[str, int]  # {"id": ticket id, "version": the version the drawer shows}


def current(deps: Deps, ticket_id: int) -> dict[str, Any] | None:
    """The ticket with its history and version, or None."""
    with deps.db.read() as session:
        ticket = get_ticket(session, ticket_id)
        return None if ticket is None else ticket_record(ticket, with_history=True)


def view(deps: Deps, record: dict[str, Any]) -> tuple[Opened, Any, str]:
    """What the drawer shows for `record`: (opened version, body, title)."""
    moves = WORKFLOW[record["status"]]
    body = ticket_detail(record, moves, deps.can_write(), utcnow(), deps.clock())
    return {"id": record["id"], "version": record["version"]}, body, f"Ticket #{record['id']}"


def open_or_close(deps: Deps, clicked: Any, opened: Opened | None, *filters: Any) -> tuple:
    """A row clicked: open its ticket (the reload button: show the current version). A filter
    change that hides the open ticket: close the drawer."""
    trigger = ctx.triggered_id
    skip = (no_update,) * 4
    if trigger in FILTER_IDS:
        if not opened:
            return skip
        check_filters(*filters)
        try:
            flt = parse_ticket_filter(filter_args(*filters))
        except ValidationFailed:
            return skip
        with deps.db.read() as session:
            if ticket_matches(session, flt, int(opened["id"])):
                return skip
        return None, False, None, no_update
    if trigger == "drawer-reload":
        ticket_id = opened["id"] if opened else None
    else:
        row = clicked.get("rowId") if isinstance(clicked, dict) else None
        ticket_id = int(row) if isinstance(row, str) and row.isdigit() else None
    record = current(deps, ticket_id) if ticket_id else None
    if record is None:
        return skip
    state, body, title = view(deps, record)
    return state, True, body, title


def live_line(deps: Deps, opened: Opened | None) -> tuple[str, bool, str]:
    """ "changed by dora 20 s ago", and whether (and why) to offer a reload."""
    if not opened:
        return "", True, ""
    record = current(deps, int(opened["id"]))
    if record is None:
        return "This ticket no longer exists.", True, ""
    now = utcnow()
    line = last_change(record, now)
    if record["version"] == opened["version"]:
        return line, True, ""
    return line, False, f"{line.capitalize()}, after you opened it."


def act(deps: Deps, opened: Opened | None, assignee: str | None) -> tuple:
    """A move or an assignment from the drawer, if the ticket is still as shown."""
    trigger = ctx.triggered_id
    skip = (no_update,) * 4
    if not opened or not ctx.triggered or not ctx.triggered[0]["value"]:
        return skip
    who = deps.principal()
    if not deps.can_write() or who is None:
        return ("Sign in as an operator to change tickets.", *skip[1:])
    body = (
        {"status": trigger["to"]}
        if isinstance(trigger, dict)
        else {"assignee": (assignee or "").strip() or None}
    )
    shown = ticket_etag(int(opened["id"]), int(opened["version"]))
    try:
        record = deps.services.update_ticket(int(opened["id"]), body, who.name, shown.__eq__)
    except PreconditionFailed as exc:
        changed = last_change(exc.ticket, utcnow())
        return (f"Not saved: {changed}. Reload to see the change, then try again.", *skip[1:])
    except ServiceError as exc:
        return (exc.message, *skip[1:])
    state, body_view, title = view(deps, record)
    return "Saved.", state, body_view, title


def register(app: Dash, deps: Deps) -> None:
    """The drawer's callbacks."""
    app.callback(
        Output("drawer-ticket", "data"),
        Output("ticket-drawer", "is_open"),
        Output("ticket-detail", "children"),
        Output("ticket-drawer", "title"),
        Input("tickets-grid", "cellClicked"),
        Input("drawer-reload", "n_clicks"),
        *[Input(f, "value") for f in FILTER_IDS],
        State("drawer-ticket", "data"),
        prevent_initial_call=True,
    )(lambda clicked, _reload, *rest: open_or_close(deps, clicked, rest[-1], *rest[:-1]))
    app.callback(
        Output("drawer-changed", "children"),
        Output("drawer-stale", "hidden"),
        Output("drawer-stale-text", "children"),
        Input("tick-maintenance", "data"),
        Input("drawer-ticket", "data"),
    )(lambda _tick, opened: live_line(deps, opened))
    app.callback(
        Output("detail-result", "children"),
        Output("drawer-ticket", "data", allow_duplicate=True),
        Output("ticket-detail", "children", allow_duplicate=True),
        Output("ticket-drawer", "title", allow_duplicate=True),
        Input({"type": "ticket-move", "to": ALL}, "n_clicks"),
        Input("detail-assign", "n_clicks"),
        State("drawer-ticket", "data"),
        State("detail-assignee", "value"),
        prevent_initial_call=True,
    )(lambda _moves, _assign, opened, assignee: act(deps, opened, assignee))
