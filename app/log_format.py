"""Log lines as text for people (the default) or as one JSON object per line for machines
(`--log-format json`/`MILLDASH_LOG_FORMAT=json`): time, level, logger, message, and for lines
written while serving a request its id, route, method, path, status and duration.

Every request gets an id: the caller's `X-Request-ID` when it is a sane token (a proxy's, so
one id follows a request through nginx and the app), else a new one. It is sent back in the
`X-Request-ID` header and names the request in every log line written for it."""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_KEY = "milldash.request_id"  # in the WSGI environ, for the access line
ROUTE_KEY = "milldash.route"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# LogRecord attributes copied into the JSON object when a line carries them.
FIELDS = ("request_id", "route", "method", "path", "status", "duration_ms", "client")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in messages and tracebacks are
    escaped by JSON)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestFields(logging.Filter):
    """Put on a handler: a record written while a request is served gets its id, route,
    method and path (unless the record names them itself, as the access line does)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and getattr(record, "request_id", None) is None:
            record.request_id = g.get("request_id")
            record.method = request.method
            record.path = request.path
            record.route = request.url_rule.rule if request.url_rule is not None else None
        return True


def formatter_for(log_format: str, workers: int = 1) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter()
    where = " [%(process)d]" if workers > 1 else ""
    return logging.Formatter(f"%(asctime)s %(levelname)s{where} %(name)s: %(message)s")


def use_format(logger: logging.Logger, log_format: str, workers: int = 1) -> None:
    """Give every handler of `logger` the format and the request's fields."""
    for handler in logger.handlers:
        handler.setFormatter(formatter_for(log_format, workers))
        if not any(isinstance(f, RequestFields) for f in handler.filters):
            handler.addFilter(RequestFields())


def install_request_ids(server: Flask) -> None:
    """Give each request an id (see the module's docstring) and keep it and the matched
    route in the WSGI environ, where the server's access line finds them."""

    @server.before_request
    def _take_id() -> None:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = offered if _SANE_ID.fullmatch(offered) else uuid.uuid4().hex[:16]
        g.request_id = request_id
        request.environ[REQUEST_ID_KEY] = request_id

    @server.after_request
    def _name_it(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
        if request.url_rule is not None:
            request.environ[ROUTE_KEY] = request.url_rule.rule
        return response


def access_record(
    environ: dict[str, Any], status: str, seconds: float | None, client: str | None
) -> dict[str, Any]:
    """The fields of a request's access line (JSON format), from what the WSGI server knows
    once it has answered."""
    code = int(status[:3]) if status[:3].isdigit() else None
    return {
        "request_id": environ.get(REQUEST_ID_KEY),
        "route": environ.get(ROUTE_KEY),
        "method": environ.get("REQUEST_METHOD"),
        "path": environ.get("PATH_INFO"),
        "status": code,
        "duration_ms": None if seconds is None else round(seconds * 1000, 2),
        "client": client,
    }


class LoggingStream:
    """A file-like writer that turns what a library prints (pywsgi's error log, gevent's
    tracebacks) into log records, one a line, so that JSON logs stay JSON."""

    def __init__(self, name: str) -> None:
        self.logger = logging.getLogger(name)
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if line.strip():
                self.logger.error("%s", line)
        return len(text)

    def flush(self) -> None:
        if self._pending.strip():
            self.logger.error("%s", self._pending)
        self._pending = ""


def error_stream(log_format: str) -> Any:
    """Where the WSGI server's errors and gevent's tracebacks go: log records in JSON mode
    (redacted by the handlers' filter), else stderr through the redacting writer."""
    if log_format == "json":
        return LoggingStream("milldash.server")
    from app.redaction import RedactingStream

    return RedactingStream(sys.stderr)
