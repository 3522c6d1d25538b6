"""`GET /metrics` and what is measured around every HTTP request (docs/metrics.md).

- `/metrics` answers an `admin` or `metrics` caller (a token, or an admin's session) in the
  Prometheus text format; nobody identified gets 401 (anonymous read access does not count),
  any other role 403, both as the API's JSON error.
- Every request's duration goes into `milldash_http_request_duration_seconds`, labelled with
  the URL rule that matched (`/api/v1/tickets/<int:ticket_id>`, never the raw path) or
  `unmatched`. A WebSocket's request lasts as long as the socket, so an accepted one is left
  out (a refused handshake is an ordinary request).
- `milldash_up` is computed at scrape time by the scraping process from the checks
  `GET /api/v1/health` makes, remembered for `UP_CACHE_S` so frequent scrapes cost nothing.
- `MILLDASH_METRICS=0`: nothing of the above. `/metrics` answers 404 in the API's JSON shape
  (whoever asks), no request is timed, the pool is not watched, and app/metrics.py's helpers
  return at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client.core import GaugeMetricFamily

from app import metrics
from app.api import error_response
from app.api.auth import ANONYMOUS, Forbidden, Unauthorized, current_principal
from data.roles import METRICS_ROLES

METRICS_PATH = "/metrics"
UP_CACHE_S = 1.0
_START = "milldash_metrics_start"
_DONE = "milldash_metrics_done"


class UpCollector:
    """`milldash_up{part}`: 1 when the database (`SELECT 1`) and the broker (Redis, when one
    is configured; 1 without one: nothing to fail) answer as health says, else 0."""

    def __init__(self, app_ctx: Any, cache_s: float = UP_CACHE_S) -> None:
        self.app_ctx = app_ctx
        self.cache_s = cache_s
        self._lock = threading.Lock()
        self._at = float("-inf")
        self._parts: dict[str, int] = {}

    def parts(self) -> dict[str, int]:
        with self._lock:
            if time.monotonic() - self._at >= self.cache_s:
                self._parts = {"database": self._database(), "broker": self._broker()}
                self._at = time.monotonic()
            return dict(self._parts)

    def _database(self) -> int:
        try:
            self.app_ctx.db.ping()
        except Exception:  # any driver error means the database is not usable
            return 0
        return 1

    def _broker(self) -> int:
        try:
            state = self.app_ctx.realtime.health()
        except Exception:  # a broken check is a failed broker, as in health
            return 0
        return 1 if state in ("ok", "n/a") else 0

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "milldash_up", "Whether a part answers (1) or failed (0).", labels=["part"]
        )
        for part, value in self.parts().items():
            family.add_metric([part], value)
        yield family


def _metrics_caller() -> None:
    """Refuse anyone but an admin or a metrics token (401 unidentified, 403 another role)."""
    principal = current_principal()
    if principal is None or principal == ANONYMOUS:
        raise Unauthorized("Send 'Authorization: Bearer <token>' with a metrics or admin token.")
    if principal.role not in METRICS_ROLES:
        raise Forbidden(f"This needs the metrics or admin role; you have {principal.role}.")


def _start() -> None:
    g.setdefault(_START, time.perf_counter())


def _route_labels(status: int) -> tuple[str, str, str] | None:
    rule = request.url_rule
    if rule is not None and rule.websocket and status < 400:
        return None  # an accepted socket: its request lasted as long as the socket
    method = request.method if request.method in metrics.HTTP_METHODS else "other"
    return (rule.rule if rule is not None else "unmatched", method, str(status))


def _record(status: int) -> None:
    started = g.get(_START)
    if started is None or g.get(_DONE):
        return
    g.setdefault(_DONE, True)
    labels = _route_labels(status)
    if labels is not None:
        metrics.HTTP_DURATION.labels(*labels).observe(time.perf_counter() - started)


def _after(response: Response) -> Response:
    _record(response.status_code)
    return response


def _teardown(exc: BaseException | None) -> None:
    if exc is not None:  # no response was made (an error outside the JSON paths)
        _record(500)


def _metrics_off() -> Any:
    return error_response(404, "not_found", "Metrics are off on this server (MILLDASH_METRICS=0).")


def register_metrics(server: Flask) -> None:
    """`/metrics`, the request timing hooks and the pool gauge, or with metrics off a `/metrics`
    that answers 404. Call it first after the Flask app exists, so the timing starts before any
    other hook can answer, and before a server forks its workers (the switch is per process)."""
    app_ctx = server.extensions["milldash"]
    up = UpCollector(app_ctx)
    app_ctx.extras["metrics_up"] = up
    metrics.set_enabled(app_ctx.config.metrics)
    if not app_ctx.config.metrics:
        # Registered all the same: Dash's page route would answer 200 HTML otherwise.
        server.add_url_rule(METRICS_PATH, "metrics", _metrics_off, methods=["GET"])
        return
    metrics.watch_pool(app_ctx.db.engine)
    server.before_request(_start)
    server.after_request(_after)
    server.teardown_request(_teardown)

    def metrics_view() -> Any:
        _metrics_caller()
        headers = {"Content-Type": metrics.CONTENT_TYPE, "Cache-Control": "no-store"}
        return Response(metrics.scrape(up), 200, headers)

    server.add_url_rule(METRICS_PATH, "metrics", metrics_view, methods=["GET"])
