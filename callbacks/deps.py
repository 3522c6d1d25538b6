"""What callbacks need, injected by the app: data access, who is asking, the pages, and the
server's own state for the System page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from callbacks.windows import clock_of, plant_calendar
from components.registry import PAGES, Page
from components.wording import PlantClock
from data.accounts.tokens import Principal
from data.calendar.schedule import Calendar
from data.roles import WRITE_ROLES
from data.store.db import Database
from data.system_report import SystemReport
from data.write.services import Services


@dataclass
class Deps:
    """Data access and the caller, injected so callbacks stay plain functions."""

    db: Database
    services: Services
    principal: Callable[[], Principal | None]
    pages: tuple[Page, ...] = PAGES
    # The server's state now (sockets, delivery, parts, recent errors): the System page's.
    system: Callable[[], SystemReport] | None = None

    def calendar(self) -> Calendar:
        """The plant's calendar as stored now (an admin may change it at any time)."""
        return plant_calendar(self.db)

    def clock(self) -> PlantClock:
        """The plant's clock: times as people at the plant read them."""
        return clock_of(self.calendar())

    def can_write(self) -> bool:
        who = self.principal()
        return who is not None and who.role in WRITE_ROLES
