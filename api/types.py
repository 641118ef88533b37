"""Plain GraphQL output types (no resolvers that read data) and their converters from core results."""

from __future__ import annotations

import enum
import math
from datetime import datetime
from typing import Annotated

import numpy as np
import strawberry

from api.scalars import DateTime, FloatArray, TimestampArray
from core import results
from core.series import RESOLUTIONS


def num(x: float | None) -> float | None:
    """A finite float or None (GraphQL has no NaN)."""
    return None if x is None or not math.isfinite(x) else float(x)


def _v(value: str, description: str):
    return strawberry.enum_value(value, description=description)


@strawberry.enum(description="What a system is.")
class SystemKind(enum.Enum):
    METER = _v("meter", "A smart meter.")
    BESS = _v("bess", "A battery energy storage system.")


@strawberry.enum(description="Pyramid level to read a series from; AUTO picks the coarsest level that still "
                 "gives at least maxPoints points in the range.")
class Resolution(enum.Enum):
    AUTO = _v("auto", "Chosen from the range and maxPoints.")
    RAW = _v("raw", "Every cleaned sample.")
    FIVE_MIN = _v("5min", "5-minute bins.")
    FIFTEEN_MIN = _v("15min", "15-minute bins.")
    HOUR = _v("1h", "1-hour bins.")
    DAY = _v("1d", "Local (Europe/Berlin) calendar days.")


# The levels are defined once, in data.glossary.LEVELS; GraphQL needs them spelled out as members.
assert tuple(r.value for r in Resolution) == RESOLUTIONS, "Resolution must list core.series.RESOLUTIONS"


@strawberry.enum(description="Downsampling applied when the range holds more than maxPoints points.")
class Downsample(enum.Enum):
    LTTB = _v("lttb", "Largest-Triangle-Three-Buckets: keeps the visual shape.")
    MINMAX_LTTB = _v("minmax_lttb", "MinMax preselection, then LTTB: faster on long ranges.")
    NONE = _v("none", "No downsampling; more than maxPoints points is a LIMIT error.")


@strawberry.enum(description="Bucket length of energy accounting.")
class EnergyBucket(enum.Enum):
    DAY = _v("day", "Local (Europe/Berlin) calendar days (23, 24 or 25 h).")
    HOUR = _v("1h", "Hours.")
    QUARTER_HOUR = _v("15min", "Quarter hours.")


@strawberry.enum(description="Line-fit method for degradation.")
class FitMethod(enum.Enum):
    OLS = _v("ols", "Ordinary least squares.")
    ROBUST = _v("robust", "Robust fit (Theil-Sen), insensitive to outlier days.")


@strawberry.enum(description="Language of human-readable labels (quality, alert reasons).")
class Language(enum.Enum):
    EN = _v("en", "English.")
    DE = _v("de", "German.")


@strawberry.enum(description="How a signal is reduced when building coarser levels.")
class Aggregation(enum.Enum):
    MEAN = _v("mean", "Mean of the bin; min and max kept beside it.")
    LAST = _v("last", "Last value of the bin (cumulative counters).")
    MAX = _v("max", "Maximum of the bin (alarms, flags, maxima).")
    MIN = _v("min", "Minimum of the bin.")


@strawberry.type(description="One signal of a system.")
class Signal:
    name: str = strawberry.field(description="Canonical signal name, e.g. com_ap or bms1_soc.")
    unit: str = strawberry.field(description="Unit of the values: kW, kWh, V, A, °C, %, bar, or empty for dimensionless.")
    aggregation: Aggregation = strawberry.field(description="How the signal is reduced to coarser levels.")
    description: str = strawberry.field(description="What the signal measures (English).")
    is_counter: bool = strawberry.field(description="True for cumulative energy counters [kWh].")
    is_alarm: bool = strawberry.field(description="True for alarm and fault flags.")

    @classmethod
    def of(cls, s: results.SignalInfo) -> "Signal":
        return cls(name=s.name, unit=s.unit, aggregation=Aggregation(s.aggregation.value),
                   description=s.description, is_counter=s.is_counter, is_alarm=s.is_alarm)


@strawberry.type(description="A half-open time range [from, to).")
class TimeRange:
    from_: datetime = strawberry.field(name="from", graphql_type=DateTime,
                                       description="First instant inside the range (inclusive).")
    to: datetime = strawberry.field(graphql_type=DateTime, description="First instant after the range (exclusive).")


@strawberry.type(description="A time series as parallel arrays (never a list of point objects).")
class Series:
    signal: str = strawberry.field(description="Signal name; per-cell series are named like cell_v:P1C1.")
    unit: str = strawberry.field(description="Unit of values, min and max.")
    resolution: Resolution = strawberry.field(description="The pyramid level that was read (never AUTO).")
    downsample: Downsample = strawberry.field(description="Downsampling that was applied (NONE when not needed).")
    rows_in_window: int = strawberry.field(description="Rows read from the store before downsampling [count].")
    timestamps_ms: object = strawberry.field(graphql_type=TimestampArray,
                                             description="Bin start (or sample) times, epoch milliseconds UTC [ms].")
    values: object = strawberry.field(graphql_type=FloatArray,
                                      description="Values (bin means on aggregated levels) [unit]; null = gap.")
    min: object | None = strawberry.field(graphql_type=FloatArray | None,
                                          description="Per-bin minimum [unit]; null on raw data.")
    max: object | None = strawberry.field(graphql_type=FloatArray | None,
                                          description="Per-bin maximum [unit]; null on raw data.")

    @classmethod
    def of(cls, s: results.Series) -> "Series":
        return cls(signal=s.signal, unit=s.unit, resolution=Resolution(s.resolution),
                   downsample=Downsample(s.method), rows_in_window=s.rows_in_window,
                   timestamps_ms=s.timestamps_ms, values=s.values, min=s.min, max=s.max)


@strawberry.type(description="A labelled matrix as one flat row-major array: value of row r, column c is "
                 "values[r * len(columns) + c].")
class Matrix:
    rows: list[str] = strawberry.field(description="Row labels, e.g. cells P1C1..P5C52.")
    columns: list[str] = strawberry.field(description="Column labels, e.g. local dates YYYY-MM-DD.")
    values: object = strawberry.field(graphql_type=FloatArray,
                                      description="len(rows) x len(columns) values, row-major [unit]; null = no value.")
    unit: str = strawberry.field(description="Unit of the values, e.g. V.")

    @classmethod
    def of(cls, m: results.Matrix) -> "Matrix":
        return cls(rows=list(m.rows), columns=list(m.columns), values=np.asarray(m.values, dtype=np.float64).ravel(),
                   unit=m.unit)


@strawberry.type(description="What a KPI group stands on: signals, coverage of the range, method; a reason "
                 "exactly when the group's values are null.")
class KpiBasis:
    group: str = strawberry.field(description="KPI group: energy, power, power_factor, soc, soh_bms, cycles, "
                                  "ac_energy, ac_efficiency, dc_energy, dc_efficiency, aux, pcs_power, temperatures, alarms, capacity.")
    signals: list[str] = strawberry.field(description="Signals the group is computed from.")
    coverage: float | None = strawberry.field(
        description="Fraction of the range the signals have data for [0..1]; null when not time-based.")
    method: str = strawberry.field(description="How the values are computed.")
    reason: str | None = strawberry.field(
        description="Why the group's values are null (no signal, no data, too thin); null when they are stated.")

    @classmethod
    def of(cls, b: results.KpiBasis | None) -> "KpiBasis | None":
        if b is None:
            return None
        return cls(group=b.group, signals=list(b.signals), coverage=num(b.coverage), method=b.method, reason=b.reason)


def bases(items) -> list[KpiBasis]:
    return [KpiBasis.of(b) for b in items]


@strawberry.type(description="Energy a counter counted across a gap: known in total, not when it flowed, so "
                 "never booked to a day.")
class UnattributedEnergy:
    signal: str = strawberry.field(description="Counter signal, e.g. pos_ae.")
    from_: datetime = strawberry.field(name="from", graphql_type=DateTime, description="Last snapshot before the gap.")
    to: datetime = strawberry.field(graphql_type=DateTime, description="First snapshot after the gap.")
    energy_kwh: float | None = strawberry.field(description="Energy counted across the gap [kWh].")
    kind: str = strawberry.field(description="How the counter step was read: rise, jitter, rollover, drop, or "
                                 "reset (then a lower bound: energy before the reset is unknown).")

    @classmethod
    def of(cls, u: results.UnattributedEnergy) -> "UnattributedEnergy":
        return cls(signal=u.signal, from_=u.start, to=u.end, energy_kwh=num(u.energy_kwh), kind=u.kind)


@strawberry.type(description="Energy per local (Europe/Berlin) calendar day (or hour / quarter hour), as parallel "
                 "arrays. Each interval is booked to the bucket of its start: a day is counter(next 00:00) - "
                 "counter(00:00). Counter energy across a gap is in unattributed, never in a bucket.")
class DailyEnergy:
    days: list[str] = strawberry.field(description="Local dates YYYY-MM-DD; for hour or 15-min buckets, UTC bucket "
                                       "starts (ISO 8601).")
    import_kwh: object = strawberry.field(graphql_type=FloatArray,
                                          description="Imported energy per bucket [kWh]; for a BESS: charged; "
                                          "null = no data in the bucket.")
    export_kwh: object = strawberry.field(graphql_type=FloatArray,
                                          description="Exported energy per bucket [kWh]; for a BESS: discharged.")
    aux_kwh: object | None = strawberry.field(graphql_type=FloatArray | None,
                                              description="BESS auxiliary consumption per bucket [kWh]; null for meters.")
    coverage: object = strawberry.field(graphql_type=FloatArray,
                                        description="Fraction of each bucket with data [0..1].")
    partial: list[bool] = strawberry.field(description="True where coverage is below the partial-day threshold "
                                           "(0.99, README: Counter rule).")
    unattributed: list[UnattributedEnergy] = strawberry.field(
        description="Counter intervals across gaps, with their range and energy.")
    basis: list[KpiBasis] = strawberry.field(description="Signals and method of each energy column.")

    @classmethod
    def of(cls, d: results.DailyEnergy) -> "DailyEnergy":
        n = len(d.days)
        cov = d.coverage if d.coverage is not None else np.full(n, np.nan)
        partial = [bool(x) for x in d.partial] if d.partial is not None else [False] * n
        return cls(days=list(d.days), import_kwh=d.import_kwh, export_kwh=d.export_kwh, aux_kwh=d.aux_kwh,
                   coverage=cov, partial=partial, unattributed=[UnattributedEnergy.of(u) for u in d.unattributed],
                   basis=bases(d.basis))


@strawberry.type(description="Battery cycling over a range, from measured throughput.")
class Cycles:
    equivalent_full_cycles: float | None = strawberry.field(
        description="Ah throughput (bms1_c) / (2 x capacity Ah); without current or a capacity in Ah, PCS energy "
        "/ 2 / nameplate. basis says which [cycles].")
    charged_kwh: float | None = strawberry.field(description="AC energy charged, from PCS power [kWh].")
    discharged_kwh: float | None = strawberry.field(description="AC energy discharged, from PCS power [kWh].")
    nameplate_kwh: float | None = strawberry.field(description="Nameplate energy of the energy-based count [kWh].")
    days: float | None = strawberry.field(description="Length of the range [days].")
    charged_ah: float | None = strawberry.field(description="Charge into the battery, from bms1_c [Ah].")
    discharged_ah: float | None = strawberry.field(description="Charge out of the battery, from bms1_c [Ah].")
    capacity_ah: float | None = strawberry.field(description="Capacity the Ah count divides by [Ah]; null when "
                                                 "cycles come from energy.")
    capacity_source: str | None = strawberry.field(description="configured ($BESS_CAPACITY_AH) or estimated "
                                                   "(coulomb counting); null when cycles come from energy.")
    equivalent_full_cycles_energy: float | None = strawberry.field(
        description="PCS AC energy / 2 / nameplate, for comparison [cycles].")
    basis: KpiBasis | None = strawberry.field(description="Signals, coverage and method of the cycle count.")

    @classmethod
    def of(cls, c: results.Cycles) -> "Cycles":
        return cls(equivalent_full_cycles=num(c.equivalent_full_cycles), charged_kwh=num(c.charged_kwh),
                   discharged_kwh=num(c.discharged_kwh), nameplate_kwh=num(c.nameplate_kwh), days=num(c.days),
                   charged_ah=num(c.charged_ah), discharged_ah=num(c.discharged_ah), capacity_ah=num(c.capacity_ah),
                   capacity_source=c.capacity_source or None,
                   equivalent_full_cycles_energy=num(c.equivalent_full_cycles_energy), basis=KpiBasis.of(c.basis))


@strawberry.type(description="Usable capacity from coulomb counting between steep-curve SOC anchors (full charge "
                 "and low SOC), its trend, SOH from it, and the BMS's own SOH beside it.")
class Capacity:
    cycle_end_ms: object = strawberry.field(graphql_type=TimestampArray,
                                            description="Low-SOC anchor time of each qualifying cycle [ms UTC].")
    cycle_capacity_ah: object = strawberry.field(graphql_type=FloatArray,
                                                 description="Capacity of each qualifying cycle [Ah].")
    capacity_ah: float | None = strawberry.field(description="Trend value at the last qualifying cycle [Ah].")
    capacity_low_ah: float | None = strawberry.field(description="Lower end of its 95 % interval [Ah].")
    capacity_high_ah: float | None = strawberry.field(description="Upper end of its 95 % interval [Ah].")
    trend_ah_per_year: float | None = strawberry.field(description="Trend of the capacity [Ah/year].")
    reference_ah: float | None = strawberry.field(description="Capacity SOH is relative to [Ah].")
    reference_source: str | None = strawberry.field(description="configured ($BESS_CAPACITY_AH) or initial "
                                                    "(trend at the first qualifying cycle).")
    soh_pct: float | None = strawberry.field(description="Capacity / reference [%].")
    bms_soh_pct: float | None = strawberry.field(description="Latest SOH the BMS reports (bms1_soh) [%].")
    disagreement_pct: float | None = strawberry.field(description="SOH from data minus BMS SOH [percentage points].")
    alert: bool = strawberry.field(description="True when the disagreement exceeds 3 percentage points.")
    basis: KpiBasis = strawberry.field(description="Signals, coverage and method; reason when null.")

    @classmethod
    def of(cls, c: results.CapacityEstimate) -> "Capacity":
        return cls(cycle_end_ms=c.cycle_end_ms, cycle_capacity_ah=c.cycle_capacity_ah, capacity_ah=num(c.capacity_ah),
                   capacity_low_ah=num(c.capacity_low_ah), capacity_high_ah=num(c.capacity_high_ah),
                   trend_ah_per_year=num(c.trend_ah_per_year), reference_ah=num(c.reference_ah),
                   reference_source=c.reference_source or None, soh_pct=num(c.soh_pct),
                   bms_soh_pct=num(c.bms_soh_pct), disagreement_pct=num(c.disagreement_pct), alert=c.alert,
                   basis=KpiBasis.of(c.basis))


@strawberry.type(description="Activations of one alarm or flag signal.")
class Alarm:
    signal: str = strawberry.field(description="Alarm or flag signal name.")
    activations: int = strawberry.field(description="Rising edges (0 to non-zero) in the range [count].")
    active_seconds: float = strawberry.field(description="Time the alarm was active [s].")

    @classmethod
    def of(cls, a: results.AlarmSummary) -> "Alarm":
        return cls(signal=a.signal, activations=a.activations, active_seconds=num(a.active_seconds) or 0.0)


@strawberry.type(description="Mean and maximum of one temperature group.")
class Temperature:
    group: str = strawberry.field(description="Group: cells, pcs_igbt, pcs_environment, pcs_ambient, hvac_outside, ...")
    mean_c: float | None = strawberry.field(description="Mean temperature [°C].")
    max_c: float | None = strawberry.field(description="Maximum temperature [°C].")


@strawberry.type(description="KPIs of a meter over a range.")
class MeterKpis:
    import_kwh: float | None = strawberry.field(description="Imported energy [kWh].")
    export_kwh: float | None = strawberry.field(description="Exported energy [kWh].")
    net_kwh: float | None = strawberry.field(description="Import minus export [kWh].")
    peak_power_kw: float | None = strawberry.field(description="Highest active power (import side) [kW].")
    peak_import_kw: float | None = strawberry.field(description="Highest import power, >= 0 [kW].")
    peak_export_kw: float | None = strawberry.field(description="Highest export power as a positive number, >= 0 [kW].")
    mean_power_kw: float | None = strawberry.field(description="Mean active power [kW].")
    min_power_kw: float | None = strawberry.field(description="Lowest active power (negative = export) [kW].")
    mean_power_factor: float | None = strawberry.field(description="Mean absolute power factor [0..1].")
    load_factor: float | None = strawberry.field(
        description="Mean import demand max(P, 0) over peak import power [0..1]; never negative, also for a meter "
                    "that exports; null without import.")
    import_unattributed_kwh: float | None = strawberry.field(
        description="Import counted across gaps, not attributable to a time and not in importKwh [kWh].")
    export_unattributed_kwh: float | None = strawberry.field(
        description="Export counted across gaps, not in exportKwh [kWh].")
    unattributed: list[UnattributedEnergy] = strawberry.field(description="The gaps the counters counted across.")
    coverage: float | None = strawberry.field(description="Fraction of the range the energy signals cover [0..1].")
    basis: list[KpiBasis] = strawberry.field(description="Per KPI group (energy, power, power_factor): signals, "
                                             "coverage, method, and the reason when its values are null.")

    @classmethod
    def of(cls, k: results.MeterKpis) -> "MeterKpis":
        energy = next((b for b in k.basis if b.group == "energy"), None)
        return cls(**{f: num(getattr(k, f)) for f in (
            "import_kwh", "export_kwh", "net_kwh", "peak_power_kw", "mean_power_kw", "min_power_kw",
            "mean_power_factor", "load_factor", "import_unattributed_kwh", "export_unattributed_kwh",
            "peak_import_kw", "peak_export_kw")},
            unattributed=[UnattributedEnergy.of(u) for u in k.unattributed],
            coverage=num(energy.coverage) if energy else None, basis=bases(k.basis))


@strawberry.type(description="KPIs of a BESS over a range.")
class BessKpis:
    soc_min_pct: float | None = strawberry.field(description="Lowest state of charge [%].")
    soc_mean_pct: float | None = strawberry.field(description="Mean state of charge [%].")
    soc_max_pct: float | None = strawberry.field(description="Highest state of charge [%].")
    soh_latest_pct: float | None = strawberry.field(description="Latest state of health reported by the BMS [%]; "
                                                    "see capacity for SOH from the data.")
    soh_trend_pct_per_year: float | None = strawberry.field(description="Trend of the state of health [%/year].")
    soh_trend_p_value: float | None = strawberry.field(
        description="p-value of that trend (slope = 0, two-sided); show the trend only below 0.05 [1].")
    cycles: Cycles = strawberry.field(description="Equivalent full cycles and throughput.")
    round_trip_efficiency: float | None = strawberry.field(
        description="AC: PCS discharged over charged energy [0..1]; null below one full charge of throughput.")
    round_trip_efficiency_with_aux: float | None = strawberry.field(
        description="AC: discharged over charged plus auxiliary energy [0..1].")
    round_trip_efficiency_dc: float | None = strawberry.field(
        description="DC: discharged over charged energy from bms1_v x bms1_c [0..1].")
    round_trip_efficiency_dc_with_aux: float | None = strawberry.field(
        description="DC: discharged over charged plus auxiliary energy [0..1].")
    dc_charged_kwh: float | None = strawberry.field(description="DC energy charged (bms1_v x bms1_c) [kWh].")
    dc_discharged_kwh: float | None = strawberry.field(description="DC energy discharged [kWh].")
    aux_kwh: float | None = strawberry.field(description="Auxiliary consumption [kWh].")
    pcs_peak_discharge_kw: float | None = strawberry.field(description="Highest PCS discharge power [kW].")
    pcs_peak_charge_kw: float | None = strawberry.field(description="Highest PCS charge power [kW].")
    temperatures: list[Temperature] = strawberry.field(description="Temperature groups [°C].")
    alarms: list[Alarm] = strawberry.field(description="Alarm activations in the range.")
    aux_unattributed_kwh: float | None = strawberry.field(
        description="Auxiliary counter energy across gaps, not attributable to a time and not in auxKwh [kWh].")
    unattributed: list[UnattributedEnergy] = strawberry.field(description="The gaps the aux counter counted across.")
    capacity: Capacity | None = strawberry.field(
        description="Capacity and SOH from the data over the whole record, beside the BMS's SOH.")
    basis: list[KpiBasis] = strawberry.field(
        description="Per KPI group (soc, soh_bms, cycles, ac_energy, ac_efficiency, dc_energy, dc_efficiency, aux, pcs_power, temperatures, "
        "alarms): signals, coverage, method, and the reason when its values are null.")

    @classmethod
    def of(cls, k: results.BessKpis) -> "BessKpis":
        plain = {f: num(getattr(k, f)) for f in (
            "soc_min_pct", "soc_mean_pct", "soc_max_pct", "soh_latest_pct", "soh_trend_pct_per_year",
            "soh_trend_p_value", "round_trip_efficiency", "round_trip_efficiency_with_aux", "aux_kwh", "pcs_peak_discharge_kw",
            "pcs_peak_charge_kw", "round_trip_efficiency_dc", "round_trip_efficiency_dc_with_aux",
            "dc_charged_kwh", "dc_discharged_kwh", "aux_unattributed_kwh")}
        return cls(**plain, cycles=Cycles.of(k.cycles), basis=bases(k.basis),
                   unattributed=[UnattributedEnergy.of(u) for u in k.unattributed],
                   capacity=Capacity.of(k.capacity) if k.capacity is not None else None,
                   temperatures=[Temperature(group=t.group, mean_c=num(t.mean_c), max_c=num(t.max_c))
                                 for t in k.temperatures],
                   alarms=[Alarm.of(a) for a in k.alarms])


Kpis = Annotated[MeterKpis | BessKpis,
                 strawberry.union("Kpis", description="MeterKpis for a meter, BessKpis for a BESS.")]


def kpis_of(k: results.MeterKpis | results.BessKpis) -> MeterKpis | BessKpis:
    return MeterKpis.of(k) if isinstance(k, results.MeterKpis) else BessKpis.of(k)
