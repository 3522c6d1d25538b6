"""Event delivery over the last minutes, from the process's own metric snapshots.

A snapshot reads, through prometheus_client's collectors (the default registry, or every
worker's files summed when PROMETHEUS_MULTIPROC_DIR is set, as `/metrics` does), the
cumulative buckets of `milldash_event_delivery_seconds`, `milldash_events_published_total` and
the open sockets by role (`milldash_ws_sockets`). The window keeps one snapshot every
`sample_s` seconds for `window_s` seconds; the delivery quantiles over the window are those of
the bucket differences between now and the newest snapshot at least `window_s` old, as
PromQL's `histogram_quantile(q, increase(..._bucket[5m]))` computes them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import REGISTRY

from app import metrics
from data.system_report import Latency

DELIVERY_BUCKET = "milldash_event_delivery_seconds_bucket"
PUBLISHED = "milldash_events_published_total"
SOCKETS = "milldash_ws_sockets"
WINDOW_S = 300.0
SAMPLE_S = 10.0
# (upper bound, cumulative count), ascending, +Inf last: a histogram's `_bucket` samples.
Buckets = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Snapshot:
    """The values at `at` (time.monotonic())."""

    at: float
    buckets: Buckets = ()
    published: float = 0.0
    sockets: dict[str, float] = field(default_factory=dict)


def metric_source() -> Any:
    """What `collect()` reads the families from: this process's registry, or the sum of every
    worker's files when several processes serve."""
    path = metrics.multiprocess_dir()
    if path is None:
        return REGISTRY
    from prometheus_client import multiprocess

    return multiprocess.MultiProcessCollector(None, path=path)


def read_snapshot(families: Iterable[Any], at: float) -> Snapshot:
    """The delivery buckets, the events published and the open sockets by role in
    `families` (prometheus_client `Metric`s)."""
    buckets: dict[float, float] = {}
    published = 0.0
    sockets: dict[str, float] = {}
    for family in families:
        for sample in family.samples:
            if sample.name == DELIVERY_BUCKET:
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
            elif sample.name == PUBLISHED:
                published += sample.value
            elif sample.name == SOCKETS:
                role = sample.labels.get("role", "")
                sockets[role] = sockets.get(role, 0.0) + sample.value
    return Snapshot(at, tuple(sorted(buckets.items())), published, sockets)


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """The `q`-quantile (0 < q <= 1) of cumulative `buckets`, as Prometheus estimates it:
    linear within the bucket the rank falls in (from 0 for the first bucket); a rank in the
    +Inf bucket is the largest finite bound. None without observations."""
    if len(buckets) < 2 or not 0 < q <= 1:
        return None
    total = buckets[-1][1]
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if math.isinf(upper):
                return lower
            if count <= below:
                return upper
            return lower + (upper - lower) * (rank - below) / (count - below)
        lower, below = upper, count
    return lower


def bucket_increase(old: Buckets, new: Buckets) -> Buckets:
    """What was observed between two snapshots, bucket by bucket. Counts that went down (the
    process restarted, a metrics folder was emptied) are a reset: the new counts are all of it,
    as with PromQL's `increase`."""
    before = dict(old)
    if [b for b, _ in old] != [b for b, _ in new] or any(n < before[b] for b, n in new):
        return new
    return tuple((bound, count - before[bound]) for bound, count in new)


class DeliveryWindow:
    """Snapshots of the last `window_s` seconds (and the newest one before them), one per
    `sample_s` at most; `latency(now)` compares a snapshot read now with them."""

    def __init__(
        self,
        read: Callable[[float], Snapshot],
        window_s: float = WINDOW_S,
        sample_s: float = SAMPLE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.read = read
        self.window_s = window_s
        self.sample_s = sample_s
        self.clock = clock
        self._snapshots: deque[Snapshot] = deque(maxlen=int(window_s // sample_s) + 4)
        self._guard = threading.Lock()

    def sample(self) -> Snapshot:
        """Read the values now; keep them unless the last kept snapshot is under `sample_s`
        old. Returns what was read."""
        snapshot = self.read(self.clock())
        with self._guard:
            if not self._snapshots or snapshot.at - self._snapshots[-1].at >= self.sample_s:
                self._snapshots.append(snapshot)
            start = snapshot.at - self.window_s
            # Keep the newest snapshot at or before the window's start: it is the baseline.
            while len(self._snapshots) >= 2 and self._snapshots[1].at <= start:
                self._snapshots.popleft()
        return snapshot

    def baseline(self) -> Snapshot | None:
        """The snapshot the window is measured from: the newest one at least `window_s` old,
        else the oldest kept (the process is younger than the window)."""
        with self._guard:
            return self._snapshots[0] if self._snapshots else None

    def latency(self) -> tuple[Snapshot, Latency]:
        """A snapshot read now, and delivery over the window up to it."""
        now = self.sample()
        base = self.baseline() or now
        increase = bucket_increase(base.buckets, now.buckets)
        published = now.published - base.published
        if published < 0:  # a reset, as above
            published = now.published
        delivered = round(increase[-1][1]) if increase else 0
        return now, Latency(
            window_s=self.window_s,
            span_s=max(0.0, now.at - base.at),
            delivered=delivered,
            published=round(published),
            p50_s=histogram_quantile(0.5, increase) if delivered else None,
            p99_s=histogram_quantile(0.99, increase) if delivered else None,
        )
