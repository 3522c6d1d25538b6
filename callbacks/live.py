"""Socket wiring (clientside, see assets/live.js) and the system toast. The critical toast,
the alert feed and the wall's ticker are drawn from the socket frame in the browser
(assets/live_alerts.js)."""

from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, State, no_update


def system_toast(frame: dict[str, Any] | None) -> tuple[Any, bool]:
    """The plant-wide message's toast text, opened."""
    if not frame:
        return no_update, no_update
    data = frame.get("data", {})
    return f"[{data.get('level', 'info')}] {data.get('message', '')}", True


def register(app: Dash) -> None:
    """The socket's clientside callbacks and the system toast."""
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
        Output("system-toast", "children"),
        Output("system-toast", "is_open"),
        Input("system-alert", "data"),
        prevent_initial_call=True,
    )(system_toast)
