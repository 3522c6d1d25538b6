"""The settings page's two tables, edited in place: the shifts and the planned stops."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag

from components.ticket_grid import GRID_THEME

WHOLE_PLANT = "plant"  # the machine cell's value for a stop of the whole plant
NO_STOPS = "No planned stops."
TALL_STOPS = 20  # more planned stops than this: the table scrolls instead of growing


def _column(field: str, header: str, min_width: int, flex: float = 1, **extra: Any) -> dict:
    return {"field": field, "headerName": header, "minWidth": min_width, "flex": flex, **extra}


SHIFT_COLUMNS = [
    _column("name", "Name", 130, 1.2),
    _column("start", "Start", 90, 0.7, headerTooltip="Plant-local time, HH:MM"),
    _column("end", "End", 90, 0.7, headerTooltip="At or before the start: runs past midnight"),
    _column("days", "Days", 140, 1.2, headerTooltip="e.g. mon-fri or mon, wed, sat"),
    _column("breaks", "Breaks", 180, 1.8, headerTooltip="e.g. 10:00-10:30, 18:00-18:30"),
]


def stop_columns(machines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Start and end (plant-local), reason, and the machine chosen from the plant's."""
    names = {WHOLE_PLANT: "Whole plant"} | {str(m["id"]): m["name"] for m in machines}
    return [
        _column("start", "Start (plant time)", 160, 1, headerTooltip="YYYY-MM-DD HH:MM"),
        _column("end", "End (plant time)", 160, 1, headerTooltip="YYYY-MM-DD HH:MM"),
        _column("reason", "Reason", 160, 1.6),
        _column(
            "machine",
            "Machine",
            140,
            1,
            refData=names,
            cellEditor="agSelectCellEditor",
            cellEditorParams={"values": list(names)},
        ),
    ]


def calendar_grid(
    grid_id: str,
    columns: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    empty: str,
    style: dict[str, str] | None = None,
    **options: Any,
) -> dag.AgGrid:
    """A table edited in place: Enter or a double click edits a cell, Space selects a row;
    `options` are more AG Grid options (e.g. `domLayout`)."""
    return dag.AgGrid(
        id=grid_id,
        columnDefs=columns,
        rowData=rows,
        getRowId="params.data.row_id",
        # Text as typed: no date or number editors guessed from the values.
        defaultColDef={
            "editable": True,
            "sortable": False,
            "resizable": True,
            "cellDataType": "text",
        },
        dashGridOptions={
            "rowSelection": {"mode": "multiRow", "enableClickSelection": False},
            "stopEditingWhenCellsLoseFocus": True,
            "singleClickEdit": False,
            "enterNavigatesVerticallyAfterEdit": False,
            "localeText": {"noRowsToShow": empty},
            "animateRows": False,
            "tooltipShowDelay": 300,
            "theme": {"function": GRID_THEME},
            **options,
        },
        className="settings-grid",
        style=style or {},
    )


def stops_grid(stops: list[dict[str, Any]], machines: list[dict[str, Any]]) -> dag.AgGrid:
    """The planned stops: as tall as its rows while they are few, scrolling when many."""
    columns = stop_columns(machines)
    if len(stops) <= TALL_STOPS:
        return calendar_grid("settings-stops", columns, stops, NO_STOPS, domLayout="autoHeight")
    return calendar_grid("settings-stops", columns, stops, NO_STOPS, style={"height": "480px"})
