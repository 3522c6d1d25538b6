"""Planned production time per machine over a window (ISO 22400: planned busy time): shift time
∩ window ∩ the machine's life minus planned stops, with the running time that falls inside it.

A machine's life starts when it was created, or at its first status period when its history
goes back further (history imported with the machine). Running time outside planned time is not
counted for availability; inside it, every other status is an availability loss."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import numpy as np
from sqlalchemy import Select, and_, bindparam, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from data.calendar import intervals as iv
from data.calendar.schedule import Calendar
from data.read.periods_by_end import periods
from data.store.models import Machine, StatusPeriod
from data.store.sqltypes import UTCDateTime, epoch, least


@dataclass(frozen=True)
class MachineTime:
    """One machine's times in the window, in seconds."""

    calendar_s: float  # the window inside the machine's life
    planned_s: float
    running_planned_s: float


def machine_times(
    session: Session,
    calendar: Calendar,
    lives: dict[int, datetime],
    running_s: dict[int, float],
    lo: datetime,
    hi: datetime,
    by_start: bool = False,
) -> dict[int, MachineTime]:
    """`MachineTime` per machine of `lives` (machine id -> start of its life); `running_s` is
    each machine's running time in [lo, hi) (used as is when all of its window is planned);
    `by_start`: read the periods by start (data.read.periods_by_end)."""
    lo_s, hi_s = lo.timestamp(), hi.timestamp()
    spans = planned_spans(calendar, lives, lo, hi)
    distinct = {id(s): s for s in spans.values()}  # machines share the plant's spans
    totals = {key: iv.total(s) for key, s in distinct.items()}
    planned = {m: totals[id(s)] for m, s in spans.items()}
    whole = {
        machine_id
        for machine_id, born in lives.items()
        if planned[machine_id] >= hi_s - max(lo_s, born.timestamp()) - 1e-6
    }
    partial = [m for m in lives if m not in whole and running_s.get(m, 0.0) > 0]
    inside = _running_inside(session, spans, partial, lo, hi, by_start)
    out: dict[int, MachineTime] = {}
    for machine_id, born in lives.items():
        planned_s = planned[machine_id]
        run = (running_s if machine_id in whole else inside).get(machine_id, 0.0)
        out[machine_id] = MachineTime(
            calendar_s=max(0.0, hi_s - max(lo_s, born.timestamp())),
            planned_s=planned_s,
            running_planned_s=min(run, planned_s),
        )
    return out


def planned_spans(
    calendar: Calendar, lives: dict[int, datetime | None], lo: datetime, hi: datetime
) -> dict[int, iv.Intervals]:
    """Each machine's planned production time in [lo, hi) (epoch-second intervals): the
    calendar's, minus the machine's own stops, from the start of its life (None: no life yet,
    nothing planned). Machines whose spans are the plant's share one object."""
    lo_s, hi_s = lo.timestamp(), hi.timestamp()
    plant = calendar.planned(lo, hi)
    own_stops = calendar.machine_stop_ids()
    spans: dict[int, iv.Intervals] = {}
    for machine_id, born in lives.items():
        if born is None:
            spans[machine_id] = iv.EMPTY
            continue
        planned = calendar.planned(lo, hi, machine_id) if machine_id in own_stops else plant
        start = born.timestamp()
        spans[machine_id] = planned if start <= lo_s else iv.clip(planned, start, hi_s)
    return spans


def life_start() -> Any:
    """SQL: when a machine's life starts: its creation, or its first status period if earlier
    (the index on (machine_id, started_at) answers the MIN per machine)."""
    first = (
        select(func.min(StatusPeriod.started_at))
        .where(StatusPeriod.machine_id == Machine.id)
        .scalar_subquery()
    )
    earliest = least(Machine.created_at, func.coalesce(first, Machine.created_at))
    return type_coerce(earliest, UTCDateTime())


@cache
def _running_statement(by_start: bool, every: bool) -> Select[Any]:
    """Running periods overlapping [:lo, :hi) as (machine id, start, end) epoch seconds, of
    the machines :ids (`every`: of all machines, so no list to bind); built once."""
    p = periods(by_start)
    lo, hi = bindparam("lo", type_=UTCDateTime()), bindparam("hi", type_=UTCDateTime())
    stmt = select(p.machine_id, epoch(p.started_at), epoch(p.ended_at)).where(
        p.status == "running",
        p.started_at < hi,
        or_(p.ended_at.is_(None), and_(p.ended_at > lo)),
    )
    return stmt if every else stmt.where(p.machine_id.in_(bindparam("ids", expanding=True)))


def _running_inside(
    session: Session,
    spans: dict[int, iv.Intervals],
    machine_ids: list[int],
    lo: datetime,
    hi: datetime,
    by_start: bool = False,
) -> dict[int, float]:
    """Running seconds inside each machine's planned spans, from its running periods."""
    if not machine_ids:
        return {}
    rows = session.execute(
        _running_statement(by_start, every=len(machine_ids) == len(spans)),
        {"lo": lo, "hi": hi, "ids": machine_ids},
    ).all()
    if not rows:
        return {}
    hi_s = hi.timestamp()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    starts = np.fromiter((r[1] for r in rows), dtype=float, count=len(rows))
    ends = np.fromiter((hi_s if r[2] is None else r[2] for r in rows), dtype=float, count=len(rows))
    # One pass per distinct set of spans (most machines share the plant's), then sums by id.
    seconds = np.zeros(len(rows))
    groups: dict[int, tuple[iv.Intervals, list[int]]] = {}
    for machine_id in machine_ids:
        groups.setdefault(id(spans[machine_id]), (spans[machine_id], []))[1].append(machine_id)
    for shared, members in groups.values():
        mask = np.isin(ids, members)
        seconds[mask] = iv.covered(shared, starts[mask], ends[mask])
    found, index = np.unique(ids, return_inverse=True)
    sums = np.bincount(index, weights=seconds)
    return {int(m): float(v) for m, v in zip(found.tolist(), sums.tolist(), strict=True)}
