"""Seeded synthetic SAT fleets with known truth (slopes, fast cells, a pack step), for tests and benchmarks.

The model follows the real reference data: a system level of ~3.448 V, per-cell offsets,
day-to-day noise mostly common to all cells, 1 mV BMS resolution, rare system-wide excursion
days, month-long level shifts common to all cells (charge set-point changes), days without a
full charge (daily maximum 3.0-3.3 V) and missing readings. One pack may take a step after a
short bad charging period during which it reads 3.60-3.65 V.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.cells._robust import readonly


@dataclass(frozen=True)
class SyntheticSatFleet:
    """Inputs of `extract_sat` and the truth behind them."""

    packs: np.ndarray
    cells: np.ndarray
    days: np.ndarray
    """datetime64[D] (n_days,)"""
    daily_max_v: np.ndarray
    """(n_cells, n_days) daily maximum cell voltage, NaN = no reading. [V]"""
    full_charge_day: np.ndarray
    """bool (n_days,): days with a full charge (the others peak at 3.0-3.3 V)."""
    start_v: np.ndarray
    """(n_cells,) noise-free SAT on day 0. [V]"""
    slope_v_per_day: np.ndarray
    """(n_cells,) true slope; for the step pack, the slope after the step. [V/day]"""
    fast: np.ndarray
    """bool (n_cells,): fast-drifting cells."""
    step_pack: int | None
    step_day: np.datetime64 | None
    """First day at the new level."""
    step_v: float


def generate_sat_fleet(seed: int, *, n_packs: int = 5, cells_per_pack: int = 52, n_days: int = 600,
                       first_day: str = "2023-10-01", level_v: float = 3.448, cell_offset_sd_v: float = 0.004,
                       common_day_sd_v: float = 0.0043, cell_day_sd_v: float = 0.0010,
                       system_slope_v_per_day: float = -1.5e-5, cell_slope_sd_v_per_day: float = 5e-6,
                       n_fast: int = 4, fast_slope_v_per_day: tuple[float, float] = (8e-5, 1.5e-4),
                       step_pack: int | None = 3, step_day_index: int = 300, step_v: float = -0.015,
                       step_extra_slope_v_per_day: float = 0.0, bad_period_days: int = 4,
                       system_shifts: tuple[tuple[int, float], ...] = ((150, -0.025), (520, 0.040)),
                       excursion_share: float = 0.015, partial_charge_share: float = 0.06,
                       missing_share: float = 0.01, resolution_v: float = 0.001) -> SyntheticSatFleet:
    """A fleet of n_packs x cells_per_pack cells over n_days local days.

    Fast cells (never in the step pack) drift at +/- a slope drawn from `fast_slope_v_per_day`
    (random sign: drift detection must work both ways). `system_shifts` are (day index, shift)
    steps common to all cells, which must not be taken for pack events.
    """
    if n_packs < 1 or cells_per_pack < 1 or n_days < 2:
        raise ValueError(f"need n_packs, cells_per_pack >= 1 and n_days >= 2, got {n_packs}, {cells_per_pack}, {n_days}")
    if step_pack is not None and not (1 <= step_pack <= n_packs and bad_period_days <= step_day_index < n_days):
        raise ValueError(f"step_pack must lie in 1..{n_packs} and step_day_index in {bad_period_days}..{n_days - 1}")
    rng = np.random.default_rng(seed)
    n = n_packs * cells_per_pack
    packs = np.repeat(np.arange(1, n_packs + 1), cells_per_pack)
    cells = np.tile(np.arange(1, cells_per_pack + 1), n_packs)
    days = np.datetime64(first_day, "D") + np.arange(n_days).astype("timedelta64[D]")
    t = np.arange(n_days, dtype=np.float64)

    start = level_v + rng.normal(0.0, cell_offset_sd_v, n)
    slope = system_slope_v_per_day + rng.normal(0.0, cell_slope_sd_v_per_day, n)
    fast = np.zeros(n, bool)
    eligible = np.flatnonzero(packs != (step_pack or 0))
    pick = rng.choice(eligible, size=min(n_fast, eligible.size), replace=False)
    fast[pick] = True
    slope[pick] = rng.uniform(*fast_slope_v_per_day, pick.size) * rng.choice([-1.0, 1.0], pick.size)
    v = start[:, None] + slope[:, None] * t[None, :]

    common = rng.normal(0.0, common_day_sd_v, n_days)
    excursion = rng.random(n_days) < excursion_share
    common[excursion] += rng.uniform(0.015, 0.035, excursion.sum())
    for day, shift in system_shifts:
        if 0 <= day < n_days:
            common[day:] += shift
    v += common[None, :] + rng.normal(0.0, cell_day_sd_v, (n, n_days))

    step_day = None
    if step_pack is not None:
        hit = packs == step_pack
        after = t >= step_day_index
        v[np.ix_(hit, after)] += step_v + step_extra_slope_v_per_day * (t[after] - step_day_index)[None, :]
        slope[hit] += step_extra_slope_v_per_day
        bad = np.arange(step_day_index - bad_period_days, step_day_index)
        v[np.ix_(hit, bad)] = rng.uniform(3.60, 3.65, (hit.sum(), bad.size))
        step_day = days[step_day_index]

    full = rng.random(n_days) >= partial_charge_share
    if step_pack is not None:
        full[step_day_index - bad_period_days: step_day_index] = True  # the bad period charges to the top
    partial = ~full
    # without a full charge the whole string peaks on the flat part of the curve, 3.0-3.3 V
    v[:, partial] = rng.uniform(3.0, 3.25, partial.sum())[None, :] + rng.uniform(0.0, 0.05, (n, partial.sum()))
    v = np.round(v / resolution_v) * resolution_v
    v[rng.random((n, n_days)) < missing_share] = np.nan
    out = SyntheticSatFleet(packs=packs, cells=cells, days=days, daily_max_v=v, full_charge_day=full,
                            start_v=start, slope_v_per_day=slope, fast=fast, step_pack=step_pack,
                            step_day=step_day, step_v=float(step_v) if step_pack is not None else 0.0)
    readonly(out.packs, out.cells, out.days, out.daily_max_v, out.full_charge_day, out.start_v,
             out.slope_v_per_day, out.fast)
    return out
