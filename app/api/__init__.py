"""REST API under /api/v1: JSON in, JSON out, errors as {"error": {code, message, details}}."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Flask, current_app, has_request_context, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import RequestRedirect

from app.outage import register_outage_handler
from data.errors import ServiceError

log = logging.getLogger("milldash.requests")

# Deeper JSON than any real body (a Dash component tree included) is refused before code that
# walks it recursively (Dash, plotly, json.dumps) can fail on it.
MAX_JSON_DEPTH = 200
# Paths whose errors are answered as JSON: the REST API and Dash's callback endpoint.
JSON_ERROR_PATHS = ("/api/", "/_dash-update-component")
# Werkzeug errors that mean "the request was malformed": logged as client errors.
CLIENT_ERROR_CODES = frozenset({400, 405, 411, 413, 414, 415, 431})


class JSONTooDeep(ValueError):
    """A JSON document nested deeper than MAX_JSON_DEPTH (or than the parser's stack)."""


def _check_depth(value: Any, limit: int) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise JSONTooDeep(f"JSON nested deeper than {limit} levels.")
        stack.extend((child, depth + 1) for child in children)


def loads_limited(data: str | bytes, limit: int = MAX_JSON_DEPTH) -> Any:
    """json.loads that fails with ValueError (never RecursionError) on a too-deep document."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise JSONTooDeep("JSON nested too deeply.") from None
    _check_depth(value, limit)
    return value


class LimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, but request bodies parse depth-limited: `request.get_json()` turns a too-deep
    body into a 400 (or None when silent) like any other invalid JSON, not a 500."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if kwargs:
            return super().loads(s, **kwargs)
        try:
            return loads_limited(s)
        except JSONTooDeep as exc:
            if has_request_context():
                log.warning(
                    "client error: %s %s %s from %s",
                    exc,
                    request.method,
                    request.path[:200],
                    request.remote_addr or "-",
                )
            raise


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: Any = None
) -> Any:
    """The API's error answer: `{"error": {"code", "message", "details"?}}`."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    response = jsonify({"error": body})
    response.status_code = status
    for name, value in headers or ():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def client_error(
    status: int, code: str, message: str, details: Any = None, log_detail: str = ""
) -> Any:
    """An error answer for a malformed request, logged as the client's fault: one WARNING line,
    no traceback (a traceback would say the server failed)."""
    log.warning(
        "client error %d %s: %s %s from %s%s",
        status,
        code,
        request.method,
        request.path[:200],
        request.remote_addr or "-",
        f" ({log_detail[:200]})" if log_detail else "",
    )
    return error_response(status, code, message, details)


def create_api_blueprint() -> Blueprint:
    from app.api import admin, analytics, dashboard, export, machines, openapi, tickets

    bp = Blueprint("api", __name__, url_prefix="/api/v1")
    for module in (machines, export, tickets, dashboard, analytics, admin, openapi):
        module.register(bp)

    @bp.route("/<path:unknown>", methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
    def not_found(unknown: str) -> Any:
        # Dash's catch-all page route would otherwise answer 200 HTML for unknown API paths.
        # This catch-all also takes every method, so a known path with the wrong method
        # lands here too: that is a 405 with the methods the path does take.
        allowed = _methods_elsewhere(request.path)
        if allowed:
            raise MethodNotAllowed(valid_methods=sorted(allowed))
        return error_response(404, "not_found", f"No API endpoint /api/v1/{unknown}.")

    return bp


def _options_allow(response: Any) -> Any:
    """Flask's automatic OPTIONS answer on an API path would list the catch-all's methods too
    (and Dash's page route's, for the socket routes registered on the server itself)."""
    if request.method == "OPTIONS" and request.path.startswith("/api/"):
        allowed = _methods_elsewhere(request.path)
        if not allowed:
            return error_response(404, "not_found", f"No API endpoint {request.path}.")
        response.headers["Allow"] = ", ".join(sorted(allowed))
    return response


def _methods_elsewhere(path: str) -> set[str]:
    """The methods other API routes take on `path` (the catch-all and Dash's pages aside)."""
    http = current_app.url_map.bind("localhost")
    # Socket routes match only WebSocket requests (werkzeug's `websocket=True` rules).
    ws = current_app.url_map.bind("localhost", url_scheme="ws")
    methods: set[str] = set()
    tries = [(http, m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE")] + [(ws, "GET")]
    for adapter, method in tries:
        try:
            endpoint, _ = adapter.match(path, method=method)
        except RequestRedirect:  # a missing slash: the route exists
            methods.add(method)
            continue
        except HTTPException:  # no such route, or a socket route asked over plain HTTP
            continue
        # Dash names its endpoints by their path ("/<path:path>" answers every GET).
        if endpoint != "api.not_found" and not str(endpoint).startswith("/"):
            methods.add(method)
    if "GET" in methods:
        methods.add("HEAD")
    return methods | {"OPTIONS"} if methods else methods


def register_error_handlers(app: Flask) -> None:
    """JSON errors for the API and Dash's callback endpoint; depth-limited JSON bodies."""
    app.json = LimitedJSONProvider(app)
    app.after_request(_options_allow)

    def is_json_path() -> bool:
        return request.path.startswith(JSON_ERROR_PATHS)

    register_outage_handler(app, is_json_path, error_response)

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError) -> Any:
        if exc.http_status == 400:  # malformed input (404, 409 and the like are answers)
            return client_error(400, exc.code, exc.message, exc.details, log_detail=exc.message)
        return error_response(exc.http_status, exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if not is_json_path():
            return exc
        if isinstance(exc, MethodNotAllowed) and request.path.startswith("/api/"):
            # Werkzeug's list includes the catch-all's methods; name the real ones.
            allowed = _methods_elsewhere(request.path)
            if not allowed:
                return error_response(404, "not_found", f"No API endpoint {request.path}.")
            exc = MethodNotAllowed(valid_methods=sorted(allowed))
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        if status in CLIENT_ERROR_CODES:
            log.warning(
                "client error %d %s: %s %s from %s",
                status,
                code,
                request.method,
                request.path[:200],
                request.remote_addr or "-",
            )
        # Werkzeug's headers carry meaning: `Allow` on a 405 (RFC 9110), `Retry-After`.
        return error_response(status, code, exc.description or exc.name, headers=exc.get_headers())

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        app.logger.exception("unhandled error on %s", request.path)
        if not is_json_path():
            raise exc
        return error_response(500, "internal_error", "The server failed; the error is logged.")
