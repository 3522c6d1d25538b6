"""Benchmark the CSV export against the obvious pandas way and the sqlite3 shell, on one
generated SQLite database.

    python -m bench.export                 # 200,000 tickets, each export measured 3 times
    python -m bench.export --rows 1000000 --repeat 1

Each export runs in its own child process, so imports and earlier runs do not blur the
memory figures: "RSS growth" is the peak resident set during the export minus the resident
set just before it (Linux `clear_refs` resets the peak), "traced peak" is tracemalloc's peak
of Python allocations in a separate, untimed run. Each way first exports once untimed, so
that every timed run reads the freshly written database from the page cache alike. See
docs/export.md for the figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.export_data import build_database
from bench.export_ways import child

ROOT = Path(__file__).resolve().parent.parent
MODES = {
    "streaming": "(a) streaming export (the API's generator)",
    "pandas": "(b) pandas read_sql + to_csv, same columns and guards",
    # Not the same file (no offsets, no hours, no guard): shown for reference only.
    "pandas-plain": "(b') pandas read_sql + to_csv, nothing else",
    # The floor: C reads and writes the stored values (no offsets, no hours, no guard).
    "sqlite3-shell": "(c) sqlite3 shell -csv, the stored values",
}


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
    print(f"[2/2] Exporting, each way 1x untimed, {repeat}x timed + 1x traced, in child processes",
          flush=True)  # fmt: skip
    for mode in ways:
        # The database was just written: the first reader waited ~1.4 s on the disk (wall far
        # above CPU), which fell on whichever way ran first. One untimed export each first.
        measure(mode, url, workdir / f"{mode}.csv", trace=False)
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
            "seconds_each": [r["seconds"] for r in runs[mode]],
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
    for mode, r in results.items():
        each = sorted(r["seconds_each"])
        print(f"{MODES[mode]}: wall s per run {', '.join(f'{s:.2f}' for s in r['seconds_each'])}"
              f" (spread {each[-1] - each[0]:.2f})")  # fmt: skip
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
        if "sqlite3-shell" in results:
            shell = results["sqlite3-shell"]
            ratio = ours["seconds"] / shell["seconds"]
            print(f"streaming / sqlite3 shell: wall {ratio:.2f}x")
            checks.append((ratio <= 1.5, "streaming within 1.5x of the sqlite3 shell's time"))
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
    if "sqlite3-shell" in ways and shutil.which("sqlite3") is None:
        parser.error("the sqlite3 command-line shell is not installed (apt-get install sqlite3)")
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
