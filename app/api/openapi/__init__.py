"""The OpenAPI 3 document of the REST API, served at /api/v1/openapi.json.

Built from the definitions the API validates with (see schemas.py), so a client generated
from it sends what the API accepts. The WebSocket endpoints (/api/v1/ws, /api/v1/ws/admin)
are not HTTP operations and are described in the project's contract instead.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from flask import Blueprint, jsonify

from app.api.openapi.admin import admin_paths
from app.api.openapi.analytics import analytics_paths
from app.api.openapi.paths import core_paths
from app.api.openapi.schemas import components


@cache
def _built() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Mill Dash API", "version": "1.0.0"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {**core_paths(), **analytics_paths(), **admin_paths()},
        "components": {
            "schemas": components(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def document() -> dict[str, Any]:
    """The document: built once (it depends on code only, not on data or configuration),
    handed out as a copy so that no caller can change the served one."""
    return copy.deepcopy(_built())


def register(bp: Blueprint) -> None:
    @bp.get("/openapi.json")
    def openapi() -> Any:
        return jsonify(document())
