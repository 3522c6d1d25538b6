"""Plotly figure builders: data in, figures out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from components.theme import STATUS_COLORS, TEMPLATE_NAME


def empty_figure(message: str) -> go.Figure:
    fig = go.Figure(layout={"template": TEMPLATE_NAME})
    fig.add_annotation(text=message, showarrow=False, font={"size": 16})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def utilization_figure(frame: pd.DataFrame) -> go.Figure:
    """Bars of utilization per machine, coloured by current status, sorted low to high."""
    if frame.empty:
        return empty_figure("No machines yet")
    data = frame.sort_values("utilization")
    fig = go.Figure(
        go.Bar(
            x=data["utilization"] * 100,
            y=data["name"],
            orientation="h",
            marker_color=[STATUS_COLORS.get(s, "#888") for s in data["status"]],
            customdata=data[["machine_id", "area", "status"]].to_numpy(),
            hovertemplate="%{y} (%{customdata[1]})<br>utilization %{x:.1f}%"
            "<br>now %{customdata[2]}<extra></extra>",
        ),
        layout={"template": TEMPLATE_NAME},
    )
    fig.update_layout(
        title="Utilization per machine, last 24 h",
        xaxis={"title": "% of time running", "range": [0, 100]},
        height=max(320, 22 * len(data) + 80),
    )
    return fig
