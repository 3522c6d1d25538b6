"""Maintenance hub: ticket grid with filters, create form, ticket detail and the alert feed."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.theme import PRIORITY_COLORS
from data.store.models import TICKET_PRIORITIES, TICKET_STATUSES

COLUMNS = [
    {"field": "id", "headerName": "#", "width": 80},
    {
        "field": "created_at",
        "headerName": "Opened (UTC)",
        "width": 150,
        "valueFormatter": {
            "function": "params.value ? params.value.slice(0,16).replace('T',' ') : ''"
        },
    },
    {"field": "machine_name", "headerName": "Machine", "width": 120},
    {"field": "title", "headerName": "Title", "flex": 2, "minWidth": 200},
    {
        "field": "priority",
        "headerName": "Priority",
        "width": 110,
        "cellClass": {"function": "'prio-cell prio-' + params.value"},
    },
    {"field": "status", "headerName": "Status", "width": 120},
    {"field": "assignee", "headerName": "Assignee", "width": 130},
    {"field": "reported_by", "headerName": "Reported by", "width": 130},
    {
        "field": "updated_at",
        "headerName": "Updated (UTC)",
        "width": 150,
        "valueFormatter": {
            "function": "params.value ? params.value.slice(0,16).replace('T',' ') : ''"
        },
    },
]
PAGE_SIZE = 100
GRID_THEME = (
    "themeQuartz.withParams({backgroundColor: '#1f2328', foregroundColor: '#e9ecef',"
    " headerBackgroundColor: '#262b31', borderColor: '#2c3138', accentColor: '#4dabf7',"
    " browserColorScheme: 'dark', oddRowBackgroundColor: '#1c2025'})"
)


def _options(values: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"label": v.replace("_", " "), "value": v} for v in values]


def filter_bar(machines: list[dict[str, Any]]) -> dbc.Row:
    return dbc.Row(
        [
            dbc.Col(
                dcc.Dropdown(
                    id="filter-status",
                    options=_options(TICKET_STATUSES),
                    multi=True,
                    placeholder="Status",
                    value=["open", "in_progress", "on_hold"],
                ),
                md=3,
            ),
            dbc.Col(
                dcc.Dropdown(
                    id="filter-priority",
                    options=_options(TICKET_PRIORITIES),
                    multi=True,
                    placeholder="Priority",
                ),
                md=2,
            ),
            dbc.Col(
                dcc.Dropdown(
                    id="filter-machine",
                    placeholder="Machine",
                    options=[{"label": m["name"], "value": m["id"]} for m in machines],
                ),
                md=2,
            ),
            dbc.Col(
                dbc.Input(
                    id="filter-q",
                    placeholder="Search title, description, machine",
                    debounce=True,
                    type="search",
                ),
                md=3,
            ),
            dbc.Col(
                html.A(
                    dbc.Button("Export CSV", color="secondary", className="w-100"),
                    id="export-csv",
                    href="/api/v1/tickets/export.csv",
                    download="",
                    title="Download every ticket of the current filter and sort",
                ),
                md=2,
            ),
        ],
        className="g-2 mb-2 filter-bar",
    )


def tickets_grid() -> dag.AgGrid:
    return dag.AgGrid(
        id="tickets-grid",
        columnDefs=COLUMNS,
        rowModelType="infinite",
        getRowId="params.data.row_id",
        defaultColDef={"sortable": True, "resizable": True},
        dashGridOptions={
            "cacheBlockSize": PAGE_SIZE,
            "maxBlocksInCache": 20,
            "infiniteInitialRowCount": 1,
            "rowSelection": {
                "mode": "singleRow",
                "checkboxes": False,
                "enableClickSelection": True,
            },
            "rowBuffer": 10,
            "localeText": {"noRowsToShow": "No tickets match this filter."},
            "animateRows": False,
            "theme": {"function": GRID_THEME},
        },
        className="tickets-grid",
        style={"height": "560px"},
    )


def create_form(machines: list[dict[str, Any]]) -> dbc.Form:
    def field(label: str, control: Any, name: str) -> html.Div:
        return html.Div(
            [
                dbc.Label(label, html_for=f"new-{name}"),
                control,
                dbc.FormFeedback(id=f"new-{name}-error", type="invalid"),
            ],
            className="mb-2",
        )

    return dbc.Form(
        [
            field(
                "Machine",
                dbc.Select(
                    id="new-machine",
                    options=[
                        {"label": f"{m['name']} ({m['area']})", "value": str(m["id"])}
                        for m in machines
                    ],
                    placeholder="Choose a machine",
                ),
                "machine",
            ),
            field(
                "Title",
                dbc.Input(id="new-title", placeholder="What is wrong?", maxLength=200),
                "title",
            ),
            field(
                "Description",
                dbc.Textarea(
                    id="new-description",
                    rows=3,
                    maxLength=10000,
                    placeholder="Symptoms, alarms, what was tried",
                ),
                "description",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        field(
                            "Priority",
                            dbc.Select(
                                id="new-priority",
                                value="medium",
                                options=_options(TICKET_PRIORITIES),
                            ),
                            "priority",
                        )
                    ),
                    dbc.Col(
                        field(
                            "Assignee",
                            dbc.Input(id="new-assignee", placeholder="optional"),
                            "assignee",
                        )
                    ),
                ]
            ),
            dbc.Button(
                "Open ticket", id="new-submit", color="primary", type="submit", className="w-100"
            ),
            html.Div(id="new-result", className="form-result mt-2", role="status"),
        ],
        id="create-ticket-form",
        prevent_default_on_submit=True,
    )


def alert_item(frame: dict[str, Any]) -> html.Div:
    data = frame.get("data", {})
    priority = data.get("priority", "low")
    machine = data.get("machine_name") or f"machine {data.get('machine_id')}"
    when = str(frame.get("timestamp", ""))[11:16]
    return html.Div(
        [
            html.Span(
                priority,
                className="badge prio",
                style={"background": PRIORITY_COLORS.get(priority, "#888")},
            ),
            html.Span(f" {when} ", className="muted"),
            html.Strong(f"#{data.get('ticket_id')} {data.get('title', '')}"),
            html.Span(f" — {machine}", className="muted"),
        ],
        className=f"alert-item prio-{priority}",
        **{"data-seq": str(frame.get("seq")), "data-ticket-id": str(data.get("ticket_id"))},
    )


def alert_feed(frames: list[dict[str, Any]]) -> list[html.Div]:
    if not frames:
        return [html.Div("No alerts yet.", className="empty-state small alert-empty")]
    return [alert_item(f) for f in frames]


def maintenance_page(machines: list[dict[str, Any]]) -> html.Div:
    return html.Div(
        [
            html.Div(html.H1("Maintenance", className="page-title"), className="page-head"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            filter_bar(machines),
                            html.Div(id="tickets-count", className="muted small mb-1"),
                            tickets_grid(),
                            html.Div(id="ticket-detail", className="mt-3"),
                        ],
                        xl=9,
                    ),
                    dbc.Col(
                        [
                            dbc.Card(
                                dbc.CardBody(
                                    [
                                        html.H6("New ticket", className="panel-title"),
                                        create_form(machines),
                                    ]
                                ),
                                className="panel mb-3",
                            ),
                            dbc.Card(
                                dbc.CardBody(
                                    [
                                        html.H6("Live alerts", className="panel-title"),
                                        html.Div(
                                            id="alerts",
                                            className="alert-feed",
                                            **{"aria-live": "polite"},
                                        ),
                                    ]
                                ),
                                className="panel",
                            ),
                        ],
                        xl=3,
                    ),
                ],
                className="g-3",
            ),
            dcc.Store(id="alerts-seq"),
            dcc.Store(id="selected-ticket"),
        ],
        id="maintenance-page",
    )


def ticket_detail(ticket: dict[str, Any], moves: tuple[str, ...], can_write: bool) -> dbc.Card:
    history = [
        html.Li(
            f"{h['at'][:16].replace('T', ' ')} · {h['by']}: {h['field']} "
            f"{h['from'] or '–'} → {h['to'] or '–'}"
        )
        for h in ticket.get("history", [])
    ]
    actions = [
        dbc.Button(
            move.replace("_", " "),
            id={"type": "ticket-move", "to": move},
            size="sm",
            color="danger" if move == "cancelled" else "secondary",
            className="me-1",
            disabled=not can_write,
        )
        for move in moves
    ]
    return dbc.Card(
        dbc.CardBody(
            [
                html.H5(f"#{ticket['id']} {ticket['title']}"),
                html.Div(
                    f"{ticket['machine_name']} · {ticket['priority']} · {ticket['status']} · "
                    f"reported by {ticket['reported_by']}",
                    className="muted mb-2",
                ),
                html.P(ticket["description"] or "No description.", className="ticket-desc"),
                html.Div(
                    actions or [html.Span("Final state: no further moves.", className="muted")],
                    className="mb-2",
                ),
                dbc.InputGroup(
                    [
                        dbc.Input(
                            id="detail-assignee",
                            value=ticket["assignee"] or "",
                            placeholder="Assignee",
                            disabled=not can_write,
                        ),
                        dbc.Button("Assign", id="detail-assign", disabled=not can_write),
                    ],
                    size="sm",
                    className="mb-2 assign-group",
                ),
                html.Div(id="detail-result", className="form-result", role="status"),
                html.H6("History", className="mt-2"),
                html.Ul(history, className="history"),
            ]
        ),
        className="panel",
    )
