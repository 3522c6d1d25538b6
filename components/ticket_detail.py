"""The ticket drawer (`#ticket-drawer`): the open ticket beside the grid, its moves, the
assignee field, who else has it open, who changed it last and its history, all in people's
words."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from components.ticket_form import sign_in_note
from components.wording import UTC_CLOCK, PlantClock, ago, instant, label


def _moment(
    iso_text: str | None, now: datetime, clock: PlantClock, cls: str = "history-when"
) -> html.Span:
    """ "3 h 5 min ago", with the moment on the plant's clock as its tooltip."""
    when = instant(iso_text)
    return html.Span(ago(when, now), className=cls, title=clock.when(when) if when else None)


def history_line(entry: dict[str, Any], now: datetime, clock: PlantClock = UTC_CLOCK) -> html.Li:
    """ "3 h 5 min ago · dora: status open → in progress"."""
    what = entry["field"]
    return html.Li(
        [
            _moment(entry["at"], now, clock),
            f" · {entry['by']}: {label(what)} ",
            f"{_value(what, entry['from'])} → {_value(what, entry['to'])}",
        ]
    )


def _value(field: str, value: str | None) -> str:
    if value is None:
        return "nobody" if field == "assignee" else "–"
    return label(value) if field in ("status", "priority") else value


def last_change(ticket: dict[str, Any], now: datetime) -> str:
    """ "changed by dora 5 min ago" (or "opened by …" for a ticket nobody changed yet)."""
    history = ticket.get("history") or []
    if not history:
        return ""
    entry = history[-1]
    verb = "opened" if len(history) == 1 else "changed"
    return f"{verb} by {entry['by']} {ago(instant(entry['at']), now)}"


def ticket_detail(
    ticket: dict[str, Any],
    moves: tuple[str, ...],
    can_write: bool,
    now: datetime,
    clock: PlantClock = UTC_CLOCK,
) -> html.Div:
    """The drawer's body for `ticket` (with history) as it was when opened or reloaded; the
    moments on the plant's clock in their tooltips."""
    actions = [
        dbc.Button(
            label(move),
            id={"type": "ticket-move", "to": move},
            size="sm",
            color="danger" if move == "cancelled" else "secondary",
            className="me-1 mb-1",
            disabled=not can_write,
        )
        for move in moves
    ]
    return html.Div(
        [
            html.H5(f"#{ticket['id']} {ticket['title']}", className="drawer-title"),
            html.Div(
                [
                    html.Span(
                        label(ticket["priority"]), className=f"prio-cell prio-{ticket['priority']}"
                    ),
                    f" · {ticket['machine_name']} · ",
                    html.Span(label(ticket["status"]), className="drawer-status-word"),
                    " · opened ",
                    _moment(ticket["created_at"], now, clock, "opened-when"),
                    f" by {ticket['reported_by']}",
                ],
                className="muted mb-2",
            ),
            html.P(ticket["description"] or "No description.", className="ticket-desc"),
            *([] if can_write else [sign_in_note("move or assign tickets")]),
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
            html.H6("History", className="mt-2 panel-title"),
            html.Ul(
                [history_line(h, now, clock) for h in reversed(ticket.get("history", []))],
                className="history",
            ),
        ],
        **{"data-ticket-id": str(ticket["id"]), "data-version": str(ticket.get("version", ""))},
    )


def ticket_drawer() -> dbc.Offcanvas:
    """The side drawer beside the grid; stays open while the grid is used (no backdrop)."""
    return dbc.Offcanvas(
        [
            html.Div(
                [
                    # Filled in the browser from the socket's presence frames, as text
                    # (assets/ticket_presence.js): who else has this ticket open.
                    html.Div(
                        id="ticket-presence",
                        className="ticket-presence",
                        hidden=True,
                        role="status",
                    ),
                    html.Span(id="drawer-changed", className="drawer-changed"),
                    html.Div(
                        [
                            html.Span(id="drawer-stale-text"),
                            dbc.Button("Reload", id="drawer-reload", size="sm", color="warning"),
                        ],
                        id="drawer-stale",
                        className="drawer-stale",
                        hidden=True,
                        role="status",
                    ),
                ],
                className="drawer-live",
            ),
            html.Div(id="ticket-detail"),
            html.Div(id="detail-result", className="form-result", role="status"),
        ],
        id="ticket-drawer",
        title="Ticket",
        placement="end",
        backdrop=False,
        scrollable=True,
        is_open=False,
        className="ticket-drawer",
    )
