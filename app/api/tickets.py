"""Ticket endpoints: list with filters, create, read with history, update along the workflow."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from app.api.auth import check_role, json_body, require
from app.context import ctx
from data.errors import NotFound
from data.read.records import ticket_record
from data.read.ticket_queries import TicketFilter, get_ticket, parse_ticket_filter, search_tickets
from data.validation import reject_blank_args


def register(bp: Blueprint) -> None:
    @bp.get("/tickets")
    @require("viewer")
    def list_tickets() -> Any:
        reject_blank_args(request.args, TicketFilter)
        flt = parse_ticket_filter(request.args)
        with ctx().db.read() as session:
            return jsonify(search_tickets(session, flt))

    @bp.post("/tickets")
    def create_ticket() -> Any:
        principal = check_role("operator")
        return jsonify(ctx().services.create_ticket(json_body(), principal.name)), 201

    @bp.get("/tickets/<int:ticket_id>")
    @require("viewer")
    def show_ticket(ticket_id: int) -> Any:
        with ctx().db.read() as session:
            ticket = get_ticket(session, ticket_id)
            if ticket is None:
                raise NotFound(f"Ticket {ticket_id} does not exist.")
            return jsonify(ticket_record(ticket, with_history=True))

    @bp.patch("/tickets/<int:ticket_id>")
    def update_ticket(ticket_id: int) -> Any:
        principal = check_role("operator")
        return jsonify(ctx().services.update_ticket(ticket_id, json_body(), principal.name))
