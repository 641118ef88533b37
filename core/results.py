"""Frozen result types that cross from core to the API and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from data.glossary import Aggregation, SystemKind


@dataclass(frozen=True)
class SignalInfo:
    name: str
    unit: str
    aggregation: Aggregation
    description: str
    is_counter: bool
    is_alarm: bool


@dataclass(frozen=True)
class TimeRange:
    """Half-open [start, end) in UTC."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class SystemInfo:
    id: str
    kind: SystemKind
    signals: tuple[SignalInfo, ...]  # scalar signals; per-cell signals are summarised by packs/cells
    time_range: TimeRange | None
    packs: int  # 0 for meters
    cells_per_pack: int  # 0 for meters
    levels: tuple[str, ...]

    def signal(self, name: str) -> SignalInfo | None:
        return next((s for s in self.signals if s.name == name), None)


@dataclass(frozen=True)
class Series:
    """A time series as parallel arrays; NaN values mark gaps (a break in the line)."""

    system_id: str
    signal: str
    unit: str
    resolution: str  # the pyramid level read: raw, 5min, 15min, 1h, 1d
    method: str  # downsampling applied: none, lttb, minmax_lttb
    timestamps_ms: np.ndarray  # int64 epoch milliseconds, UTC, ascending
    values: np.ndarray  # float64
    min: np.ndarray | None  # float64 band, where the level keeps one
    max: np.ndarray | None
    rows_in_window: int  # rows read before downsampling


@dataclass(frozen=True)
class DailyEnergy:
    """Energy per local (Europe/Berlin) day."""

    days: tuple[str, ...]  # YYYY-MM-DD
    import_kwh: np.ndarray
    export_kwh: np.ndarray
    aux_kwh: np.ndarray | None  # BESS auxiliary consumption, None for meters


@dataclass(frozen=True)
class MeterKpis:
    import_kwh: float
    export_kwh: float
    net_kwh: float
    peak_power_kw: float
    mean_power_kw: float
    min_power_kw: float
    mean_power_factor: float
    load_factor: float  # mean / peak import power, 0..1


@dataclass(frozen=True)
class Cycles:
    equivalent_full_cycles: float  # (charged + discharged) / 2 / nameplate
    charged_kwh: float
    discharged_kwh: float
    nameplate_kwh: float
    days: float


@dataclass(frozen=True)
class GroupTemperature:
    group: str  # "cells", "pcs_igbt", "pcs_env", "pcs_ambient", "hvac_outside", ...
    mean_c: float
    max_c: float


@dataclass(frozen=True)
class AlarmSummary:
    signal: str
    activations: int  # rising edges (0 -> non-zero)
    active_seconds: float


@dataclass(frozen=True)
class BessKpis:
    soc_min_pct: float
    soc_mean_pct: float
    soc_max_pct: float
    soh_latest_pct: float
    soh_trend_pct_per_year: float
    cycles: Cycles
    round_trip_efficiency: float  # discharged / charged, 0..1
    round_trip_efficiency_with_aux: float  # discharged / (charged + aux)
    aux_kwh: float
    pcs_peak_discharge_kw: float
    pcs_peak_charge_kw: float
    temperatures: tuple[GroupTemperature, ...]
    alarms: tuple[AlarmSummary, ...]


@dataclass(frozen=True)
class Matrix:
    """A labelled row-major matrix: rows (e.g. cells) x columns (e.g. dates)."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: np.ndarray  # float64 (len(rows), len(columns)); NaN = no value
    unit: str
