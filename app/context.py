"""The objects one running app shares: config, database, services, the realtime runtime."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import current_app

from app.config import Config
from data.store.db import Database
from data.write.services import Services

if TYPE_CHECKING:
    from app.realtime.runtime import Realtime


@dataclass
class AppContext:
    config: Config
    db: Database
    services: Services
    # The hub, its backend and relay (app/realtime/runtime.py); `create_app` builds it.
    realtime: Realtime
    # Dash callback keys a display (wall) session may call; from the page registry.
    display_outputs: frozenset[str] = frozenset()
    extras: dict[str, Any] = field(default_factory=dict)


def ctx() -> AppContext:
    """The AppContext of the Flask app handling the current request."""
    return current_app.extensions["milldash"]
