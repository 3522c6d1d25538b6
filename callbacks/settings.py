"""Settings page: the plant calendar (time zone, shifts, planned stops), for admins.

The router opens the page to admins only (components/registry.py); the save callback checks
the role again, as any callback can be called directly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dash import Dash, Input, Output, State, no_update

from callbacks.deps import Deps
from callbacks.settings_rows import (
    document_rows,
    next_shift,
    next_stop,
    rows_document,
    weekly_minutes,
)
from components.settings import (
    detail_lines,
    error_alert,
    planned_summary,
    saved_alert,
    settings_page,
    short_message,
    zone_options,
    zone_time,
)
from data.errors import ServiceError
from data.read.calendar_queries import calendar_json, load_calendar
from data.read.plant_queries import machine_list
from data.store.sqltypes import utcnow

ADMIN = "admin"
ROWS = list[dict[str, Any]]


def is_admin(deps: Deps) -> bool:
    who = deps.principal()
    return who is not None and who.role == ADMIN


def stored_document(deps: Deps) -> dict[str, Any]:
    """The calendar as the database has it (the GET /api/v1/calendar document)."""
    with deps.db.read() as session:
        return calendar_json(load_calendar(session))


def render(deps: Deps) -> Any:
    """The stored calendar in the page's tables, with the plant's machines to choose from."""
    now = utcnow()
    with deps.db.read() as session:
        document = calendar_json(load_calendar(session))
        machines = machine_list(session, now - timedelta(hours=1), now)
    timezone, shifts, stops = document_rows(document)
    return settings_page(zone_options(now), timezone, shifts, stops, machines)


def save(
    deps: Deps, timezone: str | None, shifts: ROWS | None, stops: ROWS | None
) -> tuple[Any, Any, Any, Any]:
    """Replace the calendar with the page's. Answers the message, then the shift rows, the
    stop rows and the zone as stored (unchanged, and the tables kept, when nothing was)."""
    keep = (no_update, no_update, no_update)
    shifts, stops = shifts or [], stops or []
    if not is_admin(deps):
        return (error_alert("Only admins can change the plant calendar.", []), *keep)
    document, problems = rows_document(timezone or "", shifts, stops)
    if problems:
        message = "Some entries cannot be read; correct them and save again."
        return (error_alert(message, detail_lines(problems, shifts, stops)), *keep)
    try:
        deps.services.replace_calendar(document)
    except ServiceError as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        message = short_message(exc.message, details)
        return (error_alert(message, detail_lines(details, shifts, stops)), *keep)
    stored_zone, stored_shifts, stored_stops = document_rows(stored_document(deps))
    return (
        saved_alert(len(stored_shifts), len(stored_stops)),
        stored_shifts,
        stored_stops,
        stored_zone,
    )


def add_shift(clicks: int | None, rows: ROWS | None) -> tuple[Any, Any]:
    """A new shift row at the end, and where the keyboard goes: its name, being edited."""
    rows = rows or []
    row = next_shift(rows)
    focus = {"grid": "settings-shifts", "index": len(rows), "column": "name", "nonce": clicks}
    return {"add": [row], "async": False}, focus


def add_stop(clicks: int | None, rows: ROWS | None, timezone: str | None) -> tuple[Any, Any]:
    """A new planned stop (tomorrow, whole plant) at the end, its reason being edited."""
    rows = rows or []
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ValueError, OSError):
        zone = ZoneInfo("UTC")
    row = next_stop(zone, utcnow())
    focus = {"grid": "settings-stops", "index": len(rows), "column": "reason", "nonce": clicks}
    return {"add": [row], "async": False}, focus


def planned(rows: ROWS | None) -> list[Any]:
    """The week's planned production time of the shift rows as they stand."""
    rows = rows or []
    minutes, unread = weekly_minutes(rows)
    return planned_summary(minutes, len(rows), unread)


# The new row's first cell takes the keyboard once the grid has the row.
FOCUS_NEW_ROW = """(focus) => {
    if (!focus) { return window.dash_clientside.no_update; }
    dash_ag_grid.getApiAsync(focus.grid).then((api) => {
        api.ensureIndexVisible(focus.index);
        api.setFocusedCell(focus.index, focus.column);
        api.startEditingCell({rowIndex: focus.index, colKey: focus.column});
    });
    return window.dash_clientside.no_update;
}"""
REMOVE_SELECTED = "(clicks) => Boolean(clicks)"
NOTHING_SELECTED = "(rows) => !(rows && rows.length)"


def register(app: Dash, deps: Deps) -> None:
    app.callback(
        Output("settings-result", "children"),
        Output("settings-shifts", "rowData"),
        Output("settings-stops", "rowData"),
        Output("settings-timezone", "value"),
        Input("settings-save", "n_clicks"),
        State("settings-timezone", "value"),
        State("settings-shifts", "rowData"),
        State("settings-stops", "rowData"),
        running=[(Output("settings-save", "disabled"), True, False)],
        prevent_initial_call=True,
    )(lambda _clicks, timezone, shifts, stops: save(deps, timezone, shifts, stops))
    app.callback(
        Output("settings-shifts", "rowTransaction"),
        Output("settings-focus", "data", allow_duplicate=True),
        Input("settings-add-shift", "n_clicks"),
        State("settings-shifts", "rowData"),
        prevent_initial_call=True,
    )(add_shift)
    app.callback(
        Output("settings-stops", "rowTransaction"),
        Output("settings-focus", "data", allow_duplicate=True),
        Input("settings-add-stop", "n_clicks"),
        State("settings-stops", "rowData"),
        State("settings-timezone", "value"),
        prevent_initial_call=True,
    )(add_stop)
    # An edit changes the grid's rows in place, so Dash sees no new `rowData`: the edit
    # itself (`cellValueChanged`) is the trigger.
    app.callback(
        Output("settings-planned", "children"),
        Input("settings-shifts", "rowData"),
        Input("settings-shifts", "cellValueChanged"),
    )(lambda rows, _edit: planned(rows))
    app.callback(
        Output("settings-zone-time", "children"),
        Input("settings-timezone", "value"),
        Input("settings-clock", "n_intervals"),
    )(lambda zone, _n: zone_time(zone, utcnow()))
    app.clientside_callback(
        FOCUS_NEW_ROW,
        Output("settings-focused", "data"),
        Input("settings-focus", "data"),
        prevent_initial_call=True,
    )
    for kind in ("shifts", "stops"):
        app.clientside_callback(
            REMOVE_SELECTED,
            Output(f"settings-{kind}", "deleteSelectedRows"),
            Input(f"settings-remove-{kind}", "n_clicks"),
            prevent_initial_call=True,
        )
        app.clientside_callback(
            NOTHING_SELECTED,
            Output(f"settings-remove-{kind}", "disabled"),
            Input(f"settings-{kind}", "selectedRows"),
        )
