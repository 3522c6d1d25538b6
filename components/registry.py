"""The page registry: every page of the UI in one place.

The router, the navigation bar, the access checks on Dash callbacks and the topic and title
maps of `assets/live.js` (serialised into the layout) are all derived from these entries. Adding a
page is one entry here and one module (under `callbacks/`) with `render(deps)` and
`register(app, deps)`.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from typing import Any

from data.events import TOPICS
from data.roles import PERSON_ROLES, ROLES, UI_ROLES


@dataclass(frozen=True)
class Page:
    """One page: where it lives, what it is called, what it listens to, who may open it."""

    path: str
    title: str
    module: str  # e.g. `callbacks.dashboard`: `render(deps)` and `register(app, deps)`
    topics: tuple[str, ...]  # socket topics the page listens to while open
    nav_label: str | None = None  # None: not in the navigation bar
    roles: tuple[str, ...] = PERSON_ROLES  # roles that may open it ("display": the wall's)
    new_tab: bool = False  # the navigation link opens it in a new tab (the kiosk wall)

    def __post_init__(self) -> None:
        unknown = [t for t in self.topics if t not in TOPICS]
        if unknown or not self.topics:
            raise ValueError(f"page {self.path}: topics must be some of {TOPICS}, not {unknown}")
        if not set(self.roles) <= set(ROLES):
            raise ValueError(f"page {self.path}: unknown role in {self.roles}")
        if not self.path.startswith("/") or (self.path != "/" and self.path.endswith("/")):
            raise ValueError(f"page path {self.path!r} must start, and not end, with '/'")

    @property
    def display(self) -> bool:
        """Whether the wall's display role may open the page and run its callbacks."""
        return "display" in self.roles

    def allows(self, role: str | None) -> bool:
        return role is not None and role in self.roles

    def load(self) -> Any:
        """The module that renders the page and registers its callbacks."""
        return importlib.import_module(self.module)


PAGES: tuple[Page, ...] = (
    Page(
        path="/",
        title="Dashboard",
        module="callbacks.dashboard",
        topics=("dashboard", "machines", "maintenance"),
        nav_label="Dashboard",
    ),
    Page(
        path="/machines",
        title="Machines",
        module="callbacks.machines",
        topics=("machines", "maintenance"),
        nav_label="Machines",
    ),
    Page(
        path="/maintenance",
        title="Maintenance",
        module="callbacks.maintenance",
        topics=("maintenance", "machines"),
        nav_label="Maintenance",
    ),
    Page(
        path="/production",
        title="Production",
        module="callbacks.production",
        topics=("production", "dashboard"),
        nav_label="Production",
    ),
    Page(
        path="/wall",
        title="Wall",
        module="callbacks.wall",
        topics=TOPICS,
        nav_label="Wall",
        roles=UI_ROLES,
        new_tab=True,
    ),
    Page(
        path="/settings",
        title="Settings",
        module="callbacks.settings",
        topics=("dashboard",),  # a calendar change is a dashboard_refresh
        nav_label="Settings",
        roles=("admin",),
    ),
    Page(
        path="/system",
        title="System",
        module="callbacks.system",
        topics=TOPICS,  # any event refreshes it; a 5 s interval catches what is no event
        nav_label="System",
        roles=("admin",),
    ),
)


def find(pages: tuple[Page, ...], pathname: str | None) -> Page | None:
    """The page at `pathname` (a trailing slash is ignored), or None."""
    path = (pathname or "/").rstrip("/") or "/"
    return next((p for p in pages if p.path == path), None)


def nav_pages(pages: tuple[Page, ...], role: str | None) -> list[Page]:
    """The pages the navigation bar links for `role`: those it may open (nobody signed in
    reads as the anonymous viewer)."""
    return [p for p in pages if p.nav_label and p.allows(role or "viewer")]


def topics_json(pages: tuple[Page, ...]) -> str:
    """The path -> topics map that `assets/live.js` reads from the layout."""
    return json.dumps({p.path: list(p.topics) for p in pages}, separators=(",", ":"))


def titles_json(pages: tuple[Page, ...]) -> str:
    """The path -> title map: `assets/live_page.js` names the page it could not load."""
    return json.dumps({p.path: p.title for p in pages}, separators=(",", ":"))
