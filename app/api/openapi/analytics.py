"""The calendar and analytics operations of the OpenAPI document (CONTRACT §2b)."""

from __future__ import annotations

from typing import Any

from app.api.openapi.paths import time_zones
from app.api.openapi.schemas import (
    AUTH_ERRORS,
    ERRORS,
    INT,
    NO_NUL,
    NSTR,
    NUM,
    READ_ERRORS,
    STR,
    TIME,
    VISIBLE,
    body,
    json_answer,
    obj,
    path_id,
    query,
    ref,
)
from app.api.windows import MAX_WINDOW
from data.calendar.document import MAX_BREAKS, MAX_SHIFTS, MAX_STOPS, WEEKDAYS
from data.validation import MAX_ID

CLOCK = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "examples": ["06:00"]}
RATIO = {"type": "number", "minimum": 0, "maximum": 1}
NRATIO_S = {"type": ["number", "null"]}
_WINDOW = [
    query(
        "from", TIME, "window start (ISO 8601); default: the current shift's start, else 24 h ago"
    ),
    query("to", TIME, "window end (ISO 8601); default and at most: now"),
]
_AREA = query("area", STR, "only this area")
_USED = {"from": TIME, "to": TIME, "timezone": STR, "shift": {"type": ["object", "null"]}}


def calendar_schema() -> dict[str, Any]:
    shift = obj(
        {
            # Something visible, and no U+0000 (refused: PostgreSQL cannot store it).
            "name": {"type": "string", "minLength": 1, "maxLength": 40, "pattern": VISIBLE},
            "start": CLOCK,
            "end": {**CLOCK, "description": "end <= start: the shift crosses midnight"},
            "days": {
                "type": "array",
                "items": {"type": "string", "enum": list(WEEKDAYS)},
                "minItems": 1,
                "maxItems": 7,
                "uniqueItems": True,
            },
            "breaks": {
                "type": "array",
                "items": obj({"start": CLOCK, "end": CLOCK}),
                "maxItems": MAX_BREAKS,
            },
        },
        ["name", "start", "end", "days"],
    )
    stop = obj(
        {
            "start": TIME,
            "end": TIME,
            "reason": {"type": "string", "maxLength": 200, "pattern": NO_NUL},
            "machine_id": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_ID},
        },
        ["start", "end"],
    )
    return obj(
        {
            "timezone": time_zones(),
            "shifts": {"type": "array", "items": shift, "maxItems": MAX_SHIFTS},
            "planned_stops": {"type": "array", "items": stop, "maxItems": MAX_STOPS},
        },
        [],
    )


def _read(op_id: str, summary: str, params: list[Any], item: dict[str, Any]) -> dict[str, Any]:
    window = f"`from` must be before `to` and now, at most {MAX_WINDOW.days} days apart"
    return {
        "get": {
            "operationId": op_id,
            "summary": summary,
            "description": window,
            "parameters": params,
            "responses": {
                "200": json_answer(obj({"items": {"type": "array", "items": obj(item)}, **_USED})),
                "400": json_answer(ref("Error"), f"Invalid input, or {window}"),
                **AUTH_ERRORS,
                "404": ERRORS["404"],
            },
        }
    }


def analytics_paths() -> dict[str, Any]:
    calendar = calendar_schema()
    kpi = {
        "machine_id": INT, "name": STR, "area": STR, "planned_s": NUM, "running_s": NUM,
        "availability": RATIO, "performance": RATIO, "quality": RATIO, "oee": RATIO,
        "teep": RATIO, "good": INT, "scrap": INT, "mttr_s": NRATIO_S, "mtbf_s": NRATIO_S,
    }  # fmt: skip
    report = {
        "shift": STR, "start": TIME, "end": TIME, "planned_s": NUM, "availability": RATIO,
        "performance": RATIO, "quality": RATIO, "oee": RATIO, "good": INT, "scrap": INT,
        "target_good": INT, "downtime_by_reason": {"type": "object"}, "tickets_opened": INT,
        "tickets_closed": INT,
    }  # fmt: skip
    day = query("date", {"type": "string", "format": "date"}, "plant-local day (default today)")
    report_answer = {
        "description": "OK",
        "content": {
            "application/json": {
                "schema": obj(
                    {
                        "items": {"type": "array", "items": obj(report)},
                        "date": {"type": "string", "format": "date"},
                        "timezone": STR,
                        "shift": {"type": ["object", "null"]},
                    }
                )
            },
            "text/csv": {"schema": STR},
        },
    }
    report_op = {
        "summary": "Per shift of one plant-local day: OEE, output vs target, downtime, tickets",
        "parameters": [day, _AREA],
        "responses": {"200": report_answer, **READ_ERRORS},
    }
    return {
        "/calendar": {
            "get": {
                "operationId": "getCalendar",
                "summary": "The plant's time zone, shifts and planned stops",
                "responses": {"200": json_answer(calendar), **AUTH_ERRORS},
            },
            "put": {
                "operationId": "putCalendar",
                "summary": "Replace the calendar (admin); every screen recomputes",
                "requestBody": body(calendar),
                "responses": {
                    "200": json_answer(calendar, "The stored calendar"),
                    "400": ERRORS["400"],
                    **AUTH_ERRORS,
                    "422": json_answer(
                        ref("Error"),
                        "Unusable: overlapping shifts, a break outside its shift, a stop that "
                        "ends before it starts or names an unknown machine",
                    ),
                },
            },
        },
        "/kpis/machines": _read(
            "machineKpis", "Per-machine KPIs on planned production time", [*_WINDOW, _AREA], kpi
        ),
        "/production/hourly": _read(
            "productionHourly",
            "Good and scrap parts per plant-local hour against the target",
            [
                *_WINDOW,
                _AREA,
                query("machine_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID}),
            ],
            {"hour": TIME, "good": INT, "scrap": INT, "target": NUM},
        ),
        "/machines/{machine_id}/states": {
            "get": {
                **_read(
                    "machineStates",
                    "A machine's state periods, clipped to the window",
                    [path_id("machine_id"), *_WINDOW],
                    {"status": STR, "reason": NSTR, "start": TIME, "end": TIME},
                )["get"]
            }
        },
        "/shifts/report": {"get": {"operationId": "shiftReport", **report_op}},
        "/shifts/report.csv": {"get": {"operationId": "shiftReportCsv", **report_op}},
    }
