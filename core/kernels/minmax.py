"""MinMaxLTTB: parallel MinMax preselection per index chunk, then LTTB on the kept points."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from core.kernels.lttb import _check_x_result, _validate_xy, lttb_into


BLOCK = 16
"""Scan width: a branch-free 'any equal' test per block vectorizes; hits resolve inside."""


@njit(cache=True, inline="always")
def _first_equal(v, mn, mx):
    """First index of mn and of mx in v (-1 if absent); stops once both are found."""
    i_min = -1
    i_max = -1
    n = v.shape[0]
    nb = n // BLOCK * BLOCK
    k0 = 0
    while k0 < nb:
        hit = False
        for k in range(k0, k0 + BLOCK):
            a = v[k]
            hit |= (a == mn) | (a == mx)
        if hit:
            for k in range(k0, k0 + BLOCK):
                a = v[k]
                if i_min < 0 and a == mn:
                    i_min = k
                if i_max < 0 and a == mx:
                    i_max = k
            if i_min >= 0 and i_max >= 0:
                return i_min, i_max
        k0 += BLOCK
    for k in range(nb, n):
        a = v[k]
        if i_min < 0 and a == mn:
            i_min = k
        if i_max < 0 and a == mx:
            i_max = k
    return i_min, i_max


@njit(cache=True, parallel=True)
def minmax_positions_kernel(inner, starts, ends, mins, maxs, keep):
    """keep (2*n_bins + 2,) <- 0, per chunk [starts, ends) of `inner` its first argmin/argmax
    in index order (offset by 1: inner is y[1:-1]), n-1. Returns the count written.

    mins/maxs are the chunk's NaN-ignoring min and max (NaN: the chunk is all NaN, keep its
    first point). A chunk whose min and max are the same point keeps it once.
    """
    n_bins = starts.shape[0]
    slots = np.full(2 * n_bins, -1, dtype=np.int64)
    for k in prange(n_bins):
        s = starts[k]
        mn = mins[k]
        if mn != mn:
            slots[2 * k] = s + 1
            continue
        i_min, i_max = _first_equal(inner[s:ends[k]], mn, maxs[k])
        if i_min == i_max:
            slots[2 * k] = s + i_min + 1
        elif i_min < i_max:
            slots[2 * k] = s + i_min + 1
            slots[2 * k + 1] = s + i_max + 1
        else:
            slots[2 * k] = s + i_max + 1
            slots[2 * k + 1] = s + i_min + 1
    m = 0
    keep[m] = 0
    m += 1
    for j in range(2 * n_bins):
        if slots[j] >= 0:
            keep[m] = slots[j]
            m += 1
    keep[m] = inner.shape[0] + 1
    return m + 1


def minmax_preselect(y: np.ndarray, n_bins: int) -> np.ndarray:
    """Indices kept by the MinMax step: 0, each chunk's first argmin and argmax, n - 1.

    Chunks follow tsdownsample's MinMax (without x): over the inner points y[1:-1],
    bs = (n_inner - 1) / n_bins and chunk k is [int(bs*k) + (k != 0), int(bs*(k+1)) + 1).
    The min/max values come from NumPy's SIMD `fmin/fmax.reduceat` (NaN-ignoring; Numba
    does not vectorize a NaN-safe min/max); positions from a parallel early-exit scan.
    """
    n = y.shape[0]
    inner = y[1:n - 1]
    bs = (inner.shape[0] - 1) / n_bins
    k = np.arange(n_bins, dtype=np.float64)
    starts = (bs * k).astype(np.int64) + (k != 0)
    ends = (bs * (k + 1)).astype(np.int64) + 1
    body = inner[:ends[-1]]  # reduceat's last segment runs to the end of its input
    with np.errstate(invalid="ignore"):
        mins = np.fmin.reduceat(body, starts)
        maxs = np.fmax.reduceat(body, starts)
    keep = np.empty(2 * n_bins + 2, dtype=np.int64)
    m = minmax_positions_kernel(inner, starts, ends, mins, maxs, keep)
    return keep[:m]


def minmax_lttb_indices(x: np.ndarray, y: np.ndarray, n_out: int, *, minmax_ratio: int = 4
                        ) -> np.ndarray:
    """Indices MinMaxLTTB keeps: MinMax preselection of ~n_out * minmax_ratio points, then LTTB.

    Parameters
    ----------
    x : (n,) array
        Non-decreasing positions. Only checked at the preselected points and by LTTB on
        them: a full check would cost a second pass over memory (use `lttb_indices` for a
        full check).
    y : (n,) array
        Values; NaN marks a missing point (ignored by min/max and LTTB).
    n_out : int
        Points wanted, >= 3. If n_out >= n all indices are returned.
    minmax_ratio : int, keyword-only
        Preselect n_out * minmax_ratio points (n_out * minmax_ratio / 2 chunks). Applied only
        when n // n_out > minmax_ratio, else plain LTTB (as tsdownsample).

    Returns
    -------
    np.ndarray of int64, strictly increasing, from 0 to n - 1: a subset of the preselected
    points. Same as tsdownsample's ``MinMaxLTTBDownsampler`` where its x-bins coincide with
    index chunks (regular x) and no chunk is constant; see `reference.minmax_lttb_indices_reference`.
    """
    x, y, n_out = _validate_xy(x, y, n_out)
    if isinstance(minmax_ratio, bool) or not isinstance(minmax_ratio, (int, np.integer)) \
            or minmax_ratio < 2:
        raise ValueError(f"minmax_ratio must be an integer >= 2, got {minmax_ratio!r}")
    n = x.shape[0]
    if n_out >= n or n // n_out <= minmax_ratio:
        from core.kernels.lttb import lttb_indices

        return lttb_indices(x, y, n_out)
    keep = minmax_preselect(y, n_out * int(minmax_ratio) // 2)
    m = keep.shape[0]
    xk = x[keep]
    bad = np.flatnonzero(~(xk[1:] >= xk[:-1]))
    if bad.size or np.isnan(xk[0]):
        _check_x_result(int(keep[bad[0] + 1]) if bad.size else 0, x)
    if n_out >= m:
        return keep
    return keep[lttb_into(xk, y[keep], n_out)]
