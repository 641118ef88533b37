"""Per-cell SAT (end-of-charge peak) voltage model, calibrated to the real reference data.

Calibration, measured on /work/shared/reference/sat_daily_*.csv (2 systems x 5 cells, ~580 days),
on days with SAT >= 3.40 V (lower days are partial charges, not saturation days):

- level: monthly medians 3.441-3.450 V over Oct 2023-Jan 2024 -> ``SAT_LEVEL_V = 3.448``;
- cell offsets from the day's mean of the five cells: -5.1 .. +6.9 mV -> sd 4 mV;
- day-to-day noise is mostly common to all cells of a system: robust sd of the day-to-day
  change of the five-cell mean / sqrt(2) = 4.6 mV and 3.9 mV -> ``COMMON_DAY_SD_V = 0.0043``;
  of one cell minus that mean: 1.0 mV and 1.0 mV -> ``CELL_DAY_SD_V = 0.0010``;
- slopes: Theil-Sen per cell -2.9e-5 .. 0 V/day (median -2.4e-5), least squares -1.5e-5 ..
  +5.5e-5 V/day with R^2 < 0.07 -> normal cells drift at a system slope ~ N(-1.5e-5, 0.5e-5)
  plus a cell term ~ N(0, 0.5e-5) V/day;
- 1.4 % and 2.3 % of days read above 3.48 V: system-wide upward excursions on 1.5 % of days.
- The reference also shows month-long level shifts common to all cells (-25 mV in Mar 2024,
  +40 mV in spring 2025, probably charge set-point changes); they are not modelled, so that the
  per-cell lines in the ground truth stay the whole truth.

Degrading cells drift *up*, fast (+8e-5 .. +1.5e-4 V/day, i.e. +50 .. +95 mV over 20 months):
a cell that loses capacity reaches the top knee of the LFP curve before its neighbours in a
series string, so its end-of-charge voltage rises. The damaged pack drifts *down* after its bad
charging period: over-voltage plating raises self-discharge, the cells lag their neighbours in
SOC at the end of every charge, which shows as a step of -10 .. -20 mV and a faster downward
drift. Days are local calendar days counted from the start (day 0 = 2023-10-01).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data.demo.config import N_CELLS

SAT_LEVEL_V = 3.448
PACK_OFFSET_SD_V = 0.0015
CELL_OFFSET_SD_V = 0.004
COMMON_DAY_SD_V = 0.0043
CELL_DAY_SD_V = 0.0010
SYSTEM_SLOPE_MEAN = -1.5e-5
SYSTEM_SLOPE_SD = 0.5e-5
CELL_SLOPE_SD = 0.5e-5
DEGRADING_SLOPE = (8e-5, 1.5e-4)
DEGRADING_PER_SYSTEM = (3, 2, 2)  # 7 cells fleet-wide
EXCURSION_SHARE = 0.015
EXCURSION_V = (0.015, 0.035)
DAMAGE_STEP_V = (-0.020, -0.010)
DAMAGE_EXTRA_SLOPE = (-8e-5, -4e-5)
OVERVOLTAGE_V = (3.60, 3.65)  # what the damaged pack reads during its bad charging days


@dataclass(frozen=True)
class Damage:
    pack: int  # 1-based
    start_day: int  # first bad charging day
    end_day: int  # first day after the bad period (half-open)


@dataclass(frozen=True)
class SatModel:
    """SAT truth of one system: per-cell line parameters and the daily SAT matrix (cells x days)."""

    start_v: np.ndarray  # (260,) SAT on day 0
    slope_v_per_day: np.ndarray  # (260,) before any damage
    step_v: np.ndarray  # (260,) 0 outside the damaged pack
    slope_after_v_per_day: np.ndarray  # (260,) after the bad period (== slope elsewhere)
    degrading: np.ndarray  # (260,) bool
    damage: Damage | None
    daily_v: np.ndarray  # (260, days) the peak each cell reaches on a full charge that day

    def expected_v(self, day: np.ndarray) -> np.ndarray:
        """Noise-free SAT of every cell on the given days, (260, len(day))."""
        day = np.asarray(day, float)[None, :]
        line = self.start_v[:, None] + self.slope_v_per_day[:, None] * day
        if self.damage is not None:
            after = np.clip(day - self.damage.end_day, 0.0, None)
            hit = day >= self.damage.end_day
            line = line + hit * self.step_v[:, None] + after * (self.slope_after_v_per_day - self.slope_v_per_day)[:, None]
        return line


def draw_sat_model(rng: np.random.Generator, days: int, *, n_degrading: int, damage: Damage | None,
                   cells_per_pack: int) -> SatModel:
    pack_of = np.arange(N_CELLS) // cells_per_pack + 1
    pack_offset = rng.normal(0.0, PACK_OFFSET_SD_V, pack_of.max())[pack_of - 1]
    start = SAT_LEVEL_V + pack_offset + rng.normal(0.0, CELL_OFFSET_SD_V, N_CELLS)
    slope = rng.normal(SYSTEM_SLOPE_MEAN, SYSTEM_SLOPE_SD) + rng.normal(0.0, CELL_SLOPE_SD, N_CELLS)
    eligible = np.flatnonzero(pack_of != (damage.pack if damage else 0))
    degrading = np.zeros(N_CELLS, bool)
    degrading[rng.choice(eligible, n_degrading, replace=False)] = True
    slope[degrading] = rng.uniform(*DEGRADING_SLOPE, n_degrading)
    step = np.zeros(N_CELLS)
    slope_after = slope.copy()
    if damage is not None:
        hit = pack_of == damage.pack
        step[hit] = rng.uniform(*DAMAGE_STEP_V, hit.sum())
        slope_after[hit] = slope[hit] + rng.uniform(*DAMAGE_EXTRA_SLOPE, hit.sum())
    model = SatModel(start, slope, step, slope_after, degrading, damage, np.empty((N_CELLS, 0)))
    common = rng.normal(0.0, COMMON_DAY_SD_V, days)
    excursion = rng.random(days) < EXCURSION_SHARE
    common[excursion] += rng.uniform(*EXCURSION_V, excursion.sum())
    daily = model.expected_v(np.arange(days)) + common[None, :] + rng.normal(0.0, CELL_DAY_SD_V, (N_CELLS, days))
    if damage is not None:
        bad = slice(damage.start_day, min(damage.end_day, days))
        hit = pack_of == damage.pack
        n_bad = len(range(days)[bad])
        daily[np.ix_(hit, np.arange(days)[bad])] = rng.uniform(*OVERVOLTAGE_V, (hit.sum(), n_bad))
    return SatModel(start, slope, step, slope_after, degrading, damage, daily)
