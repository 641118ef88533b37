"""Robust daily trends with honest intervals: Huber line with level steps, Newey-West (HAC) standard errors.

Why not the plain fits for drift:

- Day-to-day SAT values are autocorrelated (charge end, temperature and set-point move for
  weeks), so the textbook standard error, which assumes independent days, is 3-4x too small
  on the real reference systems. The slope's standard error is the larger of two that allow
  for it: Newey-West (Bartlett kernel over `lag_days` = 30 calendar days, the time scale of
  the real level shifts; it allows days of unequal noise) and a 30-day moving-block bootstrap
  of the residuals (it follows memory longer than the kernel's, which Newey-West alone
  underestimated by up to 30 % on one reference cell). On both reference systems the 95 %
  widths are 0.8-1.5x those of a full refitting block bootstrap (tests/test_cells_drift.py).
- Theil-Sen on 1-mV-quantised data ties: many pairs have equal values, and the median slope
  lands on exactly 0 for quiet real cells. The Huber M-estimator (k = 1.345 robust sd,
  iteratively reweighted least squares) is as robust to outlier days but continuous in the
  data, so it never sticks to 0.
- A pack event is a level step: each event adds one level term (the slope is shared), so a
  step is neither smeared into the slope nor does it hide the drift before and after it.

x is "days since the first column" (calendar days, so gaps in the record keep their length),
y holds NaN where there is no value. Rows are fitted one by one; 260 cells x 600 days take
tens of milliseconds, and the result is cached with the store version by the query service.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.cells._robust import MAD_TO_SD, readonly

HAC_LAG_DAYS = 30
BOOT_BLOCK_DAYS = 30
BOOT_RESAMPLES = 200
BOOT_SEED = 20231006
HUBER_K = 1.345
MIN_POINTS = 10
_IRLS_ITERATIONS = 50
_IRLS_TOL = 1e-10
_Z975 = 1.959963984540054
# A residual scale below a tenth of the 1 mV BMS resolution would weight quantisation as outliers.
_MIN_SCALE = 1e-4


@dataclass(frozen=True)
class TrendFits:
    """Per-row line y = intercept + slope * x (+ level steps); arrays (n_rows,), NaN where a row has too few points."""

    slope: np.ndarray
    """Huber slope [y unit / day]."""
    intercept: np.ndarray
    """Line value at x = 0, on the level of the last segment [y unit]."""
    slope_se: np.ndarray
    """Newey-West (HAC) standard error of the slope [y unit / day]."""
    ci95_low: np.ndarray
    ci95_high: np.ndarray
    n: np.ndarray
    """int64, points used."""
    lag_days: int
    covariate_used: np.ndarray
    """bool: the row kept the covariate (it explained the row: |t| >= covariate_min_t)."""


def newey_west_cov(design: np.ndarray, residual: np.ndarray, weight: np.ndarray, lag_days: int) -> np.ndarray:
    """HAC covariance of weighted least-squares coefficients, batched over rows on a calendar grid.

    ``design`` is (n_days, k), ``residual`` and ``weight`` are (n_rows, n_days) with weight 0 on
    days without a value. The score of day t is u_t = w_t * e_t * X_t; the long-run covariance
    sums u_t u_{t-l}' with Bartlett weights 1 - l / (L + 1) over calendar lags l <= L, times the
    small-sample factor n / (n - k) that most HAC software applies. Returns (n_rows, k, k).
    """
    xw = weight[:, :, None] * design[None, :, :]
    bread = np.linalg.pinv(xw.transpose(0, 2, 1) @ design)
    u = xw * residual[:, :, None]
    ut = u.transpose(0, 2, 1)
    meat = ut @ u
    for lag in range(1, min(lag_days, design.shape[0] - 1) + 1):
        g = ut[:, :, lag:] @ u[:, :-lag]
        meat += (1.0 - lag / (lag_days + 1.0)) * (g + g.transpose(0, 2, 1))
    cov = bread @ meat @ bread
    n = (weight > 0).sum(axis=1)
    k = design.shape[1]
    return cov * (n / np.maximum(n - k, 1))[:, None, None]


def block_bootstrap_slope_se(design: np.ndarray, residual: np.ndarray, weight: np.ndarray, ok: np.ndarray, *,
                             block_days: int = BOOT_BLOCK_DAYS, resamples: int = BOOT_RESAMPLES,
                             seed: int = BOOT_SEED) -> np.ndarray:
    """Moving-block bootstrap stderr of the slope (column 1), per row, without refitting.

    The Huber estimate moves linearly with its clipped residuals psi(e) = w e: slope* - slope
    = c . psi(e*), c the slope row of (X'DX)^-1 X' with D the days inside the clip (where psi
    has slope 1). Blocks of `block_days` calendar days of psi(e), drawn with replacement
    (circularly, the same draws for every row), give the bootstrap slopes. Days without a
    value carry 0 and are scaled out. Seeded: the same data give the same interval.
    """
    n = design.shape[0]
    inside = (ok & (weight >= 1.0)).astype(np.float64)
    x_ok_t = (ok[:, :, None] * design[None, :, :]).transpose(0, 2, 1)
    x_in_t = (inside[:, :, None] * design[None, :, :]).transpose(0, 2, 1)
    c = (np.linalg.pinv(x_in_t @ design) @ x_ok_t)[:, 1, :]
    residual = residual * weight
    rng = np.random.default_rng(seed)
    n_blocks = -(-n // block_days)
    draws = np.empty((resamples, residual.shape[0]))
    for b in range(resamples):
        starts = rng.integers(0, n, size=n_blocks)
        idx = ((starts[:, None] + np.arange(block_days)[None, :]).ravel()[:n]) % n
        draws[b] = (c * residual[:, idx]).sum(axis=1)
    share = np.maximum(ok.sum(axis=1), 1) / n  # resampled empty days carry no residual
    return draws.std(axis=0, ddof=1) / np.sqrt(share)


def _row_nanmedian(a: np.ndarray) -> np.ndarray:
    """Median of the finite values of each row (NaN for rows without any), by one sort: np.nanmedian
    loops in Python over rows and took seconds in the IRLS loop."""
    s = np.sort(a, axis=1)  # NaN sorts last
    n = np.isfinite(a).sum(axis=1)
    lo = np.clip((n - 1) // 2, 0, None)
    hi = np.clip(n // 2, 0, None)
    rows = np.arange(a.shape[0])
    med = 0.5 * (s[rows, lo] + s[rows, hi])
    return np.where(n > 0, med, np.nan)


def _design(x: np.ndarray, steps: np.ndarray, covariate: np.ndarray | None) -> np.ndarray:
    """Columns: 1, x, the covariate (if any), then one 0/1 level column per step (1 before the step),
    so the intercept is the level of the last segment."""
    cols = [np.ones_like(x), x]
    if covariate is not None:
        cols.append(covariate)
    cols += [(x < s).astype(np.float64) for s in steps]
    return np.column_stack(cols)


def _fit_group(design: np.ndarray, y: np.ndarray, lag_days: int, huber_k: float | None,
               bootstrap: bool = True) -> np.ndarray:
    """(slope, intercept, stderr) x rows of one design shared by all rows; y NaN = no value."""
    ok = np.isfinite(y) & np.isfinite(design).all(axis=1)[None, :]
    d = np.where(np.isfinite(design), design, 0.0)
    yy = np.where(ok, y, 0.0)
    w = ok.astype(np.float64)

    def solve(weights: np.ndarray) -> np.ndarray:
        xw_t = (weights[:, :, None] * d[None, :, :]).transpose(0, 2, 1)
        a = xw_t @ d
        b = (xw_t @ yy[:, :, None])[:, :, 0]
        return (np.linalg.pinv(a) @ b[:, :, None])[:, :, 0]

    beta = solve(w)
    if huber_k is not None:
        for _ in range(_IRLS_ITERATIONS):
            r = np.where(ok, yy - beta @ d.T, np.nan)
            med = _row_nanmedian(r)[:, None]
            scale = np.fmax(MAD_TO_SD * _row_nanmedian(np.abs(r - med)), _MIN_SCALE)[:, None]
            a = np.abs(np.nan_to_num(r))
            hw = np.where(a <= huber_k * scale, 1.0, huber_k * scale / np.maximum(a, 1e-300))
            new = solve(np.where(ok, hw, 0.0))
            done = np.nanmax(np.abs(new - beta)) < _IRLS_TOL if np.isfinite(new).any() else True
            beta, w = new, np.where(ok, hw, 0.0)
            if done:
                break
    resid = np.where(ok, yy - beta @ d.T, 0.0)
    cov = newey_west_cov(d, resid, w, lag_days)
    se = np.sqrt(np.maximum(np.diagonal(cov, axis1=1, axis2=2), 0.0))
    if bootstrap:
        se[:, 1] = np.fmax(se[:, 1], block_bootstrap_slope_se(d, resid, w, ok))
    # rows: slope, intercept, slope stderr, t of column 2 (the covariate, when there is one)
    with np.errstate(divide="ignore", invalid="ignore"):
        t2 = beta[:, 2] / se[:, 2] if d.shape[1] > 2 else np.full(beta.shape[0], np.nan)
    return np.vstack([beta[:, 1], beta[:, 0], se[:, 1], t2])


def fit_trends(x_days: np.ndarray, y: np.ndarray, *, steps_x: list[np.ndarray] | None = None,
               covariate: np.ndarray | None = None, covariate_min_t: float = 3.0, bootstrap: bool = True,
               lag_days: int = HAC_LAG_DAYS, huber_k: float | None = HUBER_K) -> TrendFits:
    """Fit every row of y (n_rows, n_days) on x_days (n_days,), consecutive calendar days.

    Parameters
    ----------
    x_days : (n_days,) float
        Days since the first column; must be 0, 1, 2, ... (one column per calendar day) so that
        HAC lags are calendar lags. [day]
    y : (n_rows, n_days) float
        Values, NaN = none.
    steps_x : list of arrays, optional
        Per row, the x of level steps (the first day at the new level).
    lag_days : int
        Bartlett bandwidth of the Newey-West estimator. [day]
    covariate : (n_days,) float, optional
        One more regressor shared by all rows (centred inside), e.g. the system SAT level. A row
        keeps it only when its HAC t-value reaches `covariate_min_t`, else it is refitted without.
    covariate_min_t : float
        See `covariate`. [1]
    bootstrap : bool
        False leaves out the block bootstrap (Newey-West alone), for callers that resample themselves.
    huber_k : float or None
        Huber threshold in robust sd; None gives ordinary least squares.
    """
    x = np.asarray(x_days, dtype=np.float64)
    yy = np.asarray(y, dtype=np.float64)
    if yy.ndim != 2 or x.shape != (yy.shape[1],):
        raise ValueError(f"y must be (n_rows, n_days) with n_days = len(x_days) = {x.shape}, got {yy.shape}")
    if x.size and not np.array_equal(x, np.arange(x.size, dtype=np.float64)):
        raise ValueError("x_days must be 0, 1, 2, ...: one column per calendar day")
    if int(lag_days) != lag_days or lag_days < 0:
        raise ValueError(f"lag_days must be a non-negative integer, got {lag_days}")
    if huber_k is not None and not huber_k > 0:
        raise ValueError(f"huber_k must be > 0 or None, got {huber_k}")
    if steps_x is not None and len(steps_x) != yy.shape[0]:
        raise ValueError(f"steps_x must hold one array per row ({yy.shape[0]}), got {len(steps_x)}")
    cov = None
    if covariate is not None:
        cov = np.asarray(covariate, dtype=np.float64)
        if cov.shape != x.shape:
            raise ValueError(f"covariate must have shape {x.shape}, got {cov.shape}")
        if np.isfinite(cov).any():
            cov = cov - np.nanmean(cov)
    n_rows = yy.shape[0]
    out = np.full((4, n_rows), np.nan)
    counts = (np.isfinite(yy) & (np.isfinite(cov)[None, :] if cov is not None else True)).sum(axis=1)
    groups: dict[tuple[float, ...], list[int]] = {}
    for i in range(n_rows):
        if counts[i] < MIN_POINTS:
            continue
        st = () if steps_x is None else tuple(sorted(float(v) for v in np.asarray(steps_x[i], dtype=np.float64)))
        groups.setdefault(st, []).append(i)
    for st, rows in groups.items():
        rows_a = np.asarray(rows)
        sub = yy[rows_a]
        if cov is not None:
            sub = np.where(np.isfinite(cov)[None, :], sub, np.nan)
        # a step needs points on both sides in every row of the group, else its column is singular
        has = np.isfinite(sub)
        kept = np.asarray([s_ for s_ in st if (has[:, x < s_].sum(axis=1) >= 2).all()
                           and (has[:, x >= s_].sum(axis=1) >= 2).all()], dtype=np.float64)
        design = _design(x, kept, None if cov is None else np.where(np.isfinite(cov), cov, 0.0))
        got = _fit_group(design, sub, int(lag_days), huber_k, bootstrap)
        if cov is not None:
            # keep the covariate only where it explains something: otherwise it adds noise, and a
            # change of the covariate alone (a new system component) would move the slope
            weak = ~(np.abs(got[3]) >= covariate_min_t)
            if weak.any():
                plain = _design(x, kept, None)
                got[:3, weak] = _fit_group(plain, yy[rows_a[weak]], int(lag_days), huber_k, bootstrap)[:3]
                got[3, weak] = np.nan
        out[:, rows_a] = got
    counts = counts.astype(np.int64)
    slope, intercept, se = out[0], out[1], out[2]
    fits = TrendFits(slope=slope, intercept=intercept, slope_se=se, ci95_low=slope - _Z975 * se,
                     ci95_high=slope + _Z975 * se, n=counts, lag_days=int(lag_days),
                     covariate_used=np.isfinite(out[3]))
    readonly(fits.slope, fits.intercept, fits.slope_se, fits.ci95_low, fits.ci95_high, fits.n, fits.covariate_used)
    return fits
