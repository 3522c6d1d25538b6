"""The tickets of the demo history: one per breakdown (repaired = resolved) and minor defects
found while running, each with its status and assignee history."""

from __future__ import annotations

import random
from datetime import UTC, datetime, tzinfo
from typing import Any

from data.demo.machine_timeline import Segment, minutes, secs
from data.demo.plant_catalog import (
    MINOR_ISSUES,
    OPERATORS,
    PRIORITIES,
    SHIFT_LEADS,
    TECHNICIANS,
)

Rows = tuple[dict[str, Any], list[dict[str, Any]]]  # a ticket row and its history rows


def _shift_priority(rng: random.Random, base: str) -> str:
    i = PRIORITIES.index(base) + rng.choices((-1, 0, 1), (0.15, 0.75, 0.1))[0]
    return PRIORITIES[min(len(PRIORITIES) - 1, max(0, i))]


def _history(field: str, old: str | None, new: str, by: str, at: datetime) -> dict[str, Any]:
    return dict(field=field, from_value=old, to_value=new, changed_by=by, changed_at=at)


def _ticket(
    title: str, description: str, priority: str, reporter: str, tech: str,
    moves: list[tuple[str, datetime, str]],
) -> Rows:  # fmt: skip
    """A ticket row and its history, from `moves` = [(new status, when, by)] after "open"."""
    created = moves[0][1]
    trail = [_history("status", None, "open", reporter, created)]
    row: dict[str, Any] = dict(
        title=title, description=description, priority=priority, status="open", assignee=None,
        reported_by=reporter, created_at=created, updated_at=created, first_response_at=None,
        resolved_at=None, closed_at=None,
    )  # fmt: skip
    for new, at, by in moves[1:]:
        if row["first_response_at"] is None:
            row["first_response_at"] = at
        if new == "in_progress" and row["assignee"] is None:
            trail.append(_history("assignee", None, tech, by, at))
            row["assignee"] = tech
        trail.append(_history("status", row["status"], new, by, at))
        row.update(status=new, updated_at=at)
        if new in ("resolved", "closed"):
            row[f"{new}_at"] = at
    return row, trail


def breakdown_ticket(
    rng: random.Random, machine: str, seg: Segment, now: datetime, zone: tzinfo = UTC
) -> Rows:
    """The ticket an operator opens when the machine breaks down; repaired = resolved. Its text
    names the time in the plant's `zone`."""
    bd = seg.breakdown
    assert bd is not None
    reporter, tech, lead = rng.choice(OPERATORS), rng.choice(TECHNICIANS), rng.choice(SHIFT_LEADS)
    respond = seg.start + minutes(rng, 5, 40)
    if seg.end is not None:
        respond = min(respond, seg.start + secs((seg.end - seg.start).total_seconds() / 2))
    moves = [("open", seg.start, reporter)]
    if respond <= now:
        moves.append(("in_progress", respond, tech))
    if seg.end is not None:
        moves.append(("resolved", seg.end, tech))
        closed = seg.end + minutes(rng, 60, 600)
        if closed <= now:
            moves.append(("closed", closed, lead))
    stopped = seg.start.astimezone(zone)
    description = f"{rng.choice(bd.descriptions)} Stopped at {stopped:%H:%M} {stopped:%Z}."
    priority = _shift_priority(rng, bd.priority)
    return _ticket(f"{bd.title} on {machine}", description, priority, reporter, tech, moves)


def minor_ticket(
    rng: random.Random, machine: str, created: datetime, now: datetime, recent: bool
) -> Rows:
    """A defect found while running; recent ones are still open, in progress or on hold."""
    title, description, priority = rng.choice(MINOR_ISSUES)
    reporter, tech, lead = rng.choice(OPERATORS), rng.choice(TECHNICIANS), rng.choice(SHIFT_LEADS)
    paths = (
        ["in_progress", "resolved", "closed"],
        ["in_progress", "on_hold", "in_progress", "resolved", "closed"],
        ["cancelled"],
    )
    path = rng.choices(paths, (0.75, 0.2, 0.05))[0]
    gap_h = 24.0
    if recent:  # stop early in the workflow, with steps that fit before now
        path = rng.choice((["in_progress", "on_hold"], ["in_progress"], []))
        gap_h = max(0.1, (now - created).total_seconds() / 3600 / 3)
    moves = [("open", created, reporter)]
    at = created
    for new in path:
        at += secs(rng.uniform(0.05, 1) * gap_h * 3600)
        if at > now:
            break
        moves.append((new, at, lead if new in ("closed", "cancelled") else tech))
    return _ticket(f"{title} on {machine}", description, _shift_priority(rng, priority),
                   reporter, tech, moves)  # fmt: skip
