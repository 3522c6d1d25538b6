"""The maintenance hub's ticket grid: column definitions, page size and the dark theme."""

from __future__ import annotations

import dash_ag_grid as dag

UTC_MINUTE = {"function": "params.value ? params.value.slice(0,16).replace('T',' ') : ''"}
COLUMNS = [
    {"field": "id", "headerName": "#", "width": 80},
    {
        "field": "created_at",
        "headerName": "Opened (UTC)",
        "width": 150,
        "valueFormatter": UTC_MINUTE,
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
        "valueFormatter": UTC_MINUTE,
    },
]
PAGE_SIZE = 100
GRID_THEME = (
    "themeQuartz.withParams({backgroundColor: '#1f2328', foregroundColor: '#e9ecef',"
    " headerBackgroundColor: '#262b31', borderColor: '#2c3138', accentColor: '#4dabf7',"
    " browserColorScheme: 'dark', oddRowBackgroundColor: '#1c2025'})"
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
