"""The hub's ticket list: server-side pages of rows for the grid (cards on a phone), the
export link of the current filter, and the cards' one-tap status moves."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from dash import ClientsideFunction, Dash, Input, Output, State, no_update

from callbacks.deps import Deps
from components.ticket_grid import count_words, grid_row
from components.wording import label
from data.errors import ServiceError, ValidationFailed
from data.read.records import ticket_etag
from data.read.ticket_queries import (
    SORTABLE,
    parse_ticket_filter,
    search_tickets,
    ticket_versions,
)
from data.store.sqltypes import utcnow
from data.write.tickets import PreconditionFailed
from data.write.workflow import WORKFLOW

FILTER_IDS = ("filter-status", "filter-priority", "filter-machine", "filter-q")
# The furthest row a grid request may start at (the ticket filter's offset bound is larger).
MAX_START_ROW = 1_000_000_000


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


def check_filters(*filters: Any) -> None:
    """The filter states, in `filter_args` order (status, priority, machine, search text), as
    the controls send them; anything else is ValidationFailed (400), never a 500."""
    for name, chosen in zip(("status", "priority"), filters[:2], strict=False):
        if chosen is not None and not (
            isinstance(chosen, list) and all(isinstance(v, str) for v in chosen)
        ):
            raise ValidationFailed(f"The {name} filter must be a list of names.")
    if len(filters) > 2 and filters[2] is not None and not isinstance(filters[2], str | int):
        raise ValidationFailed("The machine filter must be a machine id.")
    if len(filters) > 3 and filters[3] is not None and not isinstance(filters[3], str):
        raise ValidationFailed("The search text must be a string.")


def _grid_request(request: Any, *filters: Any) -> tuple[int, int, list[dict[str, Any]]]:
    """The grid's getRowsRequest, checked, as (start, end, sort model); the filter states are
    checked too. A malformed request is the client's fault: ValidationFailed (400)."""
    if not isinstance(request, dict):
        raise ValidationFailed("getRowsRequest must be an object.")
    start = _row_index(request.get("startRow"), 0)
    end = _row_index(request.get("endRow"), start + 100)
    sort_model = request.get("sortModel") or []
    if not isinstance(sort_model, list) or not all(
        isinstance(item, dict) and isinstance(item.get("colId"), str) for item in sort_model
    ):
        raise ValidationFailed("sortModel must be a list of {colId, sort}.")
    check_filters(*filters)
    return start, end, sort_model


def rows_response(deps: Deps, request: dict[str, Any] | None, *filters: Any) -> tuple[Any, Any]:
    """One block of rows for the infinite grid, and the match count in words."""
    if not request:
        return no_update, no_update
    start, end, sort_model = _grid_request(request, *filters)
    args = filter_args(*filters, sort_model)
    args.update(limit=str(max(1, min(1000, end - start))), offset=str(start))
    flt = parse_ticket_filter(args)
    with deps.db.read() as session:
        page = search_tickets(session, flt)
        versions = ticket_versions(session, [t["id"] for t in page["items"]])
    can_write, now, clock = deps.can_write(), utcnow(), deps.clock()
    rows = [
        {**grid_row(t, WORKFLOW[t["status"]], can_write, now, clock), "version": versions[t["id"]]}
        for t in page["items"]
    ]
    total = page["total"]
    return {"rowData": rows, "rowCount": total}, count_words(total)


def export_href(*filters: Any) -> str:
    """The CSV link of the current filter and sort."""
    *plain, request = filters
    args = filter_args(*plain, (request or {}).get("sortModel"))
    return "/api/v1/tickets/export.csv?" + urlencode(args)


def card_move(deps: Deps, data: Any) -> str:
    """A status move tapped on a phone's ticket card: the role is checked again here, and the
    move applies only to the version the card showed."""
    value = data.get("value") if isinstance(data, dict) else None
    if not isinstance(value, dict):
        return no_update
    ticket_id, to, version = value.get("ticket_id"), value.get("to"), value.get("version")
    if not isinstance(ticket_id, int) or not isinstance(to, str) or not isinstance(version, int):
        return no_update
    who = deps.principal()
    if not deps.can_write() or who is None:
        return "Sign in as an operator to change tickets."
    # The move applies to the ticket as the card showed it, as the drawer's do (If-Match).
    shown = ticket_etag(ticket_id, version)
    try:
        deps.services.update_ticket(ticket_id, {"status": to}, who.name, shown.__eq__)
    except PreconditionFailed:
        return f"Not moved: #{ticket_id} was changed meanwhile; the list shows it as it is now."
    except ServiceError as exc:
        return exc.message
    return f"#{ticket_id} moved to {label(to)}."


def register(app: Dash, deps: Deps) -> None:
    """The list's callbacks."""
    states = [State(f, "value") for f in FILTER_IDS]
    inputs = [Input(f, "value") for f in FILTER_IDS]
    app.callback(
        Output("tickets-grid", "getRowsResponse"),
        Output("tickets-count", "children"),
        Input("tickets-grid", "getRowsRequest"),
        *states,
    )(lambda request, *f: rows_response(deps, request, *f))
    app.clientside_callback(
        ClientsideFunction("live", "refreshGrid"),
        Output("tickets-grid", "className"),  # never changed
        Input("tick-maintenance", "data"),
        *inputs,
        prevent_initial_call=True,
    )
    app.callback(
        Output("export-csv", "href"),
        *inputs,
        Input("tickets-grid", "getRowsRequest"),
    )(export_href)
    app.callback(
        Output("card-result", "children"),
        Input("tickets-grid", "cellRendererData"),
        prevent_initial_call=True,
    )(lambda data: card_move(deps, data))
