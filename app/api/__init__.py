"""REST API under /api/v1: JSON in, JSON out, errors as {"error": {code, message, details}}."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify
from werkzeug.exceptions import HTTPException

from data.errors import ServiceError


def error_response(status: int, code: str, message: str, details: Any = None) -> Any:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    response = jsonify({"error": body})
    response.status_code = status
    return response


def create_api_blueprint() -> Blueprint:
    from app.api import admin, dashboard, export, machines, openapi, tickets

    bp = Blueprint("api", __name__, url_prefix="/api/v1")
    for module in (machines, export, tickets, dashboard, admin, openapi):
        module.register(bp)

    @bp.route("/<path:unknown>", methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
    def not_found(unknown: str) -> Any:
        # Dash's catch-all page route would otherwise answer 200 HTML for unknown API paths.
        return error_response(404, "not_found", f"No API endpoint /api/v1/{unknown}.")

    return bp


def register_error_handlers(app: Flask) -> None:
    from flask import request

    def is_api() -> bool:
        return request.path.startswith("/api/")

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError) -> Any:
        return error_response(exc.http_status, exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if not is_api():
            return exc
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        app.logger.exception("unhandled error on %s", request.path)
        if not is_api():
            raise exc
        return error_response(500, "internal_error", "The server failed; the error is logged.")
