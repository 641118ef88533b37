"""The one query service that the API and the dashboard both call, in process: names, checks, caching."""

from __future__ import annotations

import copy
import functools
import threading
from datetime import datetime
from pathlib import Path
from typing import Callable, TypeVar

import cachetools
import numpy as np

from core import kpis, series
from core.cell_detail import CellDetail, cell_detail
from core.cell_queries import efc_per_day, read_sat, slice_sat
from core.cells import (
    Alert,
    CellAnalysis,
    CellFits,
    FitMethod,
    PackEvent,
    PackHealth,
    PackTrends,
    SatMatrix,
    analyze_cells,
)
from core.config import CAPACITY_AH_ENV, configured, configured_nameplates
from core.fleet import FleetRow, fleet_rows
from core.errors import BadInputError
from core.results import (
    AlarmSummary,
    BessKpis,
    CapacityEstimate,
    Cycles,
    DailyEnergy,
    Matrix,
    MeterKpis,
    Series,
    SystemInfo,
)
from core.series import DEFAULT_MAX_POINTS, MAX_MATRIX_COLUMNS, local_day_mask, utc_range
from data.glossary import CELL_GROUPS, SystemKind
from data.store import NotFoundError, Snapshot, open_snapshot

__all__ = ["BadInputError", "NotFoundError", "QueryService"]
CACHE_SIZE = 64
ENERGY_BUCKETS = ("day", "1h", "15min")
T = TypeVar("T")


class _VersionCache:
    """LRU of values derived from one immutable store version (safe to share between views).

    cachetools' LRUCache behind a lock; its ``condition`` makes a miss single-flight:
    concurrent misses of one key compute it once while the others wait for the result.
    A failed computation is not cached (the next caller computes again).
    """

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._get = cachetools.cached(cachetools.LRUCache(maxsize=size), key=lambda key, make: key,
                                      condition=threading.Condition())(lambda key, make: make())

    def get(self, key: tuple, make: Callable[[], T]) -> T:
        return self._get(key, make)


def per_version(method: Callable[..., T]) -> Callable[..., T]:
    """Cache ``method(self, snap, *args)`` per store version and positional arguments."""
    name = method.__name__

    @functools.wraps(method)
    def wrapper(self: QueryService, *args) -> T:
        snap = self.snapshot()
        return self.cached(snap, (name,) + args, lambda: method(self, snap, *args))

    return wrapper


class QueryService:
    """Answers every question of the API and the dashboard from the pyramid store.

    Stateless apart from caches keyed by the store version, so several processes
    can serve the same store and an ingest publishing a new version is picked up
    on the next call.
    """

    def __init__(self, store: str | Path | None = None) -> None:
        self.store = store
        self._cache = _VersionCache()
        self._pinned: Snapshot | None = None

    # -- snapshot and metadata ---------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The store version this call reads: the pinned one, else the currently published one."""
        return self._pinned or open_snapshot(self.store)

    def pinned(self, snap: Snapshot | None = None) -> QueryService:
        """A view bound to the currently published version, or to ``snap`` (sharing caches), for one
        request or task.

        Every answer through it comes from one store version, even while an ingest publishes.
        """
        view = copy.copy(self)
        view._pinned = snap if snap is not None else open_snapshot(self.store)
        return view

    def cached(self, snap: Snapshot, key: tuple, make: Callable[[], T]) -> T:
        return self._cache.get((snap.version,) + key, make)

    def systems(self, kind: SystemKind | None = None) -> list[SystemInfo]:
        return [s for s in self._systems() if kind is None or s.kind == kind]

    @per_version
    def _systems(self, snap: Snapshot) -> list[SystemInfo]:
        return [SystemInfo.of(entry) for entry in snap.catalog().systems]

    def system(self, system_id: str) -> SystemInfo:
        for info in self.systems():
            if info.id == system_id:
                return info
        raise NotFoundError(f"unknown system {system_id!r}")

    # -- series --------------------------------------------------------------------------

    def series(
        self,
        system_id: str,
        signal: str,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        resolution: str = "auto",
        max_points: int = DEFAULT_MAX_POINTS,
        method: str = "lttb",
    ) -> Series:
        """One signal over [start, end), downsampled to at most ``max_points`` points.

        Cumulative counters come back as snapshots; use core.kpis for energy intervals.
        """
        info = self.system(system_id)
        sig = info.signal(signal)
        if sig is None:
            raise NotFoundError(f"system {system_id!r} has no signal {signal!r}")
        return self._series(info, signal, sig.unit, None, start, end, resolution, max_points, method)

    def cell_series(
        self,
        system_id: str,
        pack: int,
        cell: int,
        *,
        group: str = "cell_v",
        start: datetime | None = None,
        end: datetime | None = None,
        resolution: str = "auto",
        max_points: int = DEFAULT_MAX_POINTS,
        method: str = "lttb",
    ) -> Series:
        """One cell's voltage (group ``cell_v``) or temperature (``cell_t``) over [start, end)."""
        info = self._bess(system_id)
        self._check_cell(info, pack, cell)
        if group not in CELL_GROUPS:
            raise BadInputError(f"group must be one of {sorted(CELL_GROUPS)}, got {group!r}")
        unit = CELL_GROUPS[group][0]
        return self._series(info, group, unit, (pack, cell), start, end, resolution, max_points, method)

    def _series(self, info, signal, unit, cell, start, end, resolution, max_points, method) -> Series:
        return series.read_series(self.snapshot(), info, signal, unit, cell, start, end, resolution,
                                  max_points, method)

    # -- cell matrices ------------------------------------------------------------------

    def cell_matrix(
        self,
        system_id: str,
        *,
        group: str = "cell_v",
        level: str = "1d",
        start: datetime | None = None,
        end: datetime | None = None,
        column: str = "value",
        max_columns: int = MAX_MATRIX_COLUMNS,
    ) -> Matrix:
        """All cells x time bins of one level as a matrix (rows P1C1..P5C52; columns ISO UTC)."""
        info = self._bess(system_id)
        return series.cell_matrix(self.snapshot(), info, group, level, start, end, column, max_columns)

    # -- KPIs and energy ----------------------------------------------------------------

    def kpis(self, system_id: str, start: datetime | None = None, end: datetime | None = None) -> MeterKpis | BessKpis:
        """Meter or BESS KPIs over [start, end) (the whole record when open)."""
        info = self.system(system_id)
        start, end = utc_range(start, end)
        if info.kind == SystemKind.METER:
            return self._meter_kpis(system_id, start, end)
        nameplate = self.nameplate_kwh(system_id)
        cap_ah, cap_source = self.cycle_capacity_ah(system_id)
        return self._bess_kpis(system_id, start, end, nameplate, cap_ah, cap_source)

    @per_version
    def _meter_kpis(self, snap, system_id, start, end) -> MeterKpis:
        return kpis.meter_kpis(snap, self.system(system_id), start, end)

    @per_version
    def _bess_kpis(self, snap, system_id, start, end, nameplate_kwh, cap_ah, cap_source) -> BessKpis:
        return kpis.bess_kpis(snap, self.system(system_id), start, end, nameplate_kwh, cap_ah, cap_source,
                              self.capacity(system_id))

    def daily_energy(self, system_id: str, start: datetime | None = None, end: datetime | None = None,
                     bucket: str = "day") -> DailyEnergy:
        """Energy per local day (or hour / 15 min), booked by interval start, with coverage per bucket.

        Meters: import/export; BESS: charge (import) / discharge (export) and aux. Counter energy
        across a gap is in ``unattributed``, never in a bucket.
        """
        if bucket not in ENERGY_BUCKETS:
            raise BadInputError(f"bucket must be one of {', '.join(ENERGY_BUCKETS)}, got {bucket!r}")
        self.system(system_id)
        return self._daily_energy(system_id, *utc_range(start, end), bucket)

    @per_version
    def _daily_energy(self, snap, system_id, start, end, bucket) -> DailyEnergy:
        return kpis.daily_energy(snap, self.system(system_id), start, end, bucket)

    def cycles(self, system_id: str, start: datetime | None = None, end: datetime | None = None) -> Cycles:
        """Equivalent full cycles and throughput of a BESS over [start, end)."""
        self._bess(system_id)
        start, end = utc_range(start, end)
        cap_ah, cap_source = self.cycle_capacity_ah(system_id)
        return self._cycles(system_id, start, end, self.nameplate_kwh(system_id), cap_ah, cap_source)

    @per_version
    def _cycles(self, snap, system_id, start, end, nameplate_kwh, cap_ah, cap_source) -> Cycles:
        return kpis.cycles(snap, self.system(system_id), start, end, nameplate_kwh, cap_ah, cap_source)

    def capacity(self, system_id: str) -> CapacityEstimate:
        """Usable capacity [Ah] from coulomb counting over the whole record, SOH and the BMS's SOH beside it."""
        self._bess(system_id)
        values = configured(CAPACITY_AH_ENV, "Ah")
        return self._capacity(system_id, values.get(system_id, values.get("*")))

    @per_version
    def _capacity(self, snap, system_id, configured_ah) -> CapacityEstimate:
        return kpis.capacity_estimate(snap, self.system(system_id), configured_ah)

    def cycle_capacity_ah(self, system_id: str) -> tuple[float, str]:
        """The capacity [Ah] cycles are counted against: configured ($BESS_CAPACITY_AH), else estimated."""
        values = configured(CAPACITY_AH_ENV, "Ah")
        if system_id in values:
            return values[system_id], "configured"
        if "*" in values:
            return values["*"], "configured"
        est = self.capacity(system_id)
        return (est.reference_ah, "estimated") if np.isfinite(est.reference_ah) else (float("nan"), "")

    def alarms(self, system_id: str, start: datetime | None = None, end: datetime | None = None) -> tuple[AlarmSummary, ...]:
        """Activations and active time per alarm/flag signal."""
        self.system(system_id)
        return self._alarms(system_id, *utc_range(start, end))

    @per_version
    def _alarms(self, snap, system_id, start, end) -> tuple[AlarmSummary, ...]:
        return kpis.alarms(snap, self.system(system_id), start, end)

    def nameplate_kwh(self, system_id: str) -> float:
        """Configured nameplate ($BESS_NAMEPLATE_KWH as 'ID=kWh,...' or one number), else estimated."""
        configured = configured_nameplates()
        if system_id in configured:
            return configured[system_id]
        if "*" in configured:
            return configured["*"]
        self._bess(system_id)
        return self._estimated_nameplate(system_id)

    @per_version
    def _estimated_nameplate(self, snap, system_id) -> float:
        return kpis.estimate_nameplate_kwh(snap, self.system(system_id))

    # -- cell analytics -----------------------------------------------------------------

    def cell_analysis(self, system_id: str, start: datetime | None = None, end: datetime | None = None) -> CellAnalysis:
        """Everything the cell view shows for one BESS: SAT, fits, events, trends, anomalies, alerts, health.

        Computed once per store version and range, in one batched pass (see core.cells).
        """
        self._bess(system_id)
        return self._cell_analysis(system_id, *utc_range(start, end))

    @per_version
    def _cell_analysis(self, snap, system_id, start, end) -> CellAnalysis:
        sat = read_sat(snap, self.system(system_id), start, end)
        return analyze_cells(sat, efc_per_day=efc_per_day(self.cycles(system_id, start, end)))

    def sat_matrix(self, system_id: str, start: datetime | None = None, end: datetime | None = None) -> SatMatrix:
        """Daily SAT voltage of every cell (cells x local days, NaN off saturation days) in [start, end).

        A slice of the whole record's analysis (core.cell_queries.slice_sat), never a second analysis.
        """
        return slice_sat(self.cell_analysis(system_id).sat, start, end)

    def degradation(self, system_id: str, method: FitMethod | str = FitMethod.OLS) -> CellFits:
        """Per-cell SAT fits (least squares or Theil-Sen) with loss rates and projections."""
        try:
            method = FitMethod(method)
        except ValueError:
            raise BadInputError(f"method must be one of {[m.value for m in FitMethod]}, got {method!r}") from None
        analysis = self.cell_analysis(system_id)
        return analysis.ols if method == FitMethod.OLS else analysis.robust

    def events(self, system_id: str) -> tuple[PackEvent, ...]:
        """Step changes shared by the cells of a pack (e.g. after a bad charging period)."""
        return self.cell_analysis(system_id).events

    def pack_trends(self, system_id: str) -> PackTrends:
        """Pack mean SAT per day, spread and monthly rate."""
        return self.cell_analysis(system_id).trends

    def alerts(self, system_id: str) -> tuple[Alert, ...]:
        """Cells and packs that drift, deviate or stepped, with severity and reasons (EN and DE)."""
        return self.cell_analysis(system_id).alerts

    def pack_health(self, system_id: str) -> tuple[PackHealth, ...]:
        """Healthy / watched / critical cell counts per pack."""
        return self.cell_analysis(system_id).health

    def cell_detail(self, system_id: str, pack: int, cell: int) -> CellDetail:
        """One cell against its pack and system medians, its drift fit per segment between pack events,
        the drift's 95 % projection band, the events that step it and its alerts (core.cell_detail)."""
        info = self._bess(system_id)
        self._check_cell(info, pack, cell)
        try:
            return cell_detail(self.cell_analysis(system_id), pack, cell)
        except ValueError as exc:  # a cell the catalog names but the SAT analysis has no row for
            raise NotFoundError(str(exc)) from None

    def deviation_matrix(self, system_id: str, start: datetime | None = None, end: datetime | None = None) -> Matrix:
        """Each cell's SAT minus the system's daily median (deviation from its peers) [mV] in [start, end).

        Peers are the whole system, as for the drift (core.cells.drift): what every cell shares
        (set-point, temperature) is gone, a pack that stepped shows as a band.
        """
        a = self.cell_analysis(system_id)
        keep = local_day_mask(a.sat.days, start, end)
        return Matrix(rows=a.sat.labels, columns=tuple(str(d) for d in a.sat.days[keep]),
                      values=a.drift.parts.relative_v[:, keep] * 1000.0, unit="mV")

    def fleet(self) -> list[FleetRow]:
        """Every system in one row, most urgent first (core.fleet); once per store version."""
        return self.cached(self.snapshot(), ("fleet",), lambda: fleet_rows(self))

    def warm_up(self) -> None:
        """Compile the kernels and precompute each BESS's cell analysis, so first queries are fast."""
        for info in self.systems():
            name = next((sig.name for sig in info.signals if not sig.is_counter), None)
            if name:
                self.series(info.id, name, max_points=100)
                self.series(info.id, name, max_points=100, method="minmax_lttb")
            if info.kind == SystemKind.BESS and info.packs:
                self.cell_analysis(info.id)

    # -- helpers ------------------------------------------------------------------------

    def _bess(self, system_id: str) -> SystemInfo:
        info = self.system(system_id)
        if info.kind != SystemKind.BESS:
            raise BadInputError(f"system {system_id!r} is a {info.kind.value}, not a BESS")
        return info

    @staticmethod
    def _check_cell(info: SystemInfo, pack: int, cell: int) -> None:
        if not 1 <= pack <= info.packs:
            raise NotFoundError(f"system {info.id!r} has packs 1..{info.packs}, not {pack}")
        if not 1 <= cell <= info.cells_per_pack:
            raise NotFoundError(f"pack {pack} of {info.id!r} has cells 1..{info.cells_per_pack}, not {cell}")
