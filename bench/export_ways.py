"""The ways to export, each measured from inside its own child process: the API's streaming
generator, pandas (with the same columns and guards, or plain), and the sqlite3 command-line
shell writing the same rows and columns as CSV (no offsets, hours or guards: the floor)."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.proc_stats import status_kib


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


def shell_sql() -> str:
    """The export's query with its columns as stored: what the shell prints as CSV."""
    from sqlalchemy.dialects import sqlite

    from data.read.ticket_export import export_statement
    from data.read.ticket_queries import TicketFilter

    compiled = export_statement(TicketFilter()).compile(dialect=sqlite.dialect())
    return str(compiled)


def export_shell(url: str, out: Path) -> int:
    """`sqlite3 -csv -header DB "SELECT ..." > out`: C all the way."""
    import subprocess

    path = url.removeprefix("sqlite:///")
    with open(out, "wb") as fh:
        subprocess.run(["sqlite3", "-csv", "-header", path, shell_sql()], stdout=fh, check=True)
    return 0


def child(mode: str, url: str, out: Path, trace: bool) -> dict[str, Any]:
    """One export, measured from inside a fresh process."""
    import tracemalloc

    run: Callable[[], int]
    if mode == "streaming":
        import data.read.ticket_export  # imports are not the export's cost

        def run() -> int:
            return export_streaming(url, out, progress=not trace)
    elif mode == "sqlite3-shell":
        sql = shell_sql()  # compiled before the clock starts

        def run() -> int:
            return export_shell(url, out) if sql else 0
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
    before = status_kib("VmRSS")
    t0, cpu0 = time.perf_counter(), _cpu_seconds()
    rows = run()
    seconds, cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
    growth = (status_kib("VmHWM") - before) / 1024
    if mode == "sqlite3-shell":  # the work is the shell's: its CPU and its peak memory
        shell = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu, growth = shell.ru_utime + shell.ru_stime, shell.ru_maxrss / 1024
    return {"rows": rows, "seconds": seconds, "cpu_seconds": cpu, "rss_growth_mb": growth}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
