"""NaN-aware robust statistics (median, MAD scale) that stay silent on empty slices."""

from __future__ import annotations

import numpy as np

MAD_TO_SD = 1.482602218505602
"""Scale factor that makes the median absolute deviation a consistent estimate of a normal sd."""


def nanmedian_axis0(a: np.ndarray) -> np.ndarray:
    """Median over rows for each column of a 2-D array; NaN for columns without any finite value.

    np.nanmedian warns on all-NaN slices, and pytest (and the server log) treat warnings as
    noise or errors, so empty columns are skipped instead of silenced.
    """
    a = np.asarray(a, dtype=np.float64)
    out = np.full(a.shape[1], np.nan)
    has = np.isfinite(a).any(axis=0)
    if has.any():
        out[has] = np.nanmedian(a[:, has], axis=0)
    return out


def nanmedian_axis1(a: np.ndarray) -> np.ndarray:
    """Median over columns for each row; NaN for rows without any finite value."""
    return nanmedian_axis0(np.asarray(a).T)


def nanmedian_1d(a: np.ndarray) -> float:
    """Median of the finite values of a 1-D array; NaN when there are none."""
    a = np.asarray(a, dtype=np.float64)
    a = a[np.isfinite(a)]
    return float(np.median(a)) if a.size else float("nan")


def mad_sd_1d(a: np.ndarray) -> float:
    """Robust standard deviation (1.4826 x MAD) of the finite values; NaN when there are none."""
    a = np.asarray(a, dtype=np.float64)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return float("nan")
    return float(MAD_TO_SD * np.median(np.abs(a - np.median(a))))


def diff_noise_sd_1d(a: np.ndarray) -> float:
    """Day-to-day noise sd of a series: robust sd of its successive differences over sqrt(2).

    Differencing removes slow trends and level steps, so this measures only the noise.
    """
    a = np.asarray(a, dtype=np.float64)
    a = a[np.isfinite(a)]
    if a.size < 3:
        return float("nan")
    return mad_sd_1d(np.diff(a)) / np.sqrt(2.0)


def readonly(*arrays: np.ndarray) -> None:
    """Freeze arrays held by frozen dataclasses so results cannot be changed in place."""
    for a in arrays:
        a.flags.writeable = False
