"""System page: the server's own state for admins (open sockets, event delivery over the last
5 minutes, the database and the broker, recent errors), read from the app's `Deps.system`.

It listens to every topic, so any event refreshes it at once through the socket's tick stores,
like the other pages; connection counts, the parts' state and the errors change without
events, so a `dcc.Interval` (`system-refresh`, every 5 s) refreshes it too. The router opens
the page to admins only (components/registry.py); `render` and the refresh callback check the
role again, as any callback can be called directly."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output

from callbacks.deps import Deps
from components.layout import forbidden_page
from components.system import refused_panels, system_page, system_panels
from components.wording import UTC_CLOCK, PlantClock
from data.events import TOPICS

ADMIN = "admin"
OUTPUTS = ("system-connections", "system-latency", "system-parts", "system-errors")


def is_admin(deps: Deps) -> bool:
    who = deps.principal()
    return who is not None and who.role == ADMIN


def plant_clock(deps: Deps) -> PlantClock:
    """The plant's clock, or UTC's while the database cannot say it: this page must show a
    failed database, not fail with it."""
    try:
        return deps.clock()
    except Exception:  # any driver error: the parts panel says what failed
        return UTC_CLOCK


def panels(deps: Deps) -> tuple[Any, ...]:
    """The page's parts for an admin, a refusal for anybody else."""
    if not is_admin(deps) or deps.system is None:
        return refused_panels()
    return system_panels(deps.system(), plant_clock(deps))


def render(deps: Deps) -> Any:
    if not is_admin(deps) or deps.system is None:
        return forbidden_page("System")
    report = deps.system()
    return system_page(system_panels(report, plant_clock(deps)), report.processes)


def register(app: Dash, deps: Deps) -> None:
    app.callback(
        *(Output(part, "children") for part in OUTPUTS),
        Output("system-footer", "children"),
        *(Input(f"tick-{topic}", "data") for topic in TOPICS),
        Input("system-refresh", "n_intervals"),
        prevent_initial_call=True,
    )(lambda *_inputs: panels(deps))
