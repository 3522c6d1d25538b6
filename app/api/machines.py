"""Machines and production endpoints."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, jsonify

from app.api.auth import check_role, json_body, require
from app.context import ctx
from data.read.plant_queries import machine_list
from data.store.sqltypes import utcnow


def register(bp: Blueprint) -> None:
    @bp.get("/machines")
    @require("viewer", allow_display=True)
    def list_machines() -> Any:
        now = utcnow()
        with ctx().db.read() as session:
            rows = machine_list(session, now - timedelta(hours=24), now)
        return jsonify(rows)

    @bp.post("/machines/<int:machine_id>/status")
    def set_status(machine_id: int) -> Any:
        principal = check_role("operator")
        return jsonify(ctx().services.report_status(machine_id, json_body(), principal.name))

    @bp.post("/production")
    def add_production() -> Any:
        check_role("operator")
        return jsonify(ctx().services.record_production(json_body())), 201
