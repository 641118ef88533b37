"""Batched per-series line fits (least squares and Theil–Sen) over a shared x axis, NaN = missing."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np
from numba import njit, prange

from core.kernels.theil_sen import theil_sen_batch_kernel

MIN_POINTS = 3
"""Fewer valid points than this in a series gives NaN results for that series."""


@dataclass(frozen=True)
class OlsFit:
    """Least-squares line per series, as `scipy.stats.linregress`; every array has shape (n_series,).

    Units follow the inputs: slope in [y unit / x unit], intercept in [y unit].
    Series with fewer than 3 valid points or zero x-variance hold NaN (and n as counted).
    A series with constant y (zero y-variance) gets slope 0 and, as in linregress, NaN r2 and
    NaN standard errors.
    """

    slope: np.ndarray
    intercept: np.ndarray
    r2: np.ndarray
    slope_stderr: np.ndarray
    intercept_stderr: np.ndarray
    slope_ci95_low: np.ndarray
    """slope - t(0.975, n-2) * slope_stderr (Student t, n-2 degrees of freedom)."""
    slope_ci95_high: np.ndarray
    n: np.ndarray
    """int64, number of points used (finite y)."""


@dataclass(frozen=True)
class RobustFit:
    """Theil–Sen line per series, as `scipy.stats.theilslopes(y, x, 0.95, method="separate")`.

    intercept = median(y) - slope * median(x); the slope CI is theilslopes' (Sen 1968) 95 %
    interval. Series with fewer than 3 valid points or all-equal x hold NaN; a CI that
    theilslopes cannot place (negative variance from heavy ties) is NaN.
    """

    slope: np.ndarray
    intercept: np.ndarray
    slope_ci95_low: np.ndarray
    slope_ci95_high: np.ndarray
    n: np.ndarray
    """int64, number of points used (finite y)."""


def _validate(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D (n_points,), got shape {x.shape}")
    if y.ndim != 2:
        raise ValueError(f"y must be 2-D (n_series, n_points), got shape {y.shape}; "
                         "for one series pass y[np.newaxis, :]")
    if y.shape[1] != x.shape[0]:
        raise ValueError(f"y has {y.shape[1]} points per series but x has {x.shape[0]}")
    if not (np.issubdtype(x.dtype, np.number) and np.issubdtype(y.dtype, np.number)):
        raise ValueError(f"x and y must be numeric, got {x.dtype} and {y.dtype}")
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError("x must be finite (missing values go into y as NaN)")
    if np.isinf(y).any():
        raise ValueError("y must not contain +/-inf (use NaN for missing values)")
    return x, y


@lru_cache(maxsize=4096)
def _t975(dof: int) -> float:
    from scipy.stats import t

    return float(t.ppf(0.975, dof))


@lru_cache(maxsize=1)
def _theilslopes_z() -> float:
    from scipy.stats import norm

    alpha = 1.0 - 0.95  # exactly as theilslopes folds alpha=0.95
    return float(norm.ppf(alpha / 2.0))


@njit(cache=True, inline="always")
def _ols_one(x, y, s, min_points, slope, intercept, r2, se_slope, se_inter, n_used):
    """Least-squares fit of row s of y (finite points) into the output arrays."""
    n_points = y.shape[1]
    n = 0
    sx = 0.0
    sy = 0.0
    for i in range(n_points):
        v = y[s, i]
        if not np.isnan(v):
            n += 1
            sx += x[i]
            sy += v
    n_used[s] = n
    slope[s] = np.nan
    intercept[s] = np.nan
    r2[s] = np.nan
    se_slope[s] = np.nan
    se_inter[s] = np.nan
    if n < min_points:
        return
    xm = sx / n
    ym = sy / n
    sxx = 0.0
    sxy = 0.0
    syy = 0.0
    for i in range(n_points):
        v = y[s, i]
        if not np.isnan(v):
            dx = x[i] - xm
            dy = v - ym
            sxx += dx * dx
            sxy += dx * dy
            syy += dy * dy
    # population (co)variances, as np.cov(bias=1) in linregress
    sxx /= n
    sxy /= n
    syy /= n
    if sxx == 0.0:
        return
    b = sxy / sxx
    slope[s] = b
    intercept[s] = ym - b * xm
    if syy == 0.0:
        return  # linregress: r is NaN, so r2 and the standard errors are NaN
    r = sxy / np.sqrt(sxx * syy)
    if r > 1.0:
        r = 1.0
    elif r < -1.0:
        r = -1.0
    r2[s] = r * r
    se = np.sqrt((1.0 - r * r) * syy / sxx / (n - 2))
    se_slope[s] = se
    se_inter[s] = se * np.sqrt(sxx + xm * xm)


@njit(cache=True, parallel=True)
def _ols_kernel(x, y, min_points, slope, intercept, r2, se_slope, se_inter, n_used):
    for s in prange(y.shape[0]):
        _ols_one(x, y, s, min_points, slope, intercept, r2, se_slope, se_inter, n_used)


@njit(cache=True)
def _ols_kernel_serial(x, y, min_points, slope, intercept, r2, se_slope, se_inter, n_used):
    for s in range(y.shape[0]):
        _ols_one(x, y, s, min_points, slope, intercept, r2, se_slope, se_inter, n_used)


OLS_PARALLEL_MIN_VALUES = 2_000_000
"""Below this many y values one thread finishes before a parallel region would pay off
(and a busy machine can stall a parallel region for a whole scheduler time slice)."""


def fit_ols_batch(x: np.ndarray, y: np.ndarray) -> OlsFit:
    """Least-squares line per series in one pass (threads over series for large inputs).

    Parameters
    ----------
    x : (n_points,) float64
        Shared abscissa, finite (e.g. days since a reference date). [x unit]
    y : (n_series, n_points) float64
        One series per row; NaN marks a missing point (masked per series). [y unit]

    Returns
    -------
    OlsFit
        slope, intercept, r2, standard errors and the 95 % slope CI per series, equal to
        `scipy.stats.linregress` on the same points to ~1e-12 relative. Series with fewer
        than 3 points or zero x-variance give NaN.
    """
    x, y = _validate(x, y)
    ns = y.shape[0]
    slope = np.empty(ns)
    intercept = np.empty(ns)
    r2 = np.empty(ns)
    se_slope = np.empty(ns)
    se_inter = np.empty(ns)
    n_used = np.empty(ns, dtype=np.int64)
    kernel = _ols_kernel if y.size >= OLS_PARALLEL_MIN_VALUES else _ols_kernel_serial
    kernel(x, y, MIN_POINTS, slope, intercept, r2, se_slope, se_inter, n_used)
    tq = np.full(ns, np.nan)
    ok = n_used >= MIN_POINTS
    if ok.any():
        dofs, inverse = np.unique(n_used[ok] - 2, return_inverse=True)
        tq[ok] = np.array([_t975(int(d)) for d in dofs])[inverse]
    half = tq * se_slope
    return OlsFit(slope=slope, intercept=intercept, r2=r2, slope_stderr=se_slope,
                  intercept_stderr=se_inter, slope_ci95_low=slope - half,
                  slope_ci95_high=slope + half, n=n_used)


def fit_theil_sen_batch(x: np.ndarray, y: np.ndarray) -> RobustFit:
    """Theil–Sen line per series in one parallel pass (O(n_points²) pairs per series).

    Parameters
    ----------
    x : (n_points,) float64
        Shared abscissa, finite; need not be sorted, ties allowed. [x unit]
    y : (n_series, n_points) float64
        One series per row; NaN marks a missing point (masked per series). [y unit]

    Returns
    -------
    RobustFit
        Median pairwise slope, intercept median(y) - slope * median(x) and Sen's 95 % slope
        CI per series, identical to `scipy.stats.theilslopes(y, x, 0.95)` on the same points.
        Series with fewer than 3 points or all-equal x give NaN.
    """
    x, y = _validate(x, y)
    if x.size > 1 and np.any(x[1:] < x[:-1]):
        # the kernel pairs i < j with x[i] <= x[j]; a stable sort keeps every pair's slope value
        order = np.argsort(x, kind="stable")
        x = np.ascontiguousarray(x[order])
        y = np.ascontiguousarray(y[:, order])
    ns = y.shape[0]
    slope = np.empty(ns)
    intercept = np.empty(ns)
    lo = np.empty(ns)
    hi = np.empty(ns)
    n_used = np.empty(ns, dtype=np.int64)
    n_chunks = min(ns, 4 * numba.get_num_threads())
    theil_sen_batch_kernel(x, y, MIN_POINTS, _theilslopes_z(), n_chunks, slope, intercept, lo, hi, n_used)
    return RobustFit(slope=slope, intercept=intercept, slope_ci95_low=lo, slope_ci95_high=hi,
                     n=n_used)
