"""Socket wiring (clientside, see assets/live.js) and the alert toasts."""

from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, State, html, no_update


def critical_toast(frame: dict[str, Any] | None) -> tuple[Any, bool]:
    if not frame:
        return no_update, no_update
    data = frame.get("data", {})
    return (
        html.Div(
            [
                html.Strong(f"#{data.get('ticket_id')} {data.get('title', '')}"),
                html.Div(data.get("machine_name") or f"machine {data.get('machine_id')}"),
            ]
        ),
        True,
    )


def system_toast(frame: dict[str, Any] | None) -> tuple[Any, bool]:
    if not frame:
        return no_update, no_update
    data = frame.get("data", {})
    return f"[{data.get('level', 'info')}] {data.get('message', '')}", True


def register(app: Dash) -> None:
    app.clientside_callback(
        ClientsideFunction("live", "url"), Output("ws", "url"), Input("url", "pathname")
    )
    app.clientside_callback(
        ClientsideFunction("live", "message"),
        Output("ws", "protocols"),  # never changed: the function returns no_update
        Input("ws", "message"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("live", "state"),
        Output("ws", "timeout"),  # never changed
        Input("ws", "state"),
        State("url", "pathname"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("live", "reconnect"),
        Output("reconnect-button", "title"),  # never changed
        Input("reconnect-button", "n_clicks"),
        prevent_initial_call=True,
    )
    app.callback(
        Output("critical-toast", "children"),
        Output("critical-toast", "is_open"),
        Input("critical-alert", "data"),
        prevent_initial_call=True,
    )(critical_toast)
    app.callback(
        Output("system-toast", "children"),
        Output("system-toast", "is_open"),
        Input("system-alert", "data"),
        prevent_initial_call=True,
    )(system_toast)
