"""Numba kernel: one pyramid level (bin start, value, min, max, count) of many sorted series in one pass.

Aggregation is the other hot loop of ingest after parsing; NumPy needs a dozen passes
and temporaries per level (keys, run starts, four ``reduceat``), the kernel one pass.
``reduce_level_reference`` is the NumPy oracle the tests compare it with.
"""

from __future__ import annotations

import numpy as np
from numba import njit

MEAN, LAST, MAX, MIN = 0, 1, 2, 3
HOUR_MS = 3_600_000
# Bin modes: a positive bin width [ms], or one of these.
BY_HOUR_TABLE = -1  # key = table[hour index]: local days, looked up once per hour
BY_KEYS = -2  # key = table[row]: keys computed by the caller


@njit(cache=True, inline="always")
def _floor(t, width):
    """t rounded down to a multiple of width; the usual widths are literals, so the division
    compiles to a multiplication (a division by a run-time value costs ~30 cycles a row)."""
    if width == 300_000:
        r = t % 300_000
    elif width == 900_000:
        r = t % 900_000
    elif width == HOUR_MS:
        r = t % HOUR_MS
    else:
        r = t % width
    if r < 0:
        r += width
    return t - r


@njit(cache=True, nogil=True)
def reduce_level_kernel(ts, value, group, agg, bin_ms, h0, table, out_ts, out_v, out_lo, out_hi, out_n, out_g):
    """Fill the outputs with (bin start, value, min, max, count, group) per bin; returns the bins.

    Bins are runs of equal (group, bin start) in row order: rows must be sorted by time
    within each group and groups contiguous. MEAN sums in row order, LAST takes the last
    row of a bin. Outputs need room for one bin per row.
    """
    n = len(ts)
    j = -1
    s = vlo = vhi = 0.0
    cnt = 0
    prev = 0
    k = 0
    lo = 1
    hi = 0  # rows in [lo, hi) have bin start k: sorted rows rarely need a new lookup
    for i in range(n):
        t = ts[i]
        if bin_ms == BY_KEYS:
            k = table[i]
        elif t < lo or t >= hi:
            if bin_ms > 0:
                lo = _floor(t, bin_ms)
                hi = lo + bin_ms
                k = lo
            else:
                lo = _floor(t, HOUR_MS)
                hi = lo + HOUR_MS
                k = table[(lo - h0) // HOUR_MS]
        v = value[i]
        if i == 0 or k != prev or group[i] != group[i - 1]:
            if j >= 0:
                _store(out_v, out_lo, out_hi, out_n, j, agg, s, vlo, vhi, cnt)
            j += 1
            out_ts[j] = k
            out_g[j] = group[i]
            s = v
            vlo = v
            vhi = v
            cnt = 1
        else:
            cnt += 1
            vlo = min(vlo, v)
            vhi = max(vhi, v)
            if agg == MEAN:
                s += v
            elif agg == LAST:
                s = v
            elif agg == MAX:
                s = max(s, v)
            else:
                s = min(s, v)
        prev = k
    if j >= 0:
        _store(out_v, out_lo, out_hi, out_n, j, agg, s, vlo, vhi, cnt)
    return j + 1


@njit(cache=True, inline="always")
def _store(out_v, out_lo, out_hi, out_n, j, agg, s, vlo, vhi, cnt):
    out_v[j] = s / cnt if agg == MEAN else s
    out_lo[j] = vlo
    out_hi[j] = vhi
    out_n[j] = cnt


def reduce_level(ts: np.ndarray, value: np.ndarray, group: np.ndarray, agg: int, bin_ms: int, h0: int = 0,
                 table: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """(bin start, value, min, max, count as uint32, group) arrays of one level."""
    n = len(ts)
    outs = (np.empty(n, np.int64), np.empty(n, np.float64), np.empty(n, np.float64), np.empty(n, np.float64),
            np.empty(n, np.uint32), np.empty(n, group.dtype))
    # np.empty pages that are never written cost no memory: the views below keep only bins.
    bins = reduce_level_kernel(ts, value, group, agg, bin_ms, h0, _NO_TABLE if table is None else table, *outs)
    return tuple(x[:bins] for x in outs)


_NO_TABLE = np.zeros(1, np.int64)


def reduce_level_reference(keys: np.ndarray, group: np.ndarray, value: np.ndarray, agg: int):
    """NumPy oracle of reduce_level, given each row's bin start."""
    n = len(keys)
    if n == 0:
        e = np.zeros(0)
        return np.zeros(0, np.int64), e, e, e, np.zeros(0, np.uint32), group[:0]
    starts = np.flatnonzero(np.concatenate(([True], (keys[1:] != keys[:-1]) | (group[1:] != group[:-1]))))
    ends = np.append(starts[1:], n)
    cnt = ends - starts
    reducer = {MEAN: np.add, LAST: None, MAX: np.maximum, MIN: np.minimum}[agg]
    if agg == LAST:
        out = value[ends - 1]
    else:
        out = reducer.reduceat(value, starts)
        if agg == MEAN:
            out = out / cnt
    return (keys[starts], out, np.minimum.reduceat(value, starts), np.maximum.reduceat(value, starts),
            cnt.astype(np.uint32), group[starts])
