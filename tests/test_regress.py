"""Batched OLS and Theil–Sen fits against scipy.stats, on random data and on real SAT data."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from core.kernels import OlsFit, RobustFit, fit_ols_batch, fit_theil_sen_batch
from core.kernels.reference import fit_ols_reference, fit_theil_sen_reference
from tests.reference_data import REFERENCE  # ../shared/reference beside the repository

OLS_FIELDS = ["slope", "intercept", "r2", "slope_stderr", "intercept_stderr", "slope_ci95_low",
              "slope_ci95_high"]
ROBUST_FIELDS = ["slope", "intercept", "slope_ci95_low", "slope_ci95_high"]


def _theil_reference(x, y):
    with warnings.catch_warnings():  # theilslopes warns on negative variance (heavy ties)
        warnings.simplefilter("ignore", RuntimeWarning)
        return fit_theil_sen_reference(x, y)


def _assert_ols(fit: OlsFit, x, y):
    want = fit_ols_reference(x, y)
    np.testing.assert_array_equal(fit.n, want["n"])
    assert fit.n.dtype == np.int64
    for f in OLS_FIELDS:
        np.testing.assert_allclose(getattr(fit, f), want[f], rtol=1e-9, atol=0, err_msg=f)


def _assert_robust(fit: RobustFit, x, y):
    want = _theil_reference(x, y)
    np.testing.assert_array_equal(fit.n, want["n"])
    for f in ROBUST_FIELDS:
        np.testing.assert_array_equal(getattr(fit, f), want[f], err_msg=f)  # exact


def _random(n_series, n_points, seed_, nan_frac=0.1, decimals=None):
    rng = np.random.default_rng(seed_)
    x = np.arange(n_points, dtype=float) + rng.normal(0, 0.2, n_points)
    y = 3.4 + rng.normal(1e-4, 1e-4, (n_series, 1)) * x + rng.normal(0, 0.01, (n_series, n_points))
    if decimals is not None:
        y = np.round(y, decimals)
    y[rng.random(y.shape) < nan_frac] = np.nan
    return x, y


@pytest.mark.parametrize(("n_series", "n_points", "nan_frac"), [(40, 600, 0.1), (7, 30, 0.5), (3, 5, 0.0)])
def test_ols_matches_linregress(n_series, n_points, nan_frac):
    x, y = _random(n_series, n_points, n_points, nan_frac)
    _assert_ols(fit_ols_batch(x, y), x, y)


@pytest.mark.parametrize(("n_series", "n_points", "decimals"), [(12, 600, 3), (12, 600, None), (9, 40, 2)])
def test_theil_sen_matches_theilslopes_exactly(n_series, n_points, decimals):
    x, y = _random(n_series, n_points, 7 + n_points, 0.1, decimals)
    _assert_robust(fit_theil_sen_batch(x, y), x, y)


def test_unsorted_x_with_ties():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 60, 300).astype(float)  # unsorted, many equal x
    y = np.round(0.01 * x + rng.normal(0, 0.3, (5, 300)), 1)
    y[rng.random(y.shape) < 0.2] = np.nan
    _assert_robust(fit_theil_sen_batch(x, y), x, y)
    _assert_ols(fit_ols_batch(x, y), x, y)


def test_degenerate_series_give_nan():
    x = np.array([0.0, 1, 2, 3, 4])
    y = np.array([[1.0, np.nan, np.nan, np.nan, 2.0],   # 2 points
                  [np.nan] * 5,                          # none
                  [1.0, 2.0, 2.5, 3.5, 5.0]])           # fine
    for fit in (fit_ols_batch(x, y), fit_theil_sen_batch(x, y)):
        np.testing.assert_array_equal(fit.n, [2, 0, 5])
        assert np.isnan(fit.slope[:2]).all() and np.isfinite(fit.slope[2])
    same_x = np.zeros(5)
    assert np.isnan(fit_ols_batch(same_x, y).slope).all()
    assert np.isnan(fit_theil_sen_batch(same_x, y).slope).all()
    empty = fit_ols_batch(x, np.empty((0, 5)))
    assert empty.slope.shape == (0,)


def test_constant_series_follows_linregress():
    x = np.arange(10.0)
    y = np.full((1, 10), 3.3)
    fit = fit_ols_batch(x, y)
    assert fit.slope[0] == 0.0 and np.isnan(fit.r2[0]) and np.isnan(fit.slope_stderr[0])
    _assert_robust(fit_theil_sen_batch(x, y), x, y)


@pytest.mark.parametrize(("x", "y", "match"), [
    (np.arange(5.0), np.arange(5.0), "y must be 2-D"),
    (np.arange(5.0).reshape(1, 5), np.ones((2, 5)), "x must be 1-D"),
    (np.arange(4.0), np.ones((2, 5)), "5 points per series but x has 4"),
    (np.array([0, 1, np.nan, 3, 4]), np.ones((2, 5)), "x must be finite"),
    (np.arange(5.0), np.array([[1, 2, np.inf, 4, 5.0]]), "inf"),
    (np.arange(5.0), np.array([list("abcde")]), "numeric"),
])
def test_bad_input_raises_naming_the_argument(x, y, match):
    for fit in (fit_ols_batch, fit_theil_sen_batch):
        with pytest.raises(ValueError, match=match):
            fit(x, y)


@seed(4242)
@settings(max_examples=40, deadline=None, derandomize=True)
@given(n_series=st.integers(1, 6), n_points=st.integers(0, 120), data_seed=st.integers(0, 2**16),
       decimals=st.sampled_from([0, 1, 3]), nan_frac=st.sampled_from([0.0, 0.3, 0.95]))
def test_property_fits_match_scipy(n_series, n_points, data_seed, decimals, nan_frac):
    rng = np.random.default_rng(data_seed)
    x = np.round(rng.uniform(0, 50, n_points), decimals)
    y = np.round(rng.normal(0, 1, (n_series, n_points)) + 0.05 * x, decimals)
    y[rng.random(y.shape) < nan_frac] = np.nan
    _assert_robust(fit_theil_sen_batch(x, y), x, y)
    fit = fit_ols_batch(x, y)
    want = fit_ols_reference(x, y)
    np.testing.assert_array_equal(fit.n, want["n"])
    for f in ("slope", "intercept"):
        np.testing.assert_allclose(getattr(fit, f), want[f], rtol=1e-8, atol=1e-12, err_msg=f)


def _sat_matrix(path: Path) -> tuple[np.ndarray, np.ndarray]:
    import polars as pl

    df = pl.read_csv(path, try_parse_dates=True)
    days = (df["date"] - df["date"].min()).dt.total_days().to_numpy().astype(float)
    cells = (df["pack"] * 1000 + df["cell"]).to_numpy()
    ucells, ci = np.unique(cells, return_inverse=True)
    x = np.arange(days.max() + 1)
    y = np.full((len(ucells), len(x)), np.nan)
    y[ci, days.astype(int)] = df["sat_voltage_v"].to_numpy()
    return x, y


@pytest.mark.parametrize("path", sorted(REFERENCE.glob("*.csv")), ids=lambda p: p.stem)
def test_real_sat_data_per_cell(path):
    x, y = _sat_matrix(path)
    assert y.shape[0] == 5 and np.isfinite(y).sum(axis=1).min() > 500
    _assert_ols(fit_ols_batch(x, y), x, y)
    _assert_robust(fit_theil_sen_batch(x, y), x, y)
    # the units make sense: SAT drift is tiny, in volts per day
    assert np.all(np.abs(fit_theil_sen_batch(x, y).slope) < 1e-3)


def test_parallel_and_serial_ols_kernels_agree():
    from core.kernels import regress

    x, y = _random(50, 200, 99)
    outs = []
    for kernel in (regress._ols_kernel, regress._ols_kernel_serial):
        arrs = [np.empty(50) for _ in range(5)] + [np.empty(50, dtype=np.int64)]
        kernel(x, y, regress.MIN_POINTS, *arrs)
        outs.append(arrs)
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


def test_theil_sen_sampled_bracket_with_tied_x_and_heavy_ties_in_y():
    rng = np.random.default_rng(8)
    x = np.repeat(np.arange(200.0), 3)[rng.permutation(600)]  # > SMALL_PAIRS pairs, tied x
    y = np.round(3.4 + 2e-4 * x + rng.normal(0, 0.002, (4, 600)), 3)
    y[rng.random(y.shape) < 0.05] = np.nan
    _assert_robust(fit_theil_sen_batch(x, y), x, y)


@pytest.mark.parametrize("n", [1, 2, 24, 25, 1000, 20_011])
def test_select_ranks_equals_sorting(n):
    from core.kernels.theil_sen import _select_ranks

    rng = np.random.default_rng(n)
    for values in (rng.normal(size=n), np.round(rng.normal(size=n), 1), np.zeros(n)):
        want = np.sort(values)
        for ranks in ([0], [n - 1], [0, n // 2, n // 2, n - 1], [n // 3, (n - 1) // 2, n // 2, n - 1]):
            ranks = np.asarray(ranks, dtype=np.int64)
            out = np.empty(len(ranks))
            _select_ranks(values.copy(), np.empty(n), n, ranks, out)
            np.testing.assert_array_equal(out, want[ranks])
