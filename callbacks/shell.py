"""The app layout for the person asking: the shell with who is signed in in its header."""

from __future__ import annotations

from collections.abc import Callable

from dash import Dash, Input, Output, State, html

from components.layout import User, shell
from components.registry import Page
from data.accounts.tokens import Principal


def signed_in(who: Principal | None) -> User | None:
    """(name, role) of a person or wall signed in with a session or a token; None for nobody
    and for the anonymous reader of a demo (who has neither)."""
    if who is None or not (who.session_id or who.token_id or who.user_id):
        return None
    return who.name, who.role


def page_layout(pages: tuple[Page, ...], principal: Callable[[], Principal | None]) -> html.Div:
    """`app.layout`: Dash calls it for each page load, inside that request."""
    try:
        who = principal()
    except RuntimeError:  # called outside a request (a layout check at start-up, a test)
        who = None
    return shell(pages, signed_in(who))


# The phone menu opens and closes in the browser; a new page closes it.
TOGGLE_MENU = """(clicks, path, open) => {
    const trigger = window.dash_clientside.callback_context.triggered_id;
    return trigger === "nav-toggle" ? !open : false;
}"""


def register(app: Dash) -> None:
    app.clientside_callback(
        TOGGLE_MENU,
        Output("nav-collapse", "is_open"),
        Input("nav-toggle", "n_clicks"),
        Input("url", "pathname"),
        State("nav-collapse", "is_open"),
        prevent_initial_call=True,
    )
