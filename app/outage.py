"""A database that is down or restarting is an outage, not a bug: requests answer 503 with a
clear message (never 500), and the loops that retry log it once when it starts and once when
it ends, instead of a traceback per retry."""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from flask import Flask, Response

from data.store.db import UNREACHABLE, is_unreachable

RETRY_AFTER_S = 5
MESSAGE = "The database is not reachable right now. Try again in a few seconds."
PAGE_MESSAGE = "The database is not reachable right now. This page tries again by itself."
NOTICE_PAGE = (Path(__file__).parent / "notice.html").read_text()

log = logging.getLogger("milldash.outage")


def register_outage_handler(
    app: Flask, is_json_path: Callable[[], bool], json_error: Callable[..., Any]
) -> None:
    """503 for every request that met an unreachable database: the API's JSON error shape on
    JSON paths (`database_unavailable`), a page that reloads itself elsewhere."""

    def _unavailable(exc: Exception) -> Any:
        log.warning("database unreachable: %s", first_line(exc))
        retry = [("Retry-After", str(RETRY_AFTER_S))]
        if is_json_path():
            return json_error(503, "database_unavailable", MESSAGE, headers=retry)
        body = f'<p class="mb-0" role="alert">{escape(PAGE_MESSAGE)}</p>'
        page = NOTICE_PAGE.format(title="Database unavailable", body=body)
        return Response(page, 503, [*retry, ("Refresh", str(RETRY_AFTER_S))], mimetype="text/html")

    for kind in UNREACHABLE:
        app.register_error_handler(kind, _unavailable)


def first_line(exc: BaseException) -> str:
    """The exception's type and the first line of its message (drivers write several)."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


class OutageLog:
    """For a loop that retries: an unreachable database is logged as a warning when it first
    fails and as info when it answers again; any other error keeps its traceback."""

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self.logger = logger
        self.what = what
        self.down = False

    def failed(self, exc: BaseException) -> None:
        if not is_unreachable(exc):
            self.logger.error("%s failed", self.what, exc_info=exc)
            return
        if not self.down:
            self.down = True
            reason = first_line(exc)
            self.logger.warning("%s: database unreachable (%s); retrying", self.what, reason)

    def succeeded(self) -> None:
        if self.down:
            self.down = False
            self.logger.info("%s: working again", self.what)
