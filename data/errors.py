"""Errors raised by services and queries; the API maps each to an HTTP status."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base: `code` is stable and machine-readable, `message` is for people."""

    code = "error"
    http_status = 400

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ValidationFailed(ServiceError):
    code = "validation_error"
    http_status = 400


class NotFound(ServiceError):
    code = "not_found"
    http_status = 404


class Conflict(ServiceError):
    """A valid request that the current state refuses (e.g. a ticket workflow move)."""

    code = "conflict"
    http_status = 409


class Unprocessable(ValidationFailed):
    """Well-formed input that cannot be used as it stands (e.g. overlapping shifts)."""

    code = "unprocessable"
    http_status = 422
