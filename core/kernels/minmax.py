"""MinMaxLTTB: parallel MinMax preselection per index chunk, then LTTB on the kept points."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from core.kernels.lttb import _check_x_result, _validate_xy, lttb_into


@njit(cache=True, inline="always")
def _first_minmax(v):
    """First index of the min and of the max of the non-NaN v, or (-1, -1) if all NaN."""
    mn0 = mn1 = np.inf
    mx0 = mx1 = -np.inf
    n = v.shape[0]
    n2 = n // 2 * 2
    k = 0
    # values first (two independent chains), positions after: the chunk is still in cache
    while k < n2:
        a = v[k]
        b = v[k + 1]
        mn0 = a if a < mn0 else mn0
        mx0 = a if a > mx0 else mx0
        mn1 = b if b < mn1 else mn1
        mx1 = b if b > mx1 else mx1
        k += 2
    if k < n:
        a = v[k]
        mn0 = a if a < mn0 else mn0
        mx0 = a if a > mx0 else mx0
    mn = min(mn0, mn1)
    mx = max(mx0, mx1)
    i_min = -1
    i_max = -1
    for k in range(n):
        if i_min < 0 and v[k] == mn:
            i_min = k
        if i_max < 0 and v[k] == mx:
            i_max = k
        if i_min >= 0 and i_max >= 0:
            break
    return i_min, i_max


@njit(cache=True, parallel=True)
def minmax_preselect_kernel(y, n_bins, keep):
    """keep (2*n_bins + 2,) <- indices 0, per chunk of y[1:-1] its argmin/argmax in order, n-1.

    Chunks follow tsdownsample's MinMax (without x): bs = (n_inner - 1) / n_bins, chunk k is
    [int(bs*k) + (k != 0), int(bs*(k+1)) + 1). A chunk whose min and max are one point keeps
    it once; an all-NaN chunk keeps its first point. Returns the number of indices written.
    """
    n = y.shape[0]
    n_inner = n - 2
    bs = (n_inner - 1) / n_bins
    slots = np.full(2 * n_bins, -1, dtype=np.int64)
    for k in prange(n_bins):
        s = int(bs * k) + (1 if k != 0 else 0)
        e = int(bs * (k + 1)) + 1
        i_min, i_max = _first_minmax(y[1 + s:1 + e])
        if i_min < 0:
            slots[2 * k] = s + 1
        elif i_min == i_max:
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
    keep[m] = n - 1
    return m + 1


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
    n_bins = n_out * int(minmax_ratio) // 2
    keep = np.empty(2 * n_bins + 2, dtype=np.int64)
    m = minmax_preselect_kernel(y, n_bins, keep)
    keep = keep[:m]
    xk = x[keep]
    bad = np.flatnonzero(~(xk[1:] >= xk[:-1]))
    if bad.size or np.isnan(xk[0]):
        _check_x_result(int(keep[bad[0] + 1]) if bad.size else 0, x)
    if n_out >= m:
        return keep
    return keep[lttb_into(xk, y[keep], n_out)]
