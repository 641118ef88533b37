"""Reads what the cell analytics need from the store: the SAT matrix and the measured cycling rate."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import numpy as np
import polars as pl

from core.cells import SatMatrix, extract_sat
from core.results import Cycles, SystemInfo
from core.series import local_day_mask, pivot_cells
from data.glossary import LOCAL_TZ
from data.store import NotFoundError, Snapshot


def _local_days(ts: pl.Series) -> np.ndarray:
    """Local calendar day of each 1d bin (its ts is the UTC instant of local midnight)."""
    return ts.dt.convert_time_zone(LOCAL_TZ).dt.date().to_numpy().astype("datetime64[D]")


def read_sat(snap: Snapshot, info: SystemInfo, start: datetime | None, end: datetime | None) -> SatMatrix:
    """SAT matrix of a BESS from the 1d level: each cell's daily maximum, saturation days only.

    The 1d level keeps the max of every raw sample of the local day, so the end-of-charge
    peak is in it whatever the sampling; SOC (when present) confirms the full charge.
    """
    if not snap.has(info.id, "1d", "cell_v"):
        raise NotFoundError(f"system {info.id!r} has no cell voltages in the store")
    df = snap.read_range(info.id, "1d", "cell_v", start, end, columns=["ts", "pack", "cell", "max"])
    if df.height == 0:
        raise NotFoundError(f"system {info.id!r} has no cell voltages in the requested range")
    soc = None
    if snap.has(info.id, "1d", "bms1_soc"):
        soc = snap.read_range(info.id, "1d", "bms1_soc", start, end, columns=["ts", "max"])
    return sat_of_daily_max(df, soc)


def sat_of_daily_max(cell_max: pl.DataFrame, soc_max: pl.DataFrame | None = None) -> SatMatrix:
    """The SAT matrix from 1d-level rows: cells' (ts, pack, cell, max) and optionally SOC's (ts, max)."""
    pivot = pivot_cells(cell_max, "max")
    days = _local_days(pivot.ts)
    soc = None
    if soc_max is not None:
        soc = np.full(days.size, np.nan)
        idx = np.searchsorted(days, _local_days(soc_max["ts"]))
        ok = (idx < days.size) & (days[np.minimum(idx, days.size - 1)] == _local_days(soc_max["ts"]))
        soc[idx[ok]] = soc_max["max"].cast(pl.Float64).to_numpy()[ok]
    return extract_sat(pivot.values, days, pivot.packs, pivot.cells, soc_max_pct=soc)


def slice_sat(sat: SatMatrix, start: datetime | None, end: datetime | None) -> SatMatrix:
    """The local days of ``sat`` whose midnight lies in [start, end).

    The saturation criterion is per day, so a slice of the whole record's matrix equals
    extracting the range alone; every range is served from the one cached analysis.
    """
    keep = local_day_mask(sat.days, start, end)
    if keep.all():
        return sat
    return dataclasses.replace(sat, days=sat.days[keep], voltage_v=sat.voltage_v[:, keep],
                               saturation_day=sat.saturation_day[keep], day_median_v=sat.day_median_v[keep])


def efc_per_day(cycles: Cycles) -> float | None:
    """Measured equivalent full cycles per day (from Ah throughput where current and capacity are
    known, else from energy throughput, as `Cycles` says), None when unknown."""
    efc, days = cycles.equivalent_full_cycles, cycles.days
    if not (np.isfinite(efc) and efc > 0 and days > 0):
        return None
    return efc / days
