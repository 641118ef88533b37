"""SAT (saturation) voltage matrix: which days are full-charge days, and each cell's SAT on them.

Saturation-day criterion (documented defaults, all keyword arguments of `extract_sat`):

1. A cell's daily maximum is *plausible* when it lies in [2.5, 3.8] V; anything else (a sensor
   glitch, a sentinel that slipped through) is dropped before it can vote.
2. A day is a *saturation day* when the median, over the system's cells with a plausible
   reading, of the daily maximum is >= 3.40 V. LFP cells end a full charge at ~3.43-3.50 V,
   while a day without a full charge peaks at 3.0-3.3 V (the flat part of the curve), so the
   threshold sits in the empty gap between them. The median makes the decision robust to a few
   bad or drifting cells: it is the system that reached full charge, not one cell.
3. When the day's maximum SOC is given, a saturation day must also reach >= 95 % SOC; a day whose
   SOC is unknown (NaN) is judged on voltage alone.
4. On a saturation day every plausible cell value is kept, including cells far from their pack
   (that is what the anomaly analysis is for); on other days the whole column is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.cells._robust import nanmedian_axis0, readonly
from data.glossary import cell_key, cell_label

SAT_MIN_MEDIAN_V = 3.40
SAT_MIN_SOC_PCT = 95.0
PLAUSIBLE_RANGE_V = (2.5, 3.8)


@dataclass(frozen=True)
class SatMatrix:
    """Daily SAT voltage of every cell of one system; rows P1C1..PnCm, columns local calendar days."""

    packs: np.ndarray
    """int64 (n_cells,), 1-based pack number of each row."""
    cells: np.ndarray
    """int64 (n_cells,), 1-based cell number within the pack."""
    labels: tuple[str, ...]
    """Row labels "P1C1".."P5C52"."""
    days: np.ndarray
    """datetime64[D] (n_days,), local (Europe/Berlin) calendar days, strictly increasing."""
    voltage_v: np.ndarray
    """float64 (n_cells, n_days): SAT voltage [V]; NaN on non-saturation days and missing readings."""
    saturation_day: np.ndarray
    """bool (n_days,): the day passed the saturation criterion."""
    day_median_v: np.ndarray
    """float64 (n_days,): median over cells of the plausible daily maxima, the value the criterion
    tested [V]; NaN on days without readings."""

    def __post_init__(self) -> None:
        n_cells, n_days = self.voltage_v.shape
        if not (self.packs.shape == self.cells.shape == (n_cells,) and len(self.labels) == n_cells):
            raise ValueError(f"packs, cells and labels must have {n_cells} entries (rows of voltage_v)")
        if not (self.days.shape == self.saturation_day.shape == self.day_median_v.shape == (n_days,)):
            raise ValueError(f"days, saturation_day and day_median_v must have {n_days} entries "
                             "(columns of voltage_v)")

    @property
    def n_cells(self) -> int:
        return self.voltage_v.shape[0]

    @property
    def n_days(self) -> int:
        return self.voltage_v.shape[1]

    @property
    def pack_numbers(self) -> np.ndarray:
        """The distinct pack numbers, ascending."""
        return np.unique(self.packs)

    def day_offsets(self) -> np.ndarray:
        """Days since the first day of the matrix, float64 (n_days,): the x axis of every fit. [day]"""
        return (self.days - self.days[0]).astype(np.int64).astype(np.float64)

    def rows_of_pack(self, pack: int) -> np.ndarray:
        """Row indices of one pack's cells."""
        return np.flatnonzero(self.packs == pack)


def _as_days(days: np.ndarray, n_days: int) -> np.ndarray:
    try:
        out = np.asarray(days).astype("datetime64[D]")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"days must be local dates (datetime64[D] or ISO strings): {exc}") from None
    if out.shape != (n_days,):
        raise ValueError(f"days must have shape ({n_days},) (columns of daily_max_v), got {out.shape}")
    if np.isnat(out).any():
        raise ValueError("days must not contain NaT")
    if n_days > 1 and not (np.diff(out).astype(np.int64) > 0).all():
        raise ValueError("days must be strictly increasing (one column per local day)")
    return out


def _as_ids(values: np.ndarray, name: str, n_cells: int) -> np.ndarray:
    a = np.asarray(values)
    if a.shape != (n_cells,):
        raise ValueError(f"{name} must have shape ({n_cells},) (rows of daily_max_v), got {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must be integers, got {a.dtype}")
    if (a < 1).any():
        raise ValueError(f"{name} are 1-based; got {int(a.min())}")
    return a.astype(np.int64)


def extract_sat(daily_max_v: np.ndarray, days: np.ndarray, packs: np.ndarray, cells: np.ndarray, *,
                soc_max_pct: np.ndarray | None = None,
                min_median_v: float = SAT_MIN_MEDIAN_V,
                min_soc_pct: float = SAT_MIN_SOC_PCT,
                plausible_range_v: tuple[float, float] = PLAUSIBLE_RANGE_V) -> SatMatrix:
    """SAT matrix from the per-cell daily maximum voltage (see the module docstring for the criterion).

    Parameters
    ----------
    daily_max_v : (n_cells, n_days) float
        Maximum voltage of each cell on each local day, NaN = no reading. [V]
    days : (n_days,) datetime64[D] or ISO date strings, strictly increasing
        Local calendar day of each column.
    packs, cells : (n_cells,) int, 1-based
        Pack and cell number of each row; rows are re-ordered to P1C1..PnCm.
    soc_max_pct : (n_days,) float, optional
        Highest SOC of each day, NaN = unknown. [%]
    min_median_v : float
        A day is a saturation day when the median daily maximum over cells reaches this. [V]
    min_soc_pct : float
        ... and (when SOC is given and known) the day's maximum SOC reaches this. [%]
    plausible_range_v : (low, high)
        Cell values outside [low, high] are treated as missing. [V]
    """
    v = np.asarray(daily_max_v)
    if v.ndim != 2:
        raise ValueError(f"daily_max_v must be 2-D (n_cells, n_days), got shape {v.shape}")
    if not np.issubdtype(v.dtype, np.number):
        raise ValueError(f"daily_max_v must be numeric, got {v.dtype}")
    n_cells, n_days = v.shape
    if n_cells == 0 or n_days == 0:
        raise ValueError(f"daily_max_v must hold at least one cell and one day, got shape {v.shape}")
    day_axis = _as_days(days, n_days)
    packs_i = _as_ids(packs, "packs", n_cells)
    cells_i = _as_ids(cells, "cells", n_cells)
    keys = cell_key(packs_i, cells_i)
    if np.unique(keys).size != n_cells:
        raise ValueError("packs/cells name the same cell twice")
    lo, hi = plausible_range_v
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"plausible_range_v must be finite (low, high) with low < high, got {plausible_range_v}")
    if not np.isfinite(min_median_v):
        raise ValueError(f"min_median_v must be finite, got {min_median_v}")
    soc = None
    if soc_max_pct is not None:
        soc = np.asarray(soc_max_pct, dtype=np.float64)
        if soc.shape != (n_days,):
            raise ValueError(f"soc_max_pct must have shape ({n_days},) (one value per day), got {soc.shape}")

    order = np.argsort(keys, kind="stable")
    v = v.astype(np.float64)[order]
    packs_i, cells_i = packs_i[order], cells_i[order]
    with np.errstate(invalid="ignore"):
        plausible = np.isfinite(v) & (v >= lo) & (v <= hi)
    v = np.where(plausible, v, np.nan)
    day_median = nanmedian_axis0(v)
    with np.errstate(invalid="ignore"):
        sat_day = day_median >= min_median_v  # NaN (no reading) compares False
        if soc is not None:
            sat_day &= ~(soc < min_soc_pct)  # unknown SOC does not veto a day
    voltage = np.where(sat_day[None, :], v, np.nan)
    out = SatMatrix(packs=packs_i, cells=cells_i,
                    labels=tuple(cell_label(int(p), int(c)) for p, c in zip(packs_i, cells_i)),
                    days=day_axis.copy(), voltage_v=voltage, saturation_day=sat_day, day_median_v=day_median)
    readonly(out.packs, out.cells, out.days, out.voltage_v, out.saturation_day, out.day_median_v)
    return out
