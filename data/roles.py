"""The roles a token, a user or a session can have, and what each may do: one definition for
the API, the CLI, the OpenAPI document, the UI and the tests."""

from __future__ import annotations

# A display runs the shop-floor wall: it reads what the wall shows and nothing else.
# A metrics token is for a Prometheus scraper: it reads `GET /metrics` and nothing else.
ROLES = ("viewer", "operator", "admin", "display", "metrics")
# Order of the person roles; a display is below every one of them and outside the order.
# `metrics` is not ranked at all, so `allows` refuses it every data right.
RANK = {"display": 0, "viewer": 1, "operator": 2, "admin": 3}
PERSON_ROLES = ("viewer", "operator", "admin")
WRITE_ROLES = ("operator", "admin")
# Roles that may open the UI and live sockets at all (each page still names its own).
UI_ROLES = (*PERSON_ROLES, "display")
# Roles that may read `GET /metrics`.
METRICS_ROLES = ("admin", "metrics")


def allows(role: str, minimum: str) -> bool:
    """Whether `role` is at least `minimum` (a display is never enough for a person's role;
    a metrics role is never enough for anything)."""
    if role not in RANK or minimum not in RANK:
        return False
    return role == minimum or (role != "display" and RANK[role] >= RANK[minimum])
