"""create_app(config): the Flask server, the REST API and the Dash UI in one process."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

import dash
from flask import Flask

from app.api import create_api_blueprint, register_error_handlers
from app.api.auth import ui_principal
from app.config import Config
from app.context import AppContext
from app.log_format import install_request_ids
from app.metrics_http import register_metrics
from app.realtime.runtime import Realtime, make_backend
from app.security import register_security
from app.shared_limits import install_shared_limits
from app.system_status import register_system_status
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
    """Build the app; the database is migrated. Nothing runs in the background yet: whoever
    serves starts the realtime runtime (`AppContext.realtime.start()`), the SQLite
    checkpointer (app/checkpointer.py) and the demo simulator (app/server.py, once per worker
    process), so tests control what runs."""
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
    realtime = Realtime()
    services = Services(db, publisher or realtime)
    app_ctx = AppContext(config=config, db=db, services=services, realtime=realtime)
    server.extensions["milldash"] = app_ctx
    install_request_ids(server)  # first: every later hook's log lines name the request
    register_metrics(server)  # request timing starts before any other hook answers
    realtime.init_app(server)  # the backend, the hub and the socket endpoints
    install_shared_limits(server)  # Redis-counted caps: after the handshake, before sign-in
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
    system = register_system_status(app_ctx)
    deps = Deps(db=db, services=services, principal=ui_principal, pages=pages, system=system.report)
    app_ctx.display_outputs = register_callbacks(app, deps)
    return app


__all__ = ["create_app", "make_backend"]
