"""The ticket workflow (CONTRACT §2): which status moves are allowed, and which statuses
mean a ticket needs nobody any more."""

from __future__ import annotations

from data.errors import Conflict

# Allowed ticket moves; everything else is refused with a reason.
WORKFLOW: dict[str, tuple[str, ...]] = {
    "open": ("in_progress", "on_hold", "cancelled"),
    "in_progress": ("on_hold", "resolved"),
    "on_hold": ("in_progress", "resolved", "cancelled"),
    "resolved": ("closed", "open"),
    "closed": (),
    "cancelled": (),
}
# A ticket in one of these needs nobody any more: raising its priority alerts no one.
DONE_STATUSES = ("resolved", "closed", "cancelled")


def check_move(old: str, new: str) -> None:
    """Refuse a move the workflow does not allow, naming the moves it does."""
    if new not in WORKFLOW[old]:
        allowed = ", ".join(WORKFLOW[old]) or "none (final state)"
        raise Conflict(
            f"A ticket cannot move from {old} to {new}; allowed from {old}: {allowed}.",
            {"from": old, "to": new, "allowed": list(WORKFLOW[old])},
        )
