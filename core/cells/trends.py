"""Pack trends: pack-mean SAT per day, its rate per month from a line fit, and the spread within each pack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.cells._robust import readonly
from core.cells.events import PackEvent
from core.cells.fits import DEFAULT_GUARD_DAYS
from core.cells.sat import SatMatrix
from core.kernels import fit_ols_batch

DAYS_PER_MONTH = 365.25 / 12.0


@dataclass(frozen=True)
class PackTrends:
    """Per pack (rows, `packs` order) and local day (columns, `days`); NaN on non-saturation days."""

    packs: np.ndarray
    days: np.ndarray
    mean_v: np.ndarray
    """(n_packs, n_days) mean SAT of the pack's cells. [V]"""
    spread_v: np.ndarray
    """(n_packs, n_days) max - min SAT within the pack. [V]"""
    std_v: np.ndarray
    """(n_packs, n_days) population standard deviation within the pack. [V]"""
    rate_v_per_month: np.ndarray
    """(n_packs,) least-squares slope of the pack-mean series x 365.25/12 (after a pack event, if given). [V/month]"""
    rate_stderr_v_per_month: np.ndarray
    rate_ci95_low_v_per_month: np.ndarray
    rate_ci95_high_v_per_month: np.ndarray
    r2: np.ndarray
    n: np.ndarray
    """(n_packs,) days used by the rate fit."""


def pack_trends(sat: SatMatrix, *, events: Sequence[PackEvent] = (),
                guard_days: int = DEFAULT_GUARD_DAYS) -> PackTrends:
    """Pack-mean SAT, spread and monthly rate; a pack with an event is rated after it (as in `fit_cells`)."""
    if not isinstance(sat, SatMatrix):
        raise ValueError(f"sat must be a SatMatrix, got {type(sat).__name__}")
    packs = sat.pack_numbers
    v = sat.voltage_v
    n_days = sat.n_days
    mean = np.full((packs.size, n_days), np.nan)
    spread = np.full_like(mean, np.nan)
    std = np.full_like(mean, np.nan)
    for i, p in enumerate(packs):
        block = v[sat.packs == p]
        ok = np.isfinite(block)
        has = ok.any(axis=0)
        if not has.any():
            continue
        b = block[:, has]
        # all-NaN columns are skipped so the nan-reductions have data (and stay silent)
        mean[i, has] = np.nanmean(b, axis=0)
        spread[i, has] = np.nanmax(b, axis=0) - np.nanmin(b, axis=0)
        std[i, has] = np.nanstd(b, axis=0)
    y = mean
    starts = {}
    for ev in events:
        if not isinstance(ev, PackEvent):
            raise ValueError(f"events must be PackEvent, got {type(ev).__name__}")
        starts[ev.pack] = max(starts.get(ev.pack, ev.day), ev.day)
    if starts:
        y = mean.copy()
        for i, p in enumerate(packs):
            if int(p) in starts:
                y[i, sat.days < starts[int(p)] + np.timedelta64(int(guard_days), "D")] = np.nan
    f = fit_ols_batch(sat.day_offsets(), y)
    out = PackTrends(packs=packs, days=sat.days, mean_v=mean, spread_v=spread, std_v=std,
                     rate_v_per_month=f.slope * DAYS_PER_MONTH,
                     rate_stderr_v_per_month=f.slope_stderr * DAYS_PER_MONTH,
                     rate_ci95_low_v_per_month=f.slope_ci95_low * DAYS_PER_MONTH,
                     rate_ci95_high_v_per_month=f.slope_ci95_high * DAYS_PER_MONTH, r2=f.r2, n=f.n)
    readonly(out.mean_v, out.spread_v, out.std_v, out.rate_v_per_month, out.rate_stderr_v_per_month,
             out.rate_ci95_low_v_per_month, out.rate_ci95_high_v_per_month, out.r2, out.n)
    return out
