"""Per-cell daily maximum voltage matrix (cells x days) from long arrays: Numba kernel and NumPy reference.

Not on the query path: queries read the store's 1d level, whose max already is each
cell's daily maximum (core.cell_queries.read_sat). Kept because the ground-truth tests
(tests/test_cells_groundtruth.py, _reference.py, _fleet.py) build SAT matrices from the
raw CSV samples through it, a path independent of the ingest's 1d aggregation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from core.cells._robust import readonly


@njit(cache=True)
def _daily_max_kernel(cell_index, day_index, voltage_v, out):
    """Fill ``out`` in one pass; return -1, or the position of the first out-of-range or infinite sample.

    Checking inside the pass saves five extra reads of the inputs; keeping a running maximum while
    (cell, day) stays the same (exports come sorted by cell, then time) avoids a dependent
    read-compare-write on ``out`` for every sample.
    """
    n_cells, n_days = out.shape
    run_c, run_d = -1, -1
    run_max = np.nan
    for i in range(voltage_v.shape[0]):
        c = cell_index[i]
        d = day_index[i]
        v = voltage_v[i]
        if c < 0 or c >= n_cells or d < 0 or d >= n_days or np.isinf(v):
            return i
        if c != run_c or d != run_d:
            if run_c >= 0:
                out[run_c, run_d] = run_max
            run_c, run_d = c, d
            run_max = out[c, d]  # a (cell, day) may come back later in unsorted input
        # NaN readings are skipped so a missing value never hides a maximum
        if v > run_max or (np.isnan(run_max) and not np.isnan(v)):
            run_max = v
    if run_c >= 0:
        out[run_c, run_d] = run_max
    return -1


def _validate_shapes(cell_index, day_index, voltage_v, n_cells, n_days):
    cell_index = np.asarray(cell_index)
    day_index = np.asarray(day_index)
    voltage_v = np.asarray(voltage_v)
    for name, a in (("cell_index", cell_index), ("day_index", day_index), ("voltage_v", voltage_v)):
        if a.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if not (cell_index.shape == day_index.shape == voltage_v.shape):
        raise ValueError(f"cell_index, day_index and voltage_v must have one length, got "
                         f"{cell_index.shape[0]}, {day_index.shape[0]} and {voltage_v.shape[0]}")
    for name, a in (("cell_index", cell_index), ("day_index", day_index)):
        if a.size and not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"{name} must be integer, got {a.dtype}")
    if voltage_v.size and not np.issubdtype(voltage_v.dtype, np.number):
        raise ValueError(f"voltage_v must be numeric, got {voltage_v.dtype}")
    if int(n_cells) < 0 or int(n_days) < 0:
        raise ValueError(f"n_cells and n_days must be >= 0, got {n_cells} and {n_days}")
    return (np.ascontiguousarray(cell_index, dtype=np.int64), np.ascontiguousarray(day_index, dtype=np.int64),
            np.ascontiguousarray(voltage_v, dtype=np.float64))


def _bad_sample_error(i: int, ci, di, v, n_cells: int, n_days: int) -> ValueError:
    if not 0 <= ci[i] < n_cells:
        return ValueError(f"cell_index must lie in 0..{n_cells - 1}, got {ci[i]} at position {i}")
    if not 0 <= di[i] < n_days:
        return ValueError(f"day_index must lie in 0..{n_days - 1}, got {di[i]} at position {i}")
    return ValueError(f"voltage_v must not contain +/-inf (use NaN for missing readings): {v[i]} at position {i}")


def _validate(cell_index, day_index, voltage_v, n_cells, n_days):
    """Full validation for the reference (the kernel checks values in its own pass)."""
    ci, di, v = _validate_shapes(cell_index, day_index, voltage_v, n_cells, n_days)
    bad = np.flatnonzero((ci < 0) | (ci >= n_cells) | (di < 0) | (di >= n_days) | np.isinf(v))
    if bad.size:
        raise _bad_sample_error(int(bad[0]), ci, di, v, int(n_cells), int(n_days))
    return ci, di, v


def daily_max_matrix(cell_index: np.ndarray, day_index: np.ndarray, voltage_v: np.ndarray,
                     n_cells: int, n_days: int) -> np.ndarray:
    """Maximum voltage per (cell, day) from long arrays, NaN where a cell has no reading that day.

    Parameters
    ----------
    cell_index, day_index : (n_samples,) int
        Row (0..n_cells-1) and column (0..n_days-1) of each sample.
    voltage_v : (n_samples,) float
        Cell voltage; NaN readings are ignored. [V]

    Returns
    -------
    (n_cells, n_days) float64 [V]
    """
    ci, di, v = _validate_shapes(cell_index, day_index, voltage_v, n_cells, n_days)
    out = np.full((int(n_cells), int(n_days)), np.nan)
    bad = _daily_max_kernel(ci, di, v, out)
    if bad >= 0:
        raise _bad_sample_error(int(bad), ci, di, v, int(n_cells), int(n_days))
    return out


def daily_max_matrix_reference(cell_index: np.ndarray, day_index: np.ndarray, voltage_v: np.ndarray,
                               n_cells: int, n_days: int) -> np.ndarray:
    """NumPy reference of `daily_max_matrix` (the test oracle): an unbuffered NaN-ignoring maximum."""
    ci, di, v = _validate(cell_index, day_index, voltage_v, n_cells, n_days)
    out = np.full((int(n_cells), int(n_days)), np.nan)
    np.fmax.at(out, (ci, di), v)  # fmax(NaN, x) == x, so NaN never wins
    return out


@dataclass(frozen=True)
class DailyMax:
    """Daily maximum voltage of each cell: the input of `extract_sat`."""

    packs: np.ndarray  # int64 (n_cells,), 1-based
    cells: np.ndarray  # int64 (n_cells,), 1-based within the pack
    days: np.ndarray  # datetime64[D] (n_days,), local calendar days, contiguous
    voltage_v: np.ndarray  # float64 (n_cells, n_days), NaN = no reading that day [V]


def daily_max_from_long(packs: np.ndarray, cells: np.ndarray, days: np.ndarray,
                        voltage_v: np.ndarray) -> DailyMax:
    """Daily maximum matrix from long rows (pack, cell, local day, voltage), on a contiguous calendar.

    Rows are sorted P1C1..PnCm; the day axis runs from the first to the last day seen, so days
    without any reading are NaN columns rather than missing columns.
    """
    packs = np.asarray(packs)
    cells = np.asarray(cells)
    try:
        days = np.asarray(days).astype("datetime64[D]")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"days must be dates (datetime64 or ISO strings): {exc}") from None
    if not (packs.shape == cells.shape == days.shape == np.shape(voltage_v)) or packs.ndim != 1:
        raise ValueError("packs, cells, days and voltage_v must be 1-D and of one length, got shapes "
                         f"{packs.shape}, {cells.shape}, {days.shape}, {np.shape(voltage_v)}")
    if packs.size == 0:
        raise ValueError("no rows: daily_max_from_long needs at least one reading")
    if np.isnat(days).any():
        raise ValueError("days must not contain NaT")
    if (packs < 1).any() or (cells < 1).any():
        raise ValueError("packs and cells are 1-based; got a value < 1")
    keys = packs.astype(np.int64) * 1_000_000 + cells.astype(np.int64)
    uniq, cell_index = np.unique(keys, return_inverse=True)
    first = days.min()
    n_days = int((days.max() - first).astype(np.int64)) + 1
    day_index = (days - first).astype(np.int64)
    matrix = daily_max_matrix(cell_index, day_index, np.asarray(voltage_v, dtype=np.float64), uniq.size, n_days)
    out = DailyMax(packs=uniq // 1_000_000, cells=uniq % 1_000_000,
                   days=first + np.arange(n_days).astype("timedelta64[D]"), voltage_v=matrix)
    readonly(out.packs, out.cells, out.days, out.voltage_v)
    return out
