"""Redis Stream throughput: the path events take between Mill Dash processes, against raw redis-py.

    python -m bench.redis_stream                  # 20,000 events, 1 and 2 readers, median of 3
    python -m bench.redis_stream --events 50000 --readers 1,2,4 --json stream.json
    python -m bench.redis_stream --quick          # smoke run: 2,000 events, one round

On a redis-server of its own (devtools.cluster.RedisServer, loopback, no persistence), for each
round, each path and each reader count, on a fresh stream key:

- **app**: the publisher is app/realtime/redis_backend.py's `RedisBackend.publish`, one event per
  call (the event serialised to its frame, `XADD key MAXLEN ~ 10000 * seq origin frame` in a
  pipeline); each reader is a `RedisBackend` of its own in its own process, tailing the stream
  with its blocking XREAD (COUNT 500) and turning every entry back into an `Event` for its
  listener, which counts them.
- **raw**: the same fields (the frame serialised once beforehand) with plain redis-py `xadd`, and
  readers that loop on `xread(count=500, block=1000)` and count entries.

The publisher runs in this process and sends as fast as one connection allows (one round trip
per event); the readers, started and positioned before it begins, read while it publishes.
published/s is events over the publishing time; read/s is events over the time from the first
publish to the last event read by the slowest reader (equal to published/s when the readers keep
up); lost is what the slowest reader never saw (a reader that falls more than MAXLEN behind loses
trimmed entries). CPU per event: the publisher's process time over the events, and the slowest
reader's. Results: docs/benchmarks/fanout.md, "Redis stream". Exit status 0 (2 for bad flags or
no redis-server, 130 when interrupted).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import signal
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

IDLE_S = 5.0  # a reader gives up this long after its last new event
READY_TIMEOUT_S = 60.0
PATHS = ("raw", "app")


def _event(i: int) -> Any:
    from data.events import Event

    data = {
        "ticket_id": i,
        "machine_id": 1 + i % 4,
        "machine_name": f"MILL-{1 + i % 4:02d}",
        "title": f"stream bench #{i:06d}",
        "priority": "high",
        "status": "open",
    }
    return Event(i, "maintenance_alert", "maintenance", datetime.now(UTC), data)


def _reader(path: str, port: int, key: str, expected: int, db_url: str, queue: Any) -> None:
    """One reader process: say "ready" once positioned, then count until all or idle."""
    import redis

    counted, first, last = 0, 0.0, time.perf_counter()
    if path == "app":
        from app.realtime.redis_backend import RedisBackend
        from data.store.db import Database

        def listener(events: list[Any]) -> None:
            nonlocal counted, first, last
            first = first or time.perf_counter()
            counted += len(events)
            last = time.perf_counter()

        backend = RedisBackend(f"redis://127.0.0.1:{port}/0", Database(db_url), key=key)
        backend.subscribe(listener)
        backend.start()
        while backend._cursor is None:  # positioned at the (empty) stream's start
            time.sleep(0.01)
        cpu0 = time.process_time()
        queue.put(("ready",))
        seen = -1
        while True:  # the backend's reader thread counts; this one only watches
            time.sleep(0.005)
            if counted != seen:
                seen, idle_since = counted, time.perf_counter()
            elif time.perf_counter() - idle_since > IDLE_S:
                break
            if counted >= expected:
                break
        backend.stop()
    else:
        client = redis.Redis(port=port, decode_responses=True)
        cursor = "0-0"
        cpu0 = time.process_time()
        queue.put(("ready",))
        idle_since = time.perf_counter()
        while time.perf_counter() - idle_since < IDLE_S and counted < expected:
            reply: Any = client.xread({key: cursor}, count=500, block=1000)
            entries = reply.get(key, []) if isinstance(reply, dict) else (reply or [[0, []]])[0][1]
            if entries:
                now = time.perf_counter()
                first = first or now
                counted += len(entries)
                cursor, last, idle_since = entries[-1][0], now, now
        client.close()
    queue.put(("done", counted, first, last, time.process_time() - cpu0))


def run_trial(path: str, readers: int, events: int, port: int, db_url: str) -> dict[str, Any]:
    import redis

    key = f"bench:stream:{uuid.uuid4().hex[:8]}"
    spawn = multiprocessing.get_context("spawn")
    queue = spawn.Queue()
    procs = [
        spawn.Process(target=_reader, args=(path, port, key, events, db_url, queue), daemon=True)
        for _ in range(readers)
    ]
    for proc in procs:
        proc.start()
    try:
        for _ in procs:
            queue.get(timeout=READY_TIMEOUT_S)
        batch = [_event(i + 1) for i in range(events)]
        if path == "app":
            from app.realtime.redis_backend import RedisBackend
            from data.store.db import Database

            backend = RedisBackend(f"redis://127.0.0.1:{port}/0", Database(db_url), key=key)
            cpu0, began = time.process_time(), time.perf_counter()
            for event in batch:
                backend.publish([event])
            ended, cpu = time.perf_counter(), time.process_time() - cpu0
            backend.stop()
        else:
            client = redis.Redis(port=port, decode_responses=True)
            origin = uuid.uuid4().hex
            fields = [
                {"seq": e.seq, "origin": origin, "frame": json.dumps(e.to_frame())} for e in batch
            ]
            cpu0, began = time.process_time(), time.perf_counter()
            for entry in fields:
                client.xadd(key, entry, maxlen=10_000, approximate=True)
            ended, cpu = time.perf_counter(), time.process_time() - cpu0
            client.close()
        done = [queue.get(timeout=IDLE_S + 60) for _ in procs]
    finally:
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
    slowest = min(done, key=lambda d: (d[1], -d[3]))
    frame_bytes = len(json.dumps(batch[0].to_frame(), separators=(",", ":")))
    return {
        "path": path,
        "readers": readers,
        "events": events,
        "frame_bytes": frame_bytes,
        "published_per_s": events / (ended - began),
        "read_per_s": slowest[1] / max(1e-9, slowest[3] - began),
        "lost": events - slowest[1],
        "publish_cpu_us": cpu / events * 1e6,
        "read_cpu_us": max(d[4] / max(1, d[1]) for d in done) * 1e6,
    }


def summarise(trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Median of the rounds per (path, readers); the worst loss."""
    rows = []
    keys = {(t["path"], t["readers"]) for t in trials}
    for key in sorted(keys, key=lambda k: (k[1], PATHS.index(k[0]))):
        same = [t for t in trials if (t["path"], t["readers"]) == key]
        row = {"path": key[0], "readers": key[1], "rounds": len(same)}
        for field in ("published_per_s", "read_per_s", "publish_cpu_us", "read_cpu_us"):
            row[field] = statistics.median(t[field] for t in same)
        row["lost"] = max(t["lost"] for t in same)
        rows.append(row)
    return rows


def print_table(rows: list[dict[str, Any]], args: argparse.Namespace, frame: int) -> None:
    print(
        f"\nredis stream: {args.events:,} events per run ({frame} bytes of frame each), "
        f"MAXLEN ~ 10,000, median of {args.runs}; one publisher, readers in their own processes\n"
    )
    head = f"{'readers':>7} {'path':<8} {'published/s':>12} {'read/s':>10} {'lost':>6}"
    head += f" {'pub us/ev':>10} {'read us/ev':>10}"
    print(head)
    print("-" * len(head))
    by_key = {(r["path"], r["readers"]): r for r in rows}
    for r in rows:
        print(
            f"{r['readers']:>7} {r['path']:<8} {r['published_per_s']:>12,.0f} "
            f"{r['read_per_s']:>10,.0f} {r['lost']:>6,} {r['publish_cpu_us']:>10.1f} "
            f"{r['read_cpu_us']:>10.1f}"
        )
        raw = by_key.get(("raw", r["readers"]))
        if r["path"] == "app" and raw is not None:
            pub = r["published_per_s"] / raw["published_per_s"]
            read = r["read_per_s"] / raw["read_per_s"]
            print(f"{r['readers']:>7} {'app/raw':<8} {pub:>11.2f}x {read:>9.2f}x")
    print(
        "\npublished/s: events over the publishing time (one XADD round trip each); read/s: "
        "events\nthe slowest reader got over the time from the first publish to its last event; "
        "us/ev: CPU\nper event of the publisher and of the slowest reader"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.redis_stream",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--events", type=int, default=20_000, help="per run (default 20000)")
    parser.add_argument("--readers", default="1,2", help="comma list of reader counts (1,2)")
    parser.add_argument("--runs", type=int, default=3, help="rounds; the median is shown (3)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 events, 1 round")
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.runs = 2_000, 1
    try:
        args.reader_counts = [int(x) for x in args.readers.split(",") if x.strip()]
    except ValueError:
        parser.error("--readers must be a comma list of whole numbers, e.g. 1,2")
    if not args.reader_counts or min(args.reader_counts) < 1 or args.events < 1 or args.runs < 1:
        parser.error("--events, --readers and --runs must be positive")
    from devtools.cluster import REDIS_SERVER

    if REDIS_SERVER is None:
        parser.error("redis-server is not installed")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from data.store.db import Database
    from devtools.cluster import RedisServer

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    trials: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="redis-stream-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'events.db'}"  # an empty event log for the readers
        db = Database(db_url)
        db.migrate()
        db.dispose()
        server = RedisServer(Path(tmp)).start()
        try:
            for round_no in range(1, args.runs + 1):
                for readers in args.reader_counts:
                    for path in PATHS:  # interleaved, so a busy spell hits both paths alike
                        print(
                            f"round {round_no}: {path}, {readers} reader(s)",
                            file=sys.stderr,
                            flush=True,
                        )
                        trials.append(run_trial(path, readers, args.events, server.port, db_url))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        finally:
            server.stop()
    print_table(summarise(trials), args, trials[0]["frame_bytes"])
    if args.json:
        args.json.write_text(json.dumps(trials, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
