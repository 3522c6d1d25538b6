"""Plotly figure builders: data in, figures out. Every figure has a fixed height (its box keeps
its space while loading or empty) and hover text with names and units."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from components.pages import GRAPH_HEIGHT
from components.theme import (
    BAND_COLORS,
    GOOD_COLOR,
    SCRAP_COLOR,
    STATUS_COLORS,
    TEMPLATE_NAME,
    UTILIZATION_BANDS,
    Bands,
)
from components.time_axis import bounds, local_axis, positions
from components.wording import UTC_CLOCK, PlantClock, duration, label

STATUS_ORDER = ("running", "idle", "setup", "down", "maintenance", "offline")
LEGEND_TOP = {"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"}


def empty_figure(message: str, height: int = GRAPH_HEIGHT) -> go.Figure:
    """A blank figure of `height` px that says `message` in the middle."""
    fig = go.Figure(layout={"template": TEMPLATE_NAME, "height": height})
    fig.add_annotation(text=message, showarrow=False, font={"size": 16}, name="empty-state")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def band_legend(bands: Bands, unit: str = "%") -> list[tuple[str, str]]:
    """(legend text, colour) of each traffic light, e.g. ("≥ 75 % on target", green)."""
    g, a = round(bands.green * 100), round(bands.amber * 100)
    return [
        (f"≥ {g} {unit}", BAND_COLORS["good"]),
        (f"{a}–{g} {unit}", BAND_COLORS["fair"]),
        (f"< {a} {unit}", BAND_COLORS["poor"]),
    ]


def utilization_figure(frame: pd.DataFrame, title: str = "Utilization per machine") -> go.Figure:
    """Bars of utilization per machine, lowest at the bottom, coloured by the measure itself
    against the utilization thresholds, with a legend that says what each colour means."""
    if frame.empty:
        return empty_figure("No machines yet")
    data = frame.sort_values("utilization")
    status_text = [label(s) for s in data["status"]]
    fig = go.Figure(
        go.Bar(
            x=data["utilization"] * 100,
            y=data["name"],
            orientation="h",
            marker_color=[UTILIZATION_BANDS.color(u) for u in data["utilization"]],
            customdata=list(zip(data["machine_id"], data["area"], status_text, strict=True)),
            showlegend=False,
            hovertemplate="<b>%{y}</b> (%{customdata[1]})<br>running %{x:.1f} % of the time"
            "<br>now %{customdata[2]}<br>click to open<extra></extra>",
        ),
        layout={"template": TEMPLATE_NAME},
    )
    # Legend entries only (no data): what the bar colours mean.
    for text, color in band_legend(UTILIZATION_BANDS):
        fig.add_bar(x=[None], y=[None], orientation="h", name=text, marker_color=color)
    fig.update_layout(
        title=title,
        xaxis={"title": "% of time running", "range": [0, 100]},
        yaxis={"automargin": True, "categoryorder": "array", "categoryarray": list(data["name"])},
        height=max(GRAPH_HEIGHT, 22 * len(data) + 110),
        clickmode="event",
        barmode="overlay",
        legend={**LEGEND_TOP, "title": {"text": "time running:"}},
        margin={"t": 80},
    )
    return fig


def timeline_figure(
    frame: pd.DataFrame, title: str = "Machine states", clock: PlantClock = UTC_CLOCK
) -> go.Figure:
    """One row per machine, one coloured bar per status period (stack-light colours), on the
    plant's clock."""
    if frame.empty:
        return empty_figure("No data in this window")
    names = list(dict.fromkeys(frame["name"]))
    seconds = (frame["end"] - frame["start"]).dt.total_seconds()
    frame = frame.assign(
        reason=frame["reason"].fillna(""),
        start_text=[clock.when(t) for t in pd.to_datetime(frame["start"])],
        length=[duration(s) for s in seconds],
    )
    fig = go.Figure(layout={"template": TEMPLATE_NAME})
    for status in STATUS_ORDER:
        part = frame[frame["status"] == status]
        if part.empty:
            continue
        duration_ms = (part["end"] - part["start"]).dt.total_seconds() * 1000
        fig.add_bar(
            name=label(status),
            y=part["name"],
            x=duration_ms,
            base=positions(part["start"]),
            orientation="h",
            marker_color=STATUS_COLORS[status],
            customdata=part[["reason", "start_text", "length"]].to_numpy(),
            hovertemplate="<b>%{y}</b>: " + label(status) + " for %{customdata[2]}"
            "<br>from %{customdata[1]}<br>%{customdata[0]}<extra></extra>",
        )
    lo, _ = bounds(frame["start"])
    _, hi = bounds(frame["end"])
    return _timeline_layout(fig, title, names, local_axis(clock, lo, hi))


def state_days_figure(
    frame: pd.DataFrame, title: str = "Machine states by day", clock: PlantClock = UTC_CLOCK
) -> go.Figure:
    """One row per machine; each day split into the time spent in each state, in a fixed
    order (running first), so a day reads as a share at a glance. A bar is named by the
    plant-local day its middle falls on."""
    if frame.empty:
        return empty_figure("No data in this window")
    names = list(dict.fromkeys(frame["name"]))
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    data = frame.assign(rank=frame["status"].map(order)).sort_values(["name", "day", "rank"])
    offset = data.groupby(["name", "day"])["seconds"].cumsum() - data["seconds"]
    total = data.groupby(["name", "day"])["seconds"].transform("sum")
    middle = data["day"] + pd.to_timedelta(total / 2, unit="s")
    data = data.assign(
        base=positions(data["day"] + pd.to_timedelta(offset, unit="s")),
        day_text=[clock.day(t) for t in pd.to_datetime(middle, utc=True)],
        length=[duration(s) for s in data["seconds"]],
        share=(data["seconds"] / total * 100).round(0),
    )
    fig = go.Figure(layout={"template": TEMPLATE_NAME})
    for status in STATUS_ORDER:
        part = data[data["status"] == status]
        if part.empty:
            continue
        fig.add_bar(
            name=label(status),
            y=part["name"],
            x=part["seconds"] * 1000,
            base=part["base"],
            orientation="h",
            marker_color=STATUS_COLORS[status],
            customdata=part[["day_text", "length", "share"]].to_numpy(),
            hovertemplate="<b>%{y}</b> · %{customdata[0]}<br>"
            + label(status)
            + " %{customdata[1]} (%{customdata[2]:.0f} % of the day)<extra></extra>",
        )
    lo, _ = bounds(data["day"])
    _, hi = bounds(data["day"] + pd.to_timedelta(total, unit="s"))
    return _timeline_layout(fig, title, names, local_axis(clock, lo, hi))


def bucket_texts(starts: pd.Series, bucket: str, clock: PlantClock) -> list[str]:
    """Each bucket as the hover text names it: "Tue 1 Dec 14:00-15:00" (an en
    dash), or "Tue 1 Dec"."""
    stamps = list(pd.to_datetime(starts, utc=True))
    if bucket != "hour":
        return [clock.day(t) for t in stamps]
    ends = [*stamps[1:], stamps[-1] + pd.Timedelta(hours=1)] if stamps else []
    return [f"{clock.day(a)} {clock.span(a, b)}" for a, b in zip(stamps, ends, strict=True)]


def output_figure(
    frame: pd.DataFrame,
    title: str = "Output vs target by hour",
    bucket: str = "hour",
    clock: PlantClock = UTC_CLOCK,
) -> go.Figure:
    """Good and scrap stacked per plant-local hour (or day: `bucket`) with the target as a
    line, on the plant's clock."""
    if frame.empty or (frame["good"].sum() + frame["scrap"].sum() + frame["target"].sum()) == 0:
        return empty_figure("No data in this window")
    x = positions(frame["hour"])
    when = bucket_texts(frame["hour"], bucket, clock)
    fig = go.Figure(layout={"template": TEMPLATE_NAME})
    for column, color in (("good", GOOD_COLOR), ("scrap", SCRAP_COLOR)):
        fig.add_bar(
            x=x,
            y=frame[column],
            name=column,
            marker_color=color,
            customdata=when,
            hovertemplate=f"%{{customdata}}<br>%{{y:,}} {column} parts<extra></extra>",
        )
    fig.add_scatter(
        x=x,
        y=frame["target"],
        name="target",
        mode="lines",
        # Steps half way between the bars' centres: at the buckets' edges.
        line={"color": "#f8f9fa", "dash": "dash", "shape": "hvh"},
        customdata=when,
        hovertemplate="%{customdata}<br>target %{y:,.0f} parts<extra></extra>",
    )
    lo, hi = bounds(frame["hour"])
    step = pd.Timedelta(hours=1) if bucket == "hour" else pd.Timedelta(days=1)
    axis = local_axis(clock, lo - step / 2, hi + step / 2)
    fig.update_layout(
        title=title,
        margin={"t": 80},
        barmode="stack",
        xaxis=axis,
        yaxis={"title": f"parts per {bucket}"},
        legend=LEGEND_TOP,
        height=GRAPH_HEIGHT,
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
            hovertemplate="<b>%{x}</b>: %{y:.2f} % scrap<br>%{customdata[0]:,} good parts"
            " · %{customdata[1]:,} scrapped<extra></extra>",
        ),
        layout={"template": TEMPLATE_NAME},
    )
    fig.update_layout(title=title, yaxis={"title": "% scrap"}, height=GRAPH_HEIGHT)
    return fig


def _timeline_layout(
    fig: go.Figure, title: str, names: list[str], axis: dict[str, object]
) -> go.Figure:
    """One row per machine over a plant-local date axis, as the state timelines share it."""
    fig.update_layout(
        title=title,
        barmode="overlay",
        xaxis=axis,
        yaxis={"categoryorder": "array", "categoryarray": names[::-1], "automargin": True},
        height=max(GRAPH_HEIGHT, 20 * len(names) + 130),
        legend=LEGEND_TOP,
        margin={"t": 80},
        bargap=0.25,
    )
    return fig
