"""The plant calendar and the analytics reads (CONTRACT §2b)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.api.auth import check_role, json_body, require
from app.api.windows import analytics_window, window_facts
from app.context import ctx
from data.errors import NotFound, ValidationFailed
from data.read import analytics
from data.read.calendar_queries import calendar_json, load_calendar
from data.read.hourly_output import HOUR_S, output_by_bucket
from data.read.records import iso
from data.read.ticket_export import neutralise
from data.store.sqltypes import utcnow

REPORT_COLUMNS = (
    "shift", "start", "end", "planned_s", "availability", "performance", "quality", "oee",
    "good", "scrap", "target_good", "downtime_by_reason", "tickets_opened", "tickets_closed",
)  # fmt: skip


def _area() -> str | None:
    return (request.args.get("area") or "").strip() or None


def _machine_id() -> int | None:
    raw = request.args.get("machine_id")
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(
            "'machine_id' must be a whole number.", {"machine_id": "not an integer"}
        ) from None
    if not 1 <= value <= 2**31 - 1:
        raise ValidationFailed("'machine_id' is out of range.", {"machine_id": "out of range"})
    return value


def _day(calendar: Any) -> date:
    raw = request.args.get("date")
    if raw is None:
        return calendar.local(utcnow()).date()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(
            "'date' must be a plant-local day as YYYY-MM-DD.", {"date": "e.g. 2026-12-01"}
        ) from None


def report_csv(items: list[dict[str, Any]], calendar: Any) -> str:
    """The shift report as CSV, times in plant-local ISO 8601 with their offset."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    for item in items:
        row = dict(item)
        for key in ("start", "end"):
            row[key] = calendar.local(_utc(row[key])).isoformat()
        row["downtime_by_reason"] = "; ".join(
            f"{reason}: {seconds:g} s" for reason, seconds in item["downtime_by_reason"].items()
        )
        # Names and reasons are typed by people: never let a spreadsheet run them as formulas.
        for key in ("shift", "downtime_by_reason"):
            row[key] = neutralise(row[key])
        writer.writerow(row[key] for key in REPORT_COLUMNS)
    return out.getvalue()


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def register(bp: Blueprint) -> None:
    @bp.get("/calendar")
    @require("viewer")
    def get_calendar() -> Any:
        with ctx().db.read() as session:
            return jsonify(calendar_json(load_calendar(session)))

    @bp.put("/calendar")
    def put_calendar() -> Any:
        check_role("admin")
        return jsonify(ctx().services.replace_calendar(json_body()))

    @bp.get("/kpis/machines")
    @require("viewer")
    def kpis_machines() -> Any:
        now = utcnow()
        with ctx().db.read() as session:
            calendar = load_calendar(session)
            lo, hi = analytics_window(request.args, calendar, now)
            items = analytics.machine_kpis(session, lo, hi, _area(), calendar)
        return jsonify({"items": items, **_used(lo, hi), **window_facts(calendar, now)})

    @bp.get("/production/hourly")
    @require("viewer")
    def production_hourly() -> Any:
        now = utcnow()
        machine_id, area = _machine_id(), _area()
        with ctx().db.read() as session:
            calendar = load_calendar(session)
            lo, hi = analytics_window(request.args, calendar, now)
            if machine_id is not None and not analytics.machine_exists(session, machine_id):
                raise NotFound(f"No machine {machine_id}.")
            frame = output_by_bucket(session, lo, hi, HOUR_S, machine_id, area, calendar)
        items = [
            {
                "hour": r.hour.isoformat(),
                "good": int(r.good),
                "scrap": int(r.scrap),
                "target": round(float(r.target), 3),
            }
            for r in frame.itertuples()
        ]
        return jsonify({"items": items, **_used(lo, hi), **window_facts(calendar, now)})

    @bp.get("/machines/<int:machine_id>/states")
    @require("viewer")
    def machine_states(machine_id: int) -> Any:
        now = utcnow()
        with ctx().db.read() as session:
            calendar = load_calendar(session)
            lo, hi = analytics_window(request.args, calendar, now)
            items = analytics.machine_states(session, machine_id, lo, hi)
        if items is None:
            raise NotFound(f"No machine {machine_id}.")
        return jsonify({"items": items, **_used(lo, hi), **window_facts(calendar, now)})

    def shift_report(as_csv: bool) -> Any:
        now = utcnow()
        with ctx().db.read() as session:
            calendar = load_calendar(session)
            day = _day(calendar)
            items = analytics.shift_report(session, day, now, _area(), calendar)
        if as_csv or request.accept_mimetypes.best == "text/csv":
            response = Response(report_csv(items, calendar), mimetype="text/csv")
            response.headers["Content-Disposition"] = (
                f'attachment; filename="shift-report-{day.isoformat()}.csv"'
            )
            return response
        facts = window_facts(calendar, now)
        start = calendar.at(day, time(0))
        end = min(calendar.at(day + timedelta(days=1), time(0)), now)
        return jsonify({"items": items, "date": day.isoformat(), **_used(start, max(start, end)),
                        **facts})  # fmt: skip

    @bp.get("/shifts/report")
    @require("viewer")
    def shifts_report() -> Any:
        return shift_report(False)

    @bp.get("/shifts/report.csv")
    @require("viewer")
    def shifts_report_csv() -> Any:
        return shift_report(True)


def _used(lo: datetime, hi: datetime) -> dict[str, str | None]:
    return {"from": iso(lo), "to": iso(hi)}
