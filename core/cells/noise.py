"""Day-to-day noise of SAT data: the part all cells share and the part of each cell alone."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.cells._robust import diff_noise_sd_1d, mad_sd_1d, nanmedian_axis0
from core.cells.sat import SatMatrix


@dataclass(frozen=True)
class SatNoise:
    common_day_sd_v: float
    """Day-to-day sd of the system median (shared by all cells: charge end, temperature). [V]"""
    cell_day_sd_v: float
    """Median over cells of the day-to-day sd of (cell - system median). [V]"""
    cell_offset_sd_v: float
    """Robust sd across cells of their mean offset from the system median. [V]"""


def measure_sat_noise(sat: SatMatrix) -> SatNoise:
    """Noise levels of a SAT matrix, from successive saturation days (trends and steps cancel out)."""
    if not isinstance(sat, SatMatrix):
        raise ValueError(f"sat must be a SatMatrix, got {type(sat).__name__}")
    v = sat.voltage_v[:, sat.saturation_day]
    if v.shape[1] < 3:
        raise ValueError(f"need at least 3 saturation days to measure noise, got {v.shape[1]}")
    med = nanmedian_axis0(v)
    rel = v - med[None, :]
    per_cell = np.array([diff_noise_sd_1d(r) for r in rel])
    offsets = np.array([np.nanmean(r) if np.isfinite(r).any() else np.nan for r in rel])
    return SatNoise(common_day_sd_v=float(diff_noise_sd_1d(med)),
                    cell_day_sd_v=float(np.nanmedian(per_cell)) if np.isfinite(per_cell).any() else float("nan"),
                    cell_offset_sd_v=mad_sd_1d(offsets))
