"""The settings page: the plant's time zone, its shifts and its planned stops, edited in place
and saved as one calendar (ids `settings-*`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.settings_grids import SHIFT_COLUMNS, calendar_grid, stops_grid
from components.wording import plural

WEEK_MIN = 7 * 24 * 60
EMPTY_SHIFTS = "No shifts: every hour counts as planned production time."
_FIELDS = {"machine_id": "machine"}  # a field's name as the page says it


def zone_options(now: datetime) -> list[dict[str, str]]:
    """Every IANA zone, labelled with its offset now ("Europe/Berlin · UTC+01:00")."""
    options = []
    for name in sorted(available_timezones()):
        try:
            offset = now.astimezone(ZoneInfo(name)).strftime("%z")
        except (ValueError, OSError):  # listed but unreadable: not offered
            continue
        options.append({"label": f"{name} · UTC{offset[:3]}:{offset[3:]}", "value": name})
    return options


def zone_time(zone_name: str | None, now: datetime) -> str:
    """What the clock says in the zone: "Local time there: Mon 2026-03-02 09:15 (CET)"."""
    try:
        local = now.astimezone(ZoneInfo(zone_name or ""))
    except (ValueError, OSError):
        return "Choose a time zone."
    return f"Local time there: {local.strftime('%a %Y-%m-%d %H:%M')} ({local.tzname()})"


def hours_text(minutes: int) -> str:
    """112 h, 37 h 30 min."""
    hours, rest = divmod(max(0, minutes), 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def planned_summary(minutes: int, shifts: int, unread: int) -> list[Any]:
    """The week's planned production time and what it comes from."""
    if shifts == 0:
        return [
            html.Div(hours_text(WEEK_MIN), className="kpi-value"),
            html.Div(EMPTY_SHIFTS, className="settings-empty", id="settings-empty"),
        ]
    share = round(100 * minutes / WEEK_MIN)
    detail = f"per week from {plural(shifts, 'shift')}, breaks left out: {share} % of the week"
    notes = [html.Div(detail, className="muted")]
    if unread:
        notes.append(
            html.Div(
                f"{plural(unread, 'shift')} not counted until corrected.",
                className="settings-warning",
            )
        )
    return [html.Div(hours_text(minutes), className="kpi-value"), *notes]


def _section(title: str, body: list[Any], section_id: str, top: bool = False) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody([html.H2(title, className="panel-title", id=f"{section_id}-title"), *body]),
        className="panel settings-card" if top else "panel mb-3",
        id=section_id,
    )


def _buttons(add_id: str, add: str, remove_id: str, remove: str) -> html.Div:
    return html.Div(
        [
            dbc.Button(add, id=add_id, color="info", outline=True, size="sm"),
            dbc.Button(
                remove, id=remove_id, color="danger", outline=True, size="sm", disabled=True
            ),
        ],
        className="settings-buttons",
    )


HOW_TO_EDIT = (
    "Enter or a double click edits a cell, Tab moves on, Escape cancels; "
    "Space selects the row for removal."
)


def settings_page(
    zones: list[dict[str, str]],
    timezone: str,
    shifts: list[dict[str, Any]],
    stops: list[dict[str, Any]],
    machines: list[dict[str, Any]],
) -> html.Div:
    """The page: zone and planned time side by side, the two tables, one Save."""
    zone = _section(
        "Plant time zone",
        [
            dbc.Label("Time zone", html_for="settings-timezone", className="visually-hidden"),
            # Dash names the dropdown's button by its value; the group gives it the title.
            html.Div(
                dcc.Dropdown(
                    id="settings-timezone",
                    options=zones,
                    value=timezone,
                    clearable=False,
                    searchable=True,
                    placeholder="Search a zone, e.g. Berlin",
                    className="settings-zone",
                ),
                role="group",
                **{"aria-labelledby": "settings-zone-panel-title"},
            ),
            html.Div(id="settings-zone-time", className="muted mt-2", **{"aria-live": "polite"}),
        ],
        "settings-zone-panel",
        top=True,
    )
    planned = _section(
        "Planned production time",
        [html.Div(id="settings-planned", **{"aria-live": "polite"})],
        "settings-planned-panel",
        top=True,
    )
    shift_table = _section(
        "Shifts",
        [
            html.P(
                "Plant-local times as HH:MM; a shift that ends at or before its start runs past "
                "midnight and belongs to the day it starts. " + HOW_TO_EDIT,
                className="muted small",
                id="settings-shifts-help",
            ),
            calendar_grid(
                "settings-shifts", SHIFT_COLUMNS, shifts, "No shifts yet.", domLayout="autoHeight"
            ),
            _buttons(
                "settings-add-shift",
                "Add shift",
                "settings-remove-shifts",
                "Remove selected shifts",
            ),
        ],
        "settings-shifts-panel",
    )
    stop_table = _section(
        "Planned stops",
        [
            html.P(
                "Holidays, planned maintenance and other times nobody plans to produce, in "
                "plant-local time (YYYY-MM-DD HH:MM), for one machine or the whole plant. "
                + HOW_TO_EDIT,
                className="muted small",
                id="settings-stops-help",
            ),
            stops_grid(stops, machines),
            _buttons(
                "settings-add-stop",
                "Add planned stop",
                "settings-remove-stops",
                "Remove selected stops",
            ),
        ],
        "settings-stops-panel",
    )
    save = html.Div(
        [
            html.Div(id="settings-result", className="settings-result"),
            dbc.Button("Save calendar", id="settings-save", color="primary"),
        ],
        className="settings-save",
    )
    return html.Div(
        [
            html.Div(
                [
                    html.H1("Settings", className="page-title"),
                    html.Span("Plant calendar: admins only", className="muted"),
                ],
                className="page-head",
            ),
            dbc.Row([dbc.Col(zone, lg=6), dbc.Col(planned, lg=6)], className="g-3 settings-top"),
            shift_table,
            stop_table,
            save,
            dcc.Store(id="settings-focus"),  # which new row takes the keyboard
            dcc.Store(id="settings-focused"),
            dcc.Interval(id="settings-clock", interval=30_000),
        ],
        id="settings-page",
    )


def saved_alert(shifts: int, stops: int) -> html.Div:
    """The confirmation after a save."""
    return html.Div(
        [
            html.Strong("Saved. "),
            f"{plural(shifts, 'shift')} and {plural(stops, 'planned stop')} as stored; "
            "every screen recomputes its planned time.",
        ],
        className="alert alert-success mb-2",
        role="status",
        id="settings-saved",
    )


def short_message(message: str, details: dict[str, str]) -> str:
    """The service's message without the raw field path its details already give:
    "The calendar cannot be used: shifts.0.start: must be ..." -> "The calendar cannot be
    used:" (the list under it says which shift, in words)."""
    for path, text in details.items():
        for said in (f" {path}: {text}.", f" {path} {text}.", f" {text}."):
            if message.endswith(said):
                return message[: -len(said)]
    return message


def error_alert(message: str, lines: list[str]) -> html.Div:
    """Why nothing was saved: the message and one line per field."""
    return html.Div(
        [
            html.Strong("Not saved, nothing was changed."),
            html.Div(message, className="settings-error-message"),
            html.Ul([html.Li(line) for line in lines], className="mb-0") if lines else None,
        ],
        className="alert alert-danger mb-2",
        role="alert",
        id="settings-error",
    )


def detail_lines(
    details: dict[str, str], shifts: list[dict[str, Any]], stops: list[dict[str, Any]]
) -> list[str]:
    """The service's per-field details ("shifts.1.start": "...") as a person reads them:
    "Shift 2 “Late”, start: must be a time of day as HH:MM"."""
    return [_detail(path, str(text), shifts, stops) for path, text in details.items()]


def _detail(path: str, text: str, shifts: list[dict], stops: list[dict]) -> str:
    parts = path.split(".")
    head, rest = parts[0], parts[1:]
    if head == "timezone":
        return f"Time zone: {text}"
    if head == "calendar" or not rest:
        words = {"shifts": "Shifts: ", "planned_stops": "Planned stops: "}.get(head, "")
        sentence = text[:1].upper() + text[1:] if not words else text
        return f"{words}{sentence}"
    if not rest[0].isdigit() or head not in ("shifts", "planned_stops"):
        return f"{path}: {text}"
    index = int(rest[0])
    if head == "shifts":
        name = shifts[index].get("name") if index < len(shifts) else None
        where = f"Shift {index + 1}" + (f" “{name}”" if name else "")
    else:
        reason = stops[index].get("reason") if index < len(stops) else None
        where = f"Planned stop {index + 1}" + (f" “{reason}”" if reason else "")
    field = rest[1:]
    if len(field) >= 2 and field[0] == "breaks" and field[1].isdigit():
        where += f", break {int(field[1]) + 1}" + (f" {field[2]}" if len(field) > 2 else "")
    elif field:
        where += f", {_FIELDS.get(field[0], field[0])}"
    return f"{where}: {text}"
