"""Frozen result types that cross from core to the API and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from data.catalog import SystemEntry
from data.glossary import Aggregation, SystemKind, spec_for


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

    @classmethod
    def of(cls, entry: SystemEntry) -> SystemInfo:
        """A system of the store's catalog, its signals described by the glossary."""
        signals = tuple(SignalInfo(u.name, spec.unit, spec.aggregation, spec.description, spec.is_counter,
                                   spec.is_alarm) for u in entry.signals for spec in (spec_for(u.name),))
        span = entry.time_span
        return cls(entry.id, entry.kind, signals, TimeRange(span.start, span.end) if span else None,
                   entry.packs, entry.cells_per_pack, entry.levels)


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
class KpiBasis:
    """What one KPI group stands on: its signals, how much of the range they cover, the method.

    ``reason`` is set exactly when the group's values are null (no data, too thin, no signal).
    """

    group: str  # energy, power, power_factor, soc, soh_bms, cycles, ac_energy, dc_energy, aux, ...
    signals: tuple[str, ...]
    coverage: float  # 0..1: fraction of the range with data; NaN when the group has no time basis
    method: str
    reason: str | None = None


@dataclass(frozen=True)
class UnattributedEnergy:
    """Energy a counter counted across a gap: known in total, not when in [start, end) it flowed."""

    signal: str
    start: datetime
    end: datetime
    energy_kwh: float
    kind: str  # rise, jitter, rollover, drop; reset: a lower bound (energy before the reset is lost)


@dataclass(frozen=True)
class DailyEnergy:
    """Energy per local (Europe/Berlin) day, or per hour / quarter hour, booked by interval start."""

    days: tuple[str, ...]  # YYYY-MM-DD (bucket "day") or ISO UTC bucket starts (1h, 15min)
    import_kwh: np.ndarray  # NaN on a bucket without data
    export_kwh: np.ndarray
    aux_kwh: np.ndarray | None  # BESS auxiliary consumption, None for meters
    coverage: np.ndarray | None = None  # 0..1 per bucket: fraction of it with data (least of the signals)
    partial: np.ndarray | None = None  # bool per bucket: coverage below core.energy.PARTIAL_DAY_COVERAGE
    unattributed: tuple[UnattributedEnergy, ...] = ()  # counter energy across gaps, never in a bucket
    basis: tuple[KpiBasis, ...] = ()
    bucket: str = "day"


@dataclass(frozen=True)
class MeterKpis:
    import_kwh: float  # measured: booked inside the range, gaps excluded
    export_kwh: float
    net_kwh: float
    peak_power_kw: float
    mean_power_kw: float
    min_power_kw: float
    mean_power_factor: float
    load_factor: float  # mean import demand max(P, 0) / peak import demand, 0..1 (core.kpis.import_load_factor)
    peak_import_kw: float  # highest import power (interval mean), >= 0
    peak_export_kw: float  # highest export power (interval mean) as a positive number, >= 0
    import_unattributed_kwh: float = float("nan")  # counted across gaps, not attributable to a time
    export_unattributed_kwh: float = float("nan")
    unattributed: tuple[UnattributedEnergy, ...] = ()
    basis: tuple[KpiBasis, ...] = ()


@dataclass(frozen=True)
class Cycles:
    equivalent_full_cycles: float  # Ah throughput / (2 x capacity Ah), else kWh throughput / 2 / nameplate
    charged_kwh: float  # AC, from PCS power
    discharged_kwh: float
    nameplate_kwh: float
    days: float
    charged_ah: float = float("nan")  # DC, from bms1_c
    discharged_ah: float = float("nan")
    capacity_ah: float = float("nan")  # the capacity the Ah cycle count divides by
    capacity_source: str = ""  # configured, estimated, or "" when cycles come from energy
    equivalent_full_cycles_energy: float = float("nan")  # (charged + discharged kWh) / 2 / nameplate
    basis: KpiBasis | None = None


@dataclass(frozen=True)
class CapacityEstimate:
    """Usable capacity from coulomb counting between steep-curve SOC anchors, and SOH from it."""

    cycle_end_ms: np.ndarray  # int64: time of each qualifying cycle's low anchor
    cycle_capacity_ah: np.ndarray  # float64: capacity of each qualifying cycle [Ah]
    capacity_ah: float  # trend value at the last qualifying cycle [Ah]
    capacity_low_ah: float  # 95 % interval of that value
    capacity_high_ah: float
    trend_ah_per_year: float
    reference_ah: float  # initial (trend at the first cycle) or configured capacity
    reference_source: str  # configured or initial
    soh_pct: float  # capacity / reference
    bms_soh_pct: float  # the BMS's own latest bms1_soh, for comparison
    disagreement_pct: float  # soh_pct - bms_soh_pct [percentage points]
    alert: bool  # |disagreement| above core.capacity.SOH_ALERT_PP
    basis: KpiBasis


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
    soh_trend_p_value: float  # of the trend's slope (two-sided, slope = 0); NaN for a constant SOH
    cycles: Cycles
    round_trip_efficiency: float  # AC (PCS): discharged / charged, 0..1
    round_trip_efficiency_with_aux: float  # AC: discharged / (charged + aux)
    aux_kwh: float
    pcs_peak_discharge_kw: float
    pcs_peak_charge_kw: float
    temperatures: tuple[GroupTemperature, ...]
    alarms: tuple[AlarmSummary, ...]
    round_trip_efficiency_dc: float = float("nan")  # DC (bms1_v x bms1_c): discharged / charged
    round_trip_efficiency_dc_with_aux: float = float("nan")  # DC: discharged / (charged + aux)
    dc_charged_kwh: float = float("nan")
    dc_discharged_kwh: float = float("nan")
    capacity: CapacityEstimate | None = None
    basis: tuple[KpiBasis, ...] = ()
    aux_unattributed_kwh: float = float("nan")  # aux counter energy across gaps, not in aux_kwh
    unattributed: tuple[UnattributedEnergy, ...] = ()


@dataclass(frozen=True)
class Matrix:
    """A labelled row-major matrix: rows (e.g. cells) x columns (e.g. dates)."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: np.ndarray  # float64 (len(rows), len(columns)); NaN = no value
    unit: str
