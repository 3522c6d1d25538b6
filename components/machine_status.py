"""Why a machine is in its state and since when, said one way on the machines page's cards and
the wall's cells: "DOWN 23 min · hydraulic leak · #255 · dora", with an open-ticket badge
("2 open · critical"). A machine with an open critical ticket is never a plain "IDLE": its
line names the ticket ("IDLE 5 min · critical ticket #12 open").

Input: a row of `data.read.machine_board.machine_states`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import html

from components.theme import PRIORITY_COLORS
from components.wording import duration, instant, label, plural

# States that already say the machine is not making parts: a ticket is then only a detail.
STOPPED = ("down", "maintenance")


def since_seconds(m: dict[str, Any], now: datetime) -> float | None:
    """Seconds the machine has been in its status (None without a start)."""
    if not m.get("since"):
        return None
    return (now - (instant(m["since"]) or now)).total_seconds()


def critical_alarm(m: dict[str, Any]) -> bool:
    """An open critical ticket on a machine whose status does not say it is stopped."""
    return m.get("top_priority") == "critical" and m["status"] not in STOPPED


def ticket_text(m: dict[str, Any]) -> str | None:
    """The lead ticket as the status line shows it: "#255" or "critical ticket #12 open"."""
    if not m.get("ticket_id"):
        return None
    if critical_alarm(m):
        return f"critical ticket #{m['ticket_id']} open"
    return f"#{m['ticket_id']}"


def status_parts(m: dict[str, Any], now: datetime) -> list[str]:
    """["DOWN 23 min", "hydraulic leak", "#255", "dora"]: state and how long, the reason, the
    lead ticket and who has it (parts that are unknown are left out)."""
    head = label(m["status"]).upper()
    seconds = since_seconds(m, now)
    parts = [f"{head} {duration(seconds)}" if seconds is not None else head]
    if m.get("reason"):
        parts.append(str(m["reason"]))
    ticket = ticket_text(m)
    if ticket:
        parts.append(ticket)
        parts.append(m.get("assignee") or "unassigned")
    return parts


def status_line(m: dict[str, Any], now: datetime) -> str:
    """The whole line: "DOWN 23 min · hydraulic leak · #255 · dora"."""
    return " · ".join(status_parts(m, now))


def ticket_badge(m: dict[str, Any]) -> html.Span | None:
    """Open tickets on the machine and the highest priority: "2 open · critical" (None without
    open tickets)."""
    count = int(m.get("open_tickets") or 0)
    if not count:
        return None
    priority = m.get("top_priority") or "low"
    return html.Span(
        f"{plural(count, 'ticket')} · {label(priority)}",
        className=f"ticket-badge prio-{priority}",
        title=f"{plural(count, 'open ticket')}, the most urgent {label(priority)}",
        style={"--prio-color": PRIORITY_COLORS.get(priority, "#868e96")},
        **{"data-count": str(count), "data-priority": priority},
    )


def card_classes(m: dict[str, Any]) -> str:
    """Classes every machine card and cell shares: its status and, with an open critical
    ticket, the critical outline."""
    extra = " has-critical" if m.get("top_priority") == "critical" else ""
    return f"status-{m['status']}{extra}"
