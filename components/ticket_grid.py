"""The maintenance hub's ticket list (`#tickets-grid`): a server-side paged grid whose columns
fit a 1440 px screen; on a phone the same grid shows one card per ticket (title, machine,
priority, age, assignee and one-tap status moves), switched by `assets/maintenance_cards.js`.

Every word in a cell comes from the server (components/wording.py through `grid_row`): the
browser only lays the words out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash_ag_grid as dag

from components.wording import UTC_CLOCK, PlantClock, ago, instant, label, plural

# The field the server filled in with words, shown instead of the raw value (sorting still
# uses the column's field).
_SHOWN = "params.data ? params.data.shown.{} : ''"


def _column(field: str, header: str, min_width: int, flex: float = 1, **extra: Any) -> dict:
    return {"field": field, "headerName": header, "minWidth": min_width, "flex": flex, **extra}


COLUMNS = [
    _column("id", "#", 72, 0.6),
    _column(
        "created_at",
        "Opened",
        128,
        valueFormatter={"function": _SHOWN.format("opened")},
        tooltipValueGetter={"function": "params.data ? params.data.shown.opened_at : ''"},
    ),
    _column("machine_name", "Machine", 104),
    _column("title", "Title", 150, 2.4, tooltipField="title"),
    _column(
        "priority",
        "Priority",
        80,
        cellClass={"function": "'prio-cell prio-' + params.value"},
    ),
    _column("status", "Status", 104, valueFormatter={"function": _SHOWN.format("status")}),
    _column("assignee", "Assignee", 108, valueFormatter={"function": _SHOWN.format("assignee")}),
    _column("reported_by", "Reported by", 112),
    _column(
        "updated_at",
        "Updated",
        128,
        valueFormatter={"function": _SHOWN.format("updated")},
        tooltipValueGetter={"function": "params.data ? params.data.shown.updated_at : ''"},
    ),
    # The phone's column: one card per ticket (hidden on wider screens).
    {
        "colId": "card",
        "field": "title",
        "headerName": "Tickets",
        "flex": 1,
        "hide": True,
        "sortable": False,
        "cellRenderer": "TicketCard",
        "cellClass": "ticket-card-cell",
    },
]
PAGE_SIZE = 100
GRID_THEME = (
    "themeQuartz.withParams({backgroundColor: '#1f2328', foregroundColor: '#e9ecef',"
    " headerBackgroundColor: '#262b31', borderColor: '#2c3138', accentColor: '#4dabf7',"
    " browserColorScheme: 'dark', oddRowBackgroundColor: '#1c2025'})"
)


def grid_row(
    ticket: dict[str, Any],
    moves: tuple[str, ...],
    can_write: bool,
    now: datetime,
    clock: PlantClock = UTC_CLOCK,
) -> dict[str, Any]:
    """A ticket record as a grid row: its fields, a string row id, and `shown`, the words the
    cells and the phone's card show (status and times as a person says them, the exact times
    on the plant's clock for the tooltips, the moves the workflow allows, disabled when the
    viewer may not write)."""
    opened, updated = instant(ticket["created_at"]), instant(ticket["updated_at"])
    return {
        **ticket,
        "row_id": str(ticket["id"]),
        "shown": {
            "status": label(ticket["status"]),
            "priority": label(ticket["priority"]),
            "assignee": ticket["assignee"] or "unassigned",
            "opened": ago(opened, now),
            "opened_at": clock.stamp(opened) if opened else "",
            "updated": ago(updated, now),
            "updated_at": clock.stamp(updated) if updated else "",
            "moves": [{"to": m, "label": label(m)} for m in moves],
            "can_write": can_write,
        },
    }


def count_words(total: int) -> str:
    """ "1 ticket matches", "1,204 tickets match"."""
    if total == 1:
        return "1 ticket matches"
    return plural(total, "ticket").replace(str(total), f"{total:,}", 1) + " match"


def tickets_grid() -> dag.AgGrid:
    """The grid; `tickets-grid` is the ticket list's id on every screen (CONTRACT §4)."""
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
            "tooltipShowDelay": 400,
            "localeText": {"noRowsToShow": "No tickets match this filter."},
            "animateRows": False,
            "suppressHorizontalScroll": True,
            "theme": {"function": GRID_THEME},
        },
        className="tickets-grid",
        style={"height": "560px"},
    )
