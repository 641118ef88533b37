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

from data.parse import Drop, empty_frame


@dataclass(frozen=True)
class CleanSeries:
    frame: pl.DataFrame  # ts strictly increasing, value Float64
    duplicate_exact: int
    duplicate_conflict: int


def merge_parts(parts: list[pl.DataFrame]) -> CleanSeries:
    """Concatenate parts in the given (file) order, sort by time, resolve duplicates."""
    parts = [p for p in parts if p.height]
    if not parts:
        return CleanSeries(empty_frame(), 0, 0)
    df = pl.concat(parts, how="vertical", rechunk=True)
    if df.height < 2 or (np.diff(df["ts"].dt.epoch("ms").to_numpy()) > 0).all():
        return CleanSeries(df, 0, 0)  # the common case: one clean file in time order
    ts = df["ts"].dt.epoch("ms").to_numpy()
    # Stable sort keeps file order among equal instants, so "last" is "last in file order".
    order = np.argsort(ts, kind="stable")
    ts_sorted = ts[order]
    last_of_run = np.concatenate((ts_sorted[1:] != ts_sorted[:-1], [True]))
    in_dup_run = ~last_of_run | np.concatenate(([False], ~last_of_run[:-1]))
    dups = df[order[in_dup_run]]
    pairs = dups.select(pl.struct("ts", "value").n_unique()).item() if dups.height else 0
    runs = int(np.count_nonzero(in_dup_run & last_of_run))
    out = df[order[last_of_run]]
    return CleanSeries(out, dups.height - pairs, pairs - runs)


def duplicate_counts(series: CleanSeries) -> dict[str, int]:
    out = {}
    if series.duplicate_exact:
        out[Drop.DUPLICATE_EXACT] = series.duplicate_exact
    if series.duplicate_conflict:
        out[Drop.DUPLICATE_CONFLICT] = series.duplicate_conflict
    return out
