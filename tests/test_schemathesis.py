"""Schemathesis against the served OpenAPI document (/api/v1/openapi.json), in-process through
the Flask WSGI app with an admin token: every documented operation gets schema-derived positive
and negative requests (examples, coverage and fuzzing phases); no answer may be a 5xx, and every
answer must have a documented status code, content type and body schema.

The app and its SQLite database are built once at import (schemathesis parametrises at
collection time): three machines and three tickets, so ids 1..3 exist.
"""

from __future__ import annotations

import atexit
import re
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

# Inputs that hit bugs pinned by xfail(strict=True) tests in tests/test_properties.py. Cases
# containing them are not sent, so this test stays deterministic; drop an entry once its bug is
# fixed (and its xfail mark is gone) to let schemathesis send those inputs again.
KNOWN_BUGS: set[str] = set()
_EDGE_YEAR = re.compile(r"^\s*(0001|9999)-")


def _hits_known_bug(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_hits_known_bug(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_hits_known_bug(v) for v in value)
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return "int-beyond-64-bits" in KNOWN_BUGS and not -(2**63) <= value < 2**63
    if isinstance(value, str):
        if "datetime-at-limits" in KNOWN_BUGS and _EDGE_YEAR.match(value):
            return True
        try:
            return _hits_known_bug(int(value))
        except ValueError:
            return False
    return False


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
    parts = (case.path_parameters, case.query, case.body)
    if any(_hits_known_bug(part) for part in parts):
        return
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN[0]}"}, checks=CHECKS)
    # DELETE /admin/tokens/{token_id} may have revoked our own token: take a new one.
    if verify_token(DB, TOKEN[0]) is None:
        TOKEN[0] = create_token(DB, "admin", "schemathesis")
