"""Schemathesis against the served OpenAPI document (/api/v1/openapi.json), the equivalent of
`schemathesis run --checks all --mode all` with an admin token: every phase (coverage, fuzzing,
stateful sequences along the document's links), positive and negative data, every check.

So: no answer may be a 5xx; every answer has a documented status, content type, headers and
body; schema-valid requests are accepted and schema-violating ones refused (the document and
the API agree on enums, types and limits); a 405 lists the allowed methods; a resource
deleted along a link is gone and one created is there; credentials are enforced.

The real app runs in this process on a real SQLite file (three machines, three tickets), served
over a socket by werkzeug's WSGI server: schemathesis 4.32's in-process WSGI transport fails
in its coverage and fuzzing phases (it hands `max_redirects` to werkzeug's test client).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.generation import GenerationMode
from sqlalchemy import select, update
from werkzeug.serving import make_server

from app.config import Config
from app.factory import create_app
from data.accounts.tokens import create_token, verify_token
from data.events import RecordingPublisher
from data.store.models import ApiToken
from devtools.factories import add_machines

# Fixed so that a failure reproduces; raise MAX_EXAMPLES locally for a deeper search.
SEED = 20260101
MAX_EXAMPLES = 30
TESTING_PHASES = ("coverage", "fuzzing", "stateful")
# Coverage tries the boundaries of every id (1, 2, ...): DELETE /admin/tokens/1 must revoke a
# decoy, not the token the run uses (a revoked token would turn every later answer into a
# 401, which positive checks accept, and hide everything after it).
DECOY_TOKENS = 5
RUN_TOKEN_ID = 987_654_321


@pytest.fixture(scope="module")
def served_app() -> Iterator[tuple[str, str, Any]]:
    """(base URL, admin token, database) of the app served on a free local port."""
    workdir = Path(tempfile.mkdtemp(prefix="milldash-schemathesis-"))
    app = create_app(
        Config(database_url=f"sqlite:///{workdir / 'st.db'}", demo=False, secret_key="t"),
        RecordingPublisher(),
    )
    ctx = app.server.extensions["milldash"]
    add_machines(ctx.db, 3)
    for machine_id in (1, 2, 3):
        ctx.services.create_ticket(
            {"machine_id": machine_id, "title": f"Ticket {machine_id}", "priority": "medium"},
            "schemathesis",
        )
    for n in range(DECOY_TOKENS):
        create_token(ctx.db, "viewer", f"decoy {n}")
    token = create_token(ctx.db, "admin", "schemathesis")
    # Stateful runs delete tokens by ids they saw or made up: keep the run's own out of reach.
    with ctx.db.write() as session:
        session.execute(
            update(ApiToken).where(ApiToken.name == "schemathesis").values(id=RUN_TOKEN_ID)
        )
    # Request lines and 4xx warnings by the thousand would bury a failure's report.
    quiet = [logging.getLogger(name) for name in ("werkzeug", "milldash.requests")]
    levels = [log.level for log in quiet]
    for log in quiet:
        log.setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", token, ctx.db
    finally:
        server.shutdown()
        thread.join(timeout=10)
        for log, level in zip(quiet, levels, strict=True):
            log.setLevel(level)
        ctx.db.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


def _config(token: str) -> SchemathesisConfig:
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {token}"},
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "operations": [
                {
                    # `from` must precede `to` and the window span at most 400 days: rules
                    # between two parameters, which JSON Schema cannot state (the document
                    # says them in words and documents the 400). Schema-valid pairs that
                    # break them are refused with that 400; any other answer is still checked.
                    "include-path": "/dashboard/overview",
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": [
                                *("2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx")
                            ]
                        }
                    },
                },
                *(
                    {
                        # The same window rules for the analytics reads; and a window that
                        # starts after now is refused with 400 too (nothing has happened in it).
                        "include-path": path,
                        "checks": {
                            "positive_data_acceptance": {
                                "expected-statuses": [
                                    *("2xx", "3xx", "400", "401", "403", "404", "409", "429"),
                                    "5xx",
                                ]
                            }
                        },
                    }
                    for path in (
                        "/kpis/machines",
                        "/production/hourly",
                        "/machines/{machine_id}/states",
                    )
                ),
                {
                    # A calendar may be schema-valid and still unusable: shifts that overlap,
                    # a stop that ends before it starts, a break outside its shift (rules
                    # between fields, stated in words and answered 422).
                    "include-path": "/calendar",
                    "include-method": "PUT",
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": [
                                *("2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx")
                            ]
                        }
                    },
                },
                {
                    # A schema-valid If-Match that names another version of the ticket is
                    # refused with 412, as the document says (optimistic concurrency).
                    "include-path": "/tickets/{ticket_id}",
                    "include-method": "PATCH",
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": [
                                *("2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx")
                            ]
                        }
                    },
                },
            ],
        }
    )
    # As the command line does for `--checks all --mode all`. Of all checks only
    # `object_level_authorization` cannot run: it needs two users who own different objects,
    # and in Mill Dash every viewer reads every object (schemathesis skips it then).
    config.projects.override.checks.update(included_check_names=["all"])
    config.projects.override.generation.update(modes=list(GenerationMode))
    return config


def _describe(label: str, check: str, failure: Any, sample: str) -> str:
    message = " | ".join(line for line in failure.message.splitlines() if line.strip())
    return f"{label}: {check}: {failure.title}: {message[:300]}\n    {sample[:400]}"


def test_api_conforms_to_its_openapi_document(served_app: tuple[str, str, Any]) -> None:
    base_url, token, db = served_app
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json", config=_config(token))
    failures: list[str] = []
    phases: dict[str, str] = {}
    operations: set[str] = set()
    cases = 0
    started = time.monotonic()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            if event.recorder.label != "Stateful tests":
                operations.add(event.recorder.label)
            for nodes in event.recorder.checks.values():
                for node in nodes:
                    info = node.failure_info
                    if info is not None:
                        failures.append(
                            _describe(
                                event.recorder.label, node.name, info.failure, info.code_sample
                            )
                        )
        elif isinstance(event, events.PhaseFinished):
            phases[event.phase.name.value] = event.status.value
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"error: {getattr(event, 'label', '')}: {event}")
        elif isinstance(event, events.EngineFinished):
            failures.extend(f"after run: {f.title}: {f.message}" for f in event.failures)
    elapsed = time.monotonic() - started
    print(f"schemathesis: {len(operations)} operations, {cases} cases, {elapsed:.1f} s, {phases}")

    unique = sorted(set(failures))
    assert not unique, f"{len(unique)} failures:\n" + "\n".join(unique)
    skipped = [p for p in TESTING_PHASES if phases.get(p) in (None, "skip")]
    assert not skipped, f"phases that did not run: {skipped} ({phases})"
    # The run used one token throughout; had it been revoked, later answers were all 401.
    with db.read() as session:
        rows = [(t.id, t.name, t.revoked_at) for t in session.scalars(select(ApiToken))]
    assert verify_token(db, token) is not None, f"the run's token was revoked: {rows[-8:]}"
    assert len(operations) >= 15 and cases > 300
