"""What the fan-out client process measured, summed up: deliveries, losses, latencies and
rates from the received frames and the POST times."""

from __future__ import annotations

import json
from typing import Any


def rank_points(n: int) -> list[int]:
    """The arrival ranks the summary reports for N sockets: first, 10th, 100th, the middle,
    90 % and the last (those that exist, each once)."""
    return sorted({k for k in (1, 10, 100, (n + 1) // 2, -(-9 * n // 10), n) if 1 <= k <= n})


def by_rank(per_ticket: list[list[float]], n: int) -> dict[int, float]:
    """For each rank k of `rank_points(n)`: when the k-th socket had a ticket (its k-th fastest
    delivery), the median over the tickets that reached at least k sockets. Shows where a
    server loses time: before its first frame (rank 1) or while its frames spread."""
    out: dict[int, float] = {}
    for k in rank_points(n):
        kth = sorted(sorted(times)[k - 1] for times in per_ticket if len(times) >= k)
        if kth:
            out[k] = percentile(kth, 50)
    return out


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (nan when empty)."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def summarise(
    frames: list[tuple[float, int, bytes]],
    sends: list[tuple[int, float, float] | None],
    titles: dict[str, int],
    n: int,
) -> dict[str, Any]:
    count = len(sends)
    seen: set[int] = set()
    latencies: list[float] = []
    dup = other = size = 0
    first = last = None
    worst = [0.0] * count  # each ticket's slowest delivery: shows when the tail happens
    per_ticket: list[list[float]] = [[] for _ in range(count)]
    for t, client, msg in frames:
        frame = json.loads(msg)
        i = titles.get(frame.get("data", {}).get("title"))
        if frame.get("type") != "maintenance_alert" or i is None:
            other += 1
            continue
        key = client * count + i
        if key in seen:
            dup += 1
            continue
        seen.add(key)
        size += len(msg)
        latency = t - sends[i][1]  # type: ignore[index]
        latencies.append(latency)
        per_ticket[i].append(latency)
        worst[i] = max(worst[i], latency)
        first = t if first is None else min(first, t)
        last = t if last is None else max(last, t)
    latencies.sort()
    ok = [s for s in sends if s is not None and s[0] == 201]
    answer = sorted(s[2] - s[1] for s in ok)
    sent_times = [s[1] for s in sends if s is not None]
    offered_span = (max(sent_times) - min(sent_times)) if count > 1 else 1.0
    delivered_span = (last - first) if first is not None and last != first else float("nan")
    return {
        "tickets": count,
        "post_errors": count - len(ok),
        "post_p50_ms": percentile(answer, 50) * 1000,
        "expected": count * n,
        "delivered": len(seen),
        "missing": count * n - len(seen),
        "duplicates": dup,
        "other_frames": other,
        "frame_bytes": size / len(seen) if seen else 0,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p90_ms": percentile(latencies, 90) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": (latencies[-1] if latencies else float("nan")) * 1000,
        # Both spans cover count-1 intervals, so a server that keeps up gives equal rates.
        "offered_rate": count * n / offered_span,
        "delivered_rate": len(seen) / delivered_span,
        "ticket_worst_ms": [round(w * 1000, 1) for w in worst],
        "rank_ms": {str(k): v * 1000 for k, v in by_rank(per_ticket, n).items()},
    }


def heartbeats(sockets: list[tuple[float, list[float], float]]) -> dict[str, Any]:
    """What the sockets saw of the server's pings. Each socket is (opened, ping arrival times,
    end): opened when its welcome arrived, end when the run was summed up or the socket
    closed. A gap is open -> first ping or ping -> ping; the wait is end -> last ping (or
    open), how long the socket had gone without one when the run ended."""
    gaps = [
        later - earlier
        for opened, pings, _ in sockets
        for earlier, later in zip([opened, *pings], pings, strict=False)
    ]
    waits = [end - (pings[-1] if pings else opened) for opened, pings, end in sockets]
    open_s = [end - opened for opened, _, end in sockets]
    return {
        "ping_sockets": sum(1 for _, pings, _ in sockets if pings),
        "pings": sum(len(pings) for _, pings, _ in sockets),
        "ping_max_gap_s": max(gaps, default=float("nan")),
        "ping_max_wait_s": max(waits, default=float("nan")),
        "open_max_s": max(open_s, default=float("nan")),
    }
