"""Machine status board (cards) and one machine's detail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.kpi import kpi_card, pct
from components.machine_status import (
    card_classes,
    since_seconds,
    status_parts,
    ticket_badge,
)
from components.pages import (
    GRAPH_HEIGHT,
    area_select,
    graph_pair,
    page_head,
    panel,
    range_selector,
)
from components.plant_head import time_head
from components.theme import OEE_BANDS, PRIORITY_COLORS, STATUS_COLORS, UTILIZATION_BANDS
from components.wording import UTC_CLOCK, PlantClock, ago, duration, instant, label, plural

DETAIL_RANGE = "24h"  # the detail opens on the same window as the card's utilization


def machine_tile(m: dict[str, Any], now: datetime) -> dcc.Link:
    """A machine card: name, open-ticket badge, state and for how long, why (reason, lead
    ticket, assignee) and utilization over the last 24 h; links to the machine's detail.
    `m` is a `machine_states` row with `utilization_24h` added."""
    status = m["status"]
    parts = status_parts(m, now)
    seconds = since_seconds(m, now)
    util = m.get("utilization_24h")
    return dcc.Link(
        html.Div(
            [
                html.Div(
                    [html.Div(m["name"], className="tile-name"), ticket_badge(m)],
                    className="tile-top",
                ),
                html.Div(
                    [
                        html.Span(label(status), className="tile-status"),
                        html.Span(
                            f" {duration(seconds)}" if seconds is not None else "",
                            className="tile-for",
                        ),
                    ],
                    className="tile-state",
                ),
                html.Div(" · ".join(parts[1:]), className="tile-why") if parts[1:] else None,
                html.Div(
                    f"{pct(util)} running, last 24 h" if util is not None else "",
                    className="tile-util",
                ),
            ],
            className=f"machine-card machine-tile {card_classes(m)}",
            title=" · ".join(parts),
            style={"--status-color": STATUS_COLORS.get(status, "#888")},
            id={"type": "machine-tile", "id": m["id"]},
            **{"data-status": status, "data-machine-id": str(m["id"])},
        ),
        href=f"/machines?id={m['id']}",
        className="tile-link",
    )


def status_board(machines: list[dict[str, Any]], now: datetime) -> html.Div:
    """Machine cards grouped by area."""
    if not machines:
        return html.Div(
            "No machines yet. Seed a demo plant with `python -m app seed`.", className="empty-state"
        )
    groups: dict[str, list[dict[str, Any]]] = {}
    for m in machines:
        groups.setdefault(m["area"], []).append(m)
    return html.Div(
        [
            html.Div(
                [
                    html.H6(area, className="area-title"),
                    html.Div([machine_tile(m, now) for m in items], className="tile-grid"),
                ],
                className="area-group",
            )
            for area, items in groups.items()
        ],
        id="status-board-tiles",
    )


def machines_page(
    areas: list[str], time_line: list[Any] | None = None, shifts: bool = False
) -> html.Div:
    """The board and the detail's frame; `time_line`: the head's zone note."""
    return html.Div(
        [
            page_head(
                "Machines",
                time_head("machines-time", time_line or []),
                area_select("machines-area", areas),
            ),
            html.Div(id="machine-board", className="mb-3"),
            html.Div(id="machine-detail-wrap", children=machine_detail_layout(shifts)),
        ],
        id="machines-page",
    )


def machine_detail_layout(shifts: bool = False) -> html.Div:
    """The detail's frame: the graphs' space is reserved before their data arrives, so nothing
    below them jumps or overlaps while they load."""
    return html.Div(
        [
            html.Div(
                [
                    html.H2(
                        "Loading machine…", id="machine-detail-title", className="page-subtitle"
                    ),
                    range_selector("machine-range", DETAIL_RANGE, shifts),
                ],
                className="page-head",
            ),
            html.Div(id="machine-detail-missing"),
            html.Div(
                [
                    dcc.Loading(html.Div(id="machine-detail-kpis", className="detail-kpis")),
                    graph_pair("machine-timeline", "machine-output"),
                    panel(
                        html.Div(id="machine-tickets"), title="Tickets", id="machine-tickets-panel"
                    ),
                ],
                id="machine-detail-body",
            ),
        ],
        id="machine-detail",
        hidden=True,
    )


def missing_machine(machine_id: int) -> html.Div:
    """The empty state for an id that is not a machine, with the way back."""
    return html.Div(
        [
            html.Div(f"No machine {machine_id}", className="empty-title"),
            html.Div("It may have been removed, or the link is wrong.", className="muted"),
            dcc.Link("← All machines", href="/machines", className="empty-link"),
        ],
        className="empty-state panel machine-missing",
        style={"minHeight": f"{GRAPH_HEIGHT}px"},
    )


def detail_kpis(detail: dict[str, Any], now: datetime, window: str) -> dbc.Row:
    """Status, utilization, OEE, MTTR, MTBF and output of one machine over the window
    (`window`: how it is said, "last 24 h", "today", "Early shift")."""
    rel = detail["reliability"]
    oee = detail["oee"] or {}
    machine = detail["machine"]
    since = instant(machine["status_since"]) or now
    oee_value = oee.get("oee")
    return dbc.Row(
        [
            kpi_card(
                "Status", label(machine["status"]), f"for {duration((now - since).total_seconds())}"
            ),
            kpi_card(
                "Utilization",
                pct(machine["utilization_24h"]),
                f"running, {window}",
                value_color=UTILIZATION_BANDS.color(machine["utilization_24h"]),
            ),
            kpi_card(
                "OEE",
                pct(oee_value),
                f"A {pct(oee.get('availability'))} · P {pct(oee.get('performance'))} · "
                f"Q {pct(oee.get('quality'))}",
                value_color=OEE_BANDS.color(oee_value) if oee else None,
            ),
            kpi_card("MTTR", duration(rel["mttr_s"]), plural(rel["repairs"], "repair")),
            kpi_card("MTBF", duration(rel["mtbf_s"]), plural(rel["failures"], "failure")),
            kpi_card(
                "Good parts",
                f"{int(oee.get('good', 0)):,}",
                f"{int(oee.get('scrap', 0)):,} scrapped",
            ),
        ],
        className="g-3 mb-3",
    )


def ticket_list(
    tickets: list[dict[str, Any]], now: datetime, clock: PlantClock = UTC_CLOCK
) -> html.Div:
    """The machine's latest tickets: priority, id and title, status, when opened (on the
    plant's clock in the tooltip)."""
    if not tickets:
        return html.Div("No tickets for this machine.", className="empty-state small")
    return html.Ul(
        [
            html.Li(
                [
                    html.Span(
                        label(t["priority"]),
                        className="badge prio",
                        style={"background": PRIORITY_COLORS[t["priority"]]},
                    ),
                    html.Span(f"#{t['id']} {t['title']}", className="ms-2"),
                    html.Span(label(t["status"]), className="ticket-status ms-2"),
                    html.Span(
                        f"opened {ago(instant(t['created_at']), now)}",
                        className="muted ms-2",
                        title=clock.stamp(instant(t["created_at"]) or now),
                    ),
                    html.Span(t["assignee"] or "unassigned", className="muted ms-2"),
                ]
            )
            for t in tickets
        ],
        className="ticket-list",
    )
