"""The System page (admins): open sockets, event delivery over the last minutes, the database's
and the broker's state, recent errors and who served it (ids `system-*`). Pure layout: the
values come in a `SystemReport`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.system_wal import wal_row
from components.wording import PlantClock, label, plural
from data.system_report import (
    PART_ABSENT,
    PART_FAILED,
    Latency,
    LoggedError,
    PartState,
    SystemReport,
)

REFRESH_MS = 5_000
NO_DELIVERIES = "No events delivered in the last {minutes} minutes"
NO_ERRORS = "No warnings or errors logged since this process started."
REFUSED = "Only admins can see the server's state."
METRICS_OFF = "Metrics are off on this server (MILLDASH_METRICS=0): nothing is counted."
PART_NAMES = {"database": "Database", "broker": "Broker (Redis)"}
# A span this much longer than the window: no snapshot was taken at the window's start.
_LATE = 1.1
LEVEL_CLASS = {"WARNING": "system-warning", "ERROR": "system-error", "CRITICAL": "system-error"}


def seconds_text(seconds: float | None) -> str:
    """A delivery time as people read it: "0.8 ms", "4.2 ms", "48 ms", "1.25 s"."""
    if seconds is None:
        return "–"
    ms = seconds * 1000
    if ms < 10:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{seconds:.2f} s"


def counted_since(latency: Latency, report: SystemReport) -> datetime | None:
    """Since when the delivery numbers count when no snapshot was taken at the window's start
    (a worker that replaced another one), else None: they are the window's."""
    if latency.span_s > latency.window_s * _LATE:
        return report.at - timedelta(seconds=latency.span_s)
    return None


def connections_body(report: SystemReport) -> list[Any]:
    """The open sockets now: the total, then one chip per role."""
    if not report.metrics_on:
        return [html.Div(METRICS_OFF, className="system-empty", id="system-metrics-off")]
    conns = report.connections
    roles = [
        html.Span(
            [html.Span(label(role), className="system-role"), html.Strong(str(count))],
            className="chip system-chip",
            id=f"system-sockets-{role}",
            **{"data-count": str(count)},
        )
        for role, count in conns.by_role.items()
    ]
    where = "every worker process" if report.processes > 1 else "this server"
    return [
        html.Div(str(conns.total), className="kpi-value", id="system-sockets-total"),
        html.Div(f"open sockets, all of {where}", className="muted small mb-2"),
        html.Div(roles, className="kpi-detail"),
    ]


def latency_body(report: SystemReport, clock: PlantClock) -> list[Any]:
    """p50 and p99 of the delivery time over the window, and how many events it saw."""
    if not report.metrics_on:
        return [html.Div(METRICS_OFF, className="system-empty")]
    latency = report.latency
    since = counted_since(latency, report)
    minutes = round(latency.window_s / 60)
    when = f"since {clock.time(since)}" if since else f"in the last {minutes} min"
    counts = html.Div(
        [
            html.Span(
                [html.Strong(str(latency.published), id="system-published"), " published"],
                className="chip system-chip",
            ),
            html.Span(
                [
                    html.Strong(str(latency.delivered), id="system-delivered"),
                    " delivered to sockets",
                ],
                className="chip system-chip",
            ),
            html.Span(when, className="muted small"),
        ],
        className="kpi-detail",
    )
    if not latency.delivered:
        empty = f"No events delivered {when}" if since else NO_DELIVERIES.format(minutes=minutes)
        return [html.Div(empty, className="system-empty", id="system-latency-empty"), counts]
    quantiles = html.Div(
        [
            html.Div(
                [
                    html.Div(name, className="kpi-label"),
                    html.Div(seconds_text(value), className="kpi-value", id=f"system-{name}"),
                ],
                className="system-quantile",
            )
            for name, value in (("p50", latency.p50_s), ("p99", latency.p99_s))
        ],
        className="system-quantiles",
    )
    return [quantiles, counts]


def part_row(part: PartState) -> html.Div:
    """One part, its state as a coloured word, and the error kind when it failed."""
    state = html.Span(part.state, className=f"system-state state-{part.state.replace(' ', '-')}")
    detail = html.Span(part.error, className="system-part-error") if part.error else None
    return html.Div(
        [
            html.Span(PART_NAMES.get(part.name, part.name), className="system-part-name"),
            state,
            detail,
        ],
        className="system-part",
        id=f"system-part-{part.name}",
        **{"data-state": part.state},
    )


def parts_body(report: SystemReport) -> list[Any]:
    failed = [p for p in report.parts if p.state == PART_FAILED]
    summary = f"{plural(len(failed), 'part')} failed" if failed else "Every configured part answers"
    absent = any(p.state == PART_ABSENT for p in report.parts)
    notes = [html.Div(summary, className="muted small mt-2")]
    if absent:
        notes.append(
            html.Div("No Redis: one process serves, nothing to share.", className="muted small")
        )
    rows = []
    for part in report.parts:
        rows.append(part_row(part))
        if part.name == "database" and report.wal is not None:  # SQLite: under the database
            rows.append(wal_row(report.wal, report.at))
    return [*rows, *notes]


def error_row(entry: LoggedError, clock: PlantClock) -> html.Tr:
    local = clock.local(entry.at)
    return html.Tr(
        [
            html.Td(f"{local:%H:%M:%S}", title=clock.stamp(entry.at), className="system-time"),
            html.Td(entry.level.lower(), className=LEVEL_CLASS.get(entry.level, "")),
            html.Td(entry.logger, className="system-logger"),
            html.Td(entry.message, className="system-message"),
            html.Td(entry.request_id or "–", className="system-request"),
        ]
    )


def errors_body(report: SystemReport, clock: PlantClock) -> list[Any]:
    """The last warnings and errors of the process that answered, newest first."""
    if not report.errors:
        return [html.Div(NO_ERRORS, className="system-empty", id="system-errors-empty")]
    head = html.Thead(
        html.Tr([html.Th(t) for t in ("Time", "Level", "Logger", "Message", "Request")])
    )
    rows = [error_row(e, clock) for e in report.errors]
    table = dbc.Table([head, html.Tbody(rows)], size="sm", className="system-table mb-0")
    return [html.Div(table, className="system-table-wrap")]


def footer_text(report: SystemReport, clock: PlantClock) -> str:
    """Which process answered, and when (on the plant's clock)."""
    served = f"Served by process {report.pid}"
    if report.processes > 1:
        served += f", one of {report.processes} worker processes"
    moment = f"{clock.day(report.at)} {clock.local(report.at):%H:%M:%S}"
    return f"{served}, at {moment} ({clock.name}). Refreshed on every event and every 5 s."


def system_panels(report: SystemReport, clock: PlantClock) -> tuple[Any, ...]:
    """The children of the page's parts, in the order the refresh callback writes them:
    connections, latency, parts, errors, footer."""
    return (
        connections_body(report),
        latency_body(report, clock),
        parts_body(report),
        errors_body(report, clock),
        footer_text(report, clock),
    )


def refused_panels() -> tuple[Any, ...]:
    """What a caller without the admin role gets from the refresh: a refusal, no values."""
    alert = html.Div(REFUSED, className="alert alert-danger mb-0", role="alert")
    return (alert, None, None, None, "")


def _card(title: str, body_id: str, body: Any, **kwargs: Any) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2(title, className="panel-title", id=f"{body_id}-title"),
                html.Div(body, id=body_id),
            ]
        ),
        className="panel system-card",
        **kwargs,
    )


def system_page(panels: tuple[Any, ...], processes: int) -> html.Div:
    """The page around `system_panels`' children, refreshed every REFRESH_MS as well as on
    every event."""
    connections, latency, parts, errors, footer = panels
    note = "The last warnings and errors of the process that answered, newest first."
    if processes > 1:
        note += " Each worker process keeps its own; the footer names the one shown."
    return html.Div(
        [
            html.Div(
                [
                    html.H1("System", className="page-title"),
                    html.Span("Server state: admins only", className="muted"),
                ],
                className="page-head",
            ),
            dbc.Row(
                [
                    dbc.Col(_card("Connections now", "system-connections", connections), lg=4),
                    dbc.Col(_card("Event delivery", "system-latency", latency), lg=4),
                    dbc.Col(_card("Database and broker", "system-parts", parts), lg=4),
                ],
                className="g-3 mb-3",
            ),
            dbc.Card(
                dbc.CardBody(
                    [
                        html.Div(
                            [
                                html.H2("Recent errors", className="panel-title"),
                                html.Span(note, className="muted small"),
                            ],
                            className="panel-head",
                        ),
                        html.Div(errors, id="system-errors"),
                    ]
                ),
                className="panel mb-3",
            ),
            html.Div(footer, id="system-footer", className="muted small"),
            dcc.Interval(id="system-refresh", interval=REFRESH_MS),
        ],
        id="system-page",
    )
