"""The series pipeline: level choice, range read, downsampling, gap breaks and the cell pivot.

Everything between "a signal over [start, end)" and the arrays a chart draws lives here;
core/service.py only validates names and caches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from core.errors import BadInputError
from core.results import Matrix, Series, SystemInfo
from data.glossary import CELL_GROUPS, CELL_KEY_BASE, LEVEL_SECONDS, LEVELS, LOCAL_TZ, cell_key, cell_label
from data.store import NotFoundError, Snapshot

RESOLUTIONS = ("auto",) + LEVELS
METHODS = ("lttb", "minmax_lttb", "none")
# In-process caps of one query (the HTTP API has stricter per-request budgets in api/limits.py).
DEFAULT_MAX_POINTS = 2000
MAX_POINTS = 100_000
MAX_MATRIX_COLUMNS = 20_000
# A step this many times the window's median step is a gap: the line breaks there.
GAP_FACTOR = 5.0
_LOCAL = ZoneInfo(LOCAL_TZ)


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


def to_utc(t: datetime | None, name: str) -> datetime | None:
    """An aware instant in UTC; a naive one is refused (the query layer never guesses a zone)."""
    if t is None:
        return None
    if t.tzinfo is None:
        raise BadInputError(f"{name} must carry a time zone (got naive {t.isoformat()})")
    return t.astimezone(timezone.utc)


def utc_range(start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    return to_utc(start, "start"), to_utc(end, "end")


def local_day_mask(days: np.ndarray, start: datetime | None, end: datetime | None) -> np.ndarray:
    """Local days (datetime64[D]) whose midnight lies in [start, end)."""
    start, end = utc_range(start, end)
    keep = np.ones(days.shape, dtype=bool)
    if start is not None:
        keep &= days >= np.datetime64(start.astimezone(_LOCAL).date(), "D")
    if end is not None:
        keep &= days <= np.datetime64((end - timedelta(milliseconds=1)).astimezone(_LOCAL).date(), "D")
    return keep


def read_series(snap: Snapshot, info: SystemInfo, signal: str, unit: str, cell: tuple[int, int] | None,
                start: datetime | None, end: datetime | None, resolution: str, max_points: int,
                method: str) -> Series:
    """One signal (or one cell of a cell group) over [start, end), at most ``max_points`` points.

    Picks the level, reads the range, downsamples and breaks the line at gaps.
    """
    start, end = utc_range(start, end)
    if resolution not in RESOLUTIONS:
        raise BadInputError(f"resolution must be one of {', '.join(RESOLUTIONS)}, got {resolution!r}")
    if method not in METHODS:
        raise BadInputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if not 2 <= max_points <= MAX_POINTS:
        raise BadInputError(f"max_points must be between 2 and {MAX_POINTS}, got {max_points}")
    rng = info.time_range
    lo = start or (rng.start if rng else None)
    hi = end or (rng.end if rng else None)
    if lo is not None and hi is not None and hi <= lo:
        raise BadInputError(f"empty range: end {hi.isoformat()} is not after start {lo.isoformat()}")
    available = tuple(lv for lv in LEVELS if snap.has(info.id, lv, signal))
    if not available:
        raise NotFoundError(f"system {info.id!r} has no data for {signal!r}")
    if resolution == "auto":
        window_s = (hi - lo).total_seconds() if lo and hi else float("inf")
        level = choose_level(window_s, max_points, available)
    elif resolution in available:
        level = resolution
    else:
        raise NotFoundError(f"level {resolution!r} of {signal!r} is not in the store")
    cols = ["ts", "value"] + ([] if level == "raw" else ["min", "max"])
    df = snap.read_range(info.id, level, signal, start, end, cells=[cell] if cell else None, columns=cols)
    ts_ms = df["ts"].dt.epoch("ms").to_numpy().astype(np.int64)
    values = df["value"].cast(pl.Float64).to_numpy()
    bands = [df["min"].to_numpy(), df["max"].to_numpy()] if level != "raw" else []
    n = ts_ms.size
    chosen = np.arange(n, dtype=np.int64)
    used = "none"
    if method != "none" and n > max_points:
        chosen = downsample(method, ts_ms, values, max_points)
        used = method
    # A bin-level step is the floor for gaps so one missing bin is not called a gap.
    gaps = gap_starts(ts_ms, min_gap_ms=2 * LEVEL_SECONDS[level] * 1000)
    out_ts, arrays = insert_gap_breaks(ts_ms, chosen, gaps, [values] + bands)
    return Series(
        system_id=info.id,
        signal=signal if cell is None else f"{signal}:{cell_label(*cell)}",
        unit=unit,
        resolution=level,
        method=used,
        timestamps_ms=out_ts,
        values=arrays[0],
        min=arrays[1] if bands else None,
        max=arrays[2] if bands else None,
        rows_in_window=n,
    )


def downsample(method: str, ts_ms: np.ndarray, values: np.ndarray, n_out: int) -> np.ndarray:
    """Indices of the kept points: LTTB, or MinMax-preselected LTTB."""
    from core.kernels import lttb_indices, minmax_lttb_indices

    x = ts_ms.astype(np.float64)
    y = np.ascontiguousarray(values, dtype=np.float64)
    if method == "minmax_lttb":
        return minmax_lttb_indices(x, y, n_out)
    return lttb_indices(x, y, n_out)


@dataclass(frozen=True)
class CellPivot:
    """Long (ts, pack, cell, value) rows as a cells x time-bins matrix; rows sorted by (pack, cell)."""

    keys: np.ndarray  # int64 cell_key(pack, cell) per row, ascending
    ts: pl.Series  # the time bins (Datetime, UTC), ascending
    values: np.ndarray  # float64 (len(keys), len(ts)); NaN where a cell has no row in a bin

    @property
    def packs(self) -> np.ndarray:
        return self.keys // CELL_KEY_BASE

    @property
    def cells(self) -> np.ndarray:
        return self.keys % CELL_KEY_BASE


def pivot_cells(df: pl.DataFrame, column: str, keys: np.ndarray | None = None) -> CellPivot:
    """The one long-to-wide pivot of cell-group rows.

    ``keys`` (ascending cell keys) fixes the rows, e.g. every cell of every pack; rows of
    other cells are dropped. Without it the rows are the cells present in ``df``.
    """
    k = cell_key(df["pack"].cast(pl.Int64).to_numpy(), df["cell"].cast(pl.Int64).to_numpy())
    ts = df["ts"].unique().sort()
    col = np.searchsorted(ts.dt.epoch("ms").to_numpy(), df["ts"].dt.epoch("ms").to_numpy())
    keys = np.unique(k) if keys is None else np.asarray(keys, dtype=np.int64)
    row = np.searchsorted(keys, k)
    ok = row < keys.size
    ok[ok] = keys[row[ok]] == k[ok]
    values = np.full((keys.size, ts.len()), np.nan)
    values[row[ok], col[ok]] = df[column].cast(pl.Float64).to_numpy()[ok]
    return CellPivot(keys=keys, ts=ts, values=values)


def cell_matrix(snap: Snapshot, info: SystemInfo, group: str, level: str, start: datetime | None,
                end: datetime | None, column: str, max_columns: int) -> Matrix:
    """All cells x time bins of one level (rows P1C1..; columns ISO UTC bin starts)."""
    start, end = utc_range(start, end)
    if level not in LEVELS:
        raise BadInputError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if column not in ("value", "min", "max"):
        raise BadInputError(f"column must be value, min or max, got {column!r}")
    if level == "raw" and column != "value":
        raise BadInputError("raw data has no min/max columns")
    df = snap.read_range(info.id, level, group, start, end, columns=["ts", "pack", "cell", column])
    n_bins = df["ts"].n_unique()
    if n_bins > max_columns:
        raise BadInputError(
            f"{n_bins} time bins at level {level!r} exceed max_columns={max_columns}; "
            "choose a coarser level or a shorter range"
        )
    grid = [(p, c) for p in range(1, info.packs + 1) for c in range(1, info.cells_per_pack + 1)]
    pivot = pivot_cells(df, column, np.array([cell_key(p, c) for p, c in grid], dtype=np.int64))
    columns = tuple(t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in pivot.ts.to_list())
    return Matrix(rows=tuple(cell_label(p, c) for p, c in grid), columns=columns, values=pivot.values,
                  unit=CELL_GROUPS[group][0])
