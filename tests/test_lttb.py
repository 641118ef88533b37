"""LTTB and MinMaxLTTB kernels against the NumPy reference, tsdownsample, and on awkward inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from core.kernels import lttb_indices, minmax_lttb_indices
from core.kernels.reference import lttb_indices_reference, minmax_lttb_indices_reference


def _data(n: int, seed_: int, irregular: bool = True) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed_)
    x = np.cumsum(rng.exponential(1.0, n)) if irregular else np.arange(n, dtype=float)
    return x, np.cumsum(rng.normal(size=n))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 100, 1001])
@pytest.mark.parametrize("n_out", [3, 5, 99, "n", "n+5"])
def test_kernel_equals_reference_on_awkward_sizes(n, n_out):
    n_out = {"n": max(n, 3), "n+5": n + 5}.get(n_out, n_out)
    x, y = _data(n, 11)
    got = lttb_indices(x, y, n_out)
    want = lttb_indices_reference(x, y, n_out)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)
    if n_out >= n:
        np.testing.assert_array_equal(got, np.arange(n))
    else:
        assert len(got) == n_out and got[0] == 0 and got[-1] == n - 1
        assert np.all(np.diff(got) > 0)


@pytest.mark.parametrize(("n", "n_out"), [(1000, 100), (10_007, 333), (100_000, 2000), (1001, 3)])
def test_same_indices_as_tsdownsample_lttb(n, n_out):
    tsd = pytest.importorskip("tsdownsample")
    x, y = _data(n, n_out)
    want = tsd.LTTBDownsampler().downsample(x, y, n_out=n_out)
    np.testing.assert_array_equal(lttb_indices(x, y, n_out), want)


def test_nan_points_are_never_chosen_unless_the_bucket_is_all_nan():
    x, y = _data(1000, 3)
    y[::7] = np.nan
    y[500:520] = np.nan  # bucket(s) 50..51 of width ~10 are all NaN
    got = lttb_indices(x, y, 100)
    np.testing.assert_array_equal(got, lttb_indices_reference(x, y, 100))
    inner = got[1:-1]
    nan_chosen = inner[np.isnan(y[inner])]
    assert nan_chosen.size > 0
    assert np.all((nan_chosen >= 500) & (nan_chosen < 520))
    assert np.all(np.diff(got) > 0)


def test_all_nan_and_nan_endpoints():
    x = np.arange(50.0)
    y = np.full(50, np.nan)
    np.testing.assert_array_equal(lttb_indices(x, y, 5), lttb_indices_reference(x, y, 5))
    y = np.sin(x)
    y[0] = np.nan
    np.testing.assert_array_equal(lttb_indices(x, y, 7), lttb_indices_reference(x, y, 7))


def test_irregular_steps_and_repeated_x():
    x = np.repeat(np.arange(100.0), 3)
    y = np.cos(x / 5) + np.arange(300) * 1e-3
    np.testing.assert_array_equal(lttb_indices(x, y, 37), lttb_indices_reference(x, y, 37))


def test_datetime_and_int_inputs():
    t = np.arange("2024-01-01", "2024-01-11", dtype="datetime64[h]")
    y = np.sin(np.arange(t.size))
    got = lttb_indices(t, y, 20)
    np.testing.assert_array_equal(got, lttb_indices_reference(t.astype("datetime64[ns]").astype(np.int64),
                                                              y, 20))


@pytest.mark.parametrize(("x", "y", "n_out", "match"), [
    (np.arange(10.0), np.arange(10.0), 2, "n_out"),
    (np.arange(10.0), np.arange(9.0), 4, "same length"),
    (np.arange(10.0).reshape(2, 5), np.arange(10.0).reshape(2, 5), 4, "1-D"),
    (np.array([0.0, 1, 3, 2, 4, 5, 6, 7]), np.arange(8.0), 4, r"x\[3\]"),
    (np.array([0.0, 1, 2, np.nan, 4, 5, 6, 7]), np.arange(8.0), 4, "NaN"),
    (np.array([0.0, 1, 3, 2]), np.arange(4.0), 10, r"x\[3\]"),
    (np.arange(4.0), np.array(list("abcd")), 3, "numeric"),
    (np.arange(10.0), np.arange(10.0), 4.5, "integer"),
])
def test_bad_input_raises_naming_the_argument(x, y, n_out, match):
    with pytest.raises(ValueError, match=match):
        lttb_indices(x, y, n_out)


@seed(20240611)
@settings(max_examples=60, deadline=None, derandomize=True)
@given(n=st.integers(0, 400), n_out=st.integers(3, 450), data_seed=st.integers(0, 2**16),
       nan_frac=st.sampled_from([0.0, 0.1, 0.9]), ties=st.booleans())
def test_property_kernel_equals_reference(n, n_out, data_seed, nan_frac, ties):
    rng = np.random.default_rng(data_seed)
    x = np.sort(rng.integers(0, max(n // 3, 1), n)).astype(float) if ties else \
        np.cumsum(rng.exponential(1.0, n))
    y = np.round(rng.normal(size=n), 1)
    y[rng.random(n) < nan_frac] = np.nan
    got = lttb_indices(x, y, n_out)
    np.testing.assert_array_equal(got, lttb_indices_reference(x, y, n_out))
    assert len(got) == min(n, n_out) and np.all(np.diff(got) > 0)


# ---- MinMaxLTTB

@pytest.mark.parametrize(("n", "n_out", "ratio"), [(0, 3, 4), (5, 3, 4), (1000, 10, 4), (10_007, 33, 4),
                                                    (100_003, 200, 4), (50_000, 100, 2), (1001, 99, 4)])
def test_minmax_kernel_equals_reference(n, n_out, ratio):
    x, y = _data(n, 5)
    got = minmax_lttb_indices(x, y, n_out, minmax_ratio=ratio)
    np.testing.assert_array_equal(got, minmax_lttb_indices_reference(x, y, n_out, ratio))
    if n > n_out:
        assert len(got) == n_out and got[0] == 0 and got[-1] == n - 1
        assert np.all(np.diff(got) > 0)


def test_minmax_equals_lttb_when_preselection_keeps_everything():
    x, y = _data(1000, 8)
    # n // n_out = 4 is not above the ratio, so no preselection happens
    np.testing.assert_array_equal(minmax_lttb_indices(x, y, 250), lttb_indices(x, y, 250))
    # chunks of one or two points: min and max keep every point
    x, y = _data(402, 9)
    np.testing.assert_array_equal(minmax_lttb_indices(x, y, 50, minmax_ratio=8), lttb_indices(x, y, 50))


@pytest.mark.parametrize(("n", "n_out"), [(10_000, 100), (1_000_003, 2000), (77_777, 500)])
def test_minmax_same_as_tsdownsample_on_regular_x(n, n_out):
    tsd = pytest.importorskip("tsdownsample")
    x, y = _data(n, n_out, irregular=False)
    want = tsd.MinMaxLTTBDownsampler().downsample(x, y, n_out=n_out, parallel=True)
    np.testing.assert_array_equal(minmax_lttb_indices(x, y, n_out), want)


def test_minmax_is_subset_with_nan_and_flat_segments():
    x, y = _data(20_000, 4)
    y[1000:3000] = 1.0  # flat: min and max are one point there
    y[5000:5100] = np.nan
    got = minmax_lttb_indices(x, y, 100)
    np.testing.assert_array_equal(got, minmax_lttb_indices_reference(x, y, 100))
    assert got[0] == 0 and got[-1] == len(x) - 1 and np.all(np.diff(got) > 0)


def test_minmax_rejects_bad_ratio_and_decreasing_x():
    x, y = _data(1000, 1)
    with pytest.raises(ValueError, match="minmax_ratio"):
        minmax_lttb_indices(x, y, 10, minmax_ratio=1)
    with pytest.raises(ValueError, match="x must be non-decreasing"):
        minmax_lttb_indices(x[::-1].copy(), y, 10)


def test_x_order_violation_is_found_at_every_position():
    # the one-pass kernel checks x bucket by bucket: the first bucket, boundaries, the tail
    n = 61
    for n_out in (3, 7, 60):
        for j in range(1, n):
            x = np.arange(n, dtype=float)
            x[j] = x[j - 1] - 0.5
            with pytest.raises(ValueError, match=rf"x\[{j}\] ="):
                lttb_indices(x, np.zeros(n), n_out)
            x[j] = np.nan
            with pytest.raises(ValueError, match=rf"x\[{j}\] = nan"):
                lttb_indices(x, np.zeros(n), n_out)
    x = np.arange(n, dtype=float)
    x[0] = np.nan
    with pytest.raises(ValueError, match=r"x\[0\] is NaN"):
        lttb_indices(x, np.zeros(n), 7)


def test_first_maximum_across_area_blocks():
    from core.kernels.lttb import BLOCK

    # two buckets of 3*BLOCK+5 points; the maximum area sits at block edges and is tied
    # across blocks, where only the earliest index is the reference's choice
    m = 3 * BLOCK + 5
    n = 2 * m + 2
    x = np.arange(n, dtype=float)
    for spots in ([1 + BLOCK - 1, 1 + 2 * BLOCK], [1 + BLOCK, 1 + BLOCK + 1], [1 + 2 * BLOCK - 1],
                  [1 + 3 * BLOCK + 4, 1 + 3 * BLOCK], [1, 1 + m - 1]):
        y = np.zeros(n)
        y[spots] = 5.0
        y[m + 1 + BLOCK] = 3.0  # next bucket's mean 0: every area is |d1| * y, ties are exact
        y[m + 1 + 2 * BLOCK] = -3.0
        got = lttb_indices(x, y, 4)
        np.testing.assert_array_equal(got, lttb_indices_reference(x, y, 4))
        assert got[1] == min(spots)


@pytest.mark.parametrize("case", ["nan_runs", "inf", "both_infs", "nan_blocks"])
def test_nan_and_inf_buckets_across_blocks(case):
    from core.kernels.lttb import BLOCK

    x, y = _data(20 * BLOCK + 13, 31)
    if case == "nan_runs":
        y[BLOCK:5 * BLOCK] = np.nan  # all-NaN buckets and NaN-prefixed blocks
        y[7 * BLOCK + 3::5] = np.nan
    elif case == "inf":
        y[3 * BLOCK + 7] = np.inf  # an infinite area wins its bucket
    elif case == "both_infs":
        y[3 * BLOCK + 7] = np.inf  # the bucket's plain sum is inf - inf = NaN
        y[3 * BLOCK + 9] = -np.inf
    else:
        y[::2] = np.nan
        y[2 * BLOCK:2 * BLOCK + 3 * BLOCK // 2] = np.nan
    for n_out in (5, 9, 40, 333):
        with np.errstate(invalid="ignore"):  # the reference's own inf - inf
            want = lttb_indices_reference(x, y, n_out)
        np.testing.assert_array_equal(lttb_indices(x, y, n_out), want)


@pytest.mark.parametrize("n", [20, 1000, 4099])
def test_n_out_near_n(n):
    x, y = _data(n, n)
    y[n // 3] = np.nan
    for n_out in (n - 1, n - 2, n - 3, n // 2 + 1):
        got = lttb_indices(x, y, n_out)
        np.testing.assert_array_equal(got, lttb_indices_reference(x, y, n_out))
        assert len(got) == n_out and np.all(np.diff(got) > 0)


def test_same_indices_as_tsdownsample_with_buckets_over_many_blocks():
    tsd = pytest.importorskip("tsdownsample")
    x, y = _data(1_000_003, 7)
    for n_out in (3, 101, 777):
        want = tsd.LTTBDownsampler().downsample(x, y, n_out=n_out)
        np.testing.assert_array_equal(lttb_indices(x, y, n_out), want)


def test_minmax_preselection_signed_zeros_nan_signs_and_serial_parallel_agree():
    from core.kernels import minmax
    from core.kernels.reference import minmax_preselect_reference

    rng = np.random.default_rng(21)
    y = np.round(rng.normal(size=30_011), 1)  # many ties: first positions matter
    y[rng.random(y.size) < 0.02] = np.copysign(np.nan, -1.0)  # NaN with the sign bit set
    y[rng.random(y.size) < 0.02] = np.nan
    y[700:1400] = np.nan  # whole chunks missing
    y[2000:2600] = -0.0
    y[2100] = 0.0  # equal to -0.0: the first of either is the argmin and argmax
    y[5000:5900] = 0.0
    y[5500] = -0.0
    for n_bins in (7, 64, 333, 2000):
        want = minmax_preselect_reference(y, n_bins)
        np.testing.assert_array_equal(minmax.minmax_preselect(y, n_bins), want)
        bits = y[1:-1].view(np.int64)
        bs = (bits.shape[0] - 1) / n_bins
        k = np.arange(n_bins, dtype=np.float64)
        starts = (bs * k).astype(np.int64) + (k != 0)
        ends = (bs * (k + 1)).astype(np.int64) + 1
        for parts in (1, 2, 5):
            keep = np.empty(2 * n_bins + 2, dtype=np.int64)
            m = minmax.minmax_positions_parallel(bits, starts, ends, keep, parts)
            np.testing.assert_array_equal(keep[:m], want)
