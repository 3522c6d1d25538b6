"""How fast is the dashboard overview? `data.read.machine_sums.overview` against the one raw SQL
statement it is built on (`overview_raw_sql`, given the plant's planned time), on a seeded plant
with the demo plant's shift calendar.

    python -m bench.queries                      # 50 machines x 365 days in a temp SQLite file
    python -m bench.queries --database-url postgresql+psycopg://user:pw@host/bench_q

Each run opens a fresh `db.read()` session, as a request does; the timings include checking
out the connection and ending the transaction. The two queries alternate run by run, after
warm-up runs that are not counted. Targets (24 h window ending now): overview p50 <= 100 ms on
SQLite and <= 1.5x the raw SQL; 7 and 30 days are shown for information. It is a measurement:
the exit status is 0 whether the targets pass or not (2 for a bad option, 1 when the
database cannot be reached).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy
import sqlalchemy.exc
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from tqdm import tqdm

from data.calendar import intervals as iv
from data.demo.seed import is_empty, seed_plant
from data.read.calendar_queries import load_calendar
from data.read.kpis import overview_raw_sql, ratio
from data.read.machine_sums import overview
from data.store.db import Database
from data.store.models import Machine, ProductionCount, StatusPeriod, Ticket
from data.store.sqltypes import utcnow

WARMUP = 2
TARGET_MS = 100.0
TARGET_RATIO = 2.0
TARGET_YEAR_MS = 250.0
WINDOWS = (
    ("24 h", timedelta(hours=24)),
    ("7 d", timedelta(days=7)),
    ("30 d", timedelta(days=30)),
    ("365 d", timedelta(days=365)),
)
# The raw SQL joins every running period to every planned span: timed up to this window.
RAW_UP_TO = timedelta(days=30)
Query = Callable[[Session, datetime, datetime], dict[str, Any]]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.queries", description=__doc__.split("\n")[0])
    p.add_argument("--machines", type=int, default=50, help="machines to seed (1-500, default 50)")
    p.add_argument("--days", type=int, default=365, help="days of history (1-3650, default 365)")
    p.add_argument("--runs", type=int, default=20, help="timed runs per query (default 20)")
    p.add_argument(
        "--database-url",
        help="use this database as is (migrated; seeded only if it has no machines) instead of "
        "a temp SQLite file",
    )
    p.add_argument("--keep", action="store_true", help="keep the temp SQLite file")
    p.add_argument("--explain", action="store_true", help="print the query plans of overview()")
    return p


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name, lo, hi in (("machines", 1, 500), ("days", 1, 3650), ("runs", 1, 10_000)):
        if not lo <= getattr(args, name) <= hi:
            parser.error(f"--{name} must be from {lo} to {hi}, got {getattr(args, name)}")
    if args.keep and args.database_url:
        parser.error("--keep is for the temp SQLite file; a --database-url is never removed")
    return args


def seed(db: Database, machines: int, days: int) -> float:
    """Seed with a progress bar; then ANALYZE on PostgreSQL, as autovacuum soon would. SQLite
    gets no ANALYZE: the app never runs one. Returns the seconds it took."""
    started = time.perf_counter()
    with tqdm(total=machines, unit="machine", desc="Seeding", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total, bar.n = total, done
            bar.refresh()

        seed_plant(db, machines, days, progress=progress)
    if not db.is_sqlite:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


def row_counts(db: Database) -> dict[str, int]:
    with db.read() as s:
        models = (Machine, StatusPeriod, ProductionCount, Ticket)
        return {m.__tablename__: int(s.scalar(select(func.count()).select_from(m))) for m in models}


def time_queries(
    db: Database, queries: dict[str, Query], lo: datetime, hi: datetime, runs: int, bar: tqdm
) -> dict[str, list[float]]:
    """Milliseconds per timed run of each query; the queries alternate (and swap order every
    run) so drift in the machine's speed hits both alike."""
    times: dict[str, list[float]] = {name: [] for name in queries}
    names = list(queries)
    for i in range(WARMUP + runs):
        for name in names if i % 2 == 0 else reversed(names):
            started = time.perf_counter()
            with db.read() as session:
                queries[name](session, lo, hi)
            elapsed_ms = (time.perf_counter() - started) * 1000.0
            if i >= WARMUP:
                times[name].append(elapsed_ms)
            bar.update()
    return times


def raw_with_calendar(session: Session, lo: datetime, hi: datetime) -> dict[str, Any]:
    """The raw SQL floor given the plant's planned spans in the window."""
    return overview_raw_sql(session, lo, hi, load_calendar(session).planned(lo, hi))


def disagreement(
    doc: dict[str, Any], raw: dict[str, Any], elapsed_s: float, planned_s: float
) -> list[str]:
    """Where overview()'s plant figures differ from the same KPIs computed from the raw sums
    and the plant's planned time (overview rounds to 4 decimals, and counts each machine's own
    planned stops, which the raw floor does not: 0.002 of slack); empty when they agree."""
    n, running = raw["machines"], raw["running_s"]
    made = raw["good"] + raw["scrap"]
    availability = min(1.0, ratio(raw["running_planned_s"], n * planned_s))
    performance = min(1.0, ratio(raw["ideal_s"], running))
    quality = ratio(raw["good"], made)
    expected = {
        "utilization": ratio(running, n * elapsed_s),
        "availability": availability,
        "performance": performance,
        "quality": quality,
        "oee": availability * performance * quality,
    }
    got = {"utilization": doc["utilization"], **doc["oee"]}
    wrong = [f"{k} {got[k]} != {v:.6f}" for k, v in expected.items() if abs(got[k] - v) > 2e-3]
    for k in ("good", "scrap"):
        if doc["output"][k] != raw[k]:
            wrong.append(f"{k} {doc['output'][k]} != {raw[k]}")
    return wrong


def explain(db: Database, lo: datetime, hi: datetime) -> None:
    """Print each statement overview() sends, with its plan."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            statements.append((sql, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.read() as session:
            overview(session, lo, hi)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN "
    with db.engine.connect() as conn:
        for sql, params in statements:
            print(f"\n{sql.strip()}\n--")
            for row in conn.exec_driver_sql(prefix + sql, params).all():
                print(row[-1])


def describe(db: Database) -> str:
    if db.is_sqlite:
        path = Path(db.engine.url.database or "")
        where = f", {path.stat().st_size / 2**20:.0f} MB file" if path.is_file() else ""
        return f"SQLite {sqlite3.sqlite_version}{where}"
    with db.engine.connect() as conn:
        version = conn.exec_driver_sql("SHOW server_version").scalar()
    return f"PostgreSQL {version} ({db.engine.url.render_as_string(hide_password=True)})"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def run(args: argparse.Namespace) -> None:
    tmpdir = None if args.database_url else Path(tempfile.mkdtemp(prefix="milldash-bench-"))
    path = tmpdir / "bench.db" if tmpdir else None
    url = args.database_url or f"sqlite:///{path}"
    db = Database(url)
    try:
        db.migrate()
        seeded = None
        if is_empty(db):
            seeded = seed(db, args.machines, args.days)
        counts = row_counts(db)
        hi = utcnow()
        results: dict[str, dict[str, list[float]]] = {}
        wrong: dict[str, list[str]] = {}
        total = sum((WARMUP + args.runs) * (2 if span <= RAW_UP_TO else 1) for _, span in WINDOWS)
        with tqdm(total=total, unit="query", desc="Timing", file=sys.stderr) as bar:
            for label, span in WINDOWS:
                lo = hi - span
                queries: dict[str, Query] = {"overview": overview}
                if span <= RAW_UP_TO:
                    queries["raw"] = raw_with_calendar
                results[label] = time_queries(db, queries, lo, hi, args.runs, bar)
                with db.read() as s:
                    doc, raw = overview(s, lo, hi), raw_with_calendar(s, lo, hi)
                    planned = iv.total(load_calendar(s).planned(lo, hi))
                wrong[label] = disagreement(doc, raw, span.total_seconds(), planned)
        report(args, db, counts, seeded, results, wrong)
        if args.explain:
            explain(db, hi - WINDOWS[0][1], hi)
    finally:
        db.dispose()
        if tmpdir is not None:
            if args.keep:
                print(f"\nkept {path}")
            else:
                shutil.rmtree(tmpdir, ignore_errors=True)


def report(
    args: argparse.Namespace,
    db: Database,
    counts: dict[str, int],
    seeded: float | None,
    results: dict[str, dict[str, list[float]]],
    wrong: dict[str, list[str]],
) -> None:
    py = platform.python_version()
    print("\nMill Dash overview benchmark")
    print(f"database  {describe(db)}")
    sa = sqlalchemy.__version__
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine   {os.cpu_count()} CPUs, {cpu_model()}, load average {load}")
    print(f"software  Python {py}, SQLAlchemy {sa}")
    print("data      " + ", ".join(f"{n} {t}" for t, n in counts.items()))
    if seeded is not None:
        print(f"          seeded {args.machines} machines x {args.days} days in {seeded:.0f} s")
    else:
        print("          existing data, not seeded (the windows end now)")
    print(f"runs      {args.runs} per query after {WARMUP} warm-up, each in a fresh db.read()")
    print()
    print(f"{'window':<7}{'overview p50':>14}{'raw SQL p50':>14}{'ratio':>8}"
          f"{'overview p90':>15}{'raw p90':>10}  results")  # fmt: skip
    for label, times in results.items():
        o = times["overview"]
        p50_o = statistics.median(o)
        agree = "agree" if not wrong[label] else "DIFFER: " + "; ".join(wrong[label])
        if "raw" not in times:
            print(f"{label:<7}{p50_o:>11.1f} ms{'-':>14}{'-':>8}{_p90(o):>12.1f} ms{'-':>10}"
                  f"  {agree}")  # fmt: skip
            continue
        r = times["raw"]
        p50_r = statistics.median(r)
        print(f"{label:<7}{p50_o:>11.1f} ms{p50_r:>11.1f} ms{p50_o / p50_r:>7.2f}x"
              f"{_p90(o):>12.1f} ms{_p90(r):>7.1f} ms  {agree}")  # fmt: skip
    day = results[WINDOWS[0][0]]
    p50_o, p50_r = statistics.median(day["overview"]), statistics.median(day["raw"])
    note = "" if db.is_sqlite else " (the target is set for SQLite; shown for information)"
    print(f"\ntargets, {WINDOWS[0][0]} window ending now:")
    print(f"  overview p50 <= {TARGET_MS:.0f} ms:       {p50_o:6.1f} ms  "
          f"{verdict(p50_o <= TARGET_MS)}{note}")  # fmt: skip
    print(f"  overview p50 <= {TARGET_RATIO}x raw SQL:  {p50_o / p50_r:6.2f}x    "
          f"{verdict(p50_o <= TARGET_RATIO * p50_r)}")  # fmt: skip
    year = statistics.median(results[WINDOWS[-1][0]]["overview"])
    print(f"target, {WINDOWS[-1][0]} window ending now:")
    print(f"  overview p50 <= {TARGET_YEAR_MS:.0f} ms:       {year:6.1f} ms  "
          f"{verdict(year <= TARGET_YEAR_MS)}{note}")  # fmt: skip


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def main(argv: Sequence[str] | None = None) -> int:
    """0 whatever the figures are; 1 only when there was nothing to measure (no database)."""
    args = parse_args(argv)
    try:
        run(args)
    except sqlalchemy.exc.OperationalError as exc:
        print(f"error: cannot use the database: {exc.orig or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
