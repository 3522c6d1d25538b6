"""Thin Dash callbacks: inputs and socket ticks -> data queries -> components."""

from __future__ import annotations

from dash import Dash

from callbacks.deps import Deps


def register_callbacks(app: Dash, deps: Deps) -> frozenset[str]:
    """Register the shell's and every registered page's callbacks.

    Returns the outputs (Dash's callback keys) a display session may call: the shell's and
    those of the pages the display role may open, as the page registry says.
    """
    from callbacks import live, routing, shell

    routing.register(app, deps)
    live.register(app)
    shell.register(app)
    display_outputs = set(app.callback_map)
    for page in deps.pages:
        before = set(app.callback_map)
        page.load().register(app, deps)
        if page.display:
            display_outputs |= set(app.callback_map) - before
    return frozenset(display_outputs)
