"""Machine status board and machine detail."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.kpi import hours, pct
from components.pages import area_select, graph_pair, panel, range_selector
from components.theme import PRIORITY_COLORS, STATUS_COLORS


def machine_tile(machine: dict[str, Any]) -> dcc.Link:
    """A stack-light tile: name, status, utilization; links to the machine's detail."""
    status = machine["status"]
    return dcc.Link(
        html.Div(
            [
                html.Div(machine["name"], className="tile-name"),
                html.Div(status, className="tile-status"),
                html.Div(f"{machine['utilization_24h'] * 100:.0f}% 24 h", className="tile-util"),
            ],
            className=f"machine-tile status-{status}",
            style={"--status-color": STATUS_COLORS.get(status, "#888")},
            id={"type": "machine-tile", "id": machine["id"]},
            **{"data-status": status, "data-machine-id": str(machine["id"])},
        ),
        href=f"/machines?id={machine['id']}",
        className="tile-link",
    )


def status_board(machines: list[dict[str, Any]]) -> html.Div:
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
                    html.Div([machine_tile(m) for m in items], className="tile-grid"),
                ],
                className="area-group",
            )
            for area, items in groups.items()
        ],
        id="status-board-tiles",
    )


def machines_page(areas: list[str]) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.H1("Machines", className="page-title"),
                    area_select("machines-area", areas),
                ],
                className="page-head",
            ),
            html.Div(id="machine-board", className="mb-3"),
            html.Div(id="machine-detail-wrap", children=machine_detail_layout()),
        ],
        id="machines-page",
    )


def machine_detail_layout() -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.H2(id="machine-detail-title", className="page-subtitle"),
                    range_selector("machine-range", "7d"),
                ],
                className="page-head",
            ),
            html.Div(id="machine-detail-kpis"),
            graph_pair("machine-timeline", "machine-output"),
            panel(html.Div(id="machine-tickets"), title="Tickets"),
        ],
        id="machine-detail",
        hidden=True,
    )


def detail_kpis(detail: dict[str, Any]) -> dbc.Row:
    from components.kpi import kpi_card

    rel = detail["reliability"]
    oee = detail["oee"] or {}
    machine = detail["machine"]
    return dbc.Row(
        [
            kpi_card("Status", machine["status"], f"since {machine['status_since'][:16]}Z"),
            kpi_card("Utilization", pct(machine["utilization_24h"]), "over the window"),
            kpi_card(
                "OEE",
                pct(oee.get("oee")),
                f"A {pct(oee.get('availability'))} · P {pct(oee.get('performance'))} · "
                f"Q {pct(oee.get('quality'))}",
            ),
            kpi_card(
                "MTTR",
                hours(rel["mttr_s"] / 3600 if rel["mttr_s"] else None),
                f"{rel['repairs']} repairs",
            ),
            kpi_card(
                "MTBF",
                hours(rel["mtbf_s"] / 3600 if rel["mtbf_s"] else None),
                f"{rel['failures']} failures",
            ),
            kpi_card(
                "Output", f"{int(oee.get('good', 0)):,}", f"scrap {int(oee.get('scrap', 0)):,}"
            ),
        ],
        className="g-3 mb-3",
    )


def ticket_list(tickets: list[dict[str, Any]]) -> html.Div:
    if not tickets:
        return html.Div("No tickets for this machine.", className="empty-state small")
    return html.Ul(
        [
            html.Li(
                [
                    html.Span(
                        t["priority"],
                        className="badge prio",
                        style={"background": PRIORITY_COLORS[t["priority"]]},
                    ),
                    html.Span(f"#{t['id']} {t['title']}", className="ms-2"),
                    html.Span(t["status"], className="ticket-status ms-2"),
                    html.Span(t["created_at"][:16].replace("T", " "), className="muted ms-2"),
                ]
            )
            for t in tickets
        ],
        className="ticket-list",
    )
