"""The health checks of the server's parts, as `GET /api/v1/health` answers them and the System
page shows them: the database (`SELECT 1`, with `deep` every table's newest row too) and the
broker (Redis, when one is configured)."""

from __future__ import annotations

from typing import Any

from data.store.health import unreadable_tables


def check_parts(app_ctx: Any, deep: bool = False) -> dict[str, Any]:
    """The health document: `status` ok, degraded (the broker failed) or error (the
    database failed); `database` ok, failed (with `failed` tables) or "error: <type>";
    `broker` ok, n/a (no Redis) or failed (with `broker_error`). Never raises."""
    body: dict[str, Any] = {"status": "ok", "database": "ok", "broker": "n/a"}
    try:
        app_ctx.db.ping()
        failed = unreadable_tables(app_ctx.db) if deep else []
        if failed:
            body.update(status="error", database="failed", failed=failed)
    except Exception as exc:  # any driver error means the database is not usable
        body.update(status="error", database=f"error: {type(exc).__name__}")
    try:
        state = app_ctx.realtime.health()
    except Exception as exc:  # a broken check is a failed broker, never a 500
        state = f"error: {type(exc).__name__}"
    if state in ("ok", "n/a"):
        body["broker"] = state
    else:
        body.update(broker="failed", broker_error=state)
        if body["status"] == "ok":
            body["status"] = "degraded"
    return body
