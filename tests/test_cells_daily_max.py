"""daily_max_matrix (Numba) against its NumPy reference, and the long-to-matrix helper."""

from __future__ import annotations

import numpy as np
import pytest

from core.cells import daily_max_from_long, daily_max_matrix, daily_max_matrix_reference


@pytest.mark.parametrize("n_cells,n_days,n_samples", [(1, 1, 1), (3, 7, 50), (260, 30, 20_000), (5, 11, 0),
                                                      (17, 3, 1_001)])
@pytest.mark.parametrize("nan_share", [0.0, 0.3, 1.0])
def test_kernel_equals_reference(n_cells, n_days, n_samples, nan_share):
    rng = np.random.default_rng(n_cells * 1000 + n_days + int(nan_share * 10))
    ci = rng.integers(0, n_cells, n_samples)
    di = rng.integers(0, n_days, n_samples)
    v = rng.uniform(3.0, 3.6, n_samples)
    v[rng.random(n_samples) < nan_share] = np.nan
    got = daily_max_matrix(ci, di, v, n_cells, n_days)
    want = daily_max_matrix_reference(ci, di, v, n_cells, n_days)
    assert got.shape == (n_cells, n_days)
    np.testing.assert_array_equal(got, want)


def test_sorted_runs_with_a_later_revisit_equal_the_reference():
    """Exports come sorted by cell then time (runs of one (cell, day)); a run may also come back."""
    rng = np.random.default_rng(3)
    ci = np.repeat(np.arange(4), 300)
    di = np.tile(np.repeat(np.arange(10), 30), 4)
    v = rng.uniform(3.0, 3.6, ci.size)
    v[::7] = np.nan
    ci = np.concatenate([ci, [2, 0]])  # revisits of (2, 5) and (0, 0) after their runs ended
    di = np.concatenate([di, [5, 0]])
    v = np.concatenate([v, [3.9, 2.0]])
    np.testing.assert_array_equal(daily_max_matrix(ci, di, v, 4, 10), daily_max_matrix_reference(ci, di, v, 4, 10))


def test_values_by_hand():
    ci = np.array([0, 0, 0, 1, 1])
    di = np.array([0, 0, 1, 1, 1])
    v = np.array([3.40, 3.45, np.nan, 3.2, 3.1])
    got = daily_max_matrix(ci, di, v, 2, 3)
    np.testing.assert_array_equal(got, [[3.45, np.nan, np.nan], [np.nan, 3.2, np.nan]])


def test_nan_first_does_not_hide_a_later_value():
    got = daily_max_matrix(np.array([0, 0]), np.array([0, 0]), np.array([np.nan, 3.3]), 1, 1)
    assert got[0, 0] == 3.3


@pytest.mark.parametrize("ci,di,v,msg", [
    ([0, 2], [0, 0], [3.0, 3.0], "cell_index must lie in 0..1"),
    ([0, 1], [0, -1], [3.0, 3.0], "day_index must lie"),
    ([0, 1], [0, 0], [3.0], "one length"),
    ([0.0, 1.0], [0, 0], [3.0, 3.0], "cell_index must be integer"),
    ([0, 1], [0, 0], [3.0, np.inf], "inf"),
    ([0, 1, 5], [0, 0, 0], [3.0, 3.0, 3.0], "got 5 at position 2"),
])
def test_validation(ci, di, v, msg):
    with pytest.raises(ValueError, match=msg):
        daily_max_matrix(np.array(ci), np.array(di), np.array(v), 2, 1)
    with pytest.raises(ValueError, match=msg):
        daily_max_matrix_reference(np.array(ci), np.array(di), np.array(v), 2, 1)


def test_from_long_sorts_rows_and_fills_the_calendar():
    packs = np.array([2, 1, 1, 2, 1])
    cells = np.array([1, 2, 1, 1, 2])
    days = np.array(["2024-01-03", "2024-01-01", "2024-01-01", "2024-01-03", "2024-01-01"], dtype="datetime64[D]")
    v = np.array([3.41, 3.44, 3.43, 3.47, 3.46])
    dm = daily_max_from_long(packs, cells, days, v)
    assert dm.packs.tolist() == [1, 1, 2] and dm.cells.tolist() == [1, 2, 1]
    assert dm.days.tolist() == np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="datetime64[D]").tolist()
    np.testing.assert_array_equal(dm.voltage_v, [[3.43, np.nan, np.nan], [3.46, np.nan, np.nan],
                                                 [np.nan, np.nan, 3.47]])
    with pytest.raises(ValueError, match="no rows"):
        daily_max_from_long(packs[:0], cells[:0], days[:0], v[:0])
