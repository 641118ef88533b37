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


@strawberry.enum(description="Downsampling applied when the range holds more than maxPoints points.")
class Downsample(enum.Enum):
    LTTB = _v("lttb", "Largest-Triangle-Three-Buckets: keeps the visual shape.")
    MINMAX_LTTB = _v("minmax_lttb", "MinMax preselection, then LTTB: faster on long ranges.")
    NONE = _v("none", "No downsampling; more than maxPoints points is a LIMIT error.")


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


@strawberry.type(description="Energy per local (Europe/Berlin) calendar day, as parallel arrays.")
class DailyEnergy:
    days: list[str] = strawberry.field(description="Local dates, YYYY-MM-DD.")
    import_kwh: object = strawberry.field(graphql_type=FloatArray,
                                          description="Imported energy per day [kWh]; for a BESS: charged.")
    export_kwh: object = strawberry.field(graphql_type=FloatArray,
                                          description="Exported energy per day [kWh]; for a BESS: discharged.")
    aux_kwh: object | None = strawberry.field(graphql_type=FloatArray | None,
                                              description="BESS auxiliary consumption per day [kWh]; null for meters.")

    @classmethod
    def of(cls, d: results.DailyEnergy) -> "DailyEnergy":
        return cls(days=list(d.days), import_kwh=d.import_kwh, export_kwh=d.export_kwh, aux_kwh=d.aux_kwh)


@strawberry.type(description="Battery cycling over a range, from measured throughput.")
class Cycles:
    equivalent_full_cycles: float | None = strawberry.field(
        description="(charged + discharged) / 2 / nameplate [cycles].")
    charged_kwh: float | None = strawberry.field(description="Energy charged [kWh].")
    discharged_kwh: float | None = strawberry.field(description="Energy discharged [kWh].")
    nameplate_kwh: float | None = strawberry.field(description="Nameplate energy used for the cycle count [kWh].")
    days: float | None = strawberry.field(description="Length of the range with data [days].")

    @classmethod
    def of(cls, c: results.Cycles) -> "Cycles":
        return cls(equivalent_full_cycles=num(c.equivalent_full_cycles), charged_kwh=num(c.charged_kwh),
                   discharged_kwh=num(c.discharged_kwh), nameplate_kwh=num(c.nameplate_kwh), days=num(c.days))


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
    peak_power_kw: float | None = strawberry.field(description="Highest active power [kW].")
    mean_power_kw: float | None = strawberry.field(description="Mean active power [kW].")
    min_power_kw: float | None = strawberry.field(description="Lowest active power (negative = export) [kW].")
    mean_power_factor: float | None = strawberry.field(description="Mean absolute power factor [0..1].")
    load_factor: float | None = strawberry.field(description="Mean over peak import power [0..1].")

    @classmethod
    def of(cls, k: results.MeterKpis) -> "MeterKpis":
        return cls(**{f: num(getattr(k, f)) for f in (
            "import_kwh", "export_kwh", "net_kwh", "peak_power_kw", "mean_power_kw", "min_power_kw",
            "mean_power_factor", "load_factor")})


@strawberry.type(description="KPIs of a BESS over a range.")
class BessKpis:
    soc_min_pct: float | None = strawberry.field(description="Lowest state of charge [%].")
    soc_mean_pct: float | None = strawberry.field(description="Mean state of charge [%].")
    soc_max_pct: float | None = strawberry.field(description="Highest state of charge [%].")
    soh_latest_pct: float | None = strawberry.field(description="Latest state of health reported by the BMS [%].")
    soh_trend_pct_per_year: float | None = strawberry.field(description="Trend of the state of health [%/year].")
    cycles: Cycles = strawberry.field(description="Equivalent full cycles and throughput.")
    round_trip_efficiency: float | None = strawberry.field(description="Discharged over charged energy [0..1].")
    round_trip_efficiency_with_aux: float | None = strawberry.field(
        description="Discharged over charged plus auxiliary energy [0..1].")
    aux_kwh: float | None = strawberry.field(description="Auxiliary consumption [kWh].")
    pcs_peak_discharge_kw: float | None = strawberry.field(description="Highest PCS discharge power [kW].")
    pcs_peak_charge_kw: float | None = strawberry.field(description="Highest PCS charge power [kW].")
    temperatures: list[Temperature] = strawberry.field(description="Temperature groups [°C].")
    alarms: list[Alarm] = strawberry.field(description="Alarm activations in the range.")

    @classmethod
    def of(cls, k: results.BessKpis) -> "BessKpis":
        plain = {f: num(getattr(k, f)) for f in (
            "soc_min_pct", "soc_mean_pct", "soc_max_pct", "soh_latest_pct", "soh_trend_pct_per_year",
            "round_trip_efficiency", "round_trip_efficiency_with_aux", "aux_kwh", "pcs_peak_discharge_kw",
            "pcs_peak_charge_kw")}
        return cls(**plain, cycles=Cycles.of(k.cycles),
                   temperatures=[Temperature(group=t.group, mean_c=num(t.mean_c), max_c=num(t.max_c))
                                 for t in k.temperatures],
                   alarms=[Alarm.of(a) for a in k.alarms])


Kpis = Annotated[MeterKpis | BessKpis,
                 strawberry.union("Kpis", description="MeterKpis for a meter, BessKpis for a BESS.")]


def kpis_of(k: results.MeterKpis | results.BessKpis) -> MeterKpis | BessKpis:
    return MeterKpis.of(k) if isinstance(k, results.MeterKpis) else BessKpis.of(k)
