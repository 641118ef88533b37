"""Level-of-detail choice and gap marking for series queries."""

from __future__ import annotations

import numpy as np

from data.glossary import LEVEL_SECONDS, LEVELS

RESOLUTIONS = ("auto",) + LEVELS
# A step this many times the window's median step is a gap: the line breaks there.
GAP_FACTOR = 5.0


def choose_level(window_s: float, max_points: int, available: tuple[str, ...]) -> str:
    """Coarsest available level that still gives at least ``max_points`` bins in the window.

    Raw data is returned when even the finest aggregated level would give fewer bins,
    i.e. when the window is small.
    """
    if max_points < 1:
        raise ValueError(f"max_points must be >= 1, got {max_points}")
    for level in reversed(LEVELS[1:]):  # 1d, 1h, 15min, 5min
        if level in available and window_s / LEVEL_SECONDS[level] >= max_points:
            return level
    if "raw" in available:
        return "raw"
    finest = [lv for lv in LEVELS if lv in available]
    if not finest:
        raise ValueError("no level available")
    return finest[0]


def gap_threshold_ms(ts_ms: np.ndarray, level: str) -> float:
    """Longest step of a series read from ``level`` that is not a gap [ms].

    The series rule: GAP_FACTOR times the median step, and never less than two bins of the
    level, so one missing bin is not a gap. Energy accounting (core.energy) uses the same rule.
    """
    steps = np.diff(np.asarray(ts_ms, dtype=np.int64))
    median = float(np.median(steps)) if steps.size else 0.0
    return max(GAP_FACTOR * median, 2.0 * LEVEL_SECONDS[level] * 1000)


def gap_starts(ts_ms: np.ndarray, *, min_gap_ms: float = 0.0) -> np.ndarray:
    """Indices i where the step ts[i+1]-ts[i] is a gap (far above the median step)."""
    if ts_ms.size < 3:
        return np.empty(0, dtype=np.int64)
    steps = np.diff(ts_ms)
    median = float(np.median(steps))
    threshold = max(GAP_FACTOR * median, min_gap_ms)
    return np.flatnonzero(steps > threshold).astype(np.int64)


def insert_gap_breaks(
    ts_ms: np.ndarray, chosen: np.ndarray, gaps: np.ndarray, arrays: list[np.ndarray]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Put a NaN point between consecutive chosen indices that straddle a gap of the full data.

    ``chosen`` are ascending indices into the full arrays; ``gaps`` come from :func:`gap_starts`.
    Returns the timestamps and the arrays at ``chosen`` with the breaks inserted.
    """
    out_ts = ts_ms[chosen]
    out = [a[chosen].astype(np.float64) for a in arrays]
    if gaps.size == 0 or chosen.size < 2:
        return out_ts, out
    # A gap g (between full rows g and g+1) lies between chosen a < b when a <= g < b.
    left = chosen[:-1]
    right = chosen[1:]
    n_between = np.searchsorted(gaps, right, side="left") - np.searchsorted(gaps, left, side="left")
    where = np.flatnonzero(n_between > 0)
    if where.size == 0:
        return out_ts, out
    break_ts = (out_ts[where] + out_ts[where + 1]) // 2
    out_ts = np.insert(out_ts, where + 1, break_ts)
    out = [np.insert(a, where + 1, np.nan) for a in out]
    return out_ts, out
