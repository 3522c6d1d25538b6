"""The Mill Dash app in-process for tests: demo off, a fixed secret, a few idle machines."""

from __future__ import annotations

from typing import Any

from app.config import Config
from app.factory import create_app
from data.events import RecordingPublisher
from data.store.db import Database
from devtools.factories import add_machines


def app_with_machines(
    db_url: str, machines: int, publisher: Any = None, **config: Any
) -> tuple[Any, Database]:
    """The Dash app on `db_url` (events to `publisher`, a RecordingPublisher by default) with
    `machines` idle machines, and its database (the caller disposes of it)."""
    settings = Config(database_url=db_url, demo=False, secret_key="test", **config)
    app = create_app(settings, publisher if publisher is not None else RecordingPublisher())
    db = app.server.extensions["milldash"].db
    add_machines(db, machines)
    return app, db
