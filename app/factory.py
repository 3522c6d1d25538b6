"""create_app(config): the Flask server, the REST API and the Dash UI in one process."""

from __future__ import annotations

import logging
import os
from functools import partial
from pathlib import Path

import dash
from flask import Flask

from app.api import create_api_blueprint, register_error_handlers
from app.api.auth import ui_principal
from app.config import Config
from app.context import AppContext
from app.realtime.backend import Backend, InProcessBackend
from app.realtime.endpoints import register_realtime
from app.realtime.hub import Hub, Retention
from app.security import register_security
from app.ui_session import register_ui_session
from callbacks import Deps, register_callbacks
from callbacks.shell import page_layout
from components.registry import PAGES, Page
from data.events import Publisher
from data.store.db import Database
from data.write.calendar import default_zone
from data.write.services import Services

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def create_app(
    config: Config, publisher: Publisher | None = None, pages: tuple[Page, ...] = PAGES
) -> dash.Dash:
    """Build the app; the database is migrated. Background work starts in `app.server`'s
    `start_background` (the CLI calls it), so tests control what runs."""
    server = Flask("milldash")
    server.config.update(
        SECRET_KEY=config.resolved_secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    db = Database(config.database_url)
    db.migrate()
    default_zone(db, config.plant_tz)
    backend = make_backend(config, db)
    hub = Hub(db, backend, Retention(config.retain_events, config.retain_hours))
    services = Services(db, publisher or hub)
    app_ctx = AppContext(config=config, db=db, services=services)
    app_ctx.extras.update(hub=hub, broker_health=backend.health)
    server.extensions["milldash"] = app_ctx
    register_realtime(server)
    register_ui_session(server)
    register_security(server)
    server.register_blueprint(create_api_blueprint())
    register_error_handlers(server)

    app = dash.Dash(
        "milldash",
        server=server,
        title="Mill Dash",
        assets_folder=str(ROOT / "assets"),
        suppress_callback_exceptions=True,
        update_title=None,
        serve_locally=True,
    )
    # Screen readers pick their voice by the page's language (WCAG 3.1.1).
    app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1)
    app.layout = partial(page_layout, pages, ui_principal)
    deps = Deps(db=db, services=services, principal=ui_principal, pages=pages)
    app_ctx.display_outputs = register_callbacks(app, deps)
    return app


def make_backend(config: Config, db: Database) -> Backend:
    """In-process unless a Redis URL is configured: then the Redis stream backend
    (docs/architecture.md, "Redis backend"), its stream key from MILLDASH_REDIS_STREAM."""
    if config.redis_url:
        from app.realtime.redis_backend import DEFAULT_KEY, RedisBackend

        key = os.environ.get("MILLDASH_REDIS_STREAM", "").strip() or DEFAULT_KEY
        return RedisBackend(config.redis_url, db, key=key)
    return InProcessBackend(db)
