"""The words the plant's data uses, shared by the models, validation, the read side, the API
schema and the UI; no ORM here, so components can import it."""

from __future__ import annotations

MACHINE_STATUSES = ("running", "idle", "setup", "down", "maintenance", "offline")
TICKET_PRIORITIES = ("low", "medium", "high", "critical")  # lowest first
TICKET_STATUSES = ("open", "in_progress", "on_hold", "resolved", "closed", "cancelled")
