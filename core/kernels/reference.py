"""Plain NumPy/SciPy references for the kernels: slow, obvious, and the test oracle."""

from __future__ import annotations

import numpy as np


def unrolled_sum(v: np.ndarray) -> float:
    """Sum in the order of ndarray's eight-chain `unrolled_fold` (what tsdownsample's mean uses)."""
    n8 = len(v) // 8 * 8
    if n8:
        p = np.cumsum(v[:n8].reshape(-1, 8), axis=0)[-1]  # cumsum: strictly sequential per chain
        acc = 0.0 + (p[0] + p[4])
        acc = acc + (p[1] + p[5])
        acc = acc + (p[2] + p[6])
        acc = acc + (p[3] + p[7])
    else:
        acc = 0.0
    for t in v[n8:]:
        acc = acc + t
    return float(acc)


def lttb_indices_reference(x: np.ndarray, y: np.ndarray, n_out: int) -> np.ndarray:
    """Largest-Triangle-Three-Buckets (Steinarsson 2013) with tsdownsample's conventions.

    Buckets: every = (n-2)/(n_out-2); bucket i (output i+1) is [int(every*i)+1, int(every*(i+1))+1).
    The third vertex c has y = mean of the next bucket (ndarray's summation order) and
    x = midpoint of the next bucket's first and last x (tsdownsample >= 0.1.3, not the mean).
    NaN y are missing: left out of means, never chosen while the bucket has a non-NaN
    point; a non-finite next-bucket mean is replaced by a's y, a non-finite a's y by c's y.
    A bucket with no non-NaN area gives its first non-NaN point, else its first point.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    if n_out >= n:
        return np.arange(n, dtype=np.int64)
    every = (n - 2) / (n_out - 2)
    out = np.empty(n_out, dtype=np.int64)
    out[0] = 0
    a = 0
    fin = ~np.isnan(y)
    for i in range(n_out - 2):
        s = int(every * (i + 1)) + 1
        e = min(int(every * (i + 2)) + 1, n)
        cnt = int(fin[s:e].sum())
        cx = (x[s] + x[e - 1]) / 2.0
        ax = x[a]
        ay = y[a]
        cy = unrolled_sum(np.where(fin[s:e], y[s:e], 0.0)) / cnt if cnt else np.nan
        if not np.isfinite(cy):
            cy = ay
        if not np.isfinite(ay):
            ay = cy
        lo = int(every * i) + 1
        d1 = ax - cx
        d2 = cy - ay
        offset = d1 * ay + d2 * ax
        with np.errstate(invalid="ignore"):
            area = np.abs(d1 * y[lo:s] + d2 * x[lo:s] - offset)
        ok = ~np.isnan(area)
        if ok.any():
            a = lo + int(np.flatnonzero(area == np.nanmax(area))[0])
        elif fin[lo:s].any():
            a = lo + int(np.flatnonzero(fin[lo:s])[0])
        else:
            a = lo
        out[i + 1] = a
    out[n_out - 1] = n - 1
    return out


def minmax_preselect_reference(y: np.ndarray, n_bins: int) -> np.ndarray:
    """First argmin and argmax of y[1:-1] per index chunk (tsdownsample's MinMax chunks), plus ends.

    Chunk k of the inner points is [int(bs*k) + (k != 0), int(bs*(k+1)) + 1) with
    bs = (n_inner - 1) / n_bins. Non-finite y are ignored; a chunk whose min and max are the
    same point contributes it once; an all-missing chunk contributes its first point.
    """
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    inner = y[1:n - 1]
    bs = (len(inner) - 1) / n_bins
    keep = [0]
    for k in range(n_bins):
        s = int(bs * k) + (1 if k != 0 else 0)
        e = int(bs * (k + 1)) + 1
        seg = inner[s:e]
        fin = np.isfinite(seg)
        if not fin.any():
            keep.append(s + 1)
            continue
        v = np.where(fin, seg, np.nan)
        i_min = int(np.nanargmin(v))
        i_max = int(np.nanargmax(v))
        for j in sorted({i_min, i_max}):
            keep.append(s + j + 1)
    keep.append(n - 1)
    return np.asarray(keep, dtype=np.int64)


def minmax_lttb_indices_reference(x: np.ndarray, y: np.ndarray, n_out: int, minmax_ratio: int = 4,
                                  ) -> np.ndarray:
    """MinMax preselection of n_out * minmax_ratio points, then LTTB on them (as tsdownsample)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    if n_out >= n:
        return np.arange(n, dtype=np.int64)
    if n // n_out > minmax_ratio:
        keep = minmax_preselect_reference(y, n_out * minmax_ratio // 2)
        sel = lttb_indices_reference(x[keep], y[keep], n_out)
        return keep[sel]
    return lttb_indices_reference(x, y, n_out)


def fit_ols_reference(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """`scipy.stats.linregress` per row of y on its finite points."""
    from scipy.stats import linregress, t

    cols: dict[str, list[float]] = {k: [] for k in ("slope", "intercept", "r2", "slope_stderr",
                                                    "intercept_stderr", "slope_ci95_low",
                                                    "slope_ci95_high", "n")}
    for row in np.atleast_2d(y):
        m = np.isfinite(row)
        n = int(m.sum())
        if n < 3 or np.ptp(x[m]) == 0:
            vals = [np.nan] * 7
        else:
            r = linregress(x[m], row[m])
            h = t.ppf(0.975, n - 2) * r.stderr
            vals = [r.slope, r.intercept, r.rvalue**2, r.stderr, r.intercept_stderr,
                    r.slope - h, r.slope + h]
        for k, v in zip(cols, [*vals, n]):
            cols[k].append(v)
    return {k: np.asarray(v) for k, v in cols.items()}


def fit_theil_sen_reference(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """`scipy.stats.theilslopes(row, x, 0.95)` per row of y on its finite points."""
    from scipy.stats import theilslopes

    cols: dict[str, list[float]] = {k: [] for k in ("slope", "intercept", "slope_ci95_low",
                                                    "slope_ci95_high", "n")}
    for row in np.atleast_2d(y):
        m = np.isfinite(row)
        n = int(m.sum())
        if n < 3 or np.ptp(x[m]) == 0:
            vals = [np.nan] * 4
        else:
            r = theilslopes(row[m], x[m], 0.95)
            vals = [r.slope, r.intercept, r.low_slope, r.high_slope]
        for k, v in zip(cols, [*vals, n]):
            cols[k].append(v)
    return {k: np.asarray(v) for k, v in cols.items()}
