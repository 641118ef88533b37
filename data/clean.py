"""Merge the parsed files of one signal: time order, duplicates collapsed by a fixed rule.

Duplicate rule: rows are taken in file order, files in path order (monthly exports sort
chronologically, ``_part2`` after ``_part1``). Several rows with the same instant and
the same value are an exact duplicate and collapse to one (``duplicate_exact``). Rows
with the same instant and different values conflict; the row that comes last in that
order wins and the others are counted as ``duplicate_conflict``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from data.parse import Drop, series_frame


@dataclass(frozen=True)
class CleanSeries:
    ts_ms: np.ndarray  # int64 UTC ms, strictly increasing
    value: np.ndarray  # float64
    duplicate_exact: int
    duplicate_conflict: int

    @property
    def frame(self) -> pl.DataFrame:
        return series_frame(self.ts_ms, self.value)


def merge_parts(parts: list[tuple[np.ndarray, np.ndarray]]) -> CleanSeries:
    """Concatenate (ts ms, value) parts in the given (file) order, sort by time, resolve duplicates."""
    parts = [p for p in parts if len(p[0])]
    if not parts:
        return CleanSeries(np.zeros(0, np.int64), np.zeros(0, np.float64), 0, 0)
    ts = parts[0][0] if len(parts) == 1 else np.concatenate([p[0] for p in parts])
    value = parts[0][1] if len(parts) == 1 else np.concatenate([p[1] for p in parts])
    if len(ts) < 2 or (ts[1:] > ts[:-1]).all():
        return CleanSeries(ts, value, 0, 0)  # the common case: one clean file in time order
    # Stable sort keeps file order among equal instants, so "last" is "last in file order".
    order = np.argsort(ts, kind="stable")
    ts_sorted = ts[order]
    last_of_run = np.concatenate((ts_sorted[1:] != ts_sorted[:-1], [True]))
    in_dup_run = ~last_of_run | np.concatenate(([False], ~last_of_run[:-1]))
    dup_ts, dup_value = ts_sorted[in_dup_run], value[order[in_dup_run]]
    pairs = 0
    if len(dup_ts):  # distinct (instant, value) pairs among the duplicated rows
        o = np.lexsort((dup_value, dup_ts))
        a, b = dup_ts[o], dup_value[o]
        pairs = 1 + int(np.count_nonzero((a[1:] != a[:-1]) | (b[1:] != b[:-1])))
    runs = int(np.count_nonzero(in_dup_run & last_of_run))
    keep = order[last_of_run]
    return CleanSeries(ts[keep], value[keep], len(dup_ts) - pairs, pairs - runs)


def duplicate_counts(series: CleanSeries) -> dict[str, int]:
    out = {}
    if series.duplicate_exact:
        out[Drop.DUPLICATE_EXACT] = series.duplicate_exact
    if series.duplicate_conflict:
        out[Drop.DUPLICATE_CONFLICT] = series.duplicate_conflict
    return out
