"""Ticket endpoints: list with filters, create, read with history, update along the workflow."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.api.auth import check_role, json_body, require
from app.context import ctx
from data.errors import NotFound
from data.read.records import ticket_etag, ticket_record
from data.read.ticket_queries import TicketFilter, get_ticket, parse_ticket_filter, search_tickets
from data.validation import reject_blank_args
from data.write.tickets import PreconditionFailed


def tagged(record: dict[str, Any], status: int = 200) -> Response:
    """A ticket answer with its ETag (strong): what a later PATCH names in If-Match."""
    response = jsonify(record)
    response.status_code = status
    response.set_etag(ticket_etag(record["id"], record["version"]))
    return response


def if_match_check() -> Any:
    """None without an If-Match header (the PATCH applies as before); else a test of the
    ticket's current ETag: strong comparison, `*` matches any (RFC 9110 §13.1.1)."""
    if "If-Match" not in request.headers:
        return None
    wanted = request.if_match
    return wanted.contains


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
            return tagged(ticket_record(ticket, with_history=True))

    @bp.patch("/tickets/<int:ticket_id>")
    def update_ticket(ticket_id: int) -> Any:
        principal = check_role("operator")
        try:
            record = ctx().services.update_ticket(
                ticket_id, json_body(), principal.name, if_match_check()
            )
        except PreconditionFailed as exc:
            # The ticket as it is now, so the client can show it and decide again.
            return tagged(exc.ticket, 412)
        return tagged(record)
