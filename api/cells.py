"""Packs and cells of a BESS; per-cell fields share one store read per request through DataLoaders."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.analytics import CellFit, DailyValues, PackHealth, fits_of, health_of
from api.args import (
    DownsampleArg, From, LanguageArg, MaxPoints, MethodArg, ResolutionArg, To, checked_range, checked_series_range,
    series_capped,
)
from api.errors import NOT_FOUND, ApiError
from api.limits import check_points
from api.types import Downsample, FitMethod, Language, Resolution, Series, num
from core.cells.drift import grade_text
from core.results import SystemInfo
from data.glossary import cell_label


@strawberry.type(description="One cell of a BESS.")
class Cell:
    system: strawberry.Private[SystemInfo]
    pack: int = strawberry.field(description="Pack index, 1-based.")
    index: int = strawberry.field(description="Cell index within its pack, 1-based.")

    @strawberry.field(description="Matrix row label of the cell, e.g. P1C1.")
    def label(self) -> str:
        return cell_label(self.pack, self.index)

    async def _series(self, info: strawberry.Info, group: str, start, end, resolution: Resolution,
                      max_points: int, downsample: Downsample) -> Series:
        start, end = checked_series_range(self.system, start, end, resolution)
        key = (self.system.id, group, self.pack, self.index, start, end, resolution.value,
               check_points(max_points), downsample.value)
        return series_capped(await info.context.loaders.cell_series.load(key), max_points)

    @strawberry.field(description="Cell voltage over [from, to) as parallel arrays [V].")
    async def voltage(self, info: strawberry.Info, from_: From = None, to: To = None,
                      resolution: ResolutionArg = Resolution.AUTO, max_points: MaxPoints = 2000,
                      downsample: DownsampleArg = Downsample.LTTB) -> Series:
        return await self._series(info, "cell_v", from_, to, resolution, max_points, downsample)

    @strawberry.field(description="Cell temperature sensor over [from, to) as parallel arrays [°C].")
    async def temperature(self, info: strawberry.Info, from_: From = None, to: To = None,
                          resolution: ResolutionArg = Resolution.AUTO, max_points: MaxPoints = 2000,
                          downsample: DownsampleArg = Downsample.LTTB) -> Series:
        return await self._series(info, "cell_t", from_, to, resolution, max_points, downsample)

    @strawberry.field(description="The cell's daily SAT voltage over [from, to) (its row of Bess.satVoltage) [V].")
    async def sat_voltage(self, info: strawberry.Info, from_: From = None, to: To = None) -> DailyValues:
        start, end = checked_range(from_, to)
        m = await info.context.loaders.sat_matrix(self.system.id, start, end)
        row = m.labels.index(cell_label(self.pack, self.index))
        return DailyValues(days=[str(d) for d in m.days.astype("datetime64[D]")], values=m.voltage_v[row], unit="V")

    @strawberry.field(description="The cell's SAT line fit (its row of Bess.degradation).")
    async def fit(self, info: strawberry.Info, method: MethodArg = FitMethod.OLS,
                  language: LanguageArg = Language.EN) -> CellFit:
        fits = await info.context.loaders.degradation(self.system.id, method.value)
        return fits_of(fits, language, [fits.index_of(cell_label(self.pack, self.index))])[0]


@strawberry.type(description="One pack of a BESS: cells in series.")
class Pack:
    system: strawberry.Private[SystemInfo]
    index: int = strawberry.field(description="Pack index, 1-based.")

    @strawberry.field(description="The pack's cells, 1-based.")
    def cells(self) -> list[Cell]:
        return [Cell(system=self.system, pack=self.index, index=c) for c in range(1, self.system.cells_per_pack + 1)]

    @strawberry.field(description="Health summary: cell counts by state, SAT mean and spread, best and worst cell.")
    async def health(self, info: strawberry.Info) -> PackHealth:
        loaders, sid = info.context.loaders, self.system.id
        health = await loaders.pack_health(sid)
        trends = await loaders.pack_trends(sid)
        robust = await loaders.degradation(sid, FitMethod.ROBUST.value)
        out = health_of(self.index, health, trends, robust)
        drift = next((p for p in (await loaders.analysis(sid)).drift.packs if p.pack == self.index), None)
        if drift is not None:
            out.drift_v_per_day = num(drift.trend.slope_v_per_day)
            out.drift_ci95_low_v_per_day = num(drift.trend.ci95_low_v_per_day)
            out.drift_ci95_high_v_per_day = num(drift.trend.ci95_high_v_per_day)
            out.drift_rating = grade_text(drift.grade)
        return out

    @strawberry.field(description="One cell of the pack by its 1-based index; unknown is NOT_FOUND.")
    def cell(self, index: Annotated[int, strawberry.argument(description="Cell index, 1-based.")]) -> Cell:
        return cell_of(self.system, self.index, index)  # type: ignore[return-value]


def pack_list(system: SystemInfo) -> list[Pack]:
    return [Pack(system=system, index=p) for p in range(1, system.packs + 1)]


def cell_of(system: SystemInfo, pack: int, cell: int | None) -> Pack | Cell:
    """The pack (cell None) or cell, or a NOT_FOUND error naming the valid range."""
    if not 1 <= pack <= system.packs:
        raise ApiError(NOT_FOUND, f"system {system.id!r} has packs 1..{system.packs}, not {pack}")
    if cell is None:
        return Pack(system=system, index=pack)
    if not 1 <= cell <= system.cells_per_pack:
        raise ApiError(NOT_FOUND, f"pack {pack} of {system.id!r} has cells 1..{system.cells_per_pack}, not {cell}")
    return Cell(system=system, pack=pack, index=cell)
