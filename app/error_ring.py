"""The recent errors the System page lists: a logging handler that keeps the last records at
WARNING or above in a bounded ring, per process.

Installed on the root logger when serving (`install`, once per process: each gunicorn worker
keeps its own, so with `--workers N` the page lists those of the worker that answered). The
handler redacts each record itself (app/redaction.py's `RedactingFilter`, the filter every
log handler has), so the ring never holds a token or a password a message carried, whichever
handler saw the record first.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from datetime import UTC, datetime

from app.log_format import RequestFields
from app.redaction import RedactingFilter, redact
from data.system_report import LoggedError

RING_SIZE = 20
# A message is cut here (a traceback or a long SQL statement stays in the log itself).
MESSAGE_CHARS = 300


def _line(record: logging.LogRecord) -> str:
    """The record's message on one line, cut to MESSAGE_CHARS, with the exception's type when
    the record carries one."""
    message = " ".join(record.getMessage().split())
    if record.exc_info and record.exc_info[0] is not None:
        message = f"{message} ({record.exc_info[0].__name__})"
    if len(message) > MESSAGE_CHARS:
        message = message[: MESSAGE_CHARS - 1] + "…"
    return redact(message)


class ErrorRing(logging.Handler):
    """The newest `size` records at `level` or above, as `LoggedError`s."""

    def __init__(self, size: int = RING_SIZE, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.addFilter(RequestFields())  # the request's id, when one is being served
        self.addFilter(RedactingFilter())
        self._entries: deque[LoggedError] = deque(maxlen=size)
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            entry = LoggedError(
                at=datetime.fromtimestamp(record.created, UTC),
                level=record.levelname,
                logger=record.name,
                message=_line(record),
                request_id=getattr(record, "request_id", None),
            )
        except Exception:  # never let the ring break logging
            self.handleError(record)
            return
        with self._guard:
            self._entries.append(entry)

    def entries(self) -> list[LoggedError]:
        """The records kept, newest first."""
        with self._guard:
            return list(reversed(self._entries))

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()


def install(ring: ErrorRing, logger: logging.Logger | None = None) -> None:
    """Add `ring` to `logger` (default: the root logger, which every logger propagates to);
    idempotent."""
    target = logger or logging.getLogger()
    if ring not in target.handlers:
        target.addHandler(ring)
