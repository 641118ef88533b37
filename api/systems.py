"""The System interface and its two kinds, Meter and Bess: thin resolvers over the query service."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.analytics import Alert, CellFit, PackEvent, PackTrends, SatMatrix, fits_of
from api.args import (
    DownsampleArg, From, LanguageArg, MaxPoints, MethodArg, ResolutionArg, SignalName, To, checked_range,
    checked_series_range, data_window, series_capped,
)
from api.cells import Cell, Pack, cell_of, pack_list
from api.drift import CellDrift, SystemTrend, drift_rows, system_trend_of
from api.errors import BAD_INPUT, LIMIT, ApiError
from api.limits import MAX_MATRIX_COLUMNS, check_points
from api.types import (
    Alarm, Capacity, Cycles, DailyEnergy, EnergyBucket, Downsample, FitMethod, Kpis, Language, Matrix, Resolution, Series, Signal, SystemKind,
    TimeRange, kpis_of, num,
)
from core.results import SystemInfo
from data.glossary import LEVEL_SECONDS


@strawberry.interface(description="A metered site or a battery energy storage system.")
class System:
    info: strawberry.Private[SystemInfo]

    @strawberry.field(description="System id, e.g. m1 or ZHPESS232A230002.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.info.id)

    @strawberry.field(description="METER or BESS.")
    def kind(self) -> SystemKind:
        return SystemKind(self.info.kind.value)

    @strawberry.field(description="Scalar signals in the store (per-cell signals are under packs and cells).")
    def signals(self) -> list[Signal]:
        return [Signal.of(s) for s in self.info.signals]

    @strawberry.field(description="Half-open range [from, to) covered by the system's data; null when empty.")
    def time_range(self) -> TimeRange | None:
        r = self.info.time_range
        return TimeRange(from_=r.start, to=r.end) if r else None

    @strawberry.field(description="Pyramid levels present in the store, finest first: raw, 5min, 15min, 1h, 1d.")
    def levels(self) -> list[str]:
        return list(self.info.levels)

    @strawberry.field(description="One signal over [from, to) as parallel arrays, downsampled to maxPoints.")
    async def series(self, info: strawberry.Info, signal: SignalName, from_: From = None, to: To = None,
                     resolution: ResolutionArg = Resolution.AUTO, max_points: MaxPoints = 2000,
                     downsample: DownsampleArg = Downsample.LTTB) -> Series:
        start, end = checked_series_range(self.info, from_, to, resolution)
        s = await info.context.call(info.context.service.series, self.info.id, signal, start, end,
                                    resolution=resolution.value, max_points=check_points(max_points),
                                    method=downsample.value)
        return series_capped(s, max_points)

    @strawberry.field(description="KPIs over [from, to): MeterKpis for a meter, BessKpis for a BESS.")
    async def kpis(self, info: strawberry.Info, from_: From = None, to: To = None) -> Kpis:
        start, end = checked_range(from_, to)
        return kpis_of(await info.context.call(info.context.service.kpis, self.info.id, start, end))

    @strawberry.field(description="Energy per local day (or hour / quarter hour) over [from, to): import/export "
                      "[kWh] (for a BESS: charged/discharged and auxiliary), booked by interval start, with "
                      "coverage per bucket and the energy counted across gaps.")
    async def daily_energy(self, info: strawberry.Info, from_: From = None, to: To = None,
                           bucket: Annotated[EnergyBucket, strawberry.argument(
                               description="Bucket length.")] = EnergyBucket.DAY) -> DailyEnergy:
        start, end = checked_range(from_, to)
        return DailyEnergy.of(await info.context.call(info.context.service.daily_energy, self.info.id, start, end,
                                                      bucket.value))

    @strawberry.field(description="Activations and active time [s] per alarm or flag signal over [from, to).")
    async def alarms(self, info: strawberry.Info, from_: From = None, to: To = None) -> list[Alarm]:
        start, end = checked_range(from_, to)
        return [Alarm.of(a) for a in await info.context.call(info.context.service.alarms, self.info.id, start, end)]


@strawberry.type(description="A smart meter (import/export power and energy).")
class Meter(System):
    pass


@strawberry.type(description="A battery energy storage system: packs of cells in series, BMS, PCS, auxiliaries.")
class Bess(System):
    @strawberry.field(description="Number of packs [count].")
    def pack_count(self) -> int:
        return self.info.packs

    @strawberry.field(description="Cells per pack [count].")
    def cells_per_pack(self) -> int:
        return self.info.cells_per_pack

    @strawberry.field(description="Equivalent full cycles and throughput [kWh] over [from, to).")
    async def cycles(self, info: strawberry.Info, from_: From = None, to: To = None) -> Cycles:
        start, end = checked_range(from_, to)
        return Cycles.of(await info.context.call(info.context.service.cycles, self.info.id, start, end))

    @strawberry.field(description="Usable capacity [Ah] by coulomb counting between SOC anchors at full charge "
                      "and low SOC, its trend and interval, SOH from it and the BMS's SOH beside it.")
    async def capacity(self, info: strawberry.Info) -> Capacity:
        return Capacity.of(await info.context.call(info.context.service.capacity, self.info.id))

    @strawberry.field(description="Nameplate energy [kWh]: configured ($BESS_NAMEPLATE_KWH) or estimated.")
    async def nameplate_kwh(self, info: strawberry.Info) -> float | None:
        return num(await info.context.call(info.context.service.nameplate_kwh, self.info.id))

    @strawberry.field(description="All packs, 1-based.")
    def packs(self) -> list[Pack]:
        return pack_list(self.info)

    @strawberry.field(description="One pack by its 1-based index; an unknown index is a NOT_FOUND error.")
    def pack(self, index: Annotated[int, strawberry.argument(description="Pack index, 1-based.")]) -> Pack:
        return cell_of(self.info, index, None)  # type: ignore[return-value]

    @strawberry.field(description="One cell by pack and cell index (both 1-based); unknown is NOT_FOUND.")
    def cell(self, pack: Annotated[int, strawberry.argument(description="Pack index, 1-based.")],
             index: Annotated[int, strawberry.argument(description="Cell index within the pack, 1-based.")]) -> Cell:
        return cell_of(self.info, pack, index)  # type: ignore[return-value]

    @strawberry.field(description="All cells x time bins of one level as a matrix, read in one go "
                      "(rows P1C1..P5C52, columns bin starts in UTC ISO 8601) [V].")
    async def cell_voltage_matrix(self, info: strawberry.Info, from_: From = None, to: To = None,
                                  resolution: Annotated[Resolution, strawberry.argument(
                                      description="Level to read; AUTO means DAY.")] = Resolution.DAY) -> Matrix:
        start, end = checked_range(from_, to)
        level = "1d" if resolution is Resolution.AUTO else resolution.value
        lo, hi = data_window(self.info, start, end)
        if level == "raw" or (lo and hi and (hi - lo).total_seconds() / LEVEL_SECONDS[level] > MAX_MATRIX_COLUMNS):
            raise ApiError(LIMIT, f"cellVoltageMatrix at {resolution.name} over this range exceeds "
                           f"{MAX_MATRIX_COLUMNS} columns (RAW is never allowed): use a coarser resolution or a shorter range")
        m = await info.context.call(info.context.service.cell_matrix, self.info.id, group="cell_v", level=level,
                                    start=start, end=end, max_columns=MAX_MATRIX_COLUMNS)
        return Matrix.of(m)

    @strawberry.field(description="Daily SAT voltage of all cells over [from, to): rows P1C1..P5C52, columns local "
                      "dates, one flat row-major array [V].")
    async def sat_voltage(self, info: strawberry.Info, from_: From = None, to: To = None) -> SatMatrix:
        start, end = checked_range(from_, to)
        return SatMatrix.of(await info.context.loaders.sat_matrix(self.info.id, start, end))

    @strawberry.field(description="Per-cell SAT line fits (slope [V/day], loss [%/year]) with fit quality, P1C1 first.")
    async def degradation(self, info: strawberry.Info, method: MethodArg = FitMethod.OLS,
                          language: LanguageArg = Language.EN) -> list[CellFit]:
        fits = await info.context.loaders.degradation(self.info.id, method.value)
        return fits_of(fits, language, verdicts=(await info.context.loaders.analysis(self.info.id)).verdicts)

    @strawberry.field(description="Every cell against its peers (the system's daily median): drift [V/day] with a "
                      "95 % interval that allows for autocorrelated days, deviation [V], mechanism hint, the date "
                      "its deviation reaches the limit; P1C1 first.")
    async def drift(self, info: strawberry.Info, language: LanguageArg = Language.EN,
                    limit_mv: Annotated[float, strawberry.argument(
                        description="Deviation from peers that counts as the limit [mV], 1..500; default 40 "
                                    "(where the deviation alert turns critical).")] = 40.0) -> list[CellDrift]:
        if not (1.0 <= limit_mv <= 500.0):
            raise ApiError(BAD_INPUT, f"limitMv must lie in 1..500 mV, got {limit_mv}")
        a = await info.context.loaders.analysis(self.info.id)
        days = float((a.sat.days[-1] - a.sat.days[0]).astype("int64")) + 1.0
        return drift_rows(a, language, limit_mv / 1000.0, days)

    @strawberry.field(description="The slope of the SAT part every cell shares, reported on its own: operation "
                      "(charge set-point, end current, temperature), not cell ageing.")
    async def system_trend(self, info: strawberry.Info, language: LanguageArg = Language.EN) -> SystemTrend:
        return system_trend_of(await info.context.loaders.analysis(self.info.id), language)

    @strawberry.field(description="Cells and packs that drift, deviate or stepped, most severe first.")
    async def alerts(self, info: strawberry.Info, language: LanguageArg = Language.EN) -> list[Alert]:
        return [Alert.of(a, language) for a in await info.context.loaders.alerts(self.info.id)]

    @strawberry.field(description="Steps in a pack's SAT shared by its cells (e.g. after a bad charging period).")
    async def events(self, info: strawberry.Info) -> list[PackEvent]:
        return [PackEvent.of(e) for e in await info.context.loaders.events(self.info.id)]

    @strawberry.field(description="Pack-mean SAT, spread and standard deviation per day [V] and monthly rates [V/month].")
    async def pack_trends(self, info: strawberry.Info) -> PackTrends:
        return PackTrends.of(await info.context.loaders.pack_trends(self.info.id))

    @strawberry.field(description="Each cell's SAT minus the system's daily median (deviation from peers) per day, "
                      "flat row-major [mV].")
    async def sat_deviation(self, info: strawberry.Info) -> Matrix:
        return Matrix.of(await info.context.call(info.context.service.deviation_matrix, self.info.id))


def system_of(info: SystemInfo) -> System:
    return Bess(info=info) if info.kind.value == "bess" else Meter(info=info)
