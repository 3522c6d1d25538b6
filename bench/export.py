"""Benchmark the CSV export against the obvious pandas way, on one generated SQLite database.

    python -m bench.export                 # 200,000 tickets, each export measured 3 times
    python -m bench.export --rows 1000000 --repeat 1

Each export runs in its own child process, so imports and earlier runs do not blur the
memory figures: "RSS growth" is the peak resident set during the export minus the resident
set just before it (Linux `clear_refs` resets the peak), "traced peak" is tracemalloc's peak
of Python allocations in a separate, untimed run. See docs/export.md for the figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODES = {
    "streaming": "(a) streaming export (the API's generator)",
    "pandas": "(b) pandas read_sql + to_csv, same columns and guards",
    # Not the same file (no offsets, no hours, no guard): shown for reference only.
    "pandas-plain": "(b') pandas read_sql + to_csv, nothing else",
}
DEFECTS = [
    ("Spindle vibration", "Vibration above the alarm limit during roughing"),
    ("Coolant leak", "Coolant pooling under the table, pump keeps running"),
    ("Tool breakage", "Insert chipped and the tool snapped on the next pass"),
    ("Hydraulic pressure low", "Clamp pressure drops below 40 bar after warm-up"),
    ("Axis drift", "Y axis is 0,03 mm off after each tool change"),
    ("Chip conveyor jammed", 'Conveyor stalls, chips pile up in the "front" bay'),
    ("Door interlock fault", "Door switch reports open while closed; cycle will not start"),
]
SENTENCES = [
    "Operator noticed it at the start of the shift.",
    "Happened twice in the last hour, both times on part 4711-B.",
    "Checked the obvious: filters, hoses, fuses.",
    "Maintenance was informed by phone, waiting for a technician.",
    "Replaced the worn part; needs a test run, then sign-off.",
    "Spare parts ordered: seal kit, two bearings, one sensor.",
    "Noise like grinding metal, louder at high RPM.",
    "Scrap rate went up to 6 % on this machine since Monday.",
    'Display shows "E-204 axis following error".',
    "See photo in the shift book, page 12.",
]
PEOPLE = ["A. Novak", "B. Osei", "C. Müller", "D. Kowalski", "E. Sato", "F. Haddad"]
# status -> the moves after "open" that reach it
PATHS = {
    "open": [],
    "in_progress": ["in_progress"],
    "on_hold": ["in_progress", "on_hold"],
    "resolved": ["in_progress", "resolved"],
    "closed": ["in_progress", "resolved", "closed"],
    "cancelled": ["cancelled"],
}
STATUS_WEIGHTS = {"open": 12, "in_progress": 10, "on_hold": 5, "resolved": 10, "closed": 60}
STATUS_WEIGHTS["cancelled"] = 3


# -- the database ---------------------------------------------------------------------------


def _description(rng: random.Random) -> str:
    text = " ".join(rng.choices(SENTENCES, k=rng.randint(1, 9)))
    if rng.random() < 0.1:
        text = text.replace(". ", ".\n", 2)  # multi-line notes
    return text


def _ticket_rows(
    rng: random.Random, tid: int, machines: int, start: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    title, detail = rng.choice(DEFECTS)
    created = start + timedelta(seconds=rng.uniform(0, 730 * 86400))
    status = rng.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0]
    reporter, tech = rng.choice(PEOPLE), rng.choice(PEOPLE)
    row: dict[str, Any] = {
        "id": tid,
        "machine_id": 1 + tid % machines,
        "title": f"{title} on MILL-{1 + tid % machines:02d}",
        "description": f"{detail}. {_description(rng)}",
        "priority": rng.choices(["low", "medium", "high", "critical"], [3, 5, 3, 1])[0],
        "status": status,
        "assignee": None,
        "reported_by": reporter,
        "created_at": created,
        "updated_at": created,
        "first_response_at": None,
        "resolved_at": None,
        "closed_at": None,
    }
    if rng.random() < 0.01:  # would-be formulas
        row["description"] = rng.choice("=+-@") + row["description"]
    history = [_move(tid, None, "open", reporter, created)]
    at, old = created, "open"
    for new in PATHS[status]:
        at += timedelta(minutes=rng.uniform(5, 600))
        if row["first_response_at"] is None:
            row["first_response_at"] = at
        if new == "in_progress":
            row["assignee"] = tech
        if new in ("resolved", "closed"):
            row[f"{new}_at"] = at
        history.append(_move(tid, old, new, tech, at))
        old, row["updated_at"] = new, at
    return row, history


def _move(tid: int, old: str | None, new: str, by: str, at: datetime) -> dict[str, Any]:
    return dict(ticket_id=tid, field="status", from_value=old, to_value=new, changed_by=by,
                changed_at=at)  # fmt: skip


TICKET_COLS = ("id", "machine_id", "title", "description", "priority", "status", "assignee",
               "reported_by", "created_at", "updated_at", "first_response_at", "resolved_at",
               "closed_at")  # fmt: skip
HISTORY_COLS = ("ticket_id", "field", "from_value", "to_value", "changed_by", "changed_at")


def _sql_value(value: Any) -> Any:
    # SQLAlchemy's SQLite storage format of UTCDateTime (naive UTC, microseconds).
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _insert_sql(table: str, cols: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


def build_database(url: str, rows: int, machines: int = 24, chunk: int = 10_000) -> None:
    """A migrated SQLite database with `machines` machines and `rows` tickets with history.

    Rows go in through the driver's executemany with pre-formatted timestamps: the Core
    insert's per-value type processing made building take longer than the benchmark."""
    from sqlalchemy import insert
    from tqdm import tqdm

    from data.store.db import Database
    from data.store.models import Machine

    db = Database(url)
    db.migrate()
    rng = random.Random(6)
    start = datetime(2024, 11, 1, tzinfo=UTC)
    areas = ("Milling", "Turning", "Grinding")
    with db.write() as session:
        session.execute(
            insert(Machine),
            [
                dict(name=f"MILL-{i:02d}", area=areas[i % 3], kind="mill", status="running",
                     ideal_cycle_time_s=60.0, status_since=start, created_at=start)
                for i in range(1, machines + 1)
            ],
        )  # fmt: skip
    history_rows = 0
    ticket_sql = _insert_sql("tickets", TICKET_COLS)
    history_sql = _insert_sql("ticket_history", HISTORY_COLS)
    with tqdm(total=rows, unit="ticket", desc="Inserting", file=sys.stderr) as bar:
        for lo in range(1, rows + 1, chunk):
            tickets, history = [], []
            for tid in range(lo, min(lo + chunk, rows + 1)):
                ticket, moves = _ticket_rows(rng, tid, machines, start)
                tickets.append(tuple(_sql_value(ticket[c]) for c in TICKET_COLS))
                history += [tuple(_sql_value(m[c]) for c in HISTORY_COLS) for m in moves]
            with db.write() as session:
                conn = session.connection()
                conn.exec_driver_sql(ticket_sql, tickets)
                conn.exec_driver_sql(history_sql, history)
            history_rows += len(history)
            bar.update(len(tickets))
    db.dispose()
    size = Path(url.removeprefix("sqlite:///")).stat().st_size
    print(f"  {rows:,} tickets, {history_rows:,} history rows, {size / 1e6:.0f} MB", flush=True)


# -- the exports (each runs in a child process) ---------------------------------------------


def export_streaming(url: str, out: Path, progress: bool) -> int:
    """What GET /api/v1/tickets/export.csv does, writing the chunks to a file."""
    from tqdm import tqdm

    from data.read.ticket_export import ExportRequest, csv_chunks
    from data.store.db import Database

    db = Database(url)
    rows = 0
    with (
        db.read() as session,
        open(out, "wb") as fh,
        tqdm(unit="row", desc="    streaming", file=sys.stderr, disable=not progress) as bar,
    ):
        for chunk in csv_chunks(session, ExportRequest(), on_rows=bar.update):
            fh.write(chunk)
        rows = bar.n
    db.dispose()
    return rows


def export_pandas(url: str, out: Path, plain: bool) -> int:
    """The obvious way: the same joined query into a DataFrame, then DataFrame.to_csv."""
    import pandas as pd

    from data.read.ticket_export import HEADER, export_statement
    from data.read.ticket_queries import TicketFilter
    from data.store.db import Database

    db = Database(url)
    with db.engine.connect() as conn:
        df = pd.read_sql(export_statement(TicketFilter()), conn)
    options: dict[str, Any] = {}
    if not plain:  # the same file as ours, give or take the number formats
        times = [c for c in HEADER if c.endswith("_at")]
        for col in times:
            df[col] = pd.to_datetime(df[col]).dt.tz_localize("UTC")
        hours = (df["resolved_at"] - df["created_at"]).dt.total_seconds() / 3600
        df["time_to_resolve_h"] = hours
        df = df.rename(columns={"name": "machine"})
        for col in ("machine", "area", "title", "description", "assignee", "reported_by"):
            df[col] = df[col].str.replace(r"^([=+\-@\t\r])", r"'\1", regex=True)
        df = df[list(HEADER)]
        options["float_format"] = "%.2f"
    df.to_csv(out, index=False, lineterminator="\r\n", encoding="utf-8", **options)
    db.dispose()
    return len(df)


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def child(mode: str, url: str, out: Path, trace: bool) -> dict[str, Any]:
    """One export, measured from inside a fresh process."""
    import tracemalloc

    run: Callable[[], int]
    if mode == "streaming":
        import data.read.ticket_export  # imports are not the export's cost

        def run() -> int:
            return export_streaming(url, out, progress=not trace)
    else:
        import pandas  # noqa: F401

        import data.read.ticket_export  # noqa: F401

        def run() -> int:
            return export_pandas(url, out, plain=mode == "pandas-plain")

    if trace:
        tracemalloc.start()
        rows = run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return {"rows": rows, "traced_peak_mb": peak / 2**20}
    with open("/proc/self/clear_refs", "w") as fh:  # reset VmHWM to the current RSS
        fh.write("5")
    before = _rss_kib("VmRSS")
    t0, cpu0 = time.perf_counter(), _cpu_seconds()
    rows = run()
    seconds, cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
    growth = (_rss_kib("VmHWM") - before) / 1024
    return {"rows": rows, "seconds": seconds, "cpu_seconds": cpu, "rss_growth_mb": growth}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(mode: str, url: str, out: Path, trace: bool) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.export", "--child", mode, "--db", url, "--out", str(out)]
    done = subprocess.run(
        [*cmd, *(["--trace"] if trace else [])],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def count_records(path: Path) -> int:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


# -- main -----------------------------------------------------------------------------------


def run_all(rows: int, repeat: int, ways: list[str], workdir: Path) -> dict[str, dict[str, Any]]:
    url = f"sqlite:///{workdir / 'bench.db'}"
    print(f"[1/2] Building {url}", flush=True)
    t0 = time.perf_counter()
    build_database(url, rows)
    print(f"  built in {time.perf_counter() - t0:.1f} s", flush=True)
    print(f"[2/2] Exporting, each way {repeat}x timed + 1x traced, in child processes", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in ways}
    for i in range(repeat):  # round robin: a busy machine slows every way alike
        for mode in ways:
            runs[mode].append(measure(mode, url, workdir / f"{mode}.csv", trace=False))
            last = runs[mode][-1]
            print(f"  run {i + 1}/{repeat} {MODES[mode]}: {last['seconds']:.2f} s "
                  f"(CPU {last['cpu_seconds']:.2f} s), RSS +{last['rss_growth_mb']:.1f} MB",
                  flush=True)  # fmt: skip
    results: dict[str, dict[str, Any]] = {}
    for mode in ways:
        out = workdir / f"{mode}.csv"
        traced = measure(mode, url, out, trace=True)
        print(f"  traced {MODES[mode]}: peak {traced['traced_peak_mb']:.1f} MB", flush=True)
        results[mode] = {
            "rows": count_records(out),
            "seconds": statistics.median(r["seconds"] for r in runs[mode]),
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs[mode]),
            "rss_growth_mb": max(r["rss_growth_mb"] for r in runs[mode]),
            "traced_peak_mb": traced["traced_peak_mb"],
            "file_mb": out.stat().st_size / 1e6,
        }
    return results


def report(results: dict[str, dict[str, Any]]) -> bool:
    """Print the table (medians; memory: the worst run) and whether the targets are met."""
    print()
    print(f"{'':56} {'rows':>9} {'wall s':>7} {'CPU s':>6} {'RSS +MB':>8} {'traced MB':>9}")
    for mode, r in results.items():
        print(f"{MODES[mode]:56} {r['rows']:>9,} {r['seconds']:>7.2f} {r['cpu_seconds']:>6.2f} "
              f"{r['rss_growth_mb']:>8.1f} {r['traced_peak_mb']:>9.1f}")  # fmt: skip
    print()
    checks = [(len({r["rows"] for r in results.values()}) == 1, "every way wrote the same rows")]
    ours = results.get("streaming")
    if ours is not None:
        small = max(ours["rss_growth_mb"], ours["traced_peak_mb"]) < 50
        checks.append((small, "streaming peak memory growth < 50 MB"))
        for mode in ("pandas", "pandas-plain"):
            if mode in results:
                r = results[mode]
                wall, cpu = r["seconds"] / ours["seconds"], r["cpu_seconds"] / ours["cpu_seconds"]
                growth = r["rss_growth_mb"] / max(ours["rss_growth_mb"], 0.1)
                print(f"{mode} / streaming: wall {wall:.2f}x, CPU {cpu:.2f}x, RSS growth "
                      f"{growth:.0f}x")  # fmt: skip
                if mode == "pandas":  # the target: the same file, written the obvious way
                    checks.append((wall > 1 and cpu > 1, "streaming is faster than pandas"))
    for ok, what in checks:
        print(f"{'PASS' if ok else 'FAIL'}: {what}")
    return all(ok for ok, _ in checks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=200_000, help="tickets to generate")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per way (median)")
    parser.add_argument("--ways", default=",".join(MODES), help="comma list of " + ", ".join(MODES))
    parser.add_argument("--keep", type=Path, help="keep the database and CSVs in this folder")
    parser.add_argument("--child", choices=list(MODES), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.db, args.out, args.trace)))
        return 0
    ways = [w.strip() for w in args.ways.split(",") if w.strip()]
    if not ways or set(ways) - set(MODES):
        parser.error(f"--ways: choose from {', '.join(MODES)}")
    if args.rows < 1 or args.repeat < 1:
        parser.error("--rows and --repeat must be at least 1")
    if not Path("/proc/self/clear_refs").exists():
        parser.error("needs Linux /proc to measure peak RSS")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return 0 if report(run_all(args.rows, args.repeat, ways, args.keep)) else 1
    with tempfile.TemporaryDirectory(prefix="milldash-bench-") as tmp:
        return 0 if report(run_all(args.rows, args.repeat, ways, Path(tmp))) else 1


if __name__ == "__main__":
    sys.exit(main())
