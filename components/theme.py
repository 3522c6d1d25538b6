"""One look for every page: stack-light colours and the plotly template."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

STATUS_COLORS = {
    "running": "#2fb344",
    "idle": "#f59f00",
    "setup": "#fcc419",
    "down": "#e03131",
    "maintenance": "#1c7ed6",
    "offline": "#868e96",
}
PRIORITY_COLORS = {
    "low": "#868e96",
    "medium": "#1c7ed6",
    "high": "#f59f00",
    "critical": "#e03131",
}
BACKGROUND = "#16191d"
PANEL = "#1f2328"
TEXT = "#e9ecef"
GRID = "#2c3138"

TEMPLATE_NAME = "milldash"

pio.templates[TEMPLATE_NAME] = go.layout.Template(
    layout=go.Layout(
        paper_bgcolor=PANEL,
        plot_bgcolor=PANEL,
        font={"color": TEXT, "family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"},
        colorway=["#4dabf7", "#2fb344", "#f59f00", "#e03131", "#845ef7", "#20c997"],
        xaxis={"gridcolor": GRID, "zerolinecolor": GRID},
        yaxis={"gridcolor": GRID, "zerolinecolor": GRID},
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        hoverlabel={"bgcolor": BACKGROUND},
    )
)
