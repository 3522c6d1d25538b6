"""One ticket in detail: its moves, the assignee field and its history."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html


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
