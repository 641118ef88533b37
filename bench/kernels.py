"""Benchmark rows of core.kernels: LTTB, MinMaxLTTB and batched fits against named baselines."""

from __future__ import annotations

import warnings

import numpy as np

from bench.table import Row, time_call


def _walk(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return np.arange(n, dtype=np.float64), np.cumsum(rng.normal(size=n))


def _sat_matrix(n_cells: int, n_days: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """SAT-like voltages [V]: slow drift, 1 mV resolution (ties, as real data), 5 % missing days."""
    rng = np.random.default_rng(seed)
    days = np.arange(n_days, dtype=np.float64)
    drift = rng.normal(-2e-5, 1e-5, (n_cells, 1))
    y = np.round(3.45 + drift * days + rng.normal(0, 0.003, (n_cells, n_days)), 3)
    y[rng.random(y.shape) < 0.05] = np.nan
    return days, y


def _downsampling_rows(quick: bool) -> list[Row]:
    from core.kernels import lttb_indices, minmax_lttb_indices

    n, n_out, k = (200_000, 200, 3) if quick else (10_000_000, 2_000, 9)
    size = f"{n / 1e6:g} M -> {n_out:,}"
    x, y = _walk(n, 1)
    rows = []
    c_l, t_l = time_call(lambda: lttb_indices(x, y, n_out), k)
    c_m, t_m = time_call(lambda: minmax_lttb_indices(x, y, n_out), k)
    try:
        from tsdownsample import LTTBDownsampler, MinMaxLTTBDownsampler
    except ImportError as exc:
        err = f"baseline unavailable: {exc}"
        rows.append(Row(f"LTTB {size}", ours_s=t_l, baseline="tsdownsample LTTB", error=err))
        rows.append(Row(f"MinMaxLTTB {size}", ours_s=t_m, baseline="tsdownsample MinMaxLTTB",
                        error=err))
    else:
        _, b_l = time_call(lambda: LTTBDownsampler().downsample(x, y, n_out=n_out), k)
        _, b_m = time_call(lambda: MinMaxLTTBDownsampler().downsample(x, y, n_out=n_out,
                                                                     parallel=True), k)
        rows.append(Row(f"LTTB {size}", t_l, "tsdownsample LTTBDownsampler (Rust)", b_l,
                        "as fast or faster (>= 1x)", min_speedup=1.0, compile_s=c_l))
        rows.append(Row(f"MinMaxLTTB {size}", t_m,
                        "tsdownsample MinMaxLTTBDownsampler, parallel=True (Rust)", b_m,
                        "as fast or faster (>= 1x)", min_speedup=1.0, compile_s=c_m))
    _, b_p = time_call(lambda: (x.min(), y.max()), k)
    rows.append(Row(f"MinMaxLTTB {size}", t_m, "one NumPy memory pass: x.min(); y.max()", b_p,
                    "within 3x (>= 0.33x)", min_speedup=1 / 3))
    return rows


def _fit_rows(quick: bool) -> list[Row]:
    from scipy.stats import linregress, theilslopes

    from core.kernels import fit_ols_batch, fit_theil_sen_batch

    n_cells, n_days, k = (26, 120, 3) if quick else (260, 600, 7)
    days, y = _sat_matrix(n_cells, n_days, 2)
    masks = [np.isfinite(row) for row in y]

    def ols_loop():
        return [linregress(days[m], row[m]) for row, m in zip(y, masks)]

    def theil_loop():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return [theilslopes(row[m], days[m], 0.95) for row, m in zip(y, masks)]

    size = f"{n_cells} cells x {n_days} days"
    c_o, t_o = time_call(lambda: fit_ols_batch(days, y), k)
    _, b_o = time_call(ols_loop, max(k // 2, 1))
    c_t, t_t = time_call(lambda: fit_theil_sen_batch(days, y), k)
    _, b_t = time_call(theil_loop, max(k // 3, 1))
    return [
        Row(f"fit_ols_batch {size}", t_o, "scipy.stats.linregress loop", b_o, "100x faster",
            min_speedup=100.0, compile_s=c_o),
        Row(f"fit_theil_sen_batch {size}", t_t, "scipy.stats.theilslopes loop", b_t,
            "20x faster", min_speedup=20.0, compile_s=c_t),
    ]


def bench_kernels(quick: bool) -> list[Row]:
    """LTTB and MinMaxLTTB 10 M -> 2,000; OLS and Theil–Sen fits 260 x 600."""
    rows = []
    for part in (_downsampling_rows, _fit_rows):
        try:
            rows += part(quick)
        except Exception as exc:  # one failing part keeps the other's rows
            rows.append(Row(f"{part.__name__.strip('_')}", error=f"{type(exc).__name__}: {exc}"))
    return rows
