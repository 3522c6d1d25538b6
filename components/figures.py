"""Plotly figure builders: data in, figures out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from components.theme import STATUS_COLORS, TEMPLATE_NAME

STATUS_ORDER = ("running", "idle", "setup", "down", "maintenance", "offline")


def empty_figure(message: str) -> go.Figure:
    fig = go.Figure(layout={"template": TEMPLATE_NAME})
    fig.add_annotation(text=message, showarrow=False, font={"size": 16})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def utilization_figure(frame: pd.DataFrame, title: str = "Utilization per machine") -> go.Figure:
    """Bars of utilization per machine, coloured by current status, lowest at the bottom."""
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
            "<br>now %{customdata[2]}<br>click to open<extra></extra>",
        ),
        layout={"template": TEMPLATE_NAME},
    )
    fig.update_layout(
        title=title,
        xaxis={"title": "% of time running", "range": [0, 100]},
        yaxis={"automargin": True},
        height=max(320, 22 * len(data) + 90),
        clickmode="event",
    )
    return fig


def timeline_figure(frame: pd.DataFrame, title: str = "Machine states") -> go.Figure:
    """One row per machine, one coloured bar per status period (stack-light colours)."""
    if frame.empty:
        return empty_figure("No status history in this window")
    names = list(dict.fromkeys(frame["name"]))
    frame = frame.assign(
        reason=frame["reason"].fillna(""),
        start_text=frame["start"].dt.strftime("%H:%M"),
        minutes=((frame["end"] - frame["start"]).dt.total_seconds() / 60).round().astype(int),
    )
    fig = go.Figure(layout={"template": TEMPLATE_NAME})
    for status in STATUS_ORDER:
        part = frame[frame["status"] == status]
        if part.empty:
            continue
        duration_ms = (part["end"] - part["start"]).dt.total_seconds() * 1000
        fig.add_bar(
            name=status,
            y=part["name"],
            x=duration_ms,
            base=part["start"],
            orientation="h",
            marker_color=STATUS_COLORS[status],
            customdata=part[["reason", "start_text", "minutes"]].to_numpy(),
            hovertemplate="%{y}: " + status + " from %{customdata[1]} for %{customdata[2]} min"
            "<br>%{customdata[0]}<extra></extra>",
        )
    fig.update_layout(
        title=title,
        barmode="overlay",
        xaxis={"type": "date"},
        yaxis={"categoryorder": "array", "categoryarray": names[::-1], "automargin": True},
        height=max(260, 20 * len(names) + 130),
        legend={"orientation": "h", "y": 1.0, "x": 1, "xanchor": "right", "yanchor": "bottom"},
        margin={"t": 80},
        bargap=0.25,
    )
    return fig


def output_figure(frame: pd.DataFrame, title: str = "Output vs target by hour") -> go.Figure:
    """Good and scrap stacked per hour with the target as a line."""
    if frame.empty or (frame["good"].sum() + frame["scrap"].sum() + frame["target"].sum()) == 0:
        return empty_figure("No production in this window")
    fig = go.Figure(layout={"template": TEMPLATE_NAME})
    fig.add_bar(x=frame["hour"], y=frame["good"], name="good", marker_color="#2fb344")
    fig.add_bar(x=frame["hour"], y=frame["scrap"], name="scrap", marker_color="#e03131")
    fig.add_scatter(
        x=frame["hour"],
        y=frame["target"],
        name="target",
        mode="lines",
        line={"color": "#f8f9fa", "dash": "dash", "shape": "hv"},
    )
    fig.update_layout(
        title=title,
        margin={"t": 80},
        barmode="stack",
        yaxis={"title": "parts"},
        legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
        height=360,
    )
    return fig


def scrap_figure(frame: pd.DataFrame, by: str, title: str) -> go.Figure:
    """Scrap rate (%) per machine or area from good/scrap sums."""
    if frame.empty or (frame["good"] + frame["scrap"]).sum() == 0:
        return empty_figure("No parts made in this window")
    data = frame.groupby(by, as_index=False)[["good", "scrap"]].sum()
    total = data["good"] + data["scrap"]
    data["rate"] = (data["scrap"] / total.where(total > 0)).fillna(0) * 100
    data = data.sort_values("rate", ascending=False)
    fig = go.Figure(
        go.Bar(
            x=data[by],
            y=data["rate"],
            marker_color="#f59f00",
            customdata=data[["good", "scrap"]].to_numpy(),
            hovertemplate="%{x}: %{y:.2f}% scrap<br>good %{customdata[0]:,}"
            " · scrap %{customdata[1]:,}<extra></extra>",
        ),
        layout={"template": TEMPLATE_NAME},
    )
    fig.update_layout(title=title, yaxis={"title": "% scrap"}, height=320)
    return fig
