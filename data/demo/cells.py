"""Per-cell state that ages (capacity, resistance, SOC lag), its thermal place, and its voltage/temperature readings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data.demo.config import CELL_CAPACITY_AH, N_CELLS
from data.demo.physics import ocv_v

R_CELL_OHM = 0.25e-3  # DC resistance of a 280 Ah LFP prismatic cell incl. busbar share
# Cells are assembled at mid SOC and the passive balancer (tens of mA) cannot re-align them, so a
# cell's SOC moves (Q_nominal / Q_cell) times as far from ALIGN_SOC as the string's SOC.
ALIGN_SOC = 0.5
# A small or lagging cell reaches the bottom before the string does; the BMS then ends the
# discharge at its cut-off (3.0 V relaxed), which the string integrator does not model: the
# cell's SOC stops there instead of running empty.
CUTOFF_SOC = 0.02
MEAS_NOISE_V = 0.0008  # BMS cell-voltage noise; readings are then rounded to 1 mV like the reference
TEMP_NOISE_C = 0.1


@dataclass(frozen=True)
class CellParams:
    """Each cell's capacity, resistance and SOC position on day 0, how they age, and its thermal place.

    Ageing is linear in days: capacity(d) = cap_ah - cap_fade_ah_per_day * d,
    resistance(d) = r_ohm + r_growth_ohm_per_day * d, and the cell's SOC lag behind the string
    (charge lost to self-discharge that the passive balancer does not make up)
    lag(d) = soc_lag_per_day * d, plus, in a pack damaged by a bad charging period,
    lag_step + lag_after_per_day * (d - damage_end_day) from damage_end_day on.
    """

    cap_ah: np.ndarray  # (260,) on day 0
    cap_fade_ah_per_day: np.ndarray  # (260,)
    r_ohm: np.ndarray  # (260,) on day 0, incl. the cell's busbar and terminal share
    r_growth_ohm_per_day: np.ndarray  # (260,)
    soc_offset: np.ndarray  # (260,) SOC position against the string on day 0 (assembly spread)
    soc_lag_per_day: np.ndarray  # (260,) [1/day], SOC fraction lost against the string per day
    lag_step: np.ndarray  # (260,) SOC fraction lost at the damage (0 outside the damaged pack)
    lag_after_per_day: np.ndarray  # (260,) extra lag per day after the damage
    damage_end_day: int  # first day after the bad charging period; -1 without damage
    temp_offset_c: np.ndarray  # (260,) position in the pack: middle cells run warmer
    heat_gain: np.ndarray  # (260,) relative heating under current

    def capacity_ah(self, day: np.ndarray, rows: slice = slice(None)) -> np.ndarray:
        """Capacity of cells `rows` on the given days, (n_rows, n_days). [Ah]"""
        return self.cap_ah[rows, None] - self.cap_fade_ah_per_day[rows, None] * np.asarray(day, float)[None, :]

    def resistance_ohm(self, day: np.ndarray, rows: slice = slice(None)) -> np.ndarray:
        """DC resistance of cells `rows` on the given days, (n_rows, n_days). [Ohm]"""
        return self.r_ohm[rows, None] + self.r_growth_ohm_per_day[rows, None] * np.asarray(day, float)[None, :]

    def soc_lag(self, day: np.ndarray, rows: slice = slice(None)) -> np.ndarray:
        """SOC fraction the cells `rows` lag behind where they started, (n_rows, n_days)."""
        d = np.asarray(day, float)[None, :]
        lag = self.soc_lag_per_day[rows, None] * d
        if self.damage_end_day >= 0:
            after = np.clip(d - self.damage_end_day, 0.0, None)
            lag = lag + (d >= self.damage_end_day) * (self.lag_step[rows, None]
                                                       + self.lag_after_per_day[rows, None] * after)
        return lag


def draw_cell_params(rng: np.random.Generator, cells_per_pack: int, *, cap_sd: float = 0.012,
                     soc_offset_sd: float = 0.003) -> CellParams:
    """Day-0 spread of a fresh string; no ageing (sat.py adds it with dataclasses.replace)."""
    pos = np.arange(N_CELLS) % cells_per_pack
    middle = 1.0 - np.abs(pos - (cells_per_pack - 1) / 2) / ((cells_per_pack - 1) / 2)
    zeros = np.zeros(N_CELLS)
    return CellParams(
        cap_ah=CELL_CAPACITY_AH * (1.0 + rng.normal(0.0, cap_sd, N_CELLS)),
        cap_fade_ah_per_day=zeros,
        r_ohm=R_CELL_OHM * (1.0 + rng.normal(0.0, 0.06, N_CELLS)),
        r_growth_ohm_per_day=zeros,
        soc_offset=rng.normal(0.0, soc_offset_sd, N_CELLS),
        soc_lag_per_day=zeros,
        lag_step=zeros,
        lag_after_per_day=zeros,
        damage_end_day=-1,
        temp_offset_c=rng.normal(0.0, 0.4, N_CELLS) + 1.2 * middle - 0.6,
        heat_gain=rng.uniform(0.8, 1.2, N_CELLS),
    )


@dataclass(frozen=True)
class CellSamples:
    """String state at the instants where cells are read (grid samples and end-of-charge peaks)."""

    soc: np.ndarray  # string SOC [0..1]
    current_a: np.ndarray  # positive = discharge
    day: np.ndarray  # local day index
    full_run: np.ndarray  # bool: inside a charge run that ends in a full charge
    is_peak: np.ndarray  # bool: the end-of-charge sample itself
    room_c: np.ndarray
    heat_k: np.ndarray


def cell_voltages_v(p: CellParams, sat_daily_v: np.ndarray, s: CellSamples, rows: slice,
                    rng: np.random.Generator) -> np.ndarray:
    """Voltage of cells `rows` at the samples, (n_rows, n_samples), OCV(SOC_cell) - I*R_cell.

    The cell's capacity, resistance and SOC lag are those of the sample's day (they age). On a
    charge that ends full, the last 10 % of SOC bend the reading onto the cell's SAT value of the
    day (a convex blend, so nothing before the peak exceeds it); the peak sample is the SAT value
    itself, which sat.py derives from the same ageing parameters plus the system component.
    """
    # ageing state per distinct day, then spread to the samples (a block holds few days)
    days, at = np.unique(s.day, return_inverse=True)
    ratio = (CELL_CAPACITY_AH / p.capacity_ah(days, rows))[:, at]
    position = (p.soc_offset[rows, None] - p.soc_lag(days, rows))[:, at]
    soc_c = np.clip(ALIGN_SOC + (s.soc[None, :] - ALIGN_SOC) * ratio + position, CUTOFF_SOC, 1.0)
    v = ocv_v(soc_c) - s.current_a[None, :] * p.resistance_ohm(days, rows)[:, at]
    v += rng.normal(0.0, MEAS_NOISE_V, v.shape)
    w = np.clip((s.soc - 0.9) / 0.1, 0.0, 1.0) ** 2
    w = np.where(s.is_peak, 1.0, w) * (s.full_run & (s.current_a < 0))
    top = np.flatnonzero(w > 0.0)
    if top.size:
        sat = sat_daily_v[rows][:, np.clip(s.day[top], 0, sat_daily_v.shape[1] - 1)]
        blend = (1.0 - w[top])[None, :] * v[:, top] + w[top][None, :] * sat
        # The end of a full charge is the day's highest reading, also for a cell that lags far
        # behind in SOC (its I*R on the plateau could otherwise top a SAT that has fallen off the
        # knee): the daily maximum on a full-charge day is the SAT of sat.py, exactly.
        v[:, top] = np.minimum(blend, sat)
    return v


def cell_temps_c(p: CellParams, s: CellSamples, rows: slice, rng: np.random.Generator) -> np.ndarray:
    t = s.room_c[None, :] + p.temp_offset_c[rows, None] + p.heat_gain[rows, None] * s.heat_k[None, :]
    return t + rng.normal(0.0, TEMP_NOISE_C, t.shape)
