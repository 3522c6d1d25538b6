"""The objects one running app shares: config, database, services, hub."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from app.config import Config
from data.store.db import Database
from data.write.services import Services


@dataclass
class AppContext:
    config: Config
    db: Database
    services: Services
    # Dash callback keys a display (wall) session may call; from the page registry.
    display_outputs: frozenset[str] = frozenset()
    extras: dict[str, Any] = field(default_factory=dict)


def ctx() -> AppContext:
    """The AppContext of the Flask app handling the current request."""
    return current_app.extensions["milldash"]
