"""The robust trend fit against independent references: NumPy least squares, a plain Newey-West loop, known lines."""

from __future__ import annotations

import numpy as np
import pytest

from core.cells.trend_fit import fit_trends, newey_west_cov


def naive_newey_west(x, y, lag):
    """Textbook OLS slope and its Newey-West stderr, by explicit double loops over observed days."""
    ok = np.isfinite(y)
    xs, ys = x[ok], y[ok]
    design = np.column_stack([np.ones_like(xs), xs])
    beta = np.linalg.lstsq(design, ys, rcond=None)[0]
    e = ys - design @ beta
    n, k = design.shape
    meat = np.zeros((k, k))
    for i in range(n):
        for j in range(n):
            d = abs(xs[i] - xs[j])
            if d <= lag:
                meat += (1 - d / (lag + 1)) * e[i] * e[j] * np.outer(design[i], design[j])
    bread = np.linalg.inv(design.T @ design)
    cov = bread @ meat @ bread * n / (n - k)
    return beta[1], beta[0], np.sqrt(cov[1, 1])


@pytest.mark.parametrize("lag", [0, 3, 30])
def test_ols_path_equals_numpy_and_a_plain_newey_west(lag):
    rng = np.random.default_rng(lag)
    x = np.arange(200, dtype=float)
    ar = np.zeros(200)
    for t in range(1, 200):  # autocorrelated noise, as real SAT days are
        ar[t] = 0.8 * ar[t - 1] + rng.normal(0, 0.002)
    y = 3.45 + 2e-5 * x + ar
    y[rng.choice(200, 30, replace=False)] = np.nan  # missing days keep their calendar lag
    f = fit_trends(x, y[None, :], huber_k=None, lag_days=lag)
    slope, intercept, se = naive_newey_west(x, y, lag)
    np.testing.assert_allclose([f.slope[0], f.intercept[0]], [slope, intercept], rtol=1e-8)
    ok = np.isfinite(y)
    design = np.column_stack([np.ones(200), x]) * ok[:, None]
    resid = np.where(ok, y - (intercept + slope * x), 0.0)
    cov = newey_west_cov(design, resid[None, :], ok[None, :].astype(float), lag)
    np.testing.assert_allclose(np.sqrt(cov[0, 1, 1]), se, rtol=1e-8)
    # the reported stderr is the larger of Newey-West and the block bootstrap
    assert f.slope_se[0] >= se * (1 - 1e-12)
    assert f.n[0] == 170
    np.testing.assert_allclose(f.ci95_high[0] - f.ci95_low[0], 2 * 1.959963984540054 * f.slope_se[0], rtol=1e-8)


def test_huber_ignores_outlier_days_and_never_sticks_to_zero_on_quantised_data():
    rng = np.random.default_rng(5)
    x = np.arange(600, dtype=float)
    clean = 3.45 + 3e-6 * x + rng.normal(0, 0.0008, 600)
    spiky = clean.copy()
    spiky[rng.choice(600, 20, replace=False)] += 0.05  # outlier days, all upwards
    quant = np.round(clean, 3)  # 1 mV BMS resolution: mostly ties between days
    f = fit_trends(x, np.vstack([clean, spiky, quant]))
    ols = fit_trends(x, np.vstack([clean, spiky]), huber_k=None)
    assert abs(f.slope[1] - 3e-6) < 1e-6 < abs(ols.slope[1] - 3e-6)  # least squares is pulled by the outliers
    assert f.slope[2] != 0.0 and abs(f.slope[2] - 3e-6) < 1e-6


def test_level_steps_are_not_smeared_into_the_slope():
    x = np.arange(400, dtype=float)
    y = 0.001 + 1e-5 * x + np.where(x >= 150, -0.015, 0.0)
    f = fit_trends(x, np.vstack([y, y]), steps_x=[np.array([150.0]), np.empty(0)], huber_k=None)
    assert abs(f.slope[0] - 1e-5) < 1e-12
    assert abs(f.slope[1] - 1e-5) > 1e-5  # without the step term the slope is wrong


def test_covariate_takes_out_what_follows_the_system_level():
    rng = np.random.default_rng(2)
    x = np.arange(500, dtype=float)
    level = np.repeat(rng.normal(0, 0.02, 10), 50)  # month-long level shifts
    y = 2e-6 * x + 0.4 * level + rng.normal(0, 0.0005, 500)  # a cell that spreads with the level
    with_cov = fit_trends(x, y[None, :], covariate=level)
    without = fit_trends(x, y[None, :])
    assert abs(with_cov.slope[0] - 2e-6) < abs(without.slope[0] - 2e-6)
    assert abs(with_cov.slope[0] - 2e-6) < 1e-6


def test_too_few_points_give_nan_and_bad_input_is_named():
    x = np.arange(50, dtype=float)
    y = np.full((2, 50), np.nan)
    y[1, :5] = 1.0
    f = fit_trends(x, y)
    assert np.isnan(f.slope).all() and list(f.n) == [0, 5]
    with pytest.raises(ValueError, match="one column per calendar day"):
        fit_trends(x * 2, y)
    with pytest.raises(ValueError, match="n_days"):
        fit_trends(x, y[:, :10])
    with pytest.raises(ValueError, match="lag_days"):
        fit_trends(x, y, lag_days=-1)
    with pytest.raises(ValueError, match="steps_x"):
        fit_trends(x, y, steps_x=[np.empty(0)])
