"""Health, dashboard overview and the event log for polling clients."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from app.api.auth import require
from app.api.windows import analytics_window, window_facts
from app.context import ctx
from app.health import check_parts
from data.errors import ValidationFailed
from data.events import ALL, TOPICS
from data.read import machine_sums
from data.read.calendar_queries import load_calendar
from data.read.event_queries import events_after, latest_seq, oldest_seq
from data.store.sqltypes import utcnow

MAX_EVENTS = 1000
MAX_SINCE = 2**62


def _int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    # Absent: the default. Empty is not a number (the document says integer): a 400.
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(
            f"'{name}' must be a whole number.", {name: "not an integer"}
        ) from None
    if not lo <= value <= hi:
        raise ValidationFailed(f"'{name}' must be between {lo} and {hi}.", {name: "out of range"})
    return value


def parse_topics(raw: str | None) -> list[str]:
    topics = [t.strip() for t in (raw or ALL).split(",") if t.strip()] or [ALL]
    unknown = [t for t in topics if t not in (*TOPICS, ALL)]
    if unknown:
        raise ValidationFailed(
            f"Unknown topic(s): {', '.join(unknown)}; use {', '.join((*TOPICS, ALL))}.",
            {"topics": "unknown topic"},
        )
    return topics


def register(bp: Blueprint) -> None:
    @bp.get("/health")
    def health() -> Any:
        """Liveness (`SELECT 1`, as cheap as it gets) or, with `deep=1`, readiness: every
        table's newest row is read too, since a database with damaged pages still answers
        `SELECT 1`. A failing database is named, with 503. An unreachable broker (Redis) is
        200 "degraded": events still reach every socket through the event log."""
        raw_deep = (request.args.get("deep") or "0").strip().lower()
        if raw_deep not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise ValidationFailed("'deep' must be 1 or 0.", {"deep": "use 1 or 0"})
        body = check_parts(ctx(), deep=raw_deep in ("1", "true", "yes", "on"))
        return jsonify(body), 503 if body["status"] == "error" else 200

    @bp.get("/dashboard/overview")
    @require("viewer", allow_display=True)
    def overview() -> Any:
        now = utcnow()
        with ctx().db.read() as session:
            calendar = load_calendar(session)
            lo, hi = analytics_window(request.args, calendar, now)
            doc = machine_sums.overview(session, lo, hi, calendar)
        return jsonify({**doc, **window_facts(calendar, now)})

    @bp.get("/events")
    @require("viewer", allow_display=True)
    def events() -> Any:
        since = _int_arg("since", 0, 0, MAX_SINCE)
        limit = _int_arg("limit", 500, 1, MAX_EVENTS)
        topics = parse_topics(request.args.get("topics"))
        with ctx().db.read() as session:
            latest = latest_seq(session)
            oldest = oldest_seq(session)
            found = events_after(session, since, topics, limit + 1)
        truncated = len(found) > limit
        found = found[:limit]
        # Complete: nothing after `since` was pruned and nothing was cut by `limit`.
        complete = not truncated and (oldest is None or since >= oldest - 1)
        return jsonify(
            {"events": [e.to_frame() for e in found], "seq": latest, "complete": complete}
        )
