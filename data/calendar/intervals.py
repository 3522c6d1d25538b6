"""Sets of disjoint half-open intervals [start, end) of epoch seconds, as two sorted float
arrays, and the measure of their overlap with other intervals (vectorised with numpy)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

Intervals = tuple[np.ndarray, np.ndarray]

EMPTY: Intervals = (np.zeros(0), np.zeros(0))


def normalise(pairs: Iterable[tuple[float, float]]) -> Intervals:
    """Disjoint, sorted intervals covering the union of `pairs` (empty ones dropped)."""
    items = sorted((float(a), float(b)) for a, b in pairs if b > a)
    starts: list[float] = []
    ends: list[float] = []
    for a, b in items:
        if starts and a <= ends[-1]:
            ends[-1] = max(ends[-1], b)
        else:
            starts.append(a)
            ends.append(b)
    return np.asarray(starts, dtype=float), np.asarray(ends, dtype=float)


def clip(spans: Intervals, lo: float, hi: float) -> Intervals:
    """`spans` ∩ [lo, hi)."""
    starts, ends = np.maximum(spans[0], lo), np.minimum(spans[1], hi)
    keep = ends > starts
    return starts[keep], ends[keep]


def subtract(spans: Intervals, holes: Intervals) -> Intervals:
    """`spans` minus `holes` (both normalised)."""
    if len(holes[0]) == 0 or len(spans[0]) == 0:
        return spans
    out: list[tuple[float, float]] = []
    h_starts, h_ends = holes
    for a, b in zip(spans[0].tolist(), spans[1].tolist(), strict=True):
        cursor = a
        first = int(np.searchsorted(h_ends, a, side="right"))
        for h_a, h_b in zip(h_starts[first:].tolist(), h_ends[first:].tolist(), strict=True):
            if h_a >= b:
                break
            if h_a > cursor:
                out.append((cursor, h_a))
            cursor = max(cursor, h_b)
        if cursor < b:
            out.append((cursor, b))
    return normalise(out)


def total(spans: Intervals) -> float:
    return float(np.sum(spans[1] - spans[0]))


def covered(spans: Intervals, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For each [starts[i], ends[i]): the seconds of it inside `spans`.

    The measure F(t) = |spans ∩ (-inf, t)| is piecewise linear with its corners at the spans'
    ends, so np.interp gives it exactly and the overlap is F(end) - F(start)."""
    starts = np.asarray(starts, dtype=float)
    ends = np.asarray(ends, dtype=float)
    if len(spans[0]) == 0:
        return np.zeros(np.broadcast(starts, ends).shape)
    xp = np.column_stack(spans).ravel()
    lengths = spans[1] - spans[0]
    before = np.concatenate(([0.0], np.cumsum(lengths)[:-1]))
    fp = np.column_stack((before, before + lengths)).ravel()
    measure_lo = np.interp(starts, xp, fp)
    measure_hi = np.interp(ends, xp, fp)
    return np.maximum(measure_hi - measure_lo, 0.0)
