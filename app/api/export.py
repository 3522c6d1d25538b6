"""GET /api/v1/tickets/export.csv: every matching ticket as a streamed CSV download."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, request, stream_with_context

from app.api.auth import require
from app.context import ctx
from data.read.calendar_queries import load_calendar
from data.read.ticket_export import csv_chunks, export_filename, parse_export_args
from data.read.ticket_queries import TicketFilter
from data.validation import reject_blank_args


def register(bp: Blueprint) -> None:
    @bp.get("/tickets/export.csv")
    @require("viewer")
    def export_tickets() -> Any:
        # Validate everything before the first byte: once streaming starts, the status
        # line is sent and an error can no longer become a 400.
        # `limit` and `offset` mean nothing to an export (every row is sent): not checked.
        filters = {k: v for k, v in request.args.items() if k not in ("limit", "offset")}
        reject_blank_args(filters, TicketFilter)
        db = ctx().db
        with db.read() as session:
            plant_zone = load_calendar(session).document.timezone
        export = parse_export_args(request.args, plant_zone)

        def generate() -> Iterator[bytes]:
            with db.read() as session:
                for chunk in csv_chunks(session, export):
                    yield chunk
                    # Under gevent this is a cooperative yield: a big export must not starve
                    # the WebSocket greenlets (SQLite reads never yield on their own).
                    time.sleep(0)

        response = Response(stream_with_context(generate()), mimetype="text/csv")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{export_filename(export.zone)}"'
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
