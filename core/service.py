"""The one query service that the API and the dashboard both call, in process."""

from __future__ import annotations

import copy
import dataclasses
import os
import threading
from collections import OrderedDict
from concurrent.futures import Future
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from core import kpis
from core.cell_queries import efc_per_day, read_sat
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
from core.lod import RESOLUTIONS, choose_level, gap_starts, insert_gap_breaks
from core.results import (
    AlarmSummary,
    BessKpis,
    CapacityEstimate,
    Cycles,
    DailyEnergy,
    Matrix,
    MeterKpis,
    Series,
    SignalInfo,
    SystemInfo,
    TimeRange,
)
from data.glossary import (
    CELL_GROUPS,
    LEVEL_SECONDS,
    LEVELS,
    LOCAL_TZ,
    SystemKind,
    cell_label,
    spec_for,
)
from data.store import NotFoundError, Snapshot, open_snapshot

METHODS = ("lttb", "minmax_lttb", "none")
MAX_POINTS_LIMIT = 100_000
NAMEPLATE_ENV = "BESS_NAMEPLATE_KWH"
CAPACITY_AH_ENV = "BESS_CAPACITY_AH"
ENERGY_BUCKETS = ("day", "1h", "15min")
_LOCAL = ZoneInfo(LOCAL_TZ)
T = TypeVar("T")


class BadInputError(ValueError):
    """An argument of a query is out of range or malformed; the message names it."""


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _to_utc(t: datetime | None, name: str) -> datetime | None:
    if t is None:
        return None
    if t.tzinfo is None:
        raise BadInputError(f"{name} must carry a time zone (got naive {t.isoformat()})")
    return t.astimezone(timezone.utc)


class _VersionCache:
    """Small LRU of values derived from one immutable store version (safe to share).

    Single-flight: concurrent misses of one key compute it once; the others wait for it.
    """

    def __init__(self, size: int = 64) -> None:
        self._data: OrderedDict[tuple, object] = OrderedDict()
        self._pending: dict[tuple, Future] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple, make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]  # type: ignore[return-value]
            pending = self._pending.get(key)
            owner = pending is None
            if owner:
                pending = self._pending[key] = Future()
        if not owner:
            return pending.result()
        try:
            value = make()
        except BaseException as exc:
            with self._lock:
                del self._pending[key]
            pending.set_exception(exc)
            raise
        with self._lock:
            del self._pending[key]
            self._data[key] = value
            while len(self._data) > self._size:
                self._data.popitem(last=False)
        pending.set_result(value)
        return value


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

    def pinned(self) -> QueryService:
        """A view bound to the currently published version (sharing caches), for one request.

        Every answer through it comes from one store version, even while an ingest publishes.
        """
        view = copy.copy(self)
        view._pinned = open_snapshot(self.store)
        return view

    def cached(self, snap: Snapshot, key: tuple, make: Callable[[], T]) -> T:
        return self._cache.get((snap.version,) + key, make)

    def systems(self, kind: SystemKind | None = None) -> list[SystemInfo]:
        snap = self.snapshot()
        infos = self.cached(snap, ("systems",), lambda: _read_systems(snap))
        return [s for s in infos if kind is None or s.kind == kind]

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
        max_points: int = 2000,
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
        max_points: int = 2000,
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
        start, end = _to_utc(start, "start"), _to_utc(end, "end")
        if resolution not in RESOLUTIONS:
            raise BadInputError(f"resolution must be one of {', '.join(RESOLUTIONS)}, got {resolution!r}")
        if method not in METHODS:
            raise BadInputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        if not 2 <= max_points <= MAX_POINTS_LIMIT:
            raise BadInputError(f"max_points must be between 2 and {MAX_POINTS_LIMIT}, got {max_points}")
        rng = info.time_range
        lo = start or (rng.start if rng else None)
        hi = end or (rng.end if rng else None)
        if lo is not None and hi is not None and hi <= lo:
            raise BadInputError(f"empty range: end {hi.isoformat()} is not after start {lo.isoformat()}")
        snap = self.snapshot()
        available = tuple(lv for lv in LEVELS if snap.has(info.id, lv, signal))
        if not available:
            raise NotFoundError(f"system {info.id!r} has no data for {signal!r}")
        if resolution == "auto":
            window_s = (hi - lo).total_seconds() if lo and hi else float("inf")
            level = choose_level(window_s, max_points, available)
        elif resolution in available:
            level = resolution
        else:
            raise NotFoundError(f"level {resolution!r} of {signal!r} is not in the store")
        cols = ["ts", "value"] + ([] if level == "raw" else ["min", "max"])
        df = snap.read_range(info.id, level, signal, start, end, cells=[cell] if cell else None, columns=cols)
        ts_ms = df["ts"].dt.epoch("ms").to_numpy().astype(np.int64)
        values = df["value"].cast(pl.Float64).to_numpy()
        bands = [df["min"].to_numpy(), df["max"].to_numpy()] if level != "raw" else []
        n = ts_ms.size
        chosen = np.arange(n, dtype=np.int64)
        used = "none"
        if method != "none" and n > max_points:
            chosen = _downsample(method, ts_ms, values, max_points)
            used = method
        # A bin-level step is the floor for gaps so one missing bin is not called a gap.
        gaps = gap_starts(ts_ms, min_gap_ms=2 * LEVEL_SECONDS[level] * 1000)
        out_ts, arrays = insert_gap_breaks(ts_ms, chosen, gaps, [values] + bands)
        return Series(
            system_id=info.id,
            signal=signal if cell is None else f"{signal}:{cell_label(*cell)}",
            unit=unit,
            resolution=level,
            method=used,
            timestamps_ms=out_ts,
            values=arrays[0],
            min=arrays[1] if bands else None,
            max=arrays[2] if bands else None,
            rows_in_window=n,
        )

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
        max_columns: int = 20_000,
    ) -> Matrix:
        """All cells x time bins of one level as a matrix (rows P1C1..P5C52; columns ISO UTC)."""
        info = self._bess(system_id)
        start, end = _to_utc(start, "start"), _to_utc(end, "end")
        if level not in LEVELS:
            raise BadInputError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
        if column not in ("value", "min", "max"):
            raise BadInputError(f"column must be value, min or max, got {column!r}")
        if level == "raw" and column != "value":
            raise BadInputError("raw data has no min/max columns")
        snap = self.snapshot()
        df = snap.read_range(info.id, level, group, start, end, columns=["ts", "pack", "cell", column])
        ts = df["ts"].unique().sort()
        if ts.len() > max_columns:
            raise BadInputError(
                f"{ts.len()} time bins at level {level!r} exceed max_columns={max_columns}; "
                "choose a coarser level or a shorter range"
            )
        rows = [(p, c) for p in range(1, info.packs + 1) for c in range(1, info.cells_per_pack + 1)]
        row_idx = (df["pack"].cast(pl.Int64).to_numpy() - 1) * info.cells_per_pack + df["cell"].cast(pl.Int64).to_numpy() - 1
        col_idx = np.searchsorted(ts.dt.epoch("ms").to_numpy(), df["ts"].dt.epoch("ms").to_numpy())
        values = np.full((len(rows), ts.len()), np.nan)
        ok = (row_idx >= 0) & (row_idx < len(rows))
        values[row_idx[ok], col_idx[ok]] = df[column].cast(pl.Float64).to_numpy()[ok]
        columns = tuple(t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in ts.to_list())
        return Matrix(rows=tuple(cell_label(p, c) for p, c in rows), columns=columns, values=values,
                      unit=CELL_GROUPS[group][0])

    # -- KPIs and energy ----------------------------------------------------------------

    def kpis(self, system_id: str, start: datetime | None = None, end: datetime | None = None) -> MeterKpis | BessKpis:
        """Meter or BESS KPIs over [start, end) (the whole record when open)."""
        info = self.system(system_id)
        start, end = _to_utc(start, "start"), _to_utc(end, "end")
        snap = self.snapshot()
        if info.kind == SystemKind.METER:
            return self.cached(snap, ("kpis", system_id, start, end), lambda: kpis.meter_kpis(snap, info, start, end))
        nameplate = self.nameplate_kwh(system_id)
        cap_ah, cap_source = self.cycle_capacity_ah(system_id)
        capacity = self.capacity(system_id)
        return self.cached(snap, ("kpis", system_id, start, end, nameplate, cap_ah),
                           lambda: kpis.bess_kpis(snap, info, start, end, nameplate, cap_ah, cap_source, capacity))

    def daily_energy(self, system_id: str, start: datetime | None = None, end: datetime | None = None,
                     bucket: str = "day") -> DailyEnergy:
        """Energy per local day (or hour / 15 min), booked by interval start, with coverage per bucket.

        Meters: import/export; BESS: charge (import) / discharge (export) and aux. Counter energy
        across a gap is in ``unattributed``, never in a bucket.
        """
        if bucket not in ENERGY_BUCKETS:
            raise BadInputError(f"bucket must be one of {', '.join(ENERGY_BUCKETS)}, got {bucket!r}")
        info = self.system(system_id)
        start, end = _to_utc(start, "start"), _to_utc(end, "end")
        snap = self.snapshot()
        return self.cached(snap, ("daily", system_id, start, end, bucket),
                           lambda: kpis.daily_energy(snap, info, start, end, bucket))

    def cycles(self, system_id: str, start: datetime | None = None, end: datetime | None = None) -> Cycles:
        """Equivalent full cycles and throughput of a BESS over [start, end)."""
        info = self._bess(system_id)
        start, end = _to_utc(start, "start"), _to_utc(end, "end")
        snap = self.snapshot()
        nameplate = self.nameplate_kwh(system_id)
        cap_ah, cap_source = self.cycle_capacity_ah(system_id)
        return self.cached(snap, ("cycles", system_id, start, end, nameplate, cap_ah),
                           lambda: kpis.cycles(snap, info, start, end, nameplate, cap_ah, cap_source))

    def capacity(self, system_id: str) -> CapacityEstimate:
        """Usable capacity [Ah] from coulomb counting over the whole record, SOH and the BMS's SOH beside it."""
        info = self._bess(system_id)
        configured = _configured(CAPACITY_AH_ENV, "Ah").get(system_id, _configured(CAPACITY_AH_ENV, "Ah").get("*"))
        snap = self.snapshot()
        return self.cached(snap, ("capacity", system_id, configured),
                           lambda: kpis.capacity_estimate(snap, info, configured))

    def cycle_capacity_ah(self, system_id: str) -> tuple[float, str]:
        """The capacity [Ah] cycles are counted against: configured ($BESS_CAPACITY_AH), else estimated."""
        configured = _configured(CAPACITY_AH_ENV, "Ah")
        if system_id in configured:
            return configured[system_id], "configured"
        if "*" in configured:
            return configured["*"], "configured"
        est = self.capacity(system_id)
        return (est.reference_ah, "estimated") if np.isfinite(est.reference_ah) else (float("nan"), "")

    def alarms(self, system_id: str, start: datetime | None = None, end: datetime | None = None) -> tuple[AlarmSummary, ...]:
        """Activations and active time per alarm/flag signal."""
        info = self.system(system_id)
        start, end = _to_utc(start, "start"), _to_utc(end, "end")
        snap = self.snapshot()
        return self.cached(snap, ("alarms", system_id, start, end), lambda: kpis.alarms(snap, info, start, end))

    def nameplate_kwh(self, system_id: str) -> float:
        """Configured nameplate ($BESS_NAMEPLATE_KWH as 'ID=kWh,...' or one number), else estimated."""
        configured = _configured(NAMEPLATE_ENV, "kWh")
        if system_id in configured:
            return configured[system_id]
        if "*" in configured:
            return configured["*"]
        info = self._bess(system_id)
        snap = self.snapshot()
        return self.cached(snap, ("nameplate", system_id), lambda: kpis.estimate_nameplate_kwh(snap, info))

    # -- cell analytics -----------------------------------------------------------------

    def cell_analysis(self, system_id: str, start: datetime | None = None, end: datetime | None = None) -> CellAnalysis:
        """Everything the cell view shows for one BESS: SAT, fits, events, trends, anomalies, alerts, health.

        Computed once per store version and range, in one batched pass (see core.cells).
        """
        info = self._bess(system_id)
        start, end = _to_utc(start, "start"), _to_utc(end, "end")
        snap = self.snapshot()

        def make() -> CellAnalysis:
            sat = read_sat(snap, info, start, end)
            c = self.cycles(system_id, start, end)
            return analyze_cells(sat, efc_per_day=efc_per_day(c))

        return self.cached(snap, ("cells", system_id, start, end), make)

    def sat_matrix(self, system_id: str, start: datetime | None = None, end: datetime | None = None) -> SatMatrix:
        """Daily SAT voltage of every cell (cells x local days, NaN off saturation days) in [start, end).

        A slice of the whole record's matrix: the saturation criterion is per day, so slicing
        gives the same values as extracting the range alone, without a second analysis.
        """
        sat = self.cell_analysis(system_id).sat
        keep = self._day_mask(sat.days, start, end)
        if keep.all():
            return sat
        return dataclasses.replace(sat, days=sat.days[keep], voltage_v=sat.voltage_v[:, keep],
                                   saturation_day=sat.saturation_day[keep], day_median_v=sat.day_median_v[keep])

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

    def deviation_matrix(self, system_id: str, start: datetime | None = None, end: datetime | None = None) -> Matrix:
        """Each cell's SAT minus the system's daily median (deviation from its peers) [mV] in [start, end).

        Peers are the whole system, as for the drift (core.cells.drift): what every cell shares
        (set-point, temperature) is gone, a pack that stepped shows as a band.
        """
        a = self.cell_analysis(system_id)
        keep = self._day_mask(a.sat.days, start, end)
        return Matrix(rows=a.sat.labels, columns=tuple(str(d) for d in a.sat.days[keep]),
                      values=a.drift.parts.relative_v[:, keep] * 1000.0, unit="mV")

    @staticmethod
    def _day_mask(days: np.ndarray, start: datetime | None, end: datetime | None) -> np.ndarray:
        """Local days whose midnight lies in [start, end)."""
        start, end = _to_utc(start, "start"), _to_utc(end, "end")
        keep = np.ones(days.shape, dtype=bool)
        if start is not None:
            keep &= days >= np.datetime64(start.astimezone(_LOCAL).date(), "D")
        if end is not None:
            keep &= days <= np.datetime64((end - timedelta(milliseconds=1)).astimezone(_LOCAL).date(), "D")
        return keep

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


def _configured(env: str, unit: str) -> dict[str, float]:
    """Per-system values of a setting 'ID=value,...' (or one number for all, key '*')."""
    raw = os.environ.get(env, "").strip()
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        key, _, val = part.rpartition("=")
        try:
            out[key.strip() or "*"] = float(val)
        except ValueError:
            raise BadInputError(f"{env}: {part!r} is not 'ID={unit}' or a number") from None
        if not out[key.strip() or "*"] > 0:
            raise BadInputError(f"{env}: {part!r} must be a positive number of {unit}")
    return out


def _downsample(method: str, ts_ms: np.ndarray, values: np.ndarray, n_out: int) -> np.ndarray:
    from core.kernels import lttb_indices, minmax_lttb_indices

    x = ts_ms.astype(np.float64)
    y = np.ascontiguousarray(values, dtype=np.float64)
    if method == "minmax_lttb":
        return minmax_lttb_indices(x, y, n_out)
    return lttb_indices(x, y, n_out)


def _read_systems(snap: Snapshot) -> list[SystemInfo]:
    """Systems, their signals, levels, cells and time ranges, from the version's catalog."""
    infos = []
    for entry in snap.catalog().systems:
        signals = []
        for unit in entry.signals:
            spec = spec_for(unit.name)
            signals.append(SignalInfo(unit.name, spec.unit, spec.aggregation, spec.description,
                                      spec.is_counter, spec.is_alarm))
        span = entry.time_span
        rng = TimeRange(span.start, span.end) if span else None
        infos.append(SystemInfo(entry.id, entry.kind, tuple(signals), rng, entry.packs, entry.cells_per_pack,
                                entry.levels))
    return infos
