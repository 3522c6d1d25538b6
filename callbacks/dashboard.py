"""The dashboard page: KPI cards and utilization per machine from real queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dash import Dash, Input, Output

from components.figures import utilization_figure
from components.kpi import kpi_row
from data import queries
from data.db import Database
from data.sqltypes import utcnow


def dashboard_content(db: Database) -> tuple[Any, Any]:
    """KPI row and utilization figure for the last 24 hours."""
    hi = utcnow()
    lo = hi - timedelta(hours=24)
    with db.read() as session:
        overview = queries.overview(session, lo, hi)
        frame = queries.utilization_by_machine(session, lo, hi)
    return kpi_row(overview), utilization_figure(frame)


def register(app: Dash, db: Database) -> None:
    @app.callback(
        Output("dashboard-kpis", "children"),
        Output("utilization-graph", "figure"),
        Input("dashboard-interval", "n_intervals"),
    )
    def refresh(_n: int | None) -> tuple[Any, Any]:
        return dashboard_content(db)
