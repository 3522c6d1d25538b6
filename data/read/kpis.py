"""KPI arithmetic on already-aggregated rows: OEE ratios, sums by area, reliability, the
overview document, hourly output. These are pure (data.read.machine_sums, hourly_output and
downtime run the SQL and call them),
except `overview_raw_sql`, the one hand-written statement the benchmark uses as a lower bound.

Definitions (a window is half-open [lo, hi) in UTC, clipped to now; docs/kpis.md names each
after ISO 22400-2):

- calendar time = the window inside the machine's life (from its creation, or its first status
                 period when its history goes back further)
- planned      = planned production time: shift time ∩ window ∩ life minus planned stops (every
                 hour of the life when the calendar has no shifts); see data.read.planned_time
- utilization  = running / elapsed
- availability = running inside planned time / planned, in 0..1; down or offline inside a
                 shift is a loss, outside one it is not counted
- performance  = ideal / running, capped at 1.0, where ideal = ideal_cycle_time_s * (good + scrap)
- quality      = good / (good + scrap); 0.0 when no parts were made
- oee          = availability * performance * quality
- teep         = oee * planned / calendar time
- any division by zero gives 0.0, so a machine with no output and no running time is all zeros
- plant and area figures come from sums (sum running / sum planned, ...), never from averages
  of per-machine ratios
- MTTR = mean duration of `down` periods that ended in [lo, hi); MTBF = running time in the
  window / `down` periods that started in [lo, hi); None when there is nothing to average
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from data.errors import ValidationFailed
from data.read.records import iso
from data.store.sqltypes import UTCDateTime, as_utc
from data.vocabulary import MACHINE_STATUSES, TICKET_PRIORITIES

RATIOS = ("availability", "performance", "quality", "oee")
SUMS = ("running_s", "planned_s", "ideal_s", "good", "scrap", "running_planned_s", "calendar_s")
DECIMALS = 4


def window(lo: datetime, hi: datetime) -> tuple[datetime, datetime, float]:
    """(lo, hi) as aware UTC and the window length in seconds; an empty or reversed window is
    a ValidationFailed (HTTP 400)."""
    lo, hi = as_utc(lo), as_utc(hi)
    if hi <= lo:
        raise ValidationFailed(
            "The window's end must be after its start.", {"from": iso(lo), "to": iso(hi)}
        )
    return lo, hi, (hi - lo).total_seconds()


def ratio(num: float, den: float) -> float:
    """num / den, or 0.0 when den is not positive."""
    return float(num) / float(den) if den > 0 else 0.0


def _ratio(num: Any, den: Any) -> np.ndarray:
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def add_ratios(df: pd.DataFrame) -> pd.DataFrame:
    """Add availability, performance, quality and oee columns computed from the SUMS columns."""
    # numpy, not pandas Series ops: this runs on a few dozen rows, where pandas' per-call
    # overhead is most of overview()'s time.
    availability = np.clip(_ratio(df["running_planned_s"], df["planned_s"]), 0.0, 1.0)
    performance = np.clip(_ratio(df["ideal_s"], df["running_s"]), 0.0, 1.0)
    quality = _ratio(df["good"], df["good"] + df["scrap"])
    oee = availability * performance * quality
    return df.assign(
        availability=availability,
        performance=performance,
        quality=quality,
        oee=oee,
        teep=oee * np.clip(_ratio(df["planned_s"], df["calendar_s"]), 0.0, 1.0),
    )


def oee_summary(df: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """OEE from sums of an `oee_by_machine` frame: one row for the plant (`by=None`) or one
    row per value of column `by` (e.g. "area"), sorted by it. Columns: [by,] SUMS, RATIOS."""
    if by is None:
        sums = df[list(SUMS)].sum().to_frame().T
    else:
        sums = df.groupby(by, sort=True)[list(SUMS)].sum().reset_index()
    return add_ratios(sums)


def reliability(running_s: float, failures: int, repairs: int, repair_s: float) -> dict[str, Any]:
    """MTTR and MTBF in seconds (None without repairs / failures) plus the counts."""
    return {
        "mttr_s": float(repair_s) / repairs if repairs else None,
        "mtbf_s": float(running_s) / failures if failures else None,
        "failures": int(failures),
        "repairs": int(repairs),
    }


def full_counts(counts: dict[str, int], keys: tuple[str, ...]) -> dict[str, int]:
    """`counts` with every one of `keys` present (0 when missing), in the order of `keys`."""
    return {key: int(counts.get(key, 0)) for key in keys}


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600.0, DECIMALS)


MACHINE_COLUMNS = [
    "machine_id",
    "name",
    "area",
    "kind",
    "status",
    "running_s",
    "offline_s",
    "failures",
    "repairs",
    "repair_s",
    "good",
    "scrap",
    "ideal_s",
    "elapsed_s",
    "planned_s",
    "running_planned_s",
    "calendar_s",
    "target_good",
]


# The summed columns of a query row and the Python type each becomes.
SUM_TYPES: dict[str, type] = {
    "running_s": float,
    "offline_s": float,
    "failures": int,
    "repairs": int,
    "repair_s": float,
    "good": int,
    "scrap": int,
    "ideal_s": float,
}


def typed_sums(row: Any, names: Any = SUM_TYPES) -> dict[str, Any]:
    """The sums `names` of a query row as plain Python numbers (see SUM_TYPES)."""
    return {name: SUM_TYPES[name](row[name]) for name in names}


def machine_sums(row: Any, elapsed: float, times: Any) -> dict[str, Any]:
    """One machine's sums as plain Python numbers, with elapsed time and its planned times
    (`times`: a data.read.planned_time.MachineTime)."""
    return {
        "machine_id": int(row["machine_id"]),
        "name": row["name"],
        "area": row["area"],
        "kind": row["kind"],
        "status": row["status"],
        **typed_sums(row),
        "elapsed_s": elapsed,
        "planned_s": times.planned_s,
        "running_planned_s": times.running_planned_s,
        "calendar_s": times.calendar_s,
        # Parts at the ideal rate in the planned time: what "output vs target" compares to.
        "target_good": ratio(times.planned_s, float(row["ideal_cycle_time_s"] or 0.0)),
    }


def teep(rows: list[dict[str, Any]]) -> float:
    """TEEP of the summed rows: OEE * planned / calendar time, rounded."""
    total = {key: sum(r[key] for r in rows) for key in SUMS}
    share = min(1.0, ratio(total["planned_s"], total["calendar_s"]))
    return round(sum_ratios(rows, rounded=False)["oee"] * share, DECIMALS)


def sum_ratios(rows: list[dict[str, Any]], rounded: bool = True) -> dict[str, float]:
    """OEE ratios of the summed rows, rounded: the same arithmetic as `add_ratios`."""
    total = {key: sum(r[key] for r in rows) for key in SUMS}
    availability = min(1.0, max(0.0, ratio(total["running_planned_s"], total["planned_s"])))
    performance = min(1.0, max(0.0, ratio(total["ideal_s"], total["running_s"])))
    quality = ratio(total["good"], total["good"] + total["scrap"])
    values = {
        "availability": availability,
        "performance": performance,
        "quality": quality,
        "oee": availability * performance * quality,
    }
    if not rounded:
        return values
    return {key: round(values[key], DECIMALS) for key in RATIOS}


def overview_document(
    machines: list[dict[str, Any]] | pd.DataFrame,
    tickets: dict[str, int],
    lo: datetime,
    hi: datetime,
) -> dict[str, Any]:
    """The JSON of GET /api/v1/dashboard/overview from per-machine sums (`machine_sums`) and
    open tickets by priority. Plain Python: on a few dozen rows pandas' per-call overhead
    would be most of the time."""
    if isinstance(machines, pd.DataFrame):
        machines = machines.to_dict("records")
    elapsed = (hi - lo).total_seconds()
    running = sum(m["running_s"] for m in machines)
    rel = reliability(
        running,
        sum(m["failures"] for m in machines),
        sum(m["repairs"] for m in machines),
        sum(m["repair_s"] for m in machines),
    )
    areas: dict[str, list[dict[str, Any]]] = {}
    for m in machines:
        areas.setdefault(m["area"], []).append(m)
    statuses: dict[str, int] = {}
    for m in machines:
        statuses[m["status"]] = statuses.get(m["status"], 0) + 1
    by_status = full_counts(statuses, MACHINE_STATUSES)
    by_priority = full_counts(tickets, TICKET_PRIORITIES)
    return {
        "from": iso(lo),
        "to": iso(hi),
        "machines": {"total": len(machines), "by_status": by_status},
        "utilization": round(ratio(running, elapsed * len(machines)), DECIMALS),
        "oee": sum_ratios(machines),
        "oee_by_area": [{"area": a, **sum_ratios(rows)} for a, rows in sorted(areas.items())],
        "open_tickets": {"total": sum(by_priority.values()), "by_priority": by_priority},
        "mttr_hours": _hours(rel["mttr_s"]),
        "mtbf_hours": _hours(rel["mtbf_s"]),
        "output": {
            "good": int(sum(m["good"] for m in machines)),
            "scrap": int(sum(m["scrap"] for m in machines)),
        },
        "planned_s": round(sum(m["planned_s"] for m in machines), 3),
        "teep": teep(machines),
        "target_good": round(sum(m.get("target_good", 0.0) for m in machines)),
    }


# Dialect-specific single statement: the floor the benchmark compares overview() against.
_OVERLAP = {
    "sqlite": "MAX((MIN(julianday(COALESCE(ended_at, :hi)), julianday(:hi))"
    " - MAX(julianday(started_at), julianday(:lo))) * 86400.0, 0.0)",
    "postgresql": "GREATEST(EXTRACT(EPOCH FROM LEAST(COALESCE(ended_at, :hi), :hi)"
    " - GREATEST(started_at, :lo))::float8, 0.0)",
}
_EPOCH = {
    "sqlite": "((julianday({}) - 2440587.5) * 86400.0)",
    "postgresql": "EXTRACT(EPOCH FROM {})::float8",
}
# See data.read.periods_by_end: without it SQLite walks (machine_id, started_at) over the whole
# history.
_SQLITE_HINT = "INDEXED BY ix_status_periods_ended"
_RAW_OVERVIEW = """
WITH p AS (
  SELECT status, {overlap} AS s, {start} AS a, {end} AS b FROM status_periods {hint}
  WHERE status IN ('running', 'offline') AND started_at < :hi
    AND (ended_at IS NULL OR ended_at > :lo)
), c AS (
  SELECT machine_id, SUM(good) AS good, SUM(scrap) AS scrap FROM production_counts
  WHERE ts >= :lo AND ts < :hi GROUP BY machine_id
){planned_cte}
SELECT
  (SELECT COUNT(*) FROM machines) AS machines,
  (SELECT COALESCE(SUM(CASE WHEN status = 'running' THEN s ELSE 0.0 END), 0.0) FROM p)
    AS running_s,
  (SELECT COALESCE(SUM(CASE WHEN status = 'offline' THEN s ELSE 0.0 END), 0.0) FROM p)
    AS offline_s,
  {running_planned} AS running_planned_s,
  (SELECT COALESCE(SUM(good), 0) FROM c) AS good,
  (SELECT COALESCE(SUM(scrap), 0) FROM c) AS scrap,
  (SELECT COALESCE(SUM(m.ideal_cycle_time_s * (c.good + c.scrap)), 0.0)
     FROM c JOIN machines m ON m.id = c.machine_id) AS ideal_s
"""
# Running time inside the planned spans `pl` (epoch seconds), period by span.
_RUNNING_PLANNED = """(SELECT COALESCE(SUM(
    {greatest}({least}(p.b, pl.hi) - {greatest}(p.a, pl.lo), 0.0)), 0.0)
  FROM p JOIN pl ON p.a < pl.hi AND p.b > pl.lo WHERE p.status = 'running')"""


def overview_raw_sql(
    session: Session, lo: datetime, hi: datetime, planned: Any = None
) -> dict[str, Any]:
    """Plant sums for [lo, hi) in one raw SQL statement: machines, running_s, offline_s,
    running_planned_s (running time inside `planned`, the plant's planned spans as epoch-second
    intervals; all of it without), good, scrap, ideal_s (utilization = running_s / (machines *
    elapsed), and so on)."""
    lo, hi, _ = window(lo, hi)
    dialect = "sqlite" if session.get_bind().dialect.name == "sqlite" else "postgresql"
    epoch = _EPOCH[dialect]
    fmt: dict[str, str] = {
        "overlap": _OVERLAP[dialect],
        "hint": _SQLITE_HINT if dialect == "sqlite" else "",
        "start": epoch.format("MAX(started_at, :lo)" if dialect == "sqlite"
                              else "GREATEST(started_at, :lo)"),
        "end": epoch.format("MIN(COALESCE(ended_at, :hi), :hi)" if dialect == "sqlite"
                            else "LEAST(COALESCE(ended_at, :hi), :hi)"),
        "planned_cte": "",
        "running_planned": "(SELECT COALESCE(SUM(CASE WHEN status = 'running' THEN s "
        "ELSE 0.0 END), 0.0) FROM p)",
    }  # fmt: skip
    params: dict[str, Any] = {}
    if planned is not None and len(planned[0]):
        values = ", ".join(f"(:pl{i}, :ph{i})" for i in range(len(planned[0])))
        for i, (a, b) in enumerate(zip(planned[0].tolist(), planned[1].tolist(), strict=True)):
            params[f"pl{i}"], params[f"ph{i}"] = float(a), float(b)
        fmt["planned_cte"] = f", pl(lo, hi) AS (VALUES {values})"
        fmt["running_planned"] = _RUNNING_PLANNED.format(
            greatest="MAX" if dialect == "sqlite" else "GREATEST",
            least="MIN" if dialect == "sqlite" else "LEAST",
        )
    elif planned is not None:
        fmt["running_planned"] = "0.0"
    stmt = text(_RAW_OVERVIEW.format(**fmt)).bindparams(
        bindparam("lo", lo, type_=UTCDateTime()), bindparam("hi", hi, type_=UTCDateTime())
    )
    row = session.execute(stmt, params).mappings().one()
    totals = ("running_s", "offline_s", "good", "scrap", "ideal_s")
    return {
        "machines": int(row["machines"]),
        **typed_sums(row, totals),
        "running_planned_s": float(row["running_planned_s"]),
    }
