"""Per-cell spread (capacity, resistance, SOC offset, thermal) and cell voltage/temperature readings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data.demo.config import CELL_CAPACITY_AH, N_CELLS
from data.demo.physics import ocv_v

R_CELL_OHM = 0.25e-3  # DC resistance of a 280 Ah LFP prismatic cell incl. busbar share
MEAS_NOISE_V = 0.0008  # BMS cell-voltage noise; readings are then rounded to 1 mV like the reference
TEMP_NOISE_C = 0.1


@dataclass(frozen=True)
class CellParams:
    cap_ah: np.ndarray  # (260,)
    r_ohm: np.ndarray  # (260,)
    soc_offset: np.ndarray  # (260,) top-balanced: offsets stay small at the top of charge
    temp_offset_c: np.ndarray  # (260,) position in the pack: middle cells run warmer
    heat_gain: np.ndarray  # (260,) relative heating under current


def draw_cell_params(rng: np.random.Generator, cells_per_pack: int) -> CellParams:
    pos = np.arange(N_CELLS) % cells_per_pack
    middle = 1.0 - np.abs(pos - (cells_per_pack - 1) / 2) / ((cells_per_pack - 1) / 2)
    return CellParams(
        cap_ah=CELL_CAPACITY_AH * (1.0 + rng.normal(0.0, 0.012, N_CELLS)),
        r_ohm=R_CELL_OHM * (1.0 + rng.normal(0.0, 0.06, N_CELLS)),
        soc_offset=rng.normal(0.0, 0.003, N_CELLS),
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

    On a charge that ends full, the last 10 % of SOC bend the reading onto the cell's SAT value
    of the day (a convex blend, so nothing before the peak exceeds it); the peak sample is the
    SAT value itself, which already carries the day-to-day noise of sat.py.
    """
    ratio = (CELL_CAPACITY_AH / p.cap_ah[rows])[:, None]
    soc_c = np.clip(1.0 - (1.0 - s.soc[None, :]) * ratio + p.soc_offset[rows, None], 0.0, 1.0)
    base = ocv_v(soc_c) - s.current_a[None, :] * p.r_ohm[rows, None]
    base += rng.normal(0.0, MEAS_NOISE_V, base.shape)
    w = np.clip((s.soc - 0.9) / 0.1, 0.0, 1.0) ** 2
    w = np.where(s.is_peak, 1.0, w) * (s.full_run & (s.current_a < 0))
    sat = sat_daily_v[rows][:, np.clip(s.day, 0, sat_daily_v.shape[1] - 1)]
    return (1.0 - w)[None, :] * base + w[None, :] * sat


def cell_temps_c(p: CellParams, s: CellSamples, rows: slice, rng: np.random.Generator) -> np.ndarray:
    t = s.room_c[None, :] + p.temp_offset_c[rows, None] + p.heat_gain[rows, None] * s.heat_k[None, :]
    return t + rng.normal(0.0, TEMP_NOISE_C, t.shape)
