"""Schemathesis against the served OpenAPI document (/api/v1/openapi.json), in-process through
the Flask WSGI app with an admin token: every documented operation gets schema-derived positive
and negative requests (examples, coverage and fuzzing phases); no answer may be a 5xx, and every
answer must have a documented status code, content type and body schema.

The app and its SQLite database are built once at import (schemathesis parametrises at
collection time): three machines and three tickets, so ids 1..3 exist.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app.config import Config
from app.factory import create_app
from data.access import create_token, verify_token
from data.events import RecordingPublisher
from tests.factories import add_machines

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

def _build_app() -> tuple[Any, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="milldash-schemathesis-"))
    url = f"sqlite:///{workdir / 'schemathesis.db'}"
    app = create_app(Config(database_url=url, demo=False, secret_key="t"), RecordingPublisher())
    ctx = app.server.extensions["milldash"]
    add_machines(ctx.db, 3)
    for machine_id in (1, 2, 3):
        ctx.services.create_ticket(
            {"machine_id": machine_id, "title": f"Ticket {machine_id}", "priority": "medium"},
            "schemathesis",
        )

    def cleanup() -> None:
        ctx.db.dispose()
        shutil.rmtree(workdir, ignore_errors=True)

    atexit.register(cleanup)
    return app, ctx.db


APP, DB = _build_app()
TOKEN = [create_token(DB, "admin", "schemathesis")]

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP.server)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_openapi_document(case):
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN[0]}"}, checks=CHECKS)
    # DELETE /admin/tokens/{token_id} may have revoked our own token: take a new one.
    if verify_token(DB, TOKEN[0]) is None:
        TOKEN[0] = create_token(DB, "admin", "schemathesis")
